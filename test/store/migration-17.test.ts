/**
 * Migration 17 (purchase lines, cancelled purchases) on a database that already has purchases:
 * SQLite rebuilds the purchases table, so every row must come through unchanged with its one
 * line (its pack), and a cancelled purchase must then be accepted; PostgreSQL alters in place.
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
const BEFORE_17 = migrations.filter((m) => m.id < 17);
const SCHEMA_MIGRATIONS =
  'CREATE TABLE schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)';

/** A paid purchase and a pending auto top-up one, made before lines existed. */
const OLD_ROWS = [
  `INSERT INTO accounts (account_id, created_at) VALUES ('acc-old', ${T0})`,
  `INSERT INTO purchases (account_id, purchase_id, pack, credits, price_cents, currency, provider, checkout_ref, payment_ref, status, grant_id, refunded_credits, refunded_cents, refund_ref, created_at, paid_at, origin)
   VALUES ('acc-old', 'pur_1', 'pack-50', 50, 1999, 'usd', 'manual', 'manual_pur_1', 'bank-1', 'paid', 'grt_1', 0, 0, NULL, ${T0}, ${T0 + 5}, 'customer'),
          ('acc-old', 'pur_2', 'pack-20', 20, 999, 'usd', 'manual', NULL, NULL, 'pending', NULL, 0, 0, NULL, ${T0 + 1}, NULL, 'autotopup')`,
];

const CANCELLED = `UPDATE purchases SET status = 'cancelled', cancelled_at = ${T0 + 9} WHERE purchase_id = 'pur_2'`;

const line = (pack: string, credits: number, priceCents: number) => ({
  pack,
  unitCredits: credits,
  unitPriceCents: priceCents,
  count: 1,
  credits,
  priceCents,
});

async function checkUpgraded(store: Store): Promise<void> {
  const rows = await store.find('purchases', { accountId: 'acc-old' }, { order: ['createdAt'] });
  assert.deepEqual(
    rows.map((p) => [p.id, p.pack, p.status, p.credits, p.priceCents, p.origin, p.paymentRef]),
    [
      ['pur_1', 'pack-50', 'paid', 50, 1999, 'customer', 'bank-1'],
      ['pur_2', 'pack-20', 'pending', 20, 999, 'autotopup', null],
    ],
  );
  assert.deepEqual(
    rows.map((p) => p.lines),
    [[line('pack-50', 50, 1999)], [line('pack-20', 20, 999)]],
  );
  assert.deepEqual(
    rows.map((p) => p.cancelledAt),
    [null, null],
  );
  // The partial index of auto top-ups awaiting a checkout came back with the table.
  const waiting = await store.find(
    'purchases',
    { origin: 'autotopup', status: 'pending', checkoutRef: null },
    { order: ['createdAt', 'id'], limit: 10 },
  );
  assert.deepEqual(
    waiting.map((p) => p.id),
    ['pur_2'],
  );
}

describe('migration 17 on an existing database', () => {
  it('sqlite: the rebuilt purchases keep every row, each with its one line', async () => {
    const { dir, cleanup } = tempDir('amisi-m17-');
    const path = join(dir, 'old.db');
    try {
      const db = new Database(path);
      db.exec(SCHEMA_MIGRATIONS);
      for (const m of BEFORE_17) {
        db.exec(m.sqlite);
        db.prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)').run(
          m.id,
          m.name,
          T0,
        );
      }
      for (const sql of OLD_ROWS) db.exec(sql);
      assert.throws(() => db.exec(CANCELLED), /no such column|CHECK constraint failed/);
      db.close();
      const store = new SqliteStore({ path });
      try {
        assert.equal(await store.migrate(), migrations.length - BEFORE_17.length);
        await checkUpgraded(store);
      } finally {
        await store.close();
      }
      const after = new Database(path);
      after.exec(CANCELLED);
      assert.equal(after.pragma('integrity_check', { simple: true }), 'ok');
      after.close();
    } finally {
      cleanup();
    }
  });

  it(
    'postgres: the lines filled, the status constraint replaced',
    { skip: postgresSkip },
    async () => {
      const fresh = await freshDatabase();
      try {
        const client = new pg.Client(fresh.url);
        await client.connect();
        try {
          await client.query(SCHEMA_MIGRATIONS);
          for (const m of BEFORE_17) {
            await client.query(m.postgres);
            await client.query(
              'INSERT INTO schema_migrations (id, name, applied_at) VALUES ($1, $2, $3)',
              [m.id, m.name, T0],
            );
          }
          for (const sql of OLD_ROWS) await client.query(sql);
          const store = new PostgresStore({ url: fresh.url });
          try {
            assert.equal(await store.migrate(), migrations.length - BEFORE_17.length);
            await checkUpgraded(store);
          } finally {
            await store.close();
          }
          await client.query(CANCELLED);
          await assert.rejects(
            client.query(`UPDATE purchases SET status = 'lost' WHERE purchase_id = 'pur_1'`),
            /violates check constraint/,
          );
        } finally {
          await client.end();
        }
      } finally {
        await fresh.drop();
      }
    },
  );
});
