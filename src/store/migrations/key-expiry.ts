import type { Migration } from './migration.js';

/**
 * Migration 16: keys that end by themselves. A key made with a lifetime (the short-lived key a
 * platform's backend mints for the embedded components) stops working at expires_at; keys made
 * before, and keys made without one, have none.
 */
export const KEY_EXPIRY: readonly Migration[] = [
  {
    id: 16,
    name: 'key expiry',
    sqlite: `ALTER TABLE api_keys ADD COLUMN expires_at INTEGER;`,
    postgres: `ALTER TABLE api_keys ADD COLUMN expires_at BIGINT;`,
  },
];
