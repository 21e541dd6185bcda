/**
 * The model-based property test (model-run.ts) on SQLite. The same test runs on PostgreSQL in
 * model-postgres.test.ts, a separate file so the test runner runs the two in parallel.
 */
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { tempDir } from '../helpers.js';
import { modelBasedTest } from './model-run.js';

modelBasedTest({
  name: 'sqlite',
  filter: 'ledger/model.test',
  async open() {
    const { dir, cleanup } = tempDir('amisi-model-');
    // NORMAL: this test is about the rules, not about durability, and runs many thousand
    // commits; durability is tested by the crash tests (test/ledger/crash.test.ts).
    const store = new SqliteStore({ path: join(dir, 'model.db'), synchronous: 'NORMAL' });
    await store.migrate();
    return {
      store,
      async close() {
        await store.close();
        cleanup();
      },
    };
  },
});
