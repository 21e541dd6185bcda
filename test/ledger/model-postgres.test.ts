/**
 * The model-based property test (model-run.ts) on PostgreSQL: the same seed and number of
 * sequences as on SQLite (model.test.ts), on a fresh database of the test server. Skipped, with
 * the reason, where PostgreSQL is not installed.
 */
import { describe } from 'node:test';
import pg from 'pg';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { freshDatabase, postgresSkip } from '../pg-helpers.js';
import { modelBasedTest } from './model-run.js';

if (postgresSkip) {
  describe('ledger: model-based property test on postgres', { skip: postgresSkip }, () => undefined);
} else {
  modelBasedTest({
    name: 'postgres',
    filter: 'ledger/model-postgres',
    async open() {
      const db = await freshDatabase();
      // synchronous_commit off, on this test's own database only: this test is about the rules,
      // not about durability, and runs many thousand commits; durability is tested by the crash
      // tests (test/ledger/crash.test.ts). It is set before the store opens a connection, so
      // every session of the store has it. The SQLite run uses synchronous NORMAL likewise.
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
    },
  });
}
