/**
 * The latency the metering gateway adds, and its requests per second: the same image request
 * (POST /v1/images/generations, n=1 at 1024x1024, so 1080p: 2 credits) sent at a fixed rate
 * to a minimal upstream directly and through the gateway, alternating rounds in one sitting
 * (direct, gateway, direct, gateway, ...) so drift of the machine falls on both alike. The
 * gateway runs on a ledger over embedded SQLite (synchronous=FULL) by default, --postgres (or
 * --store postgres) for PostgreSQL on DATABASE_URL or a throwaway local cluster. Prints a
 * table (or --json); never asserted by a test. Everything listens on 127.0.0.1 only.
 *
 *   npm run bench:gateway                       # 2000 req/s, 10 s a round, 3 rounds a mode
 *   npm run bench:gateway -- --seconds 5        # shorter rounds
 *   npm run bench:gateway -- --rate 500 --rounds 5
 *   npm run bench:gateway -- --idempotency      # a fresh Idempotency-Key per request
 *   npm run bench:gateway -- --postgres         # PostgreSQL
 *   npm run bench:gateway -- --in-flight 64     # the load's cap on requests in flight
 *   npm run bench:gateway -- --warmup 3         # seconds of warm-up per target (default 1)
 *   npm run bench:gateway -- --image-kib 2048   # answers of that many KiB of b64_json each
 *
 * Where each part runs, so the numbers are the gateway's and not the harness's:
 * - the gateway and its ledger run on this process's main thread, as `amisi gateway` does;
 * - the upstream is a child process (node:http, keep-alive, answers at once): it shares no
 *   event loop, heap or libuv thread pool (where SQLite fsyncs) with the gateway, as a real
 *   upstream on another machine would not;
 * - the load generator is a worker thread: its own event loop, so sending and timing requests
 *   never waits behind the gateway's work (or delays it), and the direct rounds time the same
 *   generator the gateway rounds do.
 * All three share this machine's cores; with few cores they compete for them, and the added
 * latency then includes some of that contention (the header line says how many cores).
 *
 * The load is open-loop: request i is due at i / rate seconds into the round, whatever became
 * of the earlier ones, with at most --in-flight (default 256) in flight; a request due while
 * the cap is reached waits for a free slot and is counted as capped. Its latency is timed
 * (integer nanoseconds) from the moment it is sent to the end of its answer. Each round is
 * bounded: rate x seconds requests, none sent past twice the round's time plus 5 s, and each
 * abandoned after 10 s. A warm-up per target (1 s by default) precedes the rounds (its
 * requests are charged too and counted in the credit check, not in the figures). The table's
 * last column is how busy the gateway's thread was (its event-loop utilization): near 100%,
 * the gateway is at its capacity and its latency is mostly queueing.
 *
 * At the end the bench reads the gateway's own amisi_gateway_added_seconds histogram from
 * GET /_amisi/metrics (the measured rounds only: the warm-up's observations are subtracted),
 * and checks that the account's captured credits are 2 x the gateway requests answered 200
 * and that ledger.verify() is ok. A failed check sets exit code 1. verify() recomputes the one
 * account from its journal and takes longer than linearly in its holds: minutes after the
 * default run's 62,000 requests (it says how long).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { parseGatewayRoutes } from '../src/core/gateway-routes.js';
import { Ledger } from '../src/ledger/ledger.js';
import type { Store } from '../src/ledger/store.js';
import { ApiKeys } from '../src/service/api-keys.js';
import { Gateway } from '../src/service/gateway/gateway.js';
import { PostgresStore } from '../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { postgresAdmin } from './postgres-admin.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const THIS_FILE = fileURLToPath(import.meta.url);
/** argv[2] of the child process that is the upstream. */
const UPSTREAM_ROLE = '--upstream-child';
const PATH = '/v1/images/generations';
const BODY = '{"prompt":"bench","n":1,"size":"1024x1024"}';
/** What one request costs: n=1 at 1024x1024 is one 1080p image, 2 credits in the default catalog. */
const CREDITS_PER_REQUEST = 2;
const ACCOUNT = 'bench-gateway';
const GRANT = 1_000_000_000;
const ROUTE = 'images.generations';
/** A request not answered in this long is abandoned (and counted as an error). */
const REQUEST_TIMEOUT_MS = 10_000;
/** The most requests one round sends (the latencies are kept in memory). */
const MAX_ROUND_REQUESTS = 2_000_000;
const MODES = ['direct', 'gateway'] as const;
type Mode = (typeof MODES)[number];

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  readonly rate: number;
  readonly seconds: number;
  readonly rounds: number;
  readonly inFlight: number;
  readonly warmupSeconds: number;
  /** Each image's b64_json in KiB (0: the 4 characters "aW1n"). */
  readonly imageKib: number;
  readonly idempotency: boolean;
  readonly postgres: boolean;
  readonly json: boolean;
}

