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
