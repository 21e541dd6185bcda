import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Store } from '../src/ledger/store.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { PostgresStore, type PostgresOptions } from '../src/store/postgres/postgres-store.js';

/**
 * PostgreSQL for tests: scripts/run-tests.mjs sets DATABASE_URL (a throwaway cluster, or the
 * one given) or AMISI_NO_POSTGRES=1 when PostgreSQL is not installed.
 */
export const postgresSkip: string | false =
  process.env.DATABASE_URL === undefined || process.env.AMISI_NO_POSTGRES === '1'
    ? 'PostgreSQL is not installed here (scripts/run-tests.mjs says so once)'
    : false;

/** A fresh, empty database on the test server; drop() removes it. */
export async function freshDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = process.env.DATABASE_URL;
  if (!admin) throw new Error('DATABASE_URL is not set');
  const name = `amisi_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client(admin);
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client(admin);
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A migrated PostgresStore on a fresh database. */
export async function freshPostgresStore(options: Omit<PostgresOptions, 'url'> = {}) {
  const db = await freshDatabase();
  const store = new PostgresStore({ url: db.url, ...options });
  await store.migrate();
  return {
    store,
    url: db.url,
    async close() {
      await store.close();
      await db.drop();
    },
  };
}

/**
 * Waits until every other session on the database at `url` has ended. A killed client's
 * session lives on until the server reads the closed socket: a COMMIT it had already sent
 * completes, anything else rolls back; the session's statistics are flushed as it ends.
 */
export async function otherSessionsEnded(url: string, timeoutMs = 10_000): Promise<void> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await client.query<{ n: number }>(
        'SELECT COUNT(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      );
      if (rows[0]!.n === 0) return;
      if (Date.now() > until) throw new Error(`${rows[0]!.n} other sessions still open on ${url}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    await client.end();
  }
}

/** How many deadlocks the server has detected in the database at `url` (pg_stat_database). */
export async function deadlocksDetected(url: string): Promise<number> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      'SELECT deadlocks::int AS n FROM pg_stat_database WHERE datname = current_database()',
    );
    return rows[0]!.n;
  } finally {
    await client.end();
  }
}

/** A migrated SqliteStore in its own temporary folder. */
export async function freshSqliteStore() {
  const dir = mkdtempSync(join(tmpdir(), 'amisi-store-'));
  const store = new SqliteStore({ path: join(dir, 'store.db') });
  await store.migrate();
  return {
    store,
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Both stores, for tests that run the same cases on each: [name, open, skip reason]. */
export const BOTH_STORES: readonly [
  string,
  () => Promise<{ store: Store; close: () => Promise<void> }>,
  string | false,
][] = [
  ['sqlite', freshSqliteStore, false],
  ['postgres', freshPostgresStore, postgresSkip],
];

/**
 * A database that several processes share, for the tests that run worker processes against
 * it (crash, concurrency): the worker fixtures' arguments that name it
 * (test/fixtures/worker-store.ts), a new store on it as another process would open one, and
 * `settled`, which waits until the sessions of killed workers have ended (PostgreSQL keeps a
 * killed client's session until it reads the closed socket; SQLite has nothing to wait for).
 */
export interface SharedDatabase {
  readonly args: readonly string[];
  open(): Store;
  settled(): Promise<void>;
  /** Deadlocks the server detected (SQLite's one lock on the whole file never deadlocks: 0). */
  deadlocks(): Promise<number>;
  remove(): Promise<void>;
}

/** A fresh, empty SQLite file in its own temporary folder. */
export function sharedSqlite(): Promise<SharedDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'amisi-shared-'));
  const path = join(dir, 'ledger.db');
  return Promise.resolve({
    args: [`--db=${path}`],
    open: () => new SqliteStore({ path }),
    settled: () => Promise.resolve(),
    deadlocks: () => Promise.resolve(0),
    remove() {
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    },
  });
}

/** A fresh, empty PostgreSQL database on the test server. */
export async function sharedPostgres(): Promise<SharedDatabase> {
  const db = await freshDatabase();
  return {
    args: [`--database-url=${db.url}`],
    open: () => new PostgresStore({ url: db.url }),
    settled: () => otherSessionsEnded(db.url),
    deadlocks: () => deadlocksDetected(db.url),
    remove: () => db.drop(),
  };
}

/** Both stores for the tests with worker processes: [name, a shared database, skip reason]. */
export const SHARED_DATABASES: readonly [string, () => Promise<SharedDatabase>, string | false][] =
  [
    ['sqlite', sharedSqlite, false],
    ['postgres', sharedPostgres, postgresSkip],
  ];
