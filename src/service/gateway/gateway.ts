import { createHash, randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { AmisiError, isAmisiError } from '../../core/errors.js';
import {
  GATEWAY_BODY_DEFAULT_BYTES,
  GATEWAY_TIMEOUT_DEFAULT_MS,
  holdTtlOf,
  matchPoll,
  matchRoute,
  requestItem,
  type GatewayRoute,
  type GatewayRoutes,
} from '../../core/gateway-routes.js';
import type { Hold } from '../../core/holds.js';
import type { QuoteItemRequest } from '../../core/quote.js';
import type { Ledger } from '../../ledger/ledger.js';
import { allows, type ApiKeys } from '../api-keys.js';
import { GatewayMetrics, type GatewayOutcome } from './metrics.js';
import { abortOnClose, sendJson, sendProblem } from './answers.js';
import { JobPoller } from './jobs.js';
import { ReplayCache, type KeptAnswer } from './replays.js';
import { fieldsOf, readBody } from './request-body.js';
import { settle, type Settled } from './settle.js';
import { answerHeaders, forwardedHeaders, Upstream } from './upstream.js';

/** Attempts under one client key: a retry after a released attempt is a new one. */
export const GATEWAY_ATTEMPTS_MAX = 5;
/** The gateway's own paths, apart from any path of the upstream's. */
export const GATEWAY_OWN_PREFIX = '/_amisi/';

const IDEMPOTENCY_HEADER = 'idempotency-key';
/** Refusals for want of credits, counted apart from the rest. */
const FOR_CREDITS: ReadonlySet<string> = new Set([
  'insufficient_credits',
  'budget_exceeded',
  'overdraft_limit_reached',
]);
const CLIENT_KEY = /^[\x21-\x7e]{1,200}$/;

export type GatewayLog = (
  level: 'debug' | 'info' | 'warn' | 'error',
  msg: string,
  fields?: Record<string, unknown>,
) => void;

export interface GatewayOptions {
  readonly ledger: Ledger;
  /** Checks Amisi keys when the routes take the account from one. */
  readonly keys: ApiKeys;
  readonly routes: GatewayRoutes;
  readonly upstream: string;
  /** Where `upstreamHeaders` read their values (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly metrics?: GatewayMetrics;
  readonly log?: GatewayLog;
  /** Bytes of completed answers kept for a client's retry (default 64 MiB; 0 keeps none). */
  readonly replayBytes?: number;
}

/** Who a request is for: the account, and the member and project it is attributed to. */
interface Payer {
  readonly accountId: string;
  readonly member: string | null;
  readonly project: string | null;
}

/** One metered request as it goes: its route, payer, hold, and when it started. */
export interface Exchange {
  readonly route: GatewayRoute;
  readonly payer: Payer;
  readonly startedNs: bigint;
  upstreamNs: bigint | null;
  readonly requested: number;
  readonly hold: Hold;
  readonly holdKey: string;
  /** The client named the request (Idempotency-Key): only then can a retry reach its answer. */
  readonly keyed: boolean;
}

/**
 * The metering gateway: a reverse proxy that prices each request of a route by the catalog,
 * holds its credits, forwards it unchanged, and captures what the answer says was made, or
 * releases on an upstream error or timeout. No credits: 402 and the upstream is never called.
 * A client's Idempotency-Key makes a retry a replay (docs/gateway.md).
 */
export class Gateway {
  readonly metrics: GatewayMetrics;
  private readonly upstream: Upstream;
  private readonly setHeaders: Readonly<Record<string, string>>;
  private readonly dropHeaders: ReadonlySet<string>;
  private readonly replays: ReplayCache;
  private readonly log: GatewayLog;
  private readonly jobs: JobPoller;
  private server: http.Server | null = null;
  private draining = false;

  constructor(private readonly options: GatewayOptions) {
    this.upstream = new Upstream(options.upstream);
    this.metrics = options.metrics ?? new GatewayMetrics();
    this.log = options.log ?? (() => {});
    this.replays = new ReplayCache(options.replayBytes ?? 64 * 1024 * 1024);
    this.setHeaders = upstreamHeaders(options.routes, options.env ?? process.env);
    const account = options.routes.account;
    this.dropHeaders = new Set([
      ...('apiKey' in account ? [account.apiKey.toLowerCase()] : []),
      ...Object.keys(this.setHeaders),
    ]);
    this.jobs = new JobPoller(
      options.ledger,
      this.upstream,
      options.routes,
      this.setHeaders,
      this.metrics,
      this.log,
    );
  }

  /** The request listener, for a server of the caller's own. */
  readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    this.handle(req, res).catch((e: unknown) => this.failed(res, e));
  };

  async listen(host: string, port: number): Promise<AddressInfo> {
    const server = http.createServer({ keepAliveTimeout: 65_000 }, this.listener);
    // The route's timeout bounds an exchange; Node's own request timeout must not cut it first.
    server.requestTimeout = 0;
    server.headersTimeout = 60_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.jobs.start();
    return server.address() as AddressInfo;
  }

  /** Stops accepting, lets requests in flight finish (at most `timeoutMs`), then lets go. */
  async close(timeoutMs = 30_000): Promise<void> {
    this.draining = true;
    const server = this.server;
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), timeoutMs);
      await closed;
      clearTimeout(timer);
    }
    // Jobs still running stay recorded: the next gateway to start follows them.
    await this.jobs.stop();
    this.upstream.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const startedNs = process.hrtime.bigint();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path.startsWith(GATEWAY_OWN_PREFIX)) return this.own(path, res);
    if (this.draining) res.setHeader('connection', 'close');
    const route = matchRoute(this.options.routes, req.method ?? 'GET', path);
    if (!route) {
      const poll = req.method === 'GET' ? matchPoll(this.options.routes, path) : undefined;
      if (poll) return this.jobStatus(req, res, poll, startedNs);
      return this.unmatched(req, res, path, startedNs);
    }
    const search = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
    try {
      await this.meter(req, res, { route, url, search }, startedNs);
    } catch (e) {
      // Refused before the upstream was called: counted by the route, answered by failed().
      const code = isAmisiError(e) ? e.code : 'internal';
      const outcome = FOR_CREDITS.has(code) ? 'refused_credits' : 'refused';
      this.metrics.ended(route.name, outcome, process.hrtime.bigint() - startedNs, null);
      throw e;
    }
  }

  /** A request of a route: priced, held, forwarded, settled. */
  private async meter(
    req: IncomingMessage,
    res: ServerResponse,
    asked: { route: GatewayRoute; url: string; search: URLSearchParams },
    startedNs: bigint,
  ): Promise<void> {
    const { route, url, search } = asked;
    const payer = await this.payerOf(req);
    const body = await readBody(req, route.maxBodyBytes ?? GATEWAY_BODY_DEFAULT_BYTES);
    const fields = await fieldsOf(body, req.headers['content-type']);
    const item = requestItem(route, {
      body: fields,
      header: (name) => headerOf(req, name),
      query: (name) => search.get(name) ?? undefined,
    });
    const digest = requestDigest(req.method ?? 'POST', url, body);
    const held = await this.holdFor(req, res, { route, payer, item, digest }, startedNs);
    if (!held) return;
    const exchange: Exchange = {
      route,
      payer,
      startedNs,
      upstreamNs: null,
      requested: item.count ?? 1,
      ...held,
    };
    const headers = forwardedHeaders(
      req.headers,
      this.dropHeaders,
      this.setHeaders,
      this.upstream.base.host,
      body.length,
    );
    const io = { req, res, body, headers, log: this.log };
    this.ended(exchange, await settle(this.options.ledger, this.upstream, exchange, io));
  }

  private ended(exchange: Exchange, settled: Settled): void {
    const { route, startedNs, upstreamNs } = exchange;
    const totalNs = process.hrtime.bigint() - startedNs;
    this.metrics.ended(route.name, settled.outcome, totalNs - (upstreamNs ?? 0n), upstreamNs);
    this.metrics.captured(route.name, settled.credits);
    // An answer without a client's key is never asked for again: keeping it would only fill memory.
    if (settled.kept && exchange.keyed)
      this.replays.keep(replayId(exchange.payer.accountId, exchange.holdKey), settled.kept);
    this.log(
      settled.outcome === 'captured' || settled.outcome === 'released' ? 'debug' : 'info',
      'gateway request',
      {
        route: route.name,
        account: exchange.payer.accountId,
        hold: exchange.hold.id,
        outcome: settled.outcome,
        credits: settled.credits,
        ...(settled.status === null ? {} : { status: settled.status }),
      },
    );
  }

  /**
   * The hold for a request, or null when the request was answered here: a replay of a
   * completed request, one still in progress, or a refusal (402 without credits).
   */
  private async holdFor(
    req: IncomingMessage,
    res: ServerResponse,
    asked: { route: GatewayRoute; payer: Payer; item: QuoteItemRequest; digest: string },
    startedNs: bigint,
  ): Promise<{ hold: Hold; holdKey: string; keyed: boolean } | null> {
    const { route, payer, item, digest } = asked;
    const clientKey = headerOf(req, IDEMPOTENCY_HEADER);
    if (clientKey !== undefined && !CLIENT_KEY.test(clientKey)) {
      throw new AmisiError(
        'invalid_argument',
        'Idempotency-Key must be 1-200 printable characters',
        {
          field: IDEMPOTENCY_HEADER,
        },
      );
    }
    const base = `gw:${route.name}:${clientKey ?? randomUUID()}`;
    const attempt =
      clientKey === undefined
        ? { holdKey: `${base}:1` }
        : await this.attemptOf(payer, route, base, digest);
    if ('answer' in attempt) {
      this.answerEarly(res, route, startedNs, attempt.answer);
      return null;
    }
    const held = await this.options.ledger.hold({
      accountId: payer.accountId,
      key: attempt.holdKey,
      items: [item],
      ttlMs: holdTtlOf(route),
      // The request's digest is in the hold's fingerprint: the same key with another body is
      // idempotency_key_reused, never the other body's replay.
      attribution: {
        member: payer.member,
        project: payer.project,
        labels: { gateway: route.name, request: digest },
      },
    });
    if (held.replay) {
      // Another request under the same key made this hold a moment ago and is running it.
      this.answerEarly(res, route, startedNs, inProgress(held.hold, 1000));
      return null;
    }
    return { hold: held.hold, holdKey: attempt.holdKey, keyed: clientKey !== undefined };
  }

  /**
   * The attempt a client key is at: the first whose hold is not released (a replay of it, or
   * in progress), else a new one after the released ones (the retry of a failed request).
   */
  private async attemptOf(
    payer: Payer,
    route: GatewayRoute,
    base: string,
    digest: string,
  ): Promise<{ holdKey: string } | { answer: KeptAnswer | AmisiError }> {
    const now = this.options.ledger.clock.now();
    for (let n = 1; n <= GATEWAY_ATTEMPTS_MAX; n++) {
      const holdKey = `${base}:${n}`;
      let hold = await this.options.ledger.findHoldByKey(payer.accountId, holdKey);
      if (!hold) return { holdKey };
      if (hold.attribution.labels.request !== digest) {
        throw new AmisiError(
          'idempotency_key_reused',
          'this Idempotency-Key was used for another request (another body, path or size)',
          { field: IDEMPOTENCY_HEADER },
        );
      }
      const kept = this.replays.get(replayId(payer.accountId, holdKey));
      if (hold.status === 'held' && !kept) {
        const lostAt = lostAnswerAt(route, hold);
        // A job's submit was answered while its hold stays open: it is in progress.
        if (route.job || (now < lostAt && now < hold.expiresAt)) {
          return { answer: inProgress(hold, Math.min(lostAt, hold.expiresAt) - now) };
        }
        hold = await this.releaseLost(holdKey, hold);
      }
      // Released or expired: that attempt cost nothing, and the retry is a new one.
      if (hold.status === 'released' || hold.status === 'expired') continue;
      if (kept) return { answer: kept };
      if (hold.status === 'held') return { answer: inProgress(hold, 1000) };
      return {
        answer: new AmisiError(
          'hold_already_captured',
          `this request was answered and charged ${hold.capturedCredits} credits; the gateway no longer keeps its answer`,
          { holdId: hold.id, credits: hold.capturedCredits },
        ),
      };
    }
    throw new AmisiError(
      'idempotency_key_reused',
      `the Idempotency-Key was tried ${GATEWAY_ATTEMPTS_MAX} times; send the request under a new key`,
      { field: IDEMPOTENCY_HEADER, attempts: GATEWAY_ATTEMPTS_MAX },
    );
  }

  /**
   * Releases the hold of a request whose answer was lost (its gateway died: no request runs
   * past its route's timeout). The hold as it is after: released, or captured if its own
   * request settled it first after all (then the retry is a replay, never a second charge).
   */
  private async releaseLost(holdKey: string, hold: Hold): Promise<Hold> {
    const { ledger } = this.options;
    try {
      if (hold.expiresAt > ledger.clock.now()) {
        await ledger.release({ holdId: hold.id, key: `${holdKey}:release` });
        this.log('info', 'gateway: released the hold of a lost answer', { hold: hold.id });
      }
    } catch (e) {
      if (!isAmisiError(e) || !e.code.startsWith('hold_')) throw e;
    }
    return ledger.getHold(hold.id);
  }

  private answerEarly(
    res: ServerResponse,
    route: GatewayRoute,
    startedNs: bigint,
    answer: KeptAnswer | AmisiError,
  ): void {
    let outcome: GatewayOutcome;
    if (answer instanceof AmisiError) {
      outcome = answer.code === 'request_in_progress' ? 'in_progress' : 'refused';
      sendProblem(res, answer);
    } else {
      outcome = 'replayed';
      res.writeHead(answer.status, { ...answer.headers, 'amisi-replay': 'true' });
      res.end(answer.body);
    }
    this.metrics.ended(route.name, outcome, process.hrtime.bigint() - startedNs, null);
  }

  /** The account a request is for, from the platform's header or an Amisi key. */
  private async payerOf(req: IncomingMessage): Promise<Payer> {
    const { routes } = this.options;
    const project = routes.project ? (headerOf(req, routes.project.header) ?? null) : null;
    const memberHeader = routes.member ? (headerOf(req, routes.member.header) ?? null) : null;
    if ('header' in routes.account) {
      const accountId = headerOf(req, routes.account.header);
      if (!accountId) {
        throw new AmisiError(
          'unauthorized',
          `the ${routes.account.header} header naming the account is missing`,
          {},
        );
      }
      return { accountId, member: memberHeader, project };
    }
    const presented = headerOf(req, routes.account.apiKey)?.replace(/^Bearer\s+/i, '');
    const principal = presented ? await this.options.keys.authenticate(presented) : null;
    if (!principal) {
      throw new AmisiError(
        'unauthorized',
        `an Amisi account or member key is required in ${routes.account.apiKey}`,
        {},
      );
    }
    if (principal.kind === 'operator' || principal.readOnly || !allows(principal, 'spend')) {
      throw new AmisiError(
        'forbidden',
        "this key may not spend an account's credits: use an account or member key that may",
        {},
      );
    }
    const member = principal.kind === 'member' ? principal.memberId : memberHeader;
    return { accountId: principal.accountId, member, project };
  }

  /** A request no route matches: refused, or forwarded unmetered when the routes say so. */
  private async unmatched(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    startedNs: bigint,
  ): Promise<void> {
    // Forwarded or not, only for a known account: the upstream's credentials are the platform's.
    await this.payerOf(req);
    if (this.options.routes.unmatched !== 'forward') {
      throw new AmisiError('not_found', `no gateway route for ${req.method} ${path}`, {
        method: req.method,
        path,
      });
    }
    await this.passThrough(req, res, 'unmatched', startedNs);
  }

  /**
   * A client's poll of its job (the job route's poll path): forwarded unmetered, for the
   * account whose job it is only; another account's job, or an unknown one, is not found.
   */
  private async jobStatus(
    req: IncomingMessage,
    res: ServerResponse,
    poll: { route: GatewayRoute; jobId: string },
    startedNs: bigint,
  ): Promise<void> {
    const payer = await this.payerOf(req);
    const job = await this.options.ledger.findGatewayJob(poll.route.name, poll.jobId);
    if (job?.accountId !== payer.accountId) {
      throw new AmisiError('not_found', `no job ${poll.jobId} of this account`, {
        job: poll.jobId,
      });
    }
    await this.passThrough(req, res, `${poll.route.name}.status`, startedNs);
  }

  /** Forwards a request as it is and streams the answer back, metering nothing. */
  private async passThrough(
    req: IncomingMessage,
    res: ServerResponse,
    label: string,
    startedNs: bigint,
  ): Promise<void> {
    const signal = abortOnClose(res);
    const headers = forwardedHeaders(
      req.headers,
      this.dropHeaders,
      this.setHeaders,
      this.upstream.base.host,
      null,
    );
    const bodyless = req.method === 'GET' || req.method === 'HEAD';
    const upstreamStarted = process.hrtime.bigint();
    const answer = await this.upstream.send(
      req.method ?? 'GET',
      req.url ?? '/',
      headers,
      bodyless ? null : req,
      GATEWAY_TIMEOUT_DEFAULT_MS,
      signal,
    );
    res.writeHead(answer.statusCode ?? 502, answerHeaders(answer.headers));
    await pipeline(answer, res).catch(() => undefined);
    const upstreamNs = process.hrtime.bigint() - upstreamStarted;
    const total = process.hrtime.bigint() - startedNs;
    this.metrics.ended(label, 'forwarded', total - upstreamNs, upstreamNs);
  }

  /** Health, readiness and metrics, under the gateway's own prefix. */
  private async own(path: string, res: ServerResponse): Promise<void> {
    if (path === `${GATEWAY_OWN_PREFIX}healthz`) return sendJson(res, 200, { status: 'ok' });
    if (path === `${GATEWAY_OWN_PREFIX}metrics`) {
      res.writeHead(200, { 'content-type': this.metrics.contentType });
      res.end(await this.metrics.text());
      return;
    }
    if (path === `${GATEWAY_OWN_PREFIX}readyz`) {
      let store: 'ok' | 'unreachable' = 'ok';
      let catalog: 'active' | 'missing' | 'unknown' = 'unknown';
      try {
        catalog = (await this.options.ledger.findActiveCatalog()) ? 'active' : 'missing';
      } catch (e) {
        this.log('warn', 'readiness: the store did not answer', { err: String(e) });
        store = 'unreachable';
      }
      const ready = store === 'ok' && catalog === 'active' && !this.draining;
      const checks = { store, catalog, accepting: !this.draining };
      return sendJson(res, ready ? 200 : 503, { ready, checks });
    }
    throw new AmisiError('not_found', `the gateway has no ${path}`, { path });
  }

  private failed(res: ServerResponse, e: unknown): void {
    if (!isAmisiError(e))
      this.log('error', 'gateway request failed', {
        err: e instanceof Error ? e.stack : String(e),
      });
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendProblem(res, isAmisiError(e) ? e : new AmisiError('internal', 'internal error', {}));
  }
}

