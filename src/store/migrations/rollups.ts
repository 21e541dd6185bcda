import type { Migration } from './migration.js';

/** Migrations 10 to 12: rollups, outcomes, renewal times, the plan column. Released: never edited. */
export const ROLLUPS: readonly Migration[] = [
  {
    id: 10,
    name: 'rollups and outcomes',
    // Hourly rollups kept by the batch in the same transaction as the journal, so reports never
    // scan the journal (core/rollups.ts). Accounts that had a journal before this migration are
    // marked pending: their rollups are rebuilt from the journal (amisi rollups rebuild, or the
    // first report on the account), while every new transaction already adds to them.
    sqlite: `
CREATE TABLE usage_hourly (
  account_id TEXT NOT NULL,
  hour INTEGER NOT NULL,
  dim TEXT NOT NULL CHECK (dim IN ('operation','resolution','member','project')),
  key TEXT NOT NULL,
  credits INTEGER NOT NULL,
  units INTEGER NOT NULL,
  PRIMARY KEY (account_id, hour, dim, key)
) WITHOUT ROWID;
CREATE TABLE flows_hourly (
  account_id TEXT NOT NULL,
  hour INTEGER NOT NULL,
  flow TEXT NOT NULL CHECK (flow IN ('granted','consumed','expired','refunded','rolled','capped')),
  key TEXT NOT NULL,
  credits INTEGER NOT NULL,
  first_transaction_id TEXT NOT NULL,
  last_transaction_id TEXT NOT NULL,
  PRIMARY KEY (account_id, hour, flow, key)
) WITHOUT ROWID;
CREATE TABLE rollups_pending (
  account_id TEXT NOT NULL PRIMARY KEY
) WITHOUT ROWID;
INSERT INTO rollups_pending (account_id) SELECT account_id FROM accounts;
CREATE TABLE outcomes (
  account_id TEXT NOT NULL,
  transaction_id TEXT NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('kept','discarded')),
  labels TEXT NOT NULL,
  credits INTEGER NOT NULL CHECK (credits >= 0),
  operation TEXT NOT NULL,
  resolution TEXT,
  units INTEGER NOT NULL CHECK (units >= 0),
  member TEXT,
  project TEXT,
  created_at INTEGER NOT NULL,
  recorded_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, transaction_id)
) WITHOUT ROWID;
CREATE INDEX outcomes_by_time ON outcomes (account_id, created_at);
`,
    postgres: `
CREATE TABLE usage_hourly (
  account_id TEXT NOT NULL,
  hour BIGINT NOT NULL,
  dim TEXT NOT NULL CHECK (dim IN ('operation','resolution','member','project')),
  key TEXT NOT NULL,
  credits BIGINT NOT NULL,
  units BIGINT NOT NULL,
  PRIMARY KEY (account_id, hour, dim, key)
);
CREATE TABLE flows_hourly (
  account_id TEXT NOT NULL,
  hour BIGINT NOT NULL,
  flow TEXT NOT NULL CHECK (flow IN ('granted','consumed','expired','refunded','rolled','capped')),
  key TEXT NOT NULL,
  credits BIGINT NOT NULL,
  first_transaction_id TEXT NOT NULL,
  last_transaction_id TEXT NOT NULL,
  PRIMARY KEY (account_id, hour, flow, key)
);
CREATE TABLE rollups_pending (
  account_id TEXT NOT NULL PRIMARY KEY
);
INSERT INTO rollups_pending (account_id) SELECT account_id FROM accounts;
CREATE TABLE outcomes (
  account_id TEXT NOT NULL,
  transaction_id TEXT NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('kept','discarded')),
  labels JSONB NOT NULL,
  credits BIGINT NOT NULL CHECK (credits >= 0),
  operation TEXT NOT NULL,
  resolution TEXT,
  units BIGINT NOT NULL CHECK (units >= 0),
  member TEXT,
  project TEXT,
  created_at BIGINT NOT NULL,
  recorded_at BIGINT NOT NULL,
  PRIMARY KEY (account_id, transaction_id)
);
CREATE INDEX outcomes_by_time ON outcomes (account_id, created_at);
`,
  },
  {
    id: 11,
    name: 'webhook endpoints checked at delivery',
    // An endpoint an account key registered (without AMISI_WEBHOOK_ALLOW_PRIVATE) may reach
    // public addresses only; the deliverer checks the address it connects to every time.
    // Endpoints registered before this migration keep delivering as before.
    sqlite: `
ALTER TABLE webhook_endpoints ADD COLUMN public_only INTEGER NOT NULL DEFAULT 0 CHECK (public_only IN (0, 1));
`,
    postgres: `
ALTER TABLE webhook_endpoints ADD COLUMN public_only BOOLEAN NOT NULL DEFAULT false;
`,
  },
  {
    id: 12,
    name: 'the plan is the subscription',
    // accounts.plan was a label set at creation that nothing kept true; an account's plan is
    // its active subscription's (read with the account), so the label goes.
    sqlite: `
ALTER TABLE accounts DROP COLUMN plan;
`,
    postgres: `
ALTER TABLE accounts DROP COLUMN plan;
`,
  },
];
