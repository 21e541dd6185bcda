/**
 * One ordered set of migrations for every store. Each has a dialect per adapter; ids never
 * change once released, and a released migration is never edited (add a new one).
 * Every table but `catalogs` and `schema_migrations` carries account_id in its primary key, so
 * the schema can be distributed by account. The journal tables lead with the transaction id
 * (time-ordered), so a batch of charges across many accounts appends to a few pages instead of
 * dirtying one page per account; an account's journal is reached through transactions_by_account.
 */
export interface Migration {
  readonly id: number;
  readonly name: string;
  readonly sqlite: string;
  readonly postgres: string;
}

export const migrations: readonly Migration[] = [
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
  {
    id: 6,
    name: 'webhooks',
    // Endpoints are operator configuration (like catalogs): no account in their key. Events and
    // deliveries are written in the batch that made the change (the outbox).
    sqlite: `
CREATE TABLE webhook_endpoints (
  endpoint_id TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  secret TEXT NOT NULL,
  event_types TEXT NOT NULL,
  account_id TEXT,
  created_at INTEGER NOT NULL,
  disabled_at INTEGER
) WITHOUT ROWID;
CREATE TABLE webhook_events (
  account_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  type TEXT NOT NULL,
  data TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, event_id)
) WITHOUT ROWID;
CREATE TABLE webhook_deliveries (
  account_id TEXT NOT NULL,
  delivery_id TEXT NOT NULL,
  endpoint_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending','delivered','failed')),
  attempts INTEGER NOT NULL CHECK (attempts >= 0),
  next_attempt_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  delivered_at INTEGER,
  last_status_code INTEGER,
  last_error TEXT,
  PRIMARY KEY (account_id, delivery_id)
) WITHOUT ROWID;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_id ON webhook_deliveries (delivery_id);
CREATE INDEX webhook_deliveries_recent ON webhook_deliveries (created_at);
CREATE TABLE webhook_attempts (
  account_id TEXT NOT NULL,
  delivery_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  at INTEGER NOT NULL,
  status_code INTEGER,
  error TEXT,
  duration_ms INTEGER NOT NULL,
  PRIMARY KEY (account_id, delivery_id, attempt)
) WITHOUT ROWID;
`,
    postgres: `
CREATE TABLE webhook_endpoints (
  endpoint_id TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  secret TEXT NOT NULL,
  event_types TEXT NOT NULL,
  account_id TEXT,
  created_at BIGINT NOT NULL,
  disabled_at BIGINT
);
CREATE TABLE webhook_events (
  account_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  type TEXT NOT NULL,
  data JSONB NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (account_id, event_id)
);
CREATE TABLE webhook_deliveries (
  account_id TEXT NOT NULL,
  delivery_id TEXT NOT NULL,
  endpoint_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending','delivered','failed')),
  attempts INTEGER NOT NULL CHECK (attempts >= 0),
  next_attempt_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  delivered_at BIGINT,
  last_status_code INTEGER,
  last_error TEXT,
  PRIMARY KEY (account_id, delivery_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_id ON webhook_deliveries (delivery_id);
CREATE INDEX webhook_deliveries_recent ON webhook_deliveries (created_at);
CREATE TABLE webhook_attempts (
  account_id TEXT NOT NULL,
  delivery_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  at BIGINT NOT NULL,
  status_code INTEGER,
  error TEXT,
  duration_ms INTEGER NOT NULL,
  PRIMARY KEY (account_id, delivery_id, attempt)
);
`,
  },
  {
    id: 7,
    name: 'subscriptions billed by a provider',
    sqlite: `ALTER TABLE subscriptions ADD COLUMN provider_ref TEXT;`,
    postgres: `ALTER TABLE subscriptions ADD COLUMN provider_ref TEXT;`,
  },
  {
    id: 8,
    name: 'organizations: members, projects, budgets and their alerts',
    // An organization is an account (its rows carry its account_id like every other), so a
    // budget check and the hold it guards lock the same one account.
    sqlite: `
ALTER TABLE accounts ADD COLUMN kind TEXT NOT NULL DEFAULT 'individual' CHECK (kind IN ('individual','organization'));
ALTER TABLE accounts ADD COLUMN name TEXT;
ALTER TABLE api_keys ADD COLUMN member_id TEXT;
CREATE TABLE members (
  account_id TEXT NOT NULL,
  member_id TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('owner','admin','member')),
  status TEXT NOT NULL CHECK (status IN ('active','invited')),
  name TEXT,
  email TEXT,
  invite_hash TEXT,
  created_at INTEGER NOT NULL,
  joined_at INTEGER,
  CHECK ((status = 'active') = (joined_at IS NOT NULL)),
  PRIMARY KEY (account_id, member_id)
) WITHOUT ROWID;
CREATE TABLE projects (
  account_id TEXT NOT NULL,
  project_id TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, project_id)
) WITHOUT ROWID;
CREATE TABLE budgets (
  account_id TEXT NOT NULL,
  scope TEXT NOT NULL CHECK (scope IN ('member','project','pool')),
  target TEXT NOT NULL,
  limit_credits INTEGER CHECK (limit_credits IS NULL OR limit_credits >= 0),
  mode TEXT NOT NULL CHECK (mode IN ('hard','soft')),
  period TEXT NOT NULL CHECK (period IN ('cycle','fixed')),
  starts_at INTEGER,
  ends_at INTEGER,
  period_start INTEGER NOT NULL,
  used INTEGER NOT NULL CHECK (used >= 0),
  held INTEGER NOT NULL CHECK (held >= 0),
  alerted INTEGER NOT NULL CHECK (alerted >= 0),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  CHECK (limit_credits IS NOT NULL OR scope = 'pool'),
  CHECK ((period = 'fixed') = (starts_at IS NOT NULL)),
  PRIMARY KEY (account_id, scope, target)
) WITHOUT ROWID;
CREATE TABLE budget_alerts (
  account_id TEXT NOT NULL,
  alert_id TEXT NOT NULL,
  scope TEXT NOT NULL,
  target TEXT NOT NULL,
  threshold INTEGER NOT NULL CHECK (threshold IN (50,80,100)),
  period_start INTEGER NOT NULL,
  used INTEGER NOT NULL,
  held INTEGER NOT NULL,
  limit_credits INTEGER NOT NULL,
  mode TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, alert_id),
  UNIQUE (account_id, scope, target, period_start, threshold)
) WITHOUT ROWID;
`,
    postgres: `
ALTER TABLE accounts ADD COLUMN kind TEXT NOT NULL DEFAULT 'individual' CHECK (kind IN ('individual','organization'));
ALTER TABLE accounts ADD COLUMN name TEXT;
ALTER TABLE api_keys ADD COLUMN member_id TEXT;
CREATE TABLE members (
  account_id TEXT NOT NULL,
  member_id TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('owner','admin','member')),
  status TEXT NOT NULL CHECK (status IN ('active','invited')),
  name TEXT,
  email TEXT,
  invite_hash TEXT,
  created_at BIGINT NOT NULL,
  joined_at BIGINT,
  CHECK ((status = 'active') = (joined_at IS NOT NULL)),
  PRIMARY KEY (account_id, member_id)
);
CREATE TABLE projects (
  account_id TEXT NOT NULL,
  project_id TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (account_id, project_id)
);
CREATE TABLE budgets (
  account_id TEXT NOT NULL,
  scope TEXT NOT NULL CHECK (scope IN ('member','project','pool')),
  target TEXT NOT NULL,
  limit_credits BIGINT CHECK (limit_credits IS NULL OR limit_credits >= 0),
  mode TEXT NOT NULL CHECK (mode IN ('hard','soft')),
  period TEXT NOT NULL CHECK (period IN ('cycle','fixed')),
  starts_at BIGINT,
  ends_at BIGINT,
  period_start BIGINT NOT NULL,
  used BIGINT NOT NULL CHECK (used >= 0),
  held BIGINT NOT NULL CHECK (held >= 0),
  alerted INTEGER NOT NULL CHECK (alerted >= 0),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  CHECK (limit_credits IS NOT NULL OR scope = 'pool'),
  CHECK ((period = 'fixed') = (starts_at IS NOT NULL)),
  PRIMARY KEY (account_id, scope, target)
);
CREATE TABLE budget_alerts (
  account_id TEXT NOT NULL,
  alert_id TEXT NOT NULL,
  scope TEXT NOT NULL,
  target TEXT NOT NULL,
  threshold INTEGER NOT NULL CHECK (threshold IN (50,80,100)),
  period_start BIGINT NOT NULL,
  used BIGINT NOT NULL,
  held BIGINT NOT NULL,
  limit_credits BIGINT NOT NULL,
  mode TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (account_id, alert_id),
  UNIQUE (account_id, scope, target, period_start, threshold)
);
`,
  },
  {
    id: 9,
    name: 'request batches',
    // A batch is a list of requests of one account held together: one hold per item, so each
    // item's figures live in its hold and a batch row never changes once written.
    sqlite: `
CREATE TABLE request_batches (
  account_id TEXT NOT NULL,
  batch_id TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  catalog_version TEXT NOT NULL,
  attribution TEXT NOT NULL,
  item_count INTEGER NOT NULL CHECK (item_count >= 1),
  PRIMARY KEY (account_id, batch_id)
) WITHOUT ROWID;
CREATE INDEX request_batches_by_id ON request_batches (batch_id);
CREATE TABLE request_batch_items (
  account_id TEXT NOT NULL,
  batch_id TEXT NOT NULL,
  item_index INTEGER NOT NULL CHECK (item_index >= 0),
  hold_id TEXT NOT NULL,
  ref TEXT,
  PRIMARY KEY (account_id, batch_id, item_index),
  UNIQUE (account_id, hold_id)
) WITHOUT ROWID;
`,
    postgres: `
CREATE TABLE request_batches (
  account_id TEXT NOT NULL,
  batch_id TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  catalog_version TEXT NOT NULL,
  attribution JSONB NOT NULL,
  item_count INTEGER NOT NULL CHECK (item_count >= 1),
  PRIMARY KEY (account_id, batch_id)
);
CREATE INDEX request_batches_by_id ON request_batches (batch_id);
CREATE TABLE request_batch_items (
  account_id TEXT NOT NULL,
  batch_id TEXT NOT NULL,
  item_index INTEGER NOT NULL CHECK (item_index >= 0),
  hold_id TEXT NOT NULL,
  ref TEXT,
  PRIMARY KEY (account_id, batch_id, item_index),
  UNIQUE (account_id, hold_id)
);
`,
  },
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
