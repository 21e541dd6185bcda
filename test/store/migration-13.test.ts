/**
 * Migration 13 (overdraft, partial captures, longer and larger holds, trial grants) on a
 * database that already has a journal: SQLite rebuilds the tables whose CHECK lists grow, so
 * every row must come through unchanged, and the new values must then be accepted.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { migrations } from '../../src/store/migrations/index.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/ledger/store.js';
import { tempDir } from '../helpers.js';
import { freshDatabase, postgresSkip } from '../pg-helpers.js';

const T0 = Date.UTC(2026, 0, 1);
const BEFORE_13 = migrations.filter((m) => m.id < 13);
const SCHEMA_MIGRATIONS =
  'CREATE TABLE schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)';
const ATTRIBUTION = '{"member":null,"project":null,"labels":{}}';

/** One account with a grant, a captured hold, its journal and an hourly flow: before 13. */
const OLD_ROWS = [
  `INSERT INTO accounts (account_id, created_at) VALUES ('acc-old', ${T0})`,
  `INSERT INTO grants (account_id, grant_id, source, amount, remaining, starts_at, expires_at, created_at)
   VALUES ('acc-old', 'grt_1', 'promotion', 10, 7, ${T0}, NULL, ${T0})`,
  `INSERT INTO holds (account_id, hold_id, status, credits, captured_credits, draws, expires_at, created_at, resolved_at, catalog_version, quote, attribution)
   VALUES ('acc-old', 'hld_1', 'captured', 3, 3, '[{"grantId":"grt_1","credits":3}]', ${T0 + 60_000}, ${T0}, ${T0 + 1}, NULL, NULL, '${ATTRIBUTION}')`,
  `INSERT INTO transactions (account_id, transaction_id, kind, created_at, idempotency_key, hold_id, grant_id, catalog_version, detail)
   VALUES ('acc-old', 'txn_1', 'grant', ${T0}, 'k1', NULL, 'grt_1', NULL, '{"source":"promotion"}')`,
  `INSERT INTO entries (account_id, transaction_id, line, book, grant_id, hold_id, credits)
   VALUES ('acc-old', 'txn_1', 0, 'issued', 'grt_1', NULL, -10), ('acc-old', 'txn_1', 1, 'grant', 'grt_1', NULL, 10)`,
  `INSERT INTO flows_hourly (account_id, hour, flow, key, credits, first_transaction_id, last_transaction_id)
   VALUES ('acc-old', 0, 'granted', 'promotion', 10, 'txn_1', 'txn_1')`,
];

/** Values only migration 13 allows. */
const NEW_ROWS = [
  `INSERT INTO grants (account_id, grant_id, source, amount, remaining, starts_at, expires_at, created_at)
   VALUES ('acc-old', 'grt_2', 'trial', 5, 5, ${T0}, NULL, ${T0})`,
  `INSERT INTO holds (account_id, hold_id, status, credits, captured_credits, draws, expires_at, created_at, resolved_at, catalog_version, quote, attribution)
   VALUES ('acc-old', 'hld_2', 'held', 4, 1, '[]', ${T0 + 60_000}, ${T0}, NULL, NULL, NULL, '${ATTRIBUTION}')`,
  `INSERT INTO transactions (account_id, transaction_id, kind, created_at, idempotency_key, hold_id, grant_id, catalog_version, detail)
   VALUES ('acc-old', 'txn_2', 'repayment', ${T0}, NULL, NULL, NULL, NULL, '{}')`,
  `INSERT INTO entries (account_id, transaction_id, line, book, grant_id, hold_id, credits)
   VALUES ('acc-old', 'txn_2', 0, 'overdraft', NULL, NULL, 2)`,
  `INSERT INTO flows_hourly (account_id, hour, flow, key, credits, first_transaction_id, last_transaction_id)
   VALUES ('acc-old', 0, 'overdrawn', '', 2, 'txn_2', 'txn_2')`,
];

async function checkUpgraded(store: Store): Promise<void> {
  const [account] = await store.accounts({ id: 'acc-old' });
  assert.equal(account?.debt, 0);
  assert.equal(account?.overdraftHeld, 0);
  assert.equal(account?.overdraftLimit, null);
  assert.deepEqual(
    (await store.find('grants', { accountId: 'acc-old' }, { order: ['id'] })).map((g) => [
      g.id,
      g.source,
      g.amount,
      g.remaining,
    ]),
    [['grt_1', 'promotion', 10, 7]],
  );
  const hold = await store.get('holds', { id: 'hld_1' });
  assert.deepEqual(
    [hold?.status, hold?.capturedCredits, hold?.draws],
    ['captured', 3, [{ grantId: 'grt_1', credits: 3 }]],
  );
  const [txn] = await store.journal({ accountId: 'acc-old' });
  assert.deepEqual(
    txn?.entries.map((e) => [e.book, e.credits]),
    [
      ['issued', -10],
      ['grant', 10],
    ],
  );
}

describe('migration 13 on an existing database', () => {
  it('sqlite: the rebuilt tables keep every row and accept the new values', async () => {
    const { dir, cleanup } = tempDir('amisi-m13-');
    const path = join(dir, 'old.db');
    try {
      const db = new Database(path);
      db.exec(SCHEMA_MIGRATIONS);
      for (const m of BEFORE_13) {
        db.exec(m.sqlite);
        db.prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)').run(
          m.id,
          m.name,
          T0,
        );
      }
      for (const sql of OLD_ROWS) db.exec(sql);
      assert.throws(() => db.exec(NEW_ROWS[0]!), /CHECK constraint failed/);
      db.close();
      const store = new SqliteStore({ path });
      try {
        assert.equal(await store.migrate(), migrations.length - BEFORE_13.length);
        await checkUpgraded(store);
      } finally {
        await store.close();
      }
      const after = new Database(path);
      for (const sql of NEW_ROWS) after.exec(sql);
      assert.equal(after.pragma('integrity_check', { simple: true }), 'ok');
      after.close();
    } finally {
      cleanup();
    }
  });

  it('postgres: the constraints are replaced, the rows kept', { skip: postgresSkip }, async () => {
    const fresh = await freshDatabase();
    try {
      const client = new pg.Client(fresh.url);
      await client.connect();
      try {
        await client.query(SCHEMA_MIGRATIONS);
        for (const m of BEFORE_13) {
          await client.query(m.postgres);
          await client.query(
            'INSERT INTO schema_migrations (id, name, applied_at) VALUES ($1, $2, $3)',
            [m.id, m.name, T0],
          );
        }
        for (const sql of OLD_ROWS) await client.query(sql);
        await assert.rejects(client.query(NEW_ROWS[0]!), /violates check constraint/);
        const store = new PostgresStore({ url: fresh.url });
        try {
          assert.equal(await store.migrate(), migrations.length - BEFORE_13.length);
          await checkUpgraded(store);
        } finally {
          await store.close();
        }
        for (const sql of NEW_ROWS) await client.query(sql);
      } finally {
        await client.end();
      }
    } finally {
      await fresh.drop();
    }
  });
});
