/**
 * POST /v1/charges, and beside it POST /v1/check (the same request, asked "may it run?": one
 * snapshot read, nothing written), under load: `amisi serve` in its own process (as deployed), autocannon with
 * 64 connections in this one, on one hot account and spread across 10,000 accounts. Embedded
 * SQLite (synchronous=FULL: every answered charge is durable) by default; --postgres for
 * PostgreSQL on DATABASE_URL or a throwaway local cluster. Every request carries a fresh
 * Idempotency-Key (a plain check ignores it) and an operator API key. Prints req/s and latency percentiles (or --json).
 * Never asserted by a test. Both processes share this machine's cores.
 *
 *   npm run bench:http                 # SQLite
 *   npm run bench:http -- --postgres   # PostgreSQL
 *   npm run bench:http -- --quick      # 3 s per scenario instead of 15
 *   npm run bench:http -- --profile    # and a CPU profile of the server per scenario
 *   npm run bench:http -- --only charge  # one route (charge or check)
 *   npm run bench:http -- --postgres --workers 1  # serve's --workers (default: the cores)
 *
 * --profile runs the server under `node --cpu-prof` and prints, per scenario, the server
 * thread's CPU per request and its top costs by function and by area (bench/profile.ts); the
 * .cpuprofile files stay in the directory it names (open them in Chrome's DevTools). Start-up
 * is in the profile too (well under a second of a 15 s run).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Ledger } from '../src/ledger/ledger.js';
import type { Store } from '../src/ledger/store.js';
import { ApiKeys } from '../src/service/api-keys.js';
import { postgresAdmin, type PostgresAdmin } from './postgres-admin.js';
import { monotonicUs, printProfile, summarizeProfile, type ProfileSummary } from './profile.js';
import { PostgresStore } from '../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const json = args.includes('--json');
const postgres = args.includes('--postgres');
const profile = args.includes('--profile');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
/** `amisi serve --workers N` (PostgreSQL); absent: serve's default (the cores on PostgreSQL). */
const workers = args.includes('--workers') ? args[args.indexOf('--workers') + 1] : undefined;
const ACCOUNTS = 10_000;
const CONNECTIONS = 64;
const SECONDS = quick ? 3 : 15;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');

/** The routes measured: a charge (a write per request) and a plain check (a read). */
const ROUTES = { charge: '/v1/charges', check: '/v1/check' } as const;
type Route = keyof typeof ROUTES;

interface Figure {
  route: string;
  scenario: string;
  requests: number;
  perSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  non2xx: number;
  errors: number;
  profile?: ProfileSummary;
}

const PROFILE_DIR = profile ? mkdtempSync(join(tmpdir(), 'amisi-http-profile-')) : '';

interface Target {
  /** Flags that point `amisi` at the database. */
  readonly flags: string[];
  open(): Promise<Store>;
  close(): Promise<void>;
  readonly label: string;
}

