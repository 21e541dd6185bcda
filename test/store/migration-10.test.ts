/**
 * Migration 10 (rollups and outcomes) on a database that already has a journal: its accounts
 * are marked as waiting for a rebuild, and the first report on one rebuilds its rollups from
 * the journal, after which it waits no more.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { Ledger } from '../../src/ledger/ledger.js';
import { FakeClock } from '../../src/ledger/ports.js';
import type { Store } from '../../src/ledger/store.js';
import { migrations } from '../../src/store/migrations/index.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { defaultCatalog, tempDir } from '../helpers.js';
import { freshDatabase, postgresSkip } from '../pg-helpers.js';

const T0 = Date.UTC(2026, 0, 1, 9, 30);
const BEFORE_10 = migrations.filter((m) => m.id < 10);
const SCHEMA_MIGRATIONS =
  'CREATE TABLE schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)';
const LINE = JSON.stringify({
  operation: 'image.generate',
  params: { resolution: '4k' },
  unit: 'image',
  unitCredits: 3,
  count: 1,
  credits: 3,
});
/** An account with a grant of 50 and a charge of one 4K image, written before rollups existed. */
const OLD_ROWS = [
  `INSERT INTO accounts (account_id, plan, created_at) VALUES ('acc-old', NULL, ${T0})`,
  `INSERT INTO grants (account_id, grant_id, source, amount, remaining, starts_at, expires_at, created_at)
   VALUES ('acc-old', 'grt_1', 'purchase', 50, 47, ${T0}, NULL, ${T0})`,
  `INSERT INTO transactions (account_id, transaction_id, kind, created_at, idempotency_key, hold_id, grant_id, catalog_version, detail)
   VALUES ('acc-old', 'txn_01', 'grant', ${T0}, 'g', NULL, 'grt_1', NULL, '{"source":"purchase"}')`,
  `INSERT INTO entries (account_id, transaction_id, line, book, grant_id, hold_id, credits)
   VALUES ('acc-old', 'txn_01', 0, 'issued', 'grt_1', NULL, -50)`,
  `INSERT INTO entries (account_id, transaction_id, line, book, grant_id, hold_id, credits)
   VALUES ('acc-old', 'txn_01', 1, 'grant', 'grt_1', NULL, 50)`,
  `INSERT INTO transactions (account_id, transaction_id, kind, created_at, idempotency_key, hold_id, grant_id, catalog_version, detail)
   VALUES ('acc-old', 'txn_02', 'charge', ${T0 + 60_000}, 'c', NULL, NULL, 'default-2026-11',
   '{"credits":3,"attribution":{"member":"mia","project":null,"labels":{}},"lines":[${LINE}]}')`,
  `INSERT INTO entries (account_id, transaction_id, line, book, grant_id, hold_id, credits)
   VALUES ('acc-old', 'txn_02', 0, 'grant', 'grt_1', NULL, -3)`,
  `INSERT INTO entries (account_id, transaction_id, line, book, grant_id, hold_id, credits)
   VALUES ('acc-old', 'txn_02', 1, 'consumed', 'grt_1', NULL, 3)`,
];

async function checkUpgraded(store: Store): Promise<void> {
  assert.equal(await store.migrate(), migrations.length - BEFORE_10.length);
  assert.deepEqual(
    await store
      .find(
        'rollups_pending',
        { accountId: { gt: '' } },
        { fields: ['accountId'], order: ['accountId'], limit: 10 },
      )
      .then((rows) => rows.map((r) => r.accountId)),
    ['acc-old'],
  );
  const ledger = new Ledger({ store, clock: new FakeClock(T0 + 3_600_000) });
  await ledger.loadCatalog(defaultCatalog());
  const range = { from: T0 - 1, to: T0 + 2 * 60_000 };
  const s = await ledger.statement('acc-old', range);
  assert.deepEqual(
    [s.opening, s.granted.credits, s.spent.credits, s.closing],
    [0, 50, 3, 47],
    'rebuilt from the journal',
  );
  assert.deepEqual(
    await store
      .find(
        'rollups_pending',
        { accountId: { gt: '' } },
        { fields: ['accountId'], order: ['accountId'], limit: 10 },
      )
      .then((rows) => rows.map((r) => r.accountId)),
    [],
  );
  const u = await ledger.usage('acc-old', range);
  assert.deepEqual(
    u.byResolution.map((l) => [l.key, l.credits, l.units]),
    [['4k', 3, 1]],
  );
  assert.deepEqual(
    u.byMember.map((l) => [l.key, l.credits]),
    [['mia', 3]],
  );
  await ledger.idle();
}

describe('migration 10 on an existing journal', () => {
  it('sqlite', async () => {
    const { dir, cleanup } = tempDir('amisi-m10-');
    const path = join(dir, 'old.db');
    try {
      const db = new Database(path);
      db.exec(SCHEMA_MIGRATIONS);
      for (const m of BEFORE_10) {
        db.exec(m.sqlite);
        db.prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)').run(
          m.id,
          m.name,
          T0,
        );
      }
      for (const row of OLD_ROWS) db.exec(row);
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
        for (const m of BEFORE_10) {
          await client.query(m.postgres);
          await client.query(
            'INSERT INTO schema_migrations (id, name, applied_at) VALUES ($1, $2, $3)',
            [m.id, m.name, T0],
          );
        }
        for (const row of OLD_ROWS) await client.query(row);
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
