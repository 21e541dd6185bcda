/**
 * The model-based property test (model-run.ts) on SQLite, in this thread. The same test runs on
 * PostgreSQL in model-postgres.test.ts, a file of its own so the test runner runs the two in
 * parallel.
 */
import { modelBasedTest } from './model-run.js';

modelBasedTest({ store: 'sqlite', filter: 'ledger/model.test', workers: 0 });