/** `--name N` or `--name=N`: a whole number from min to max, or the default when absent. */
function numberOption(
  args: readonly string[],
  name: string,
  fallback: number,
  max: number,
  min = 1,
): number {
  const i = args.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i < 0) return fallback;
  const text = args[i]!.includes('=') ? args[i]!.split('=')[1] : args[i + 1];
  const n = Number(text?.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new Error(`${name} needs a whole number from ${min} to ${max}, got ${text}`);
  }
  return n;
}

function parseOptions(args: readonly string[]): Options {
  const store = args.includes('--store') ? args[args.indexOf('--store') + 1] : undefined;
  if (store !== undefined && store !== 'sqlite' && store !== 'postgres') {
    throw new Error('--store takes sqlite or postgres');
  }
  const o: Options = {
    rate: numberOption(args, '--rate', 2000, 50_000),
    seconds: numberOption(args, '--seconds', 10, 300),
    rounds: numberOption(args, '--rounds', 3, 20),
    inFlight: numberOption(args, '--in-flight', 256, 4096),
    warmupSeconds: numberOption(args, '--warmup', 1, 60, 0),
    imageKib: numberOption(args, '--image-kib', 0, 16_384, 0),
    idempotency: args.includes('--idempotency'),
    postgres: args.includes('--postgres') || store === 'postgres',
    json: args.includes('--json'),
  };
  if (o.rate * o.seconds > MAX_ROUND_REQUESTS) {
    throw new Error(`--rate x --seconds is at most ${MAX_ROUND_REQUESTS} requests a round`);
  }
  return o;
}

// ---------------------------------------------------------------------------------------------
// The upstream (a child process)

/** `{"created":1,"data":[...]}` with n images of `kib` KiB of base64 each (0: "aW1n"). */
function imagesBody(n: number, kib: number): Buffer {
  const b64 = kib === 0 ? 'aW1n' : 'A'.repeat(kib * 1024);
  const data = Array.from({ length: n }, () => `{"b64_json":"${b64}"}`).join(',');
  return Buffer.from(`{"created":1,"data":[${data}]}`);
}

/** The n a request body asks for: 1 to 10, 1 when it says nothing (or is not JSON). */
function imagesAsked(body: Buffer): number {
  try {
    const n = (JSON.parse(body.toString('utf8')) as { n?: unknown }).n;
    return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 10 ? n : 1;
  } catch {
    return 1;
  }
}

/** The child's whole life: answer every POST at once, and end when the parent goes. */
function serveUpstream(kib: number): void {
  const one = imagesBody(1, kib);
  const answer = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    if (req.method !== 'POST' || req.url !== PATH) {
      res.writeHead(404, { 'content-length': '0' });
      res.end();
      return;
    }
    const n = imagesAsked(body);
    const out = n === 1 ? one : imagesBody(n, kib);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': out.length });
    res.end(out);
  };
  const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => answer(req, res, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
  });
  server.listen(0, '127.0.0.1', () => {
    process.send?.({ port: (server.address() as { port: number }).port });
  });
  process.on('disconnect', () => process.exit(0));
}

async function startUpstream(kib: number): Promise<{ url: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [THIS_FILE, UPSTREAM_ROLE, String(kib)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit');
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the upstream did not start in 10 s')), 10_000);
    child.once('message', (m: { port: number }) => {
      clearTimeout(timer);
      resolve(m.port);
    });
    child.once('exit', (code) => reject(new Error(`the upstream exited (${code})`)));
  }).catch((e: unknown) => {
    child.kill('SIGKILL');
    throw e;
  });
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The load generator (a worker thread)

/** One round of load, as the main thread asks the worker for it. */
interface Shot {
  readonly url: string;
  readonly rate: number;
  readonly count: number;
  readonly inFlight: number;
  readonly key: string;
  /** A prefix for a unique Idempotency-Key per request, or null to send none. */
  readonly idempotencyPrefix: string | null;
  /** Milliseconds after which no more requests are sent (the rest count as unsent). */
  readonly sendForMs: number;
}

