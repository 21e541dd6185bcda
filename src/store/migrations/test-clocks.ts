import type { Migration } from './migration.js';

/**
 * Migration 14: test clocks, and the clock an account was made on (never changes after); the
 * accounts that owe (the sweep looks for debts that new credits can repay).
 */
export const TEST_CLOCKS: readonly Migration[] = [
  {
    id: 14,
    name: 'test clocks',
    sqlite: `
CREATE TABLE test_clocks (
  clock_id TEXT NOT NULL PRIMARY KEY,
  name TEXT,
  now INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  advanced_at INTEGER
) WITHOUT ROWID;
ALTER TABLE accounts ADD COLUMN test_clock_id TEXT;
CREATE INDEX accounts_by_clock ON accounts (test_clock_id) WHERE test_clock_id IS NOT NULL;
CREATE INDEX accounts_owing ON accounts (account_id) WHERE debt > 0;`,
    postgres: `
CREATE TABLE test_clocks (
  clock_id TEXT NOT NULL PRIMARY KEY,
  name TEXT,
  now BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  advanced_at BIGINT
);
ALTER TABLE accounts ADD COLUMN test_clock_id TEXT;
CREATE INDEX accounts_by_clock ON accounts (test_clock_id) WHERE test_clock_id IS NOT NULL;
CREATE INDEX accounts_owing ON accounts (account_id) WHERE debt > 0;`,
  },
];
