/**
 * The model-based property test (model-run.ts) on PostgreSQL: the same seed and sequences as on
 * SQLite (model.test.ts), shared by two worker threads with a fresh database each, so the
 * client's work and the server's overlap on two cores. Skipped, with the reason, where
 * PostgreSQL is not installed.
 */
import { describe } from 'node:test';
import { postgresSkip } from '../pg-helpers.js';
import { modelBasedTest } from './model-run.js';

if (postgresSkip) {
  describe(
    'ledger: model-based property test on postgres',
    { skip: postgresSkip },
    () => undefined,
  );
} else {
  modelBasedTest({ store: 'postgres', filter: 'ledger/model-postgres', workers: 2 });
}