/** What a round measured. Latencies are integer nanoseconds, one per answered request. */
interface Volley {
  readonly latenciesNs: Float64Array<ArrayBuffer>;
  /** How late each sent request left after its due time (the pacing's own lateness). */
  readonly lagsNs: Float64Array<ArrayBuffer>;
  readonly ok: number;
  readonly non200: number;
  /** No answer: the connection failed or the request timed out. */
  readonly failed: number;
  readonly capped: number;
  readonly unsent: number;
  readonly elapsedNs: number;
}

/** A volley, and how busy this (the gateway's) thread's event loop was meanwhile. */
interface Measured extends Volley {
  readonly loop: { readonly activeMs: number; readonly idleMs: number };
}

interface Tally {
  sent: number;
  answered: number;
  inFlight: number;
  ok: number;
  non200: number;
  failed: number;
  capped: number;
  /** Requests up to this index were already looked at for the cap. */
  cappedUpTo: number;
  lastEnd: bigint;
}

/** Sends request i and calls `done` once with its status (null: no answer) and latency. */
function send(
  agent: http.Agent,
  target: URL,
  shot: Shot,
  i: number,
  done: (status: number | null, ns: bigint) => void,
): void {
  const headers: http.OutgoingHttpHeaders = {
    'content-type': 'application/json',
    'content-length': BODY.length,
    authorization: `Bearer ${shot.key}`,
  };
  if (shot.idempotencyPrefix !== null)
    headers['idempotency-key'] = `${shot.idempotencyPrefix}-${i}`;
  const t0 = process.hrtime.bigint();
  let ended = false;
  const end = (status: number | null) => {
    if (ended) return;
    ended = true;
    done(status, process.hrtime.bigint() - t0);
  };
  const req = http.request({
    agent,
    host: target.hostname,
    port: target.port,
    method: 'POST',
    path: PATH,
    headers,
  });
  req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error('timeout')));
  req.on('error', () => end(null));
  req.on('response', (res) => {
    res.on('error', () => end(null));
    res.on('end', () => end(res.complete ? (res.statusCode ?? 0) : null));
    res.resume();
  });
  req.end(BODY);
}

/** One open-loop round: request i due at i / rate s, at most shot.inFlight in flight. */
function fire(agent: http.Agent, shot: Shot): Promise<Volley> {
  const target = new URL(shot.url);
  const latenciesNs = new Float64Array(shot.count);
  const lagsNs = new Float64Array(shot.count);
  const periodNs = 1e9 / shot.rate;
  const t: Tally = {
    sent: 0,
    answered: 0,
    inFlight: 0,
    ok: 0,
    non200: 0,
    failed: 0,
    capped: 0,
    cappedUpTo: 0,
    lastEnd: 0n,
  };
  const start = process.hrtime.bigint();
  const stopSendingAt = start + BigInt(shot.sendForMs) * 1_000_000n;
  return new Promise((resolve) => {
    let sending = true;
    const finish = () => {
      // From the first send to the last answer, and never shorter than the schedule itself
      // (the last request is due a period before the round's end).
      const measured = Number((t.lastEnd > 0n ? t.lastEnd : process.hrtime.bigint()) - start);
      const elapsedNs = Math.max(measured, shot.count * periodNs);
      const { ok, non200, failed, capped } = t;
      resolve({
        latenciesNs: latenciesNs.slice(0, t.answered),
        lagsNs: lagsNs.slice(0, t.sent),
        ok,
        non200,
        failed,
        capped,
        unsent: shot.count - t.sent,
        elapsedNs,
      });
    };
    const done = (status: number | null, ns: bigint) => {
      t.inFlight--;
      t.lastEnd = process.hrtime.bigint();
      if (status === null) t.failed++;
      else {
        latenciesNs[t.answered++] = Number(ns);
        if (status === 200) t.ok++;
        else t.non200++;
      }
      if (!sending && t.inFlight === 0) finish();
    };
    const tick = () => {
      const now = process.hrtime.bigint();
      const due = Math.min(shot.count, Math.floor(Number(now - start) / periodNs) + 1);
      while (t.sent < due && t.inFlight < shot.inFlight) {
        const i = t.sent++;
        lagsNs[i] = Number(now - start) - i * periodNs;
        t.inFlight++;
        send(agent, target, shot, i, done);
      }
      if (due > t.cappedUpTo && t.sent < due) {
        t.capped += due - Math.max(t.sent, t.cappedUpTo);
        t.cappedUpTo = due;
      }
      if (t.sent < shot.count && now < stopSendingAt) setTimeout(tick, 1);
      else {
        sending = false;
        if (t.inFlight === 0) finish();
      }
    };
    tick();
  });
}

