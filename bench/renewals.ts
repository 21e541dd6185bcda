/**
 * Time to renew N subscriptions (1,000,000 by default) that all fall due at the same boundary:
 * `ledger.renew()` pages through the due subscriptions 1,000 at a time and group-commits the
 * maintenance. SQLite (synchronous=FULL) by default; --postgres for PostgreSQL
 * (synchronous_commit on), on DATABASE_URL or a throwaway local cluster. Prints a table (or
 * --json). Never asserted by a test.
 *
 *   npm run bench:renewals                     # SQLite, 1,000,000 subscriptions
 *   npm run bench:renewals -- --postgres       # PostgreSQL
 *   npm run bench:renewals -- --quick          # 100,000
 *   npm run bench:renewals -- --count 250000   # any count
 *   npm run bench:renewals -- --verify         # full verify afterwards (else a sample)
 *
 * Progress goes to stderr (a line per 100,000 renewed, with where the time went: the main
 * thread on a CPU, waiting for one while other processes had them, or blocked on I/O), the
 * table to stdout: store, subscriptions, seconds, renewals/s and the process's peak RSS.
 *
 * Set-up is not measured. The first account subscribes through the ledger; the others are
 * written straight into the tables (one transaction per 10,000 accounts) as the same rows
 * `ledger.subscribe` makes: the account, the cycle-0 allocation grant, the subscription, its
 * journal transaction with two entries and the idempotency record. The bench checks that the
 * rows of account 1 have exactly the shape of account 0's before it times anything.
 */
import { NO_OVERDRAFT } from '../src/core/overdraft.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { Plan } from '../src/core/catalog.js';
import { cycleStart } from '../src/core/cycles.js';
import type { Subscription } from '../src/core/subscriptions.js';
import { requestHash } from '../src/ledger/idempotency.js';
import { Ledger } from '../src/ledger/ledger.js';
import { FakeClock, UlidIds } from '../src/ledger/ports.js';
import type { Store } from '../src/ledger/store.js';
import { checkAccount, verify, type Violation } from '../src/ledger/verify.js';
import { postgresAdmin } from './postgres-admin.js';
import { PostgresStore } from '../src/store/postgres/postgres-store.js';
import { encodeRow } from '../src/store/sql/rows.js';
import {
  KIND_TYPES,
  TABLES as DESCRIPTIONS,
  type Row,
  type TableName,
} from '../src/store/sql/tables.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import {
  accountView,
  currentSubscription,
  dueSubscriptions,
  history,
} from '../src/ledger/reads.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const postgres = args.includes('--postgres');
const fullVerify = args.includes('--verify');

function countArg(): number {
  const i = args.findIndex((a) => a === '--count' || a.startsWith('--count='));
  if (i < 0) return args.includes('--quick') ? 100_000 : 1_000_000;
  const text = args[i]!.includes('=') ? args[i]!.split('=')[1] : args[i + 1];
  const n = Number(text?.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < 2) throw new Error(`--count needs an integer >= 2`);
  return n;
}

const COUNT = countArg();
const PLAN = 'pro';
const KEY = 'subscribe';
/** Accounts per set-up transaction. */
const SETUP_CHUNK = 10_000;
/** Accounts checked by verify (and for the renewal's outcome) when --verify is not given. */
const SAMPLE = 1_000;
const PROGRESS_EVERY = 100_000;
const T0 = Date.UTC(2026, 0, 1);

const log = (line: string) => {
  if (!json) process.stderr.write(`${line}\n`);
};
const mib = (bytes: number) => Math.round(bytes / 1024 / 1024);
const accountId = (i: number) => `acct-${String(i).padStart(9, '0')}`;

/** One table of the schema, with the PostgreSQL type of each column (for unnest). */
interface Table {
  readonly name: TableName;
  readonly columns: readonly string[];
  readonly pgTypes: readonly string[];
}

/** The bench's tables, from the store's table descriptions (one place for every column). */
function table(name: TableName): Table {
  const columns = DESCRIPTIONS[name].columns;
  return {
    name,
    columns: columns.map((c) => c.name),
    pgTypes: columns.map((c) => KIND_TYPES[c.kind].element),
  };
}

const TABLES = {
  accounts: table('accounts'),
  grants: table('grants'),
  subscriptions: table('subscriptions'),
  transactions: table('transactions'),
  entries: table('entries'),
  idempotency: table('idempotency'),
};

