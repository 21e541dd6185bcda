import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { assert, isAmisiError } from '../../core/errors.js';
import {
  GATEWAY_TIMEOUT_DEFAULT_MS,
  JOB_INTERVAL_DEFAULT_MS,
  JOB_TIMEOUT_DEFAULT_MS,
  jobIdOf,
  unitsMade,
} from '../../core/gateway-routes.js';
import type { Hold } from '../../core/holds.js';
import type { Ledger } from '../../ledger/ledger.js';
import { abortOnClose, sendProblem } from './answers.js';
import type { Exchange, GatewayLog } from './gateway.js';
import type { GatewayOutcome } from './metrics.js';
import type { KeptAnswer } from './replays.js';
import { answerHeaders, asUpstreamError, readAnswer, type Upstream } from './upstream.js';

/** The most of an answer the gateway reads to count what it made. */
export const GATEWAY_ANSWER_MAX_BYTES = 256 * 1024 * 1024;
/** A capture or release the store refused for a moment is tried this often, then left to expire. */
const SETTLE_TRIES = 3;

/** How a metered request ended: what the client was answered and what was captured. */
export interface Settled {
  readonly outcome: GatewayOutcome;
  readonly credits: number;
  /** The status the client was answered, or null when it went away first. */
  readonly status: number | null;
  readonly kept?: KeptAnswer;
}

export interface ExchangeIo {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly body: Buffer;
  readonly headers: OutgoingHttpHeaders;
  readonly log: GatewayLog;
}

/**
 * Forwards a held request and settles its hold by the answer: an upstream that did not answer
 * (or answered an error) releases it and the client is told; a success captures what the
 * answer says was made (all that was asked for, when the route does not count) before the
 * client gets it (a counted answer) or once it has passed whole (a streamed one).
 */
export async function settle(
  ledger: Ledger,
  upstream: Upstream,
  x: Exchange,
  io: ExchangeIo,
): Promise<Settled> {
  const signal = abortOnClose(io.res);
  const timeoutMs = x.route.timeoutMs ?? GATEWAY_TIMEOUT_DEFAULT_MS;
  const sentAt = process.hrtime.bigint();
  let answer: IncomingMessage;
  try {
    const method = io.req.method ?? 'POST';
    answer = await upstream.send(method, io.req.url ?? '/', io.headers, io.body, timeoutMs, signal);
  } catch (e) {
    return unanswered(ledger, x, io, e, sentAt, signal.aborted);
  }
  const status = answer.statusCode ?? 502;
  if (status < 200 || status >= 300) {
    // Released before the client hears of it, so a retry finds the attempt settled.
    await release(ledger, x, io.log);
    io.res.writeHead(status, { ...answerHeaders(answer.headers), ...amisiHeaders(x, 0) });
    await pipeline(answer, io.res).catch(() => undefined);
    x.upstreamNs = process.hrtime.bigint() - sentAt;
    return { outcome: status >= 500 ? 'upstream_error' : 'released', credits: 0, status };
  }
  if (x.route.job) return submitted(ledger, x, io, answer, sentAt);
  return x.route.units
    ? counted(ledger, x, io, answer, sentAt)
    : streamed(ledger, x, io, answer, sentAt);
}

/**
 * No answer from the upstream (refused, cut, late): released, and the client told, unless it
 * went away first.
 */
async function unanswered(
  ledger: Ledger,
  x: Exchange,
  io: ExchangeIo,
  e: unknown,
  sentAt: bigint,
  clientGone: boolean,
): Promise<Settled> {
  x.upstreamNs = process.hrtime.bigint() - sentAt;
  await release(ledger, x, io.log);
  if (clientGone) return { outcome: 'released', credits: 0, status: null };
  const problem = asUpstreamError(e);
  sendProblem(io.res, problem);
  const outcome = problem.code === 'upstream_timeout' ? 'upstream_timeout' : 'upstream_error';
  return { outcome, credits: 0, status: problem.info.status };
}

/**
 * The answer whole, with the headers to send it by (its length known now), or how the
 * request ended when it broke off (the hold released).
 */
async function wholeAnswer(
  ledger: Ledger,
  x: Exchange,
  io: ExchangeIo,
  answer: IncomingMessage,
  sentAt: bigint,
): Promise<{ body: Buffer; headers: OutgoingHttpHeaders } | Settled> {
  let body: Buffer;
  try {
    body = await readAnswer(answer, GATEWAY_ANSWER_MAX_BYTES);
  } catch (e) {
    return unanswered(ledger, x, io, e, sentAt, io.res.destroyed);
  }
  x.upstreamNs = process.hrtime.bigint() - sentAt;
  const headers = { ...answerHeaders(answer.headers), 'content-length': String(body.length) };
  delete headers['transfer-encoding'];
  return { body, headers };
}

/**
 * A job's submit answered: the job is recorded (the poller follows it from here, jobs.ts) and
 * its hold stays open; the client gets the answer as it came, with the job's id. An answer
 * without a job id cannot be followed: released.
 */
