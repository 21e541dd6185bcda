import { AmisiError } from '../core/errors.js';
import { DEFAULT_TIMEOUTS, type ServerOptions, type Timeouts } from './server.js';

/** `amisi serve` settings: a flag wins over its environment variable, which wins over the default. */
export interface ServeConfig extends ServerOptions {
  readonly timeouts: Timeouts;
  readonly host: string;
  readonly port: number;
  /** How long shutdown waits for in-flight requests before it gives up on them. */
  readonly shutdownTimeoutMs: number;
  /**
   * Run the background jobs (renewals, sweep, auto top-up checkouts, grant.expiring, webhook
   * deliveries) in this process. They are safe to run in every process of a cluster.
   */
  readonly jobs: boolean;
  /** How often the scheduler's jobs run. */
  readonly jobIntervalMs: number;
  /** Account keys may register webhooks to private and loopback addresses. */
  readonly allowPrivateWebhooks: boolean;
}

export interface ServeFlags {
  readonly host?: string;
  readonly port?: string;
  readonly logLevel?: string;
  readonly rateLimit?: string;
  readonly workers?: string;
  readonly gatewayRoutes?: string;
  readonly gatewayUpstream?: string;
  readonly gatewayPort?: string;
}

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8787;
/** Requests per key per minute: generous for a platform's backend, a brake on a runaway loop. */
export const DEFAULT_RATE_LIMIT = 6000;
export const RATE_LIMIT_WINDOW_MS = 60_000;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function bad(setting: string, message: string): never {
  throw new AmisiError('invalid_argument', `${setting} ${message}`, { field: setting });
}

function wholeNumber(value: string, setting: string, max: number): number {
  if (!/^[0-9]{1,9}$/.test(value) || Number(value) > max) {
    bad(setting, `must be a whole number from 0 to ${max}, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

function flag(value: string | undefined, env: string | undefined): string | undefined {
  return value ?? (env === '' ? undefined : env);
}

/**
 * AMISI_CORS_ORIGINS: comma-separated origins (scheme://host[:port], no path) whose pages may
 * call the API, or * for any.
 */
function originsFrom(value: string | undefined): string[] {
  if (value === undefined || value.trim() === '') return [];
  const origins = value.split(',').map((o) => o.trim());
  for (const origin of origins) {
    if (origin === '*') continue;
    let parsed: URL | null = null;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = null;
    }
    if (
      parsed === null ||
      !['http:', 'https:'].includes(parsed.protocol) ||
      parsed.origin !== origin
    ) {
      bad(
        'AMISI_CORS_ORIGINS',
        `must be * or origins such as https://app.example.com (scheme, host and port only), got ${JSON.stringify(origin)}`,
      );
    }
  }
  return origins;
}

function seconds(env: NodeJS.ProcessEnv, setting: string, fallbackMs: number, max: number) {
  const value = env[setting];
  if (value === undefined || value === '') return fallbackMs;
  const n = wholeNumber(value, setting, max);
  if (n === 0) bad(setting, 'must be at least 1');
  return n * 1000;
}

/** AMISI_REQUEST_TIMEOUT_SECONDS, AMISI_HEADERS_TIMEOUT_SECONDS, AMISI_KEEP_ALIVE_TIMEOUT_SECONDS. */
function timeoutsFrom(env: NodeJS.ProcessEnv): Timeouts {
  const requestMs = seconds(env, 'AMISI_REQUEST_TIMEOUT_SECONDS', DEFAULT_TIMEOUTS.requestMs, 3600);
  const headersMs = seconds(
    env,
    'AMISI_HEADERS_TIMEOUT_SECONDS',
    Math.min(DEFAULT_TIMEOUTS.headersMs, requestMs),
    3600,
  );
  // Node refuses a headers timeout longer than the request timeout (the headers are part of it).
  if (headersMs > requestMs) {
    bad('AMISI_HEADERS_TIMEOUT_SECONDS', 'must be at most AMISI_REQUEST_TIMEOUT_SECONDS');
  }
  const keepAliveMs = seconds(
    env,
    'AMISI_KEEP_ALIVE_TIMEOUT_SECONDS',
    DEFAULT_TIMEOUTS.keepAliveMs,
    3600,
  );
  return { requestMs, headersMs, keepAliveMs };
}

export function serveConfig(flags: ServeFlags, env: NodeJS.ProcessEnv): ServeConfig {
  const port = flag(flags.port, env.AMISI_PORT);
  const logLevel = flag(flags.logLevel, env.AMISI_LOG_LEVEL) ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) bad('log level', `must be one of ${LOG_LEVELS.join(', ')}`);
  const rate = flag(flags.rateLimit, env.AMISI_RATE_LIMIT);
  const trustProxy = env.AMISI_TRUST_PROXY ?? '0';
  if (trustProxy !== '0' && trustProxy !== '1') bad('AMISI_TRUST_PROXY', 'must be 0 or 1');
  const shutdown = env.AMISI_SHUTDOWN_TIMEOUT_SECONDS;
  const jobs = env.AMISI_JOBS ?? '1';
  if (jobs !== '0' && jobs !== '1') bad('AMISI_JOBS', 'must be 0 or 1');
  const interval = env.AMISI_JOB_INTERVAL_SECONDS;
  const corsOrigins = originsFrom(env.AMISI_CORS_ORIGINS);
  const allowPrivate = env.AMISI_WEBHOOK_ALLOW_PRIVATE ?? '0';
  if (allowPrivate !== '0' && allowPrivate !== '1')
    bad('AMISI_WEBHOOK_ALLOW_PRIVATE', 'must be 0 or 1');
  return {
    host: flag(flags.host, env.AMISI_HOST) ?? DEFAULT_HOST,
    port: port === undefined ? DEFAULT_PORT : wholeNumber(port, 'port', 65_535),
    logLevel,
    rateLimit: {
      max: rate === undefined ? DEFAULT_RATE_LIMIT : wholeNumber(rate, 'rate limit', 1e9),
      windowMs: RATE_LIMIT_WINDOW_MS,
    },
    trustProxy: trustProxy === '1',
    corsOrigins,
    timeouts: timeoutsFrom(env),
    shutdownTimeoutMs:
      shutdown === undefined
        ? 10_000
        : wholeNumber(shutdown, 'AMISI_SHUTDOWN_TIMEOUT_SECONDS', 3600) * 1000,
    jobs: jobs === '1',
    allowPrivateWebhooks: allowPrivate === '1',
    jobIntervalMs:
      interval === undefined
        ? 60_000
        : Math.max(1, wholeNumber(interval, 'AMISI_JOB_INTERVAL_SECONDS', 86_400)) * 1000,
  };
}