/** Rows of one table, column by column (what unnest wants; SQLite flattens them). */
interface Rows {
  readonly table: Table;
  readonly columns: unknown[][];
}

/** Writes set-up rows straight into the store's tables, one transaction per call. */
interface Loader {
  load(rows: readonly Rows[]): Promise<void>;
  /** Leaves the database as a long-running one would be (checkpointed; vacuumed, analyzed). */
  finish(): Promise<void>;
}

/** Where the store lives: a temp folder for SQLite, a server for PostgreSQL. */
interface Place {
  readonly label: string;
  readonly store: string;
  open(): Promise<{ store: Store; loader: () => Promise<Loader> }>;
  close(): Promise<void>;
}

/** Rows per multi-row INSERT in the SQLite set-up. */
const SQLITE_ROWS_PER_INSERT = 256;

function sqliteLoader(path: string): Loader {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF'); // set-up only: the store itself runs synchronous=FULL
  const statements = new Map<string, Database.Statement>();
  const insert = (table: Table, n: number) => {
    const id = `${table.name}:${n}`;
    let s = statements.get(id);
    if (!s) {
      const one = `(${table.columns.map(() => '?').join(', ')})`;
      s = db.prepare(
        `INSERT INTO ${table.name} (${table.columns.join(', ')}) VALUES ${Array(n).fill(one).join(', ')}`,
      );
      statements.set(id, s);
    }
    return s;
  };
  const load = db.transaction((all: readonly Rows[]) => {
    for (const { table, columns } of all) {
      const count = columns[0]!.length;
      for (let at = 0; at < count; at += SQLITE_ROWS_PER_INSERT) {
        const n = Math.min(SQLITE_ROWS_PER_INSERT, count - at);
        const values: unknown[] = [];
        for (let i = at; i < at + n; i++) for (const c of columns) values.push(c[i]);
        insert(table, n).run(values);
      }
    }
  });
  return {
    async load(rows) {
      load.immediate(rows);
    },
    async finish() {
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
    },
  };
}