async function sqliteTarget(name: string): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'amisi-http-bench-'));
  const path = join(dir, `${name}.db`);
  return {
    label: 'embedded SQLite, WAL, synchronous=FULL',
    flags: ['--db', path],
    async open() {
      const store = new SqliteStore({ path, synchronous: 'FULL' });
      await store.migrate();
      return store;
    },
    async close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const admins: PostgresAdmin[] = [];
async function postgresTarget(name: string): Promise<Target> {
  if (admins.length === 0) admins.push(await postgresAdmin());
  const server = admins[0]!;
  const db = `amisi_http_bench_${name}`;
  await server.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await server.query(`CREATE DATABASE ${db}`);
  const url = server.databaseUrl(db);
  return {
    label: 'PostgreSQL, synchronous_commit=on',
    flags: ['--database-url', url],
    async open() {
      const store = new PostgresStore({ url });
      await store.migrate();
      return store;
    },
    close: () => server.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`),
  };
}

/** The database with the catalog, the accounts and their credits, and an operator key. */
async function prepare(target: Target, accounts: number): Promise<{ key: string; ids: string[] }> {
  const store = await target.open();
  const ledger = new Ledger({ store });
  const catalog = JSON.parse(readFileSync(join(ROOT, 'catalog', 'default.json'), 'utf8'));
  await ledger.loadCatalog(catalog);
  const ids = Array.from({ length: accounts }, (_, i) => `acct-${i}`);
  await Promise.all(ids.map((accountId) => ledger.createAccount({ accountId })));
  await Promise.all(
    ids.map((accountId) =>
      ledger.grant({ accountId, key: 'seed', credits: 1_000_000_000, source: 'purchase' }),
    ),
  );
  const { key } = await new ApiKeys(ledger).create({ scope: 'operator', name: 'bench' });
  await ledger.close();
  return { key, ids };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function startServer(target: Target, port: number, name: string): Promise<ChildProcess> {
  const node = profile
    ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${name}.cpuprofile`]
    : [];
  const amisi = [
    BIN,
    ...target.flags,
    'serve',
    '--port',
    String(port),
    ...(workers === undefined ? [] : ['--workers', workers]),
  ];
  const child = spawn(process.execPath, [...node, ...amisi], {
    env: {
      ...process.env,
      DATABASE_URL: '',
      AMISI_LOG_LEVEL: 'warn',
      AMISI_RATE_LIMIT: '0',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  for (let i = 0; i < 200; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (r.ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error('amisi serve did not become ready');
}

async function stopServer(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function run(route: Route, scenario: 'hot' | 'spread'): Promise<Figure> {
  const accounts = scenario === 'hot' ? 1 : ACCOUNTS;
  const target = postgres ? await postgresTarget(scenario) : await sqliteTarget(scenario);
  try {
    if (!json) process.stderr.write(`preparing ${accounts} account(s)...\n`);
    const { key, ids } = await prepare(target, accounts);
    const port = await freePort();
    const name = `${route}-${scenario}`;
    const server = await startServer(target, port, name);
    let figure: Figure;
    let window = { fromUs: 0, toUs: 0 };
    try {
      let n = 0;
      const fromUs = monotonicUs();
      const result = await autocannon({
        url: `http://127.0.0.1:${port}`,
        connections: CONNECTIONS,
        duration: SECONDS,
        requests: [
          {
            method: 'POST',
            path: ROUTES[route],
            setupRequest: (request) => {
              const i = n++;
              return {
                ...request,
                headers: {
                  'content-type': 'application/json',
                  authorization: `Bearer ${key}`,
                  'idempotency-key': `bench-${i}`,
                },
                body: JSON.stringify({ accountId: ids[i % ids.length], credits: 1 }),
              };
            },
          },
        ],
      });
      window = { fromUs, toUs: monotonicUs() };
      figure = {
        route: `POST ${ROUTES[route]}`,
        scenario: scenario === 'hot' ? 'one hot account' : `${ACCOUNTS} accounts`,
        requests: result.requests.total,
        perSecond: Math.round(result.requests.average),
        p50Ms: result.latency.p50,
        p90Ms: result.latency.p90,
        p99Ms: result.latency.p99,
        maxMs: result.latency.max,
        non2xx: result.non2xx,
        errors: result.errors,
      };
    } finally {
      await stopServer(server);
    }
    if (profile) {
      const file = join(PROFILE_DIR, `${name}.cpuprofile`);
      figure.profile = summarizeProfile(file, figure.requests, window);
    }
    return figure;
  } finally {
    await target.close();
  }
}

try {
  const figures: Figure[] = [];
  const routes = (Object.keys(ROUTES) as Route[]).filter((r) => only === undefined || r === only);
  if (routes.length === 0) throw new Error(`--only takes one of ${Object.keys(ROUTES).join(', ')}`);
  for (const route of routes)
    for (const scenario of ['hot', 'spread'] as const) figures.push(await run(route, scenario));
  const label = postgres
    ? 'PostgreSQL, synchronous_commit=on'
    : 'embedded SQLite, synchronous=FULL';
  if (json) {
    console.log(
      JSON.stringify(
        { store: label, connections: CONNECTIONS, seconds: SECONDS, figures },
        null,
        2,
      ),
    );
  } else {
    console.log(`${CONNECTIONS} connections, ${SECONDS} s each, ${label}`);
    console.log(
      'route             scenario            requests     req/s   p50 ms   p90 ms   p99 ms   max ms   non-2xx',
    );
    for (const f of figures) {
      console.log(
        `${f.route.padEnd(17)} ${f.scenario.padEnd(18)} ${String(f.requests).padStart(9)} ${String(f.perSecond).padStart(9)} ${String(f.p50Ms).padStart(8)} ${String(f.p90Ms).padStart(8)} ${String(f.p99Ms).padStart(8)} ${String(f.maxMs).padStart(8)} ${String(f.non2xx + f.errors).padStart(9)}`,
      );
    }
    for (const f of figures) {
      if (f.profile) console.log(`\n${printProfile(`${f.route}, ${f.scenario}`, f.profile)}`);
    }
  }
} finally {
  for (const a of admins) a.stop();
}
