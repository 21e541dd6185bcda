/**
 * The stores the model-based property test (model-run.ts) runs on, by name, so that a worker
 * thread (model-worker.ts) can open one too. Each call gives a fresh, migrated, empty store.
 */
import { join } from 'node:path';
import pg from 'pg';
import type { Store } from '../../src/ledger/store.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { tempDir } from '../helpers.js';
import { freshDatabase } from '../pg-helpers.js';

export type ModelStoreName = 'sqlite' | 'postgres';

/** A fresh, migrated, empty store; `close` closes it and removes it. */
export interface ModelStore {
  readonly store: Store;
  close(): Promise<void>;
}

export function openModelStore(name: ModelStoreName): Promise<ModelStore> {
  return name === 'sqlite' ? openSqlite() : openPostgres();
}

async function openSqlite(): Promise<ModelStore> {
  const { dir, cleanup } = tempDir('amisi-model-');
  // synchronous NORMAL: this test is about the rules, not about durability, and runs many
  // thousand commits; durability is what the crash tests test (test/ledger/crash.test.ts).
  const store = new SqliteStore({ path: join(dir, 'model.db'), synchronous: 'NORMAL' });
  await store.migrate();
  return {
    store,
    async close() {
      await store.close();
      cleanup();
    },
  };
}

async function openPostgres(): Promise<ModelStore> {
  const db = await freshDatabase();
  // synchronous_commit off, on this test's own database only, like SQLite's NORMAL above: this
  // test is about the rules, not about durability, and runs many thousand commits; durability
  // is what the crash test tests (test/ledger/crash.test.ts, on both stores). Set before the
  // store opens a connection, so every session of the store has it.
  const name = new URL(db.url).pathname.slice(1);
  const admin = new pg.Client(db.url);
  await admin.connect();
  try {
    await admin.query(`ALTER DATABASE "${name}" SET synchronous_commit = off`);
  } finally {
    await admin.end();
  }
  const store = new PostgresStore({ url: db.url });
  await store.migrate();
  return {
    store,
    async close() {
      await store.close();
      await db.drop();
    },
  };
}