async function submitted(
  ledger: Ledger,
  x: Exchange,
  io: ExchangeIo,
  answer: IncomingMessage,
  sentAt: bigint,
): Promise<Settled> {
  const whole = await wholeAnswer(ledger, x, io, answer, sentAt);
  if (!('body' in whole)) return whole;
  const { body, headers } = whole;
  const rule = x.route.job!;
  const jobId = jobIdOf(rule, jsonOf(body, answer.headers));
  const status = answer.statusCode ?? 200;
  if (jobId === undefined) {
    io.log('error', 'the submit answer has no job id to follow: released', {
      route: x.route.name,
      hold: x.hold.id,
    });
    await release(ledger, x, io.log);
    io.res.writeHead(status, { ...headers, ...amisiHeaders(x, 0) });
    io.res.end(body);
    return { outcome: 'released', credits: 0, status };
  }
  const now = ledger.clock.now();
  try {
    const started = await ledger.startGatewayJob({
      accountId: x.payer.accountId,
      holdId: x.hold.id,
      holdKey: x.holdKey,
      route: x.route.name,
      jobId,
      status: 'running',
      units: null,
      createdAt: now,
      deadlineAt: now + (rule.timeoutMs ?? JOB_TIMEOUT_DEFAULT_MS),
      nextPollAt: now + (rule.intervalMs ?? JOB_INTERVAL_DEFAULT_MS),
      endedAt: null,
    });
    if (!started)
      io.log('error', 'a job id the upstream gave twice', { route: x.route.name, job: jobId });
  } catch (e) {
    await release(ledger, x, io.log);
    throw e;
  }
  const sent = { ...headers, 'amisi-hold': x.hold.id, 'amisi-job': jobId };
  io.res.writeHead(status, sent);
  io.res.end(body);
  return { outcome: 'job_started', credits: 0, status, kept: { status, headers: sent, body } };
}

async function counted(
  ledger: Ledger,
  x: Exchange,
  io: ExchangeIo,
  answer: IncomingMessage,
  sentAt: bigint,
): Promise<Settled> {
  const whole = await wholeAnswer(ledger, x, io, answer, sentAt);
  if (!('body' in whole)) return whole;
  const { body } = whole;
  const made = unitsMade(x.route, x.requested, jsonOf(body, answer.headers));
  if (!made.said) {
    io.log('warn', 'the answer does not say how many units it made: captured what was asked', {
      route: x.route.name,
      hold: x.hold.id,
    });
  }
  const credits = await capture(ledger, x, made.units, io.log);
  const status = answer.statusCode ?? 200;
  const headers = { ...whole.headers, ...amisiHeaders(x, credits ?? 0) };
  io.res.writeHead(status, headers);
  io.res.end(body);
  return {
    outcome: credits === null ? 'unsettled' : credits > 0 ? 'captured' : 'released',
    credits: credits ?? 0,
    status,
    kept: { status, headers, body },
  };
}

async function streamed(
  ledger: Ledger,
  x: Exchange,
  io: ExchangeIo,
  answer: IncomingMessage,
  sentAt: bigint,
): Promise<Settled> {
  const status = answer.statusCode ?? 200;
  io.res.writeHead(status, { ...answerHeaders(answer.headers), 'amisi-hold': x.hold.id });
  const whole = await pipeline(answer, io.res).then(
    () => answer.complete,
    () => false,
  );
  x.upstreamNs = process.hrtime.bigint() - sentAt;
  if (!whole) {
    await release(ledger, x, io.log);
    return { outcome: 'upstream_error', credits: 0, status };
  }
  const credits = await capture(ledger, x, x.requested, io.log);
  return { outcome: credits === null ? 'unsettled' : 'captured', credits: credits ?? 0, status };
}

function amisiHeaders(x: Exchange, credits: number): Record<string, string> {
  return { 'amisi-hold': x.hold.id, 'amisi-credits': String(credits) };
}

/** The answer as JSON for counting (decoded if compressed; the client gets the bytes as sent). */
function jsonOf(body: Buffer, headers: IncomingMessage['headers']): unknown {
  try {
    const encoding = (headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    const plain =
      encoding === 'gzip'
        ? gunzipSync(body)
        : encoding === 'br'
          ? brotliDecompressSync(body)
          : encoding === 'deflate'
            ? inflateSync(body)
            : body;
    return JSON.parse(plain.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Captures `units` of the hold (releases it for none): the credits captured, 0 for a release,
 * or null when the store would not take it (the hold is left to its ttl, which releases it).
 */
export async function settleHold(
  ledger: Ledger,
  holdKey: string,
  hold: Hold,
  units: number,
  log: GatewayLog,
  route: string,
): Promise<number | null> {
  if (units === 0) {
    const released = await tried(log, route, hold.id, 'release', () =>
      ledger.release({ holdId: hold.id, key: `${holdKey}:release` }),
    );
    return released ? 0 : null;
  }
  const line = hold.quote?.lines[0];
  assert(line !== undefined, 'a gateway hold is priced by one quote line');
  const credits = units * line.unitCredits;
  const done = await tried(log, route, hold.id, 'capture', () =>
    ledger.capture({ holdId: hold.id, key: `${holdKey}:capture`, credits }),
  );
  return done ? credits : null;
}

function capture(ledger: Ledger, x: Exchange, units: number, log: GatewayLog) {
  return settleHold(ledger, x.holdKey, x.hold, units, log, x.route.name);
}

async function release(ledger: Ledger, x: Exchange, log: GatewayLog): Promise<boolean> {
  return (await settleHold(ledger, x.holdKey, x.hold, 0, log, x.route.name)) !== null;
}

/**
 * A capture or release, tried again while the store says it may be; a failure is logged and
 * the hold left to its ttl, which releases it (a lost settlement never charges).
 */
async function tried(
  log: GatewayLog,
  route: string,
  holdId: string,
  what: 'capture' | 'release',
  run: () => Promise<unknown>,
): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      await run();
      return true;
    } catch (e) {
      const retry = isAmisiError(e) && e.info.retryable && attempt < SETTLE_TRIES;
      if (!retry) {
        log('error', `gateway ${what} failed: the hold is left to expire, which releases it`, {
          route,
          hold: holdId,
          err: e instanceof Error ? e.message : String(e),
        });
        return false;
      }
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
}
