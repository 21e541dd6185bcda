import { randomBytes } from 'node:crypto';
import pg from 'pg';
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
