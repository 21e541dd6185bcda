import type { Command } from 'commander';
import { AmisiError } from '../../core/errors.js';
import { parseGatewayRoutes, type GatewayRoutes } from '../../core/gateway-routes.js';
import type { Ledger } from '../../ledger/ledger.js';
import { ApiKeys } from '../../service/api-keys.js';
import { Gateway, type GatewayLog } from '../../service/gateway/gateway.js';
import {
  DEFAULT_CATALOG_PATH,
  describeDatabase,
  readJsonFile,
  withLedger,
  type GlobalOptions,
} from '../context.js';
import { stopRequested } from '../stop.js';
import { ensureCatalog } from './setup.js';

type Globals = () => GlobalOptions;

export const DEFAULT_GATEWAY_PORT = 8788;
/** How often the gateway settles what is due (holds whose answer was lost expire into releases). */
const SWEEP_INTERVAL_MS = 60_000;
const LOG_LEVELS = { debug: 20, info: 30, warn: 40, error: 50, silent: 100 } as const;

export interface GatewayFlags {
  readonly upstream?: string;
  readonly routes?: string;
  readonly host?: string;
  readonly port?: string;
  readonly logLevel?: string;
}

export interface GatewaySettings {
  readonly upstream: string;
  readonly routesPath: string;
  readonly host: string;
  readonly port: number;
  readonly logLevel: keyof typeof LOG_LEVELS;
}

function setting(flag: string | undefined, env: string | undefined): string | undefined {
  return flag ?? (env === '' ? undefined : env);
}

/** Flags win over AMISI_GATEWAY_* variables; the upstream and the routes are required. */
export function gatewaySettings(flags: GatewayFlags, env: NodeJS.ProcessEnv): GatewaySettings {
  const upstream = setting(flags.upstream, env.AMISI_GATEWAY_UPSTREAM);
  const routesPath = setting(flags.routes, env.AMISI_GATEWAY_ROUTES);
  if (!upstream || !routesPath) {
    throw new AmisiError(
      'invalid_argument',
      'the gateway needs an upstream and a routes file: --upstream URL --routes FILE, or AMISI_GATEWAY_UPSTREAM and AMISI_GATEWAY_ROUTES (amisi serve: --gateway-upstream and --gateway-routes)',
      { field: upstream ? 'routes' : 'upstream' },
    );
  }
  const port = setting(flags.port, env.AMISI_GATEWAY_PORT) ?? String(DEFAULT_GATEWAY_PORT);
  if (!/^[0-9]{1,5}$/.test(port) || Number(port) > 65535) {
    throw new AmisiError(
      'invalid_argument',
      `port must be a whole number from 0 to 65535, got ${JSON.stringify(port)}`,
      { field: 'port' },
    );
  }
  const logLevel = setting(flags.logLevel, env.AMISI_LOG_LEVEL) ?? 'info';
  if (!Object.hasOwn(LOG_LEVELS, logLevel)) {
    throw new AmisiError(
      'invalid_argument',
      `log level must be one of ${Object.keys(LOG_LEVELS).join(', ')}`,
      { field: 'log-level' },
    );
  }
  return {
    upstream,
    routesPath,
    host: setting(flags.host, env.AMISI_GATEWAY_HOST) ?? '127.0.0.1',
    port: Number(port),
    logLevel: logLevel as keyof typeof LOG_LEVELS,
  };
}

/** One JSON line per event, as pino writes them (the API server's logs read the same). */
export function gatewayLog(level: keyof typeof LOG_LEVELS): GatewayLog {
  const min = LOG_LEVELS[level];
  return (at, msg, fields = {}) => {
    if (LOG_LEVELS[at] < min) return;
    process.stdout.write(
      `${JSON.stringify({ level: LOG_LEVELS[at], time: Date.now(), pid: process.pid, name: 'gateway', ...fields, msg })}\n`,
    );
  };
}

/** The routes file, read and checked against the ledger's active catalog. */
export async function loadRoutes(ledger: Ledger, path: string): Promise<GatewayRoutes> {
  const catalog = await ledger.activeCatalog();
  return parseGatewayRoutes(readJsonFile(path, 'routes_invalid'), catalog.body);
}

/**
 * Starts a gateway on a ledger: routes checked, the address taken, a sweep at once (a hold
 * left by a gateway killed mid-request settles as a release once its ttl is past) and then
 * every minute. Answers a stop that drains it.
 */
export async function startGateway(ledger: Ledger, s: GatewaySettings, log: GatewayLog) {
  const routes = await loadRoutes(ledger, s.routesPath);
  const gateway = new Gateway({
    ledger,
    keys: new ApiKeys(ledger),
    routes,
    upstream: s.upstream,
    log,
  });
  let address;
  try {
    address = await gateway.listen(s.host, s.port);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new AmisiError('address_in_use', `${s.host}:${s.port} is already in use`, {
        host: s.host,
        port: s.port,
      });
    }
    throw e;
  }
  const sweep = () =>
    ledger.sweep().then(
      (settled) => settled > 0 && log('info', 'gateway sweep settled accounts', { settled }),
      (e: unknown) => log('error', 'gateway sweep failed', { err: String(e) }),
    );
  await sweep();
  const timer = setInterval(() => void sweep(), SWEEP_INTERVAL_MS);
  timer.unref();
  return {
    address,
    routes,
    async stop() {
      clearInterval(timer);
      await gateway.close();
    },
  };
}

export function registerGateway(program: Command, globals: Globals): void {
  program
    .command('gateway')
    .description(
      'meter an image API: price, hold, forward, then capture what the answer made (docs/gateway.md)',
    )
    .option('--upstream <url>', 'the API behind the gateway (env AMISI_GATEWAY_UPSTREAM)')
    .option(
      '--routes <file>',
      'the routes file, e.g. gateway/openai-images.json (env AMISI_GATEWAY_ROUTES)',
    )
    .option('--host <host>', 'address to listen on (env AMISI_GATEWAY_HOST, default 127.0.0.1)')
    .option(
      '--port <port>',
      `port (env AMISI_GATEWAY_PORT, default ${DEFAULT_GATEWAY_PORT}; 0 picks a free one)`,
    )
    .option(
      '--log-level <level>',
      'debug, info, warn, error or silent (env AMISI_LOG_LEVEL, default info)',
    )
    .action(async (flags: GatewayFlags) => {
      const settings = gatewaySettings(flags, process.env);
      const log = gatewayLog(settings.logLevel);
      const catalog = readJsonFile(DEFAULT_CATALOG_PATH, 'catalog_invalid');
      await withLedger(
        globals(),
        async (ledger) => {
          await ensureCatalog(ledger, catalog, false);
          const running = await startGateway(ledger, settings, log);
          log('info', 'amisi gateway: ready', {
            address: `http://${running.address.address}:${running.address.port}`,
            port: running.address.port,
            upstream: settings.upstream,
            routes: running.routes.routes.map((r) => `${r.method} ${r.path}`),
            database: describeDatabase(globals()),
          });
          const reason = await stopRequested();
          log('info', 'shutting down: draining in-flight requests', { signal: reason });
          await running.stop();
          log('info', 'stopped accepting; closing the ledger after its last commit');
        },
        { create: true },
      );
    });
}