/** The worker's whole life: a keep-alive agent per target, a round per message. */
function serveLoad(): void {
  const port = parentPort!;
  const agents = new Map<string, http.Agent>();
  port.on('message', (shot: Shot) => {
    let agent = agents.get(shot.url);
    if (!agent) {
      agent = new http.Agent({ keepAlive: true, maxSockets: shot.inFlight, scheduling: 'lifo' });
      agents.set(shot.url, agent);
    }
    void fire(agent, shot).then((v) =>
      port.postMessage(v, [v.latenciesNs.buffer, v.lagsNs.buffer]),
    );
  });
}

function startLoad(): { fire(shot: Shot): Promise<Measured>; stop(): Promise<number> } {
  const worker = new Worker(THIS_FILE);
  return {
    async fire(shot) {
      // While the worker fires, this thread does nothing but run the gateway: its event-loop
      // utilization is the gateway's (near 0 in a direct round).
      const before = performance.eventLoopUtilization();
      worker.postMessage(shot);
      const [volley] = (await once(worker, 'message')) as [Volley];
      const { active, idle } = performance.eventLoopUtilization(before);
      return { ...volley, loop: { activeMs: active, idleMs: idle } };
    },
    stop: () => worker.terminate(),
  };
}

// ---------------------------------------------------------------------------------------------
// The store, the ledger and the gateway

/** Where the store lives: a temp folder for SQLite, a server for PostgreSQL. */
interface Place {
  readonly label: string;
  open(): Promise<Store>;
  close(): Promise<void>;
}

