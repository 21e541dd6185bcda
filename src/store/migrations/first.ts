import type { Migration } from './migration.js';

/** Migrations 1 to 5: accounts, grants, holds, the journal, idempotency, catalogs, auto top-up, API keys. Released: never edited. */
export const FIRST: readonly Migration[] = [
  {
    id: 1,
    name: 'ledger core',
    sqlite: `
CREATE TABLE catalogs (
  version TEXT PRIMARY KEY,
  body TEXT NOT NULL,
  digest TEXT NOT NULL,
  loaded_at INTEGER NOT NULL,
  activated_at INTEGER NOT NULL
);
CREATE TABLE accounts (
  account_id TEXT PRIMARY KEY,
  plan TEXT,
  created_at INTEGER NOT NULL
);
CREATE TABLE grants (
  account_id TEXT NOT NULL,
  grant_id TEXT NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('allocation','rollover','purchase','promotion','adjustment')),
  amount INTEGER NOT NULL CHECK (amount > 0),
  remaining INTEGER NOT NULL CHECK (remaining >= 0 AND remaining <= amount),
  starts_at INTEGER NOT NULL,
  expires_at INTEGER CHECK (expires_at IS NULL OR expires_at > starts_at),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, grant_id)
) WITHOUT ROWID;
CREATE INDEX grants_open ON grants (account_id) WHERE remaining > 0;
CREATE INDEX grants_due ON grants (expires_at) WHERE remaining > 0 AND expires_at IS NOT NULL;
CREATE TABLE holds (
  account_id TEXT NOT NULL,
  hold_id TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('held','captured','released','expired')),
  credits INTEGER NOT NULL CHECK (credits > 0),
  captured_credits INTEGER NOT NULL CHECK (captured_credits >= 0 AND captured_credits <= credits),
  draws TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  resolved_at INTEGER,
  catalog_version TEXT,
  quote TEXT,
  attribution TEXT NOT NULL,
  CHECK ((status = 'held') = (resolved_at IS NULL)),
  CHECK (status = 'captured' OR captured_credits = 0),
  PRIMARY KEY (account_id, hold_id)
) WITHOUT ROWID;
CREATE INDEX holds_by_id ON holds (hold_id);
CREATE INDEX holds_due ON holds (expires_at) WHERE status = 'held';
CREATE INDEX holds_open ON holds (account_id, expires_at) WHERE status = 'held';
CREATE TABLE transactions (
  account_id TEXT NOT NULL,
  transaction_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('grant','hold','capture','release','hold_expiry','charge','grant_expiry','renewal','plan_change','refund')),
  created_at INTEGER NOT NULL,
  idempotency_key TEXT,
  hold_id TEXT,
  grant_id TEXT,
  catalog_version TEXT,
  detail TEXT NOT NULL,
  PRIMARY KEY (transaction_id, account_id)
) WITHOUT ROWID;
CREATE INDEX transactions_by_account ON transactions (account_id, transaction_id);
CREATE TABLE entries (
  account_id TEXT NOT NULL,
  transaction_id TEXT NOT NULL,
  line INTEGER NOT NULL,
  book TEXT NOT NULL CHECK (book IN ('issued','grant','held','consumed','breakage','refunded')),
  grant_id TEXT,
  hold_id TEXT,
  credits INTEGER NOT NULL CHECK (credits <> 0),
  PRIMARY KEY (transaction_id, line, account_id)
) WITHOUT ROWID;
CREATE TABLE idempotency (
  account_id TEXT NOT NULL,
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  transaction_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_by_age ON idempotency (created_at);
`,
    postgres: `
CREATE TABLE catalogs (
  version TEXT PRIMARY KEY,
  body JSONB NOT NULL,
  digest TEXT NOT NULL,
  loaded_at BIGINT NOT NULL,
  activated_at BIGINT NOT NULL
);
CREATE TABLE accounts (
  account_id TEXT PRIMARY KEY,
  plan TEXT,
  created_at BIGINT NOT NULL
);
CREATE TABLE grants (
  account_id TEXT NOT NULL,
  grant_id TEXT NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('allocation','rollover','purchase','promotion','adjustment')),
  amount BIGINT NOT NULL CHECK (amount > 0),
  remaining BIGINT NOT NULL CHECK (remaining >= 0 AND remaining <= amount),
  starts_at BIGINT NOT NULL,
  expires_at BIGINT CHECK (expires_at IS NULL OR expires_at > starts_at),
  created_at BIGINT NOT NULL,
  PRIMARY KEY (account_id, grant_id)
);
CREATE INDEX grants_open ON grants (account_id) WHERE remaining > 0;
CREATE INDEX grants_due ON grants (expires_at) WHERE remaining > 0 AND expires_at IS NOT NULL;
CREATE TABLE holds (
  account_id TEXT NOT NULL,
  hold_id TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('held','captured','released','expired')),
  credits BIGINT NOT NULL CHECK (credits > 0),
  captured_credits BIGINT NOT NULL CHECK (captured_credits >= 0 AND captured_credits <= credits),
  draws JSONB NOT NULL,
  expires_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  resolved_at BIGINT,
  catalog_version TEXT,
  quote JSONB,
  attribution JSONB NOT NULL,
  CHECK ((status = 'held') = (resolved_at IS NULL)),
  CHECK (status = 'captured' OR captured_credits = 0),
  PRIMARY KEY (account_id, hold_id)
);
CREATE INDEX holds_by_id ON holds (hold_id);
CREATE INDEX holds_due ON holds (expires_at) WHERE status = 'held';
CREATE INDEX holds_open ON holds (account_id, expires_at) WHERE status = 'held';
CREATE TABLE transactions (
  account_id TEXT NOT NULL,
  transaction_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('grant','hold','capture','release','hold_expiry','charge','grant_expiry','renewal','plan_change','refund')),
  created_at BIGINT NOT NULL,
  idempotency_key TEXT,
  hold_id TEXT,
  grant_id TEXT,
  catalog_version TEXT,
  detail JSONB NOT NULL,
  PRIMARY KEY (transaction_id, account_id)
);
CREATE INDEX transactions_by_account ON transactions (account_id, transaction_id);
CREATE TABLE entries (
  account_id TEXT NOT NULL,
  transaction_id TEXT NOT NULL,
  line INTEGER NOT NULL,
  book TEXT NOT NULL CHECK (book IN ('issued','grant','held','consumed','breakage','refunded')),
  grant_id TEXT,
  hold_id TEXT,
  credits BIGINT NOT NULL CHECK (credits <> 0),
  PRIMARY KEY (transaction_id, line, account_id)
);
CREATE TABLE idempotency (
  account_id TEXT NOT NULL,
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  transaction_id TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (account_id, key)
);
CREATE INDEX idempotency_by_age ON idempotency (created_at);
`,
  },
  {
    id: 2,
    name: 'subscriptions',
    sqlite: `
CREATE TABLE subscriptions (
  account_id TEXT NOT NULL,
  subscription_id TEXT NOT NULL,
  plan TEXT NOT NULL,
  pending_plan TEXT,
  anchor_at INTEGER NOT NULL,
  cycle_index INTEGER NOT NULL CHECK (cycle_index >= 0),
  next_renewal_at INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active','ended')),
  cancel_at INTEGER,
  allocation_grant_id TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, subscription_id)
) WITHOUT ROWID;
CREATE INDEX subscriptions_due ON subscriptions (next_renewal_at) WHERE status = 'active';
CREATE INDEX subscriptions_by_account ON subscriptions (account_id) WHERE status = 'active';
`,
    postgres: `
CREATE TABLE subscriptions (
  account_id TEXT NOT NULL,
  subscription_id TEXT NOT NULL,
  plan TEXT NOT NULL,
  pending_plan TEXT,
  anchor_at BIGINT NOT NULL,
  cycle_index INTEGER NOT NULL CHECK (cycle_index >= 0),
  next_renewal_at BIGINT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active','ended')),
  cancel_at BIGINT,
  allocation_grant_id TEXT,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (account_id, subscription_id)
);
CREATE INDEX subscriptions_due ON subscriptions (next_renewal_at) WHERE status = 'active';
CREATE INDEX subscriptions_by_account ON subscriptions (account_id) WHERE status = 'active';
`,
  },
  {
    id: 3,
    name: 'purchases',
    sqlite: `
CREATE TABLE purchases (
  account_id TEXT NOT NULL,
  purchase_id TEXT NOT NULL,
  pack TEXT NOT NULL,
  credits INTEGER NOT NULL CHECK (credits > 0),
  price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
  currency TEXT NOT NULL,
  provider TEXT NOT NULL,
  checkout_ref TEXT,
  payment_ref TEXT,
  status TEXT NOT NULL CHECK (status IN ('pending','paid','refunding','refunded')),
  grant_id TEXT,
  refunded_credits INTEGER NOT NULL DEFAULT 0 CHECK (refunded_credits >= 0 AND refunded_credits <= credits),
  refunded_cents INTEGER NOT NULL DEFAULT 0 CHECK (refunded_cents >= 0 AND refunded_cents <= price_cents),
  refund_ref TEXT,
  created_at INTEGER NOT NULL,
  paid_at INTEGER,
  PRIMARY KEY (account_id, purchase_id)
) WITHOUT ROWID;
CREATE INDEX purchases_by_id ON purchases (purchase_id);
CREATE TABLE payment_events (
  account_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  processed_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, event_id)
) WITHOUT ROWID;
`,
    postgres: `
CREATE TABLE purchases (
  account_id TEXT NOT NULL,
  purchase_id TEXT NOT NULL,
  pack TEXT NOT NULL,
  credits BIGINT NOT NULL CHECK (credits > 0),
  price_cents BIGINT NOT NULL CHECK (price_cents >= 0),
  currency TEXT NOT NULL,
  provider TEXT NOT NULL,
  checkout_ref TEXT,
  payment_ref TEXT,
  status TEXT NOT NULL CHECK (status IN ('pending','paid','refunding','refunded')),
  grant_id TEXT,
  refunded_credits BIGINT NOT NULL DEFAULT 0 CHECK (refunded_credits >= 0 AND refunded_credits <= credits),
  refunded_cents BIGINT NOT NULL DEFAULT 0 CHECK (refunded_cents >= 0 AND refunded_cents <= price_cents),
  refund_ref TEXT,
  created_at BIGINT NOT NULL,
  paid_at BIGINT,
  PRIMARY KEY (account_id, purchase_id)
);
CREATE INDEX purchases_by_id ON purchases (purchase_id);
CREATE TABLE payment_events (
  account_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  processed_at BIGINT NOT NULL,
  PRIMARY KEY (account_id, event_id)
);
`,
  },
  {
    id: 4,
    name: 'auto top-up',
    sqlite: `
ALTER TABLE purchases ADD COLUMN origin TEXT NOT NULL DEFAULT 'customer' CHECK (origin IN ('customer','autotopup'));
CREATE INDEX purchases_autotopup_pending ON purchases (created_at) WHERE origin = 'autotopup' AND status = 'pending' AND checkout_ref IS NULL;
CREATE TABLE autotopups (
  account_id TEXT NOT NULL PRIMARY KEY,
  pack TEXT NOT NULL,
  threshold_credits INTEGER NOT NULL CHECK (threshold_credits > 0),
  max_per_period INTEGER NOT NULL CHECK (max_per_period > 0),
  period TEXT NOT NULL CHECK (period IN ('day','week','month')),
  provider TEXT NOT NULL,
  armed INTEGER NOT NULL CHECK (armed IN (0,1)),
  period_starts_at INTEGER NOT NULL,
  fired_in_period INTEGER NOT NULL CHECK (fired_in_period >= 0),
  last_fired_at INTEGER,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
`,
    postgres: `
ALTER TABLE purchases ADD COLUMN origin TEXT NOT NULL DEFAULT 'customer' CHECK (origin IN ('customer','autotopup'));
CREATE INDEX purchases_autotopup_pending ON purchases (created_at) WHERE origin = 'autotopup' AND status = 'pending' AND checkout_ref IS NULL;
CREATE TABLE autotopups (
  account_id TEXT NOT NULL PRIMARY KEY,
  pack TEXT NOT NULL,
  threshold_credits BIGINT NOT NULL CHECK (threshold_credits > 0),
  max_per_period INTEGER NOT NULL CHECK (max_per_period > 0),
  period TEXT NOT NULL CHECK (period IN ('day','week','month')),
  provider TEXT NOT NULL,
  armed INTEGER NOT NULL CHECK (armed IN (0,1)),
  period_starts_at BIGINT NOT NULL,
  fired_in_period INTEGER NOT NULL CHECK (fired_in_period >= 0),
  last_fired_at BIGINT,
  updated_at BIGINT NOT NULL
);
`,
  },
  // Migration 5 (API keys) was written alongside 4 (auto top-up). Both runners apply every
  // migration whose id is not recorded yet, in array order, so a database that got 5 before 4
  // existed still gets 4 later; the two touch different tables.
  {
    id: 5,
    name: 'api keys',
    // The one table without account_id in its key: an operator key belongs to no account, and
    // a key is looked up before any account is known. `scope` has no CHECK so that member keys
    // can be added later without rebuilding the table (SQLite cannot alter a CHECK); the row
    // mapper refuses unknown scopes.
    sqlite: `
CREATE TABLE api_keys (
  key_id TEXT PRIMARY KEY,
  secret_hash TEXT NOT NULL,
  scope TEXT NOT NULL,
  account_id TEXT,
  read_only INTEGER NOT NULL CHECK (read_only IN (0,1)),
  name TEXT,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER,
  CHECK ((scope = 'operator') = (account_id IS NULL))
) WITHOUT ROWID;
`,
    postgres: `
CREATE TABLE api_keys (
  key_id TEXT PRIMARY KEY,
  secret_hash TEXT NOT NULL,
  scope TEXT NOT NULL,
  account_id TEXT,
  read_only INTEGER NOT NULL CHECK (read_only IN (0,1)),
  name TEXT,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT,
  CHECK ((scope = 'operator') = (account_id IS NULL))
);
`,
  },
];
