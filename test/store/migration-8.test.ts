/**
 * Migration 8 (organizations) on a database that already has data: accounts become
 * individuals without a name, API keys belong to no member, and the new tables start empty.
 */
import { NO_OVERDRAFT } from '../../src/core/overdraft.js';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { Store } from '../../src/ledger/store.js';
import { migrations } from '../../src/store/migrations/index.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { tempDir } from '../helpers.js';
import { freshDatabase, postgresSkip } from '../pg-helpers.js';

const T0 = Date.UTC(2026, 0, 1);
const BEFORE_8 = migrations.filter((m) => m.id < 8);
const SCHEMA_MIGRATIONS =
  'CREATE TABLE schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)';
const OLD_ACCOUNT =
  "INSERT INTO accounts (account_id, plan, created_at) VALUES ('acc-old', 'pro', ";
const OLD_KEY = `INSERT INTO api_keys (key_id, secret_hash, scope, account_id, read_only, name, created_at, revoked_at)
  VALUES ('key-old', 'ab', 'account', 'acc-old', 0, 'old', ${T0}, NULL)`;

async function checkUpgraded(store: Store): Promise<void> {
  assert.equal(
    await store.migrate(),
    migrations.length - BEFORE_8.length,
    'migration 8 and those after it were pending',
  );
  // The plan label it had is gone (migration 12): an account's plan is its subscription's.
  assert.deepEqual(await store.accounts({ id: 'acc-old' }).then(([a]) => a), {
    id: 'acc-old',
    plan: null,
    createdAt: T0,
    kind: 'individual',
    // Migration 13: no overdraft of its own, nothing owed.
    ...NO_OVERDRAFT,
    name: null,
    // Migration 14: made in real time, on no test clock.
    testClockId: null,
  });
  assert.equal((await store.keyForCheck('key-old'))?.memberId, null);
  assert.deepEqual(await store.find('members', { accountId: 'acc-old' }, { order: ['id'] }), []);
  assert.deepEqual(
    await store.find('budgets', { accountId: 'acc-old' }, { order: ['scope', 'target'] }),
    [],
  );
  await store.write(async (w) => {
    assert.deepEqual(
      (await w.lockAccounts(['acc-old'])).map((a) => a.kind),
      ['individual'],
    );
    assert.deepEqual(await w.find('projects', { accountId: 'acc-old' }, { order: ['id'] }), []);
  });
}

describe('migration 8 on an existing database', () => {
  it('sqlite', async () => {
    const { dir, cleanup } = tempDir('amisi-m8-');
    const path = join(dir, 'old.db');
    try {
      const db = new Database(path);
      db.exec(SCHEMA_MIGRATIONS);
      for (const m of BEFORE_8) {
        db.exec(m.sqlite);
        db.prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)').run(
          m.id,
          m.name,
          T0,
        );
      }
      db.exec(`${OLD_ACCOUNT}${T0})`);
      db.exec(OLD_KEY);
      db.close();
      const store = new SqliteStore({ path });
      try {
        await checkUpgraded(store);
      } finally {
        await store.close();
      }
    } finally {
      cleanup();
    }
  });

  it('postgres', { skip: postgresSkip }, async () => {
    const fresh = await freshDatabase();
    try {
      const client = new pg.Client(fresh.url);
      await client.connect();
      try {
        await client.query(SCHEMA_MIGRATIONS);
        for (const m of BEFORE_8) {
          await client.query(m.postgres);
          await client.query(
            'INSERT INTO schema_migrations (id, name, applied_at) VALUES ($1, $2, $3)',
            [m.id, m.name, T0],
          );
        }
        await client.query(`${OLD_ACCOUNT}${T0})`);
        await client.query(OLD_KEY);
      } finally {
        await client.end();
      }
      const store = new PostgresStore({ url: fresh.url });
      try {
        await checkUpgraded(store);
      } finally {
        await store.close();
      }
    } finally {
      await fresh.drop();
    }
  });
});
