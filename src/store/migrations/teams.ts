import type { Migration } from './migration.js';

/** Migrations 6 to 9: webhooks, subscriptions, purchases, organizations, request batches. Released: never edited. */
export const TEAMS: readonly Migration[] = [
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
];