function sqlitePlace(): Place {
  const dir = mkdtempSync(join(tmpdir(), 'amisi-gateway-bench-'));
  return {
    label: 'embedded SQLite, WAL, synchronous=FULL',
    async open() {
      const store = new SqliteStore({ path: join(dir, 'gateway.db'), synchronous: 'FULL' });
      await store.migrate();
      return store;
    },
    async close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresPlace(): Promise<Place> {
  const admin = await postgresAdmin();
  const db = 'amisi_gateway_bench';
  await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${db}`);
  return {
    label: 'PostgreSQL, synchronous_commit=on',
    async open() {
      const store = new PostgresStore({ url: admin.databaseUrl(db) });
      await store.migrate();
      return store;
    },
    async close() {
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      } finally {
        admin.stop();
      }
    },
  };
}

/** The default catalog, one account with plenty of credits, its key, and the gateway. */
async function startGateway(ledger: Ledger, upstream: string) {
  const catalog = JSON.parse(readFileSync(join(ROOT, 'catalog', 'default.json'), 'utf8'));
  const loaded = await ledger.loadCatalog(catalog);
  const routesFile = JSON.parse(readFileSync(join(ROOT, 'gateway', 'openai-images.json'), 'utf8'));
  await ledger.createAccount({ accountId: ACCOUNT });
  await ledger.grant({ accountId: ACCOUNT, key: 'seed', credits: GRANT, source: 'purchase' });
  const keys = new ApiKeys(ledger);
  const { key } = await keys.create({ scope: { accountId: ACCOUNT }, name: 'bench' });
  const gateway = new Gateway({
    ledger,
    keys,
    routes: parseGatewayRoutes(routesFile, loaded.catalog.body),
    upstream,
    env: { AMISI_UPSTREAM_AUTHORIZATION: 'Bearer sk-bench-dummy' },
  });
  const address = await gateway.listen('127.0.0.1', 0);
  return { gateway, key, url: `http://127.0.0.1:${address.port}` };
}

// ---------------------------------------------------------------------------------------------
// The gateway's own histogram

interface Histogram {
  /** Cumulative counts by upper bound (seconds), in order; the last is +Inf. */
  readonly buckets: readonly (readonly [number, number])[];
  readonly count: number;
  readonly sum: number;
}

const ADDED = 'amisi_gateway_added_seconds';

/** The added-seconds histogram of the bench's route, from the Prometheus text. */
async function scrapeAdded(gatewayUrl: string): Promise<Histogram> {
  const text = await (await fetch(`${gatewayUrl}/_amisi/metrics`)).text();
  const buckets: [number, number][] = [];
  let count = 0;
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(ADDED) || !line.includes(`route="${ROUTE}"`)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (line.startsWith(`${ADDED}_bucket`) && le !== undefined) {
      buckets.push([le === '+Inf' ? Infinity : Number(le), value]);
    } else if (line.startsWith(`${ADDED}_count`)) count = value;
    else if (line.startsWith(`${ADDED}_sum`)) sum = value;
  }
  buckets.sort((a, b) => a[0] - b[0]);
  return { buckets, count, sum };
}

function histogramMinus(a: Histogram, b: Histogram): Histogram {
  const before = new Map(b.buckets);
  return {
    buckets: a.buckets.map(([le, n]) => [le, n - (before.get(le) ?? 0)] as const),
    count: a.count - b.count,
    sum: a.sum - b.sum,
  };
}

/** A quantile as Prometheus's histogram_quantile estimates it: linear within the bucket. */
function histogramQuantile(h: Histogram, q: number): number {
  if (h.count === 0) return NaN;
  const rank = q * h.count;
  let lower = 0;
  let below = 0;
  for (const [le, n] of h.buckets) {
    if (n >= rank) {
      if (le === Infinity) return lower; // past the last finite bound: all that can be said
      return lower + ((le - lower) * (rank - below)) / Math.max(1, n - below);
    }
    lower = le;
    below = n;
  }
  return lower;
}

// ---------------------------------------------------------------------------------------------
// Figures

interface Stats {
  readonly requests: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Requests not answered 200: other statuses and no answer at all. */
  readonly errors: number;
  readonly capped: number;
  readonly unsent: number;
  /** The pacing's own lateness at the 99th percentile (how well the load kept its rate). */
  readonly lagP99Ms: number;
  /** Share of the round this thread's event loop was busy: the gateway's, in a gateway round. */
  readonly gatewayLoopBusy: number;
}

interface Figure extends Stats {
  readonly mode: Mode;
  readonly round: number | 'all';
}

const ms = (ns: number) => Math.round(ns / 1e4) / 100;

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

function concat(arrays: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(arrays.reduce((s, a) => s + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

/** One round's figures, or (several volleys) a mode's over all its rounds. */
function statsOf(volleys: readonly Measured[]): Stats {
  const latencies = concat(volleys.map((v) => v.latenciesNs)).sort();
  const lags = concat(volleys.map((v) => v.lagsNs)).sort();
  const sum = (f: (v: Measured) => number) => volleys.reduce((s, v) => s + f(v), 0);
  const active = sum((v) => v.loop.activeMs);
  const answered = latencies.length;
  return {
    requests: answered,
    perSecond: Math.round(answered / (sum((v) => v.elapsedNs) / 1e9)),
    p50Ms: ms(percentile(latencies, 0.5)),
    p90Ms: ms(percentile(latencies, 0.9)),
    p99Ms: ms(percentile(latencies, 0.99)),
    maxMs: ms(latencies[answered - 1] ?? NaN),
    errors: sum((v) => v.non200 + v.failed),
    capped: sum((v) => v.capped),
    unsent: sum((v) => v.unsent),
    lagP99Ms: ms(percentile(lags, 0.99)),
    gatewayLoopBusy: Math.round((active * 1000) / (active + sum((v) => v.loop.idleMs))) / 1000,
  };
}

// ---------------------------------------------------------------------------------------------
// The sitting

interface Sitting {
  readonly figures: Figure[];
  /** Gateway requests answered 200, the warm-up's included: each captured 2 credits. */
  readonly gatewayOk: number;
  readonly added: Histogram;
}

const log = (json: boolean, line: string) => {
  if (!json) process.stderr.write(`${line}\n`);
};

async function sitting(
  o: Options,
  load: ReturnType<typeof startLoad>,
  targets: Record<Mode, string>,
  key: string,
): Promise<Sitting> {
  const run = randomUUID().slice(0, 8);
  const shot = (mode: Mode, round: number | 'warmup', seconds: number): Shot => ({
    url: targets[mode],
    rate: o.rate,
    count: o.rate * seconds,
    inFlight: o.inFlight,
    key,
    idempotencyPrefix: o.idempotency ? `bench-${run}-${mode}-${round}` : null,
    sendForMs: seconds * 2000 + 5000,
  });
  let gatewayOk = 0;
  for (const mode of MODES) {
    if (o.warmupSeconds === 0) break;
    const v = await load.fire(shot(mode, 'warmup', o.warmupSeconds));
    if (mode === 'gateway') gatewayOk += v.ok;
    log(o.json, `warm-up ${mode}: ${v.ok} ok, ${v.non200 + v.failed} errors`);
  }
  const before = await scrapeAdded(targets.gateway);
  const volleys: Record<Mode, Measured[]> = { direct: [], gateway: [] };
  const figures: Figure[] = [];
  for (let round = 1; round <= o.rounds; round++) {
    for (const mode of MODES) {
      const v = await load.fire(shot(mode, round, o.seconds));
      if (mode === 'gateway') gatewayOk += v.ok;
      volleys[mode].push(v);
      const s = statsOf([v]);
      figures.push({ mode, round, ...s });
      log(
        o.json,
        `round ${round}/${o.rounds} ${mode.padEnd(7)}: ${s.requests} answered, ${s.perSecond} req/s, ` +
          `p50 ${f2(s.p50Ms)} ms, p99 ${f2(s.p99Ms)} ms, ${s.errors} errors, ${s.capped} capped, ` +
          `gateway loop ${Math.round(s.gatewayLoopBusy * 100)}% busy`,
      );
    }
  }
  for (const mode of MODES) figures.push({ mode, round: 'all', ...statsOf(volleys[mode]) });
  const added = histogramMinus(await scrapeAdded(targets.gateway), before);
  return { figures, gatewayOk, added };
}

interface Check {
  readonly capturedCredits: number;
  readonly expectedCredits: number;
  readonly heldCredits: number;
  readonly verifyOk: boolean;
  readonly accounts: number;
  readonly transactions: number;
  /** How long ledger.verify() took (it grows faster than the number of holds on one account). */
  readonly verifySeconds: number;
  readonly ok: boolean;
}

async function check(ledger: Ledger, gatewayOk: number, json: boolean): Promise<Check> {
  await ledger.idle();
  log(json, `ledger.verify() of one account with ${gatewayOk} holds...`);
  const t0 = process.hrtime.bigint();
  const report = await ledger.verify();
  const verifySeconds = Math.round(Number(process.hrtime.bigint() - t0) / 1e7) / 100;
  log(json, `ledger.verify(): ${report.ok ? 'ok' : 'FAILED'} in ${verifySeconds.toFixed(2)} s`);
  const capturedCredits = report.totals.consumed;
  const expectedCredits = CREDITS_PER_REQUEST * gatewayOk;
  const heldCredits = report.totals.held;
  return {
    capturedCredits,
    expectedCredits,
    heldCredits,
    verifyOk: report.ok,
    accounts: report.accounts,
    transactions: report.transactions,
    verifySeconds,
    ok: report.ok && capturedCredits === expectedCredits && heldCredits === 0,
  };
}

// ---------------------------------------------------------------------------------------------
// Printing

const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '-');
const signed = (n: number) => (n >= 0 ? `+${f2(n)}` : f2(n));

function printTable(o: Options, label: string, s: Sitting, c: Check): void {
  const cores = availableParallelism();
  console.log(
    `gateway bench: ${o.rate} req/s target, ${o.seconds} s x ${o.rounds} rounds per mode, ` +
      `in-flight cap ${o.inFlight}, ${o.warmupSeconds} s warm-up, ` +
      `${o.idempotency ? 'an Idempotency-Key per request' : 'no Idempotency-Key'}, ` +
      `${o.imageKib === 0 ? 'tiny answers' : `${o.imageKib} KiB images`}, ${label}, ${cores} cores`,
  );
  console.log(
    'mode     round  requests   req/s   p50 ms   p90 ms   p99 ms   max ms   errors   capped  gw loop',
  );
  for (const f of s.figures) {
    console.log(
      `${f.mode.padEnd(8)} ${String(f.round).padStart(5)} ${String(f.requests).padStart(9)} ${String(f.perSecond).padStart(7)} ` +
        `${f2(f.p50Ms).padStart(8)} ${f2(f.p90Ms).padStart(8)} ${f2(f.p99Ms).padStart(8)} ${f2(f.maxMs).padStart(8)} ` +
        `${String(f.errors).padStart(8)} ${String(f.capped).padStart(8)} ${`${Math.round(f.gatewayLoopBusy * 100)}%`.padStart(8)}`,
    );
  }
  const a = addedBy(overall(s, 'direct'), overall(s, 'gateway'));
  console.log(
    `\nadded by the gateway (all rounds): p50 ${signed(a.p50Ms)} ms, p99 ${signed(a.p99Ms)} ms`,
  );
  const h = s.added;
  console.log(
    `gateway's own ${ADDED} (measured rounds): count ${h.count}, mean ${f2((h.sum / h.count) * 1000)} ms, ` +
      `p50 ~${f2(histogramQuantile(h, 0.5) * 1000)} ms, p99 ~${f2(histogramQuantile(h, 0.99) * 1000)} ms (bucket estimate)`,
  );
  const unsent = s.figures.filter((f) => f.round === 'all').reduce((n, f) => n + f.unsent, 0);
  if (unsent > 0) console.log(`warning: ${unsent} requests were not sent within the rounds' time`);
  console.log(
    `check: captured ${c.capturedCredits} credits ${c.capturedCredits === c.expectedCredits ? '=' : '!='} ` +
      `${CREDITS_PER_REQUEST} x ${s.gatewayOk} gateway requests answered 200 (warm-up included); ` +
      `held ${c.heldCredits}; ledger.verify(): ${c.verifyOk ? 'ok' : 'FAILED'} ` +
      `(${c.accounts} account, ${c.transactions} transactions, ${f2(c.verifySeconds)} s): ${c.ok ? 'ok' : 'FAILED'}`,
  );
}

/** A mode's figures over all its rounds. */
function overall(s: Sitting, mode: Mode): Figure {
  const found = s.figures.find((f) => f.mode === mode && f.round === 'all');
  if (!found) throw new Error(`no figures for ${mode}`);
  return found;
}

function addedBy(direct: Stats, gateway: Stats) {
  const d = (x: number) => Math.round(x * 100) / 100;
  return { p50Ms: d(gateway.p50Ms - direct.p50Ms), p99Ms: d(gateway.p99Ms - direct.p99Ms) };
}

function printJson(o: Options, label: string, s: Sitting, c: Check): void {
  const h = s.added;
  const out = {
    store: label,
    cores: availableParallelism(),
    rate: o.rate,
    seconds: o.seconds,
    rounds: o.rounds,
    inFlight: o.inFlight,
    warmupSeconds: o.warmupSeconds,
    imageKib: o.imageKib,
    idempotency: o.idempotency,
    figures: s.figures,
    added: addedBy(overall(s, 'direct'), overall(s, 'gateway')),
    gatewayAddedSeconds: {
      count: h.count,
      meanMs: ms((h.sum / h.count) * 1e9),
      p50Ms: ms(histogramQuantile(h, 0.5) * 1e9),
      p99Ms: ms(histogramQuantile(h, 0.99) * 1e9),
      buckets: h.buckets.map(([le, n]) => ({ le: le === Infinity ? '+Inf' : le, count: n })),
    },
    check: { ...c, gatewayOk: s.gatewayOk },
  };
  console.log(JSON.stringify(out, null, 2));
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const upstream = await startUpstream(o.imageKib);
  const place = o.postgres ? await postgresPlace() : sqlitePlace();
  const load = startLoad();
  let ledger: Ledger | null = null;
  let gateway: Gateway | null = null;
  try {
    ledger = new Ledger({ store: await place.open() });
    const started = await startGateway(ledger, upstream.url);
    gateway = started.gateway;
    log(o.json, `upstream ${upstream.url}, gateway ${started.url}, ${place.label}`);
    const targets = { direct: upstream.url, gateway: started.url };
    const s = await sitting(o, load, targets, started.key);
    const c = await check(ledger, s.gatewayOk, o.json);
    if (o.json) printJson(o, place.label, s, c);
    else printTable(o, place.label, s, c);
    if (!c.ok) process.exitCode = 1;
  } finally {
    await load.stop();
    await gateway?.close(1000);
    await upstream.stop();
    await ledger?.close();
    await place.close();
  }
}

if (!isMainThread) serveLoad();
else if (process.argv[2] === UPSTREAM_ROLE) serveUpstream(Number(process.argv[3] ?? 0));
else await main();