async function sqlitePlace(): Promise<Place> {
  const dir = mkdtempSync(join(tmpdir(), 'amisi-bench-renewals-'));
  const path = join(dir, 'renewals.db');
  return {
    label: 'SQLite WAL synchronous=FULL',
    store: 'SQLite',
    async open() {
      const store = new SqliteStore({ path, synchronous: 'FULL' });
      await store.migrate();
      return { store, loader: async () => sqliteLoader(path) };
    },
    async close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresLoader(url: string): Promise<Loader> {
  const client = new pg.Client(url);
  await client.connect();
  await client.query('SET synchronous_commit = off'); // set-up only
  return {
    async load(rows) {
      await client.query('BEGIN');
      try {
        for (const { table, columns } of rows) {
          const arrays = table.pgTypes.map((t, i) => `$${i + 1}::${t}[]`).join(', ');
          await client.query(
            `INSERT INTO ${table.name} (${table.columns.join(', ')}) SELECT * FROM unnest(${arrays})`,
            columns,
          );
        }
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK');
        throw e;
      }
    },
    async finish() {
      // As autovacuum would have done in the month before the renewal: visibility map, hint
      // bits and planner statistics.
      await client.query('VACUUM (ANALYZE)');
      try {
        await client.query('CHECKPOINT');
      } catch {
        // Not a superuser (DATABASE_URL): the next checkpoint happens when it happens.
      }
      await client.end();
    },
  };
}

async function postgresPlace(): Promise<Place> {
  const admin = await postgresAdmin();
  const db = 'amisi_bench_renewals';
  return {
    label: 'PostgreSQL synchronous_commit=on',
    store: 'PostgreSQL',
    async open() {
      await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${db}`);
      const url = admin.databaseUrl(db);
      const store = new PostgresStore({ url, poolSize: 8 });
      await store.migrate();
      return { store, loader: () => postgresLoader(url) };
    },
    async close() {
      await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      admin.stop();
    },
  };
}

/** The rows `ledger.subscribe` makes for accounts [from, to), column by column. */
function subscribeRows(
  ids: UlidIds,
  from: number,
  to: number,
  plan: Plan,
  currency: string,
): Rows[] {
  const empty = (t: Table) => ({ table: t, columns: t.columns.map((): unknown[] => []) });
  const accounts = empty(TABLES.accounts);
  const grants = empty(TABLES.grants);
  const subscriptions = empty(TABLES.subscriptions);
  const transactions = empty(TABLES.transactions);
  const entries = empty(TABLES.entries);
  const idempotency = empty(TABLES.idempotency);
  /** A record's stored values, column by column (booleans as SQLite stores them: none here). */
  const push = <T extends TableName>(rows: Rows, record: Row<T>) =>
    encodeRow(rows.table.name as T, record, (b) => b).forEach((v, i) => rows.columns[i]!.push(v));
  const credits = plan.creditsPerCycle;
  const boundary = cycleStart(T0, 1);
  for (let i = from; i < to; i++) {
    const account = accountId(i);
    // Ids in the order subscribe draws them: the grant, the subscription, the transaction.
    const grantId = ids.next('grt');
    const subscription: Subscription = {
      accountId: account,
      id: ids.next('sub'),
      plan: PLAN,
      pendingPlan: null,
      anchorAt: T0,
      cycleIndex: 0,
      nextRenewalAt: boundary,
      status: 'active',
      cancelAt: null,
      allocationGrantId: grantId,
      createdAt: T0,
      providerRef: null,
    };
    const transactionId = ids.next('txn');
    const detail = { subscription, chargeCents: 0, currency, credits, change: 'subscribe' };
    push<'accounts'>(accounts, {
      id: account,
      createdAt: T0,
      kind: 'individual',
      name: null,
      testClockId: null,
      ...NO_OVERDRAFT,
    });
    push<'grants'>(grants, {
      accountId: account,
      id: grantId,
      source: 'allocation',
      amount: credits,
      remaining: credits,
      startsAt: T0,
      expiresAt: boundary,
      createdAt: T0,
    });
    push<'subscriptions'>(subscriptions, subscription);
    push<'transactions'>(transactions, {
      accountId: account,
      id: transactionId,
      kind: 'renewal',
      createdAt: T0,
      idempotencyKey: KEY,
      holdId: null,
      grantId: null,
      catalogVersion: null,
      detail,
    });
    const entry = { accountId: account, transactionId, grantId, holdId: null };
    push<'entries'>(entries, { ...entry, line: 0, book: 'issued', credits: -credits });
    push<'entries'>(entries, { ...entry, line: 1, book: 'grant', credits });
    const hash = requestHash({ op: 'subscribe', accountId: account, plan: PLAN });
    push<'idempotency'>(idempotency, {
      accountId: account,
      key: KEY,
      requestHash: hash,
      transactionId,
      createdAt: T0,
    });
  }
  return [accounts, grants, subscriptions, transactions, entries, idempotency];
}

/** An account's rows as the store reads them back, with its ids replaced by placeholders. */
async function shape(store: Store, id: string): Promise<string> {
  const sub = await currentSubscription(store, id);
  const grants = await store.find(
    'grants',
    { accountId: id },
    { order: ['createdAt desc', 'id desc'] },
  );
  const txns = await history(store, { accountId: id, limit: 10 });
  let text = JSON.stringify({ account: await accountView(store, id), sub, grants, txns });
  const names = new Map<string, string>([[id, 'ACCOUNT']]);
  if (sub) names.set(sub.id, 'SUB');
  grants.forEach((g, i) => names.set(g.id, `GRANT${i}`));
  txns.forEach((t, i) => names.set(t.id, `TXN${i}`));
  for (const [from, to] of names) text = text.split(from).join(to);
  return text;
}

/** Accounts checked when not every account is: evenly spread, the first and the last. */
function sampleAccounts(): string[] {
  const picks = new Set<number>([0, COUNT - 1]);
  const step = Math.max(1, Math.floor(COUNT / SAMPLE));
  for (let i = 0; i < COUNT; i += step) picks.add(i);
  return [...picks].sort((a, b) => a - b).map(accountId);
}

async function checkSample(store: Store, ids: readonly string[]): Promise<Violation[]> {
  const violations: Violation[] = [];
  for (const id of ids)
    violations.push(...checkAccount(id, await store.accountAudit(id)).violations);
  return violations;
}

/** Each renewed account: cycle 1, due at the next boundary, rollover and a fresh allocation. */
async function checkRenewed(store: Store, ids: readonly string[], plan: Plan): Promise<string[]> {
  const problems: string[] = [];
  const nextBoundary = cycleStart(T0, 2);
  for (const id of ids) {
    const sub = await currentSubscription(store, id);
    if (!sub || sub.cycleIndex !== 1 || sub.nextRenewalAt !== nextBoundary) {
      problems.push(`${id}: subscription ${JSON.stringify(sub)}`);
      continue;
    }
    const open = (
      await store.find('grants', { accountId: id }, { order: ['createdAt desc', 'id desc'] })
    ).filter((g) => g.remaining > 0);
    const by = (source: string) =>
      open.filter((g) => g.source === source).reduce((s, g) => s + g.remaining, 0);
    const rolled = Math.min(plan.creditsPerCycle, plan.rolloverCap);
    if (by('allocation') !== plan.creditsPerCycle || by('rollover') !== rolled) {
      problems.push(`${id}: open grants ${JSON.stringify(open)}`);
    }
  }
  return problems;
}

/**
 * Linux: seconds the main thread has run, and has been runnable but waiting for a CPU
 * (/proc/self/schedstat), to tell a busy machine from a slow ledger. Null elsewhere.
 */
function schedstat(): { running: number; waiting: number } | null {
  try {
    const [running, waiting] = readFileSync('/proc/self/schedstat', 'utf8').split(' ').map(Number);
    return { running: running! / 1e9, waiting: waiting! / 1e9 };
  } catch {
    return null;
  }
}

interface Figure {
  store: string;
  label: string;
  subscriptions: number;
  renewed: number;
  seconds: number;
  perSecond: number;
  /** CPU time of this process while renewing (user + system): below `seconds` means waiting. */
  cpuSeconds: number;
  /** Linux: the main thread's time on a CPU, and runnable while other processes had them. */
  mainThread: { running: number; waitingForCpu: number } | null;
  setupSeconds: number;
  /** The process's peak resident set (set-up included), and where it stood before renewing. */
  peakRssMiB: number;
  peakRssBeforeRenewMiB: number;
  verified: { accounts: number; violations: number; full: boolean };
}

async function run(place: Place): Promise<Figure> {
  const { store, loader } = await place.open();
  const clock = new FakeClock(T0);
  const ledger = new Ledger({ store, clock });
  try {
    const setupStarted = process.hrtime.bigint();
    await ledger.loadCatalog(
      JSON.parse(readFileSync(new URL('../../catalog/default.json', import.meta.url), 'utf8')),
    );
    const catalog = await ledger.activeCatalog();
    const plan = catalog.body.plans[PLAN];
    if (!plan) throw new Error(`the default catalog has no "${PLAN}" plan`);

    // Account 0 through the ledger: the reference for the rows written directly.
    await ledger.createAccount({ accountId: accountId(0) });
    await ledger.subscribe({ accountId: accountId(0), key: KEY, plan: PLAN });
    const load = await loader();
    const ids = new UlidIds(clock);
    for (let from = 1; from < COUNT; from += SETUP_CHUNK) {
      const to = Math.min(COUNT, from + SETUP_CHUNK);
      await load.load(subscribeRows(ids, from, to, plan, catalog.body.currency));
      if (Math.floor(to / PROGRESS_EVERY) > Math.floor(from / PROGRESS_EVERY) || to === COUNT)
        log(`  set-up: ${to}/${COUNT} subscriptions`);
    }
    await load.finish();
    const [reference, direct] = [
      await shape(store, accountId(0)),
      await shape(store, accountId(1)),
    ];
    if (reference !== direct) {
      throw new Error(`set-up rows differ from the ledger's:\n${reference}\n${direct}`);
    }
    const sample = sampleAccounts();
    const before = await checkSample(store, sample);
    if (before.length > 0) throw new Error(`set-up fails verify: ${JSON.stringify(before[0])}`);
    const setupSeconds = Number(process.hrtime.bigint() - setupStarted) / 1e9;
    log(`  set-up: ${setupSeconds.toFixed(1)} s, sample of ${sample.length} verified`);

    // Just past the boundary: every subscription is due once.
    clock.set(cycleStart(T0, 1) + 60_000);
    const peakRssBeforeRenewMiB = mib(process.resourceUsage().maxRSS * 1024);
    const cpuBefore = process.cpuUsage();
    const schedBefore = schedstat();
    const started = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
    let shown = 0;
    const renewed = await ledger.renew(undefined, (n) => {
      if (Math.floor(n / PROGRESS_EVERY) > shown || n === COUNT) {
        shown = Math.floor(n / PROGRESS_EVERY);
        const s = elapsed();
        log(
          `  renewed ${n}/${COUNT} in ${s.toFixed(1)} s (${Math.round(n / s)}/s, rss ${mib(process.memoryUsage().rss)} MiB)`,
        );
      }
    });
    const seconds = elapsed();
    const cpu = process.cpuUsage(cpuBefore);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const sched = schedstat();
    const mainThread =
      sched && schedBefore
        ? {
            running: sched.running - schedBefore.running,
            waitingForCpu: sched.waiting - schedBefore.waiting,
          }
        : null;
    log(
      `  renew: ${seconds.toFixed(1)} s; process CPU time ${cpuSeconds.toFixed(1)} s` +
        (mainThread
          ? `; main thread: on a CPU ${mainThread.running.toFixed(1)} s, waiting for one ` +
            `${mainThread.waitingForCpu.toFixed(1)} s, blocked (I/O: fsync, reads) ` +
            `${Math.max(0, seconds - mainThread.running - mainThread.waitingForCpu).toFixed(1)} s`
          : ''),
    );
    const peakRssMiB = mib(process.resourceUsage().maxRSS * 1024);
    log(`  peak RSS: ${peakRssBeforeRenewMiB} MiB before renewing, ${peakRssMiB} MiB after`);

    if (renewed !== COUNT) throw new Error(`renewed ${renewed} of ${COUNT}`);
    const left = await dueSubscriptions(store, clock.now(), 1);
    if (left.length > 0) throw new Error(`still due after renew: ${left[0]}`);
    const problems = await checkRenewed(store, sample, plan);
    if (problems.length > 0) throw new Error(`renewal outcome: ${problems.slice(0, 3).join('\n')}`);
    let verified: Figure['verified'];
    if (fullVerify) {
      const verifyStarted = process.hrtime.bigint();
      let shownVerify = 0;
      const report = await verify(store, {
        pageSize: 1000,
        onProgress: (n) => {
          if (Math.floor(n / PROGRESS_EVERY) > shownVerify) {
            shownVerify = Math.floor(n / PROGRESS_EVERY);
            log(`  verified ${n}/${COUNT}`);
          }
        },
      });
      const s = Number(process.hrtime.bigint() - verifyStarted) / 1e9;
      log(
        `  verify: ${report.accounts} accounts, ${report.transactions} transactions, ${s.toFixed(1)} s`,
      );
      verified = { accounts: report.accounts, violations: report.violations.length, full: true };
      if (!report.ok) throw new Error(`verify: ${JSON.stringify(report.violations.slice(0, 3))}`);
    } else {
      const after = await checkSample(store, sample);
      verified = { accounts: sample.length, violations: after.length, full: false };
      if (after.length > 0) throw new Error(`verify (sample): ${JSON.stringify(after[0])}`);
    }
    log(`  verify ${verified.full ? 'of every account' : `of ${verified.accounts} accounts`}: ok`);
    return {
      store: place.store,
      label: place.label,
      subscriptions: COUNT,
      renewed,
      seconds,
      perSecond: Math.round(renewed / seconds),
      cpuSeconds,
      mainThread,
      setupSeconds,
      peakRssMiB,
      peakRssBeforeRenewMiB,
      verified,
    };
  } finally {
    await ledger.close();
  }
}

const place = postgres ? await postgresPlace() : await sqlitePlace();
try {
  const f = await run(place);
  if (json) {
    console.log(JSON.stringify(f, null, 2));
  } else {
    console.log(`renewals of ${PLAN} subscriptions all due at one boundary, ${place.label}`);
    console.log('store         subscriptions   seconds   renewals/s   peak RSS');
    console.log(
      `${f.store.padEnd(13)} ${String(f.subscriptions).padStart(13)}   ${f.seconds.toFixed(2).padStart(7)}   ${String(f.perSecond).padStart(10)}   ${`${f.peakRssMiB} MiB`.padStart(8)}`,
    );
  }
} finally {
  await place.close();
}
