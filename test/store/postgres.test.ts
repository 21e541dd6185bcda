import { describe } from 'node:test';
import { freshPostgresStore, postgresSkip } from '../pg-helpers.js';
import { storeConformance } from './conformance.js';

if (postgresSkip) {
  describe('store conformance: postgres', { skip: postgresSkip }, () => undefined);
} else {
  storeConformance('postgres', freshPostgresStore);
}