/** 128 bits of SHA-256 over the method, path, query and body: what one request is. */
function requestDigest(method: string, url: string, body: Buffer): string {
  const h = createHash('sha256').update(`${method} ${url}\n`).update(body);
  return h.digest('base64url').slice(0, 22);
}

function replayId(accountId: string, holdKey: string): string {
  return `${accountId}\n${holdKey}`;
}

/** A request still running, to be retried in `retryAfterMs` (at least a second). */
function inProgress(hold: Hold, retryAfterMs: number): AmisiError {
  return new AmisiError(
    'request_in_progress',
    'a request with this Idempotency-Key is still running; retry after the time given',
    { holdId: hold.id, retryAfterMs: Math.max(1000, retryAfterMs) },
  );
}

/** Settling a request's hold takes at most this after its upstream exchange has ended. */
const SETTLE_GRACE_MS = 5000;

/** When a hold still held can only be a lost answer: its request's deadline and settling past. */
function lostAnswerAt(route: GatewayRoute, hold: Hold): number {
  return hold.createdAt + (route.timeoutMs ?? GATEWAY_TIMEOUT_DEFAULT_MS) + SETTLE_GRACE_MS;
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** The headers the gateway sets on every forwarded request, read once from the environment. */
function upstreamHeaders(
  routes: GatewayRoutes,
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, { env: variable }] of Object.entries(routes.upstreamHeaders ?? {})) {
    const value = env[variable];
    if (value === undefined || value === '') {
      throw new AmisiError(
        'routes_invalid',
        `routes invalid at /upstreamHeaders/${name}/env: the environment has no ${variable}`,
        { problems: [{ path: `/upstreamHeaders/${name}/env`, reason: `${variable} is not set` }] },
      );
    }
    out[name.toLowerCase()] = value;
  }
  return out;
}
