import type { Migration } from './migration.js';

/**
 * Migration 15: upgrades that customers asked for and pay through the payment provider (the
 * plan changes and the credits arrive with the payment). Looked up by id alone when the
 * provider's event or an operator's confirmation names one.
 */
export const PLAN_UPGRADES: readonly Migration[] = [
  {
    id: 15,
    name: 'plan upgrades',
    sqlite: `
CREATE TABLE plan_upgrades (
  account_id TEXT NOT NULL,
  upgrade_id TEXT NOT NULL,
  subscription_id TEXT NOT NULL,
  from_plan TEXT NOT NULL,
  plan TEXT NOT NULL,
  credits INTEGER NOT NULL CHECK (credits >= 0),
  price_cents INTEGER NOT NULL CHECK (price_cents > 0),
  currency TEXT NOT NULL,
  cycle_ends_at INTEGER NOT NULL,
  provider TEXT NOT NULL,
  checkout_ref TEXT,
  payment_ref TEXT,
  status TEXT NOT NULL CHECK (status IN ('pending','paid','cancelled')),
  transaction_id TEXT,
  created_at INTEGER NOT NULL,
  paid_at INTEGER,
  cancelled_at INTEGER,
  PRIMARY KEY (account_id, upgrade_id)
) WITHOUT ROWID;
CREATE INDEX plan_upgrades_by_id ON plan_upgrades (upgrade_id);`,
    postgres: `
CREATE TABLE plan_upgrades (
  account_id TEXT NOT NULL,
  upgrade_id TEXT NOT NULL,
  subscription_id TEXT NOT NULL,
  from_plan TEXT NOT NULL,
  plan TEXT NOT NULL,
  credits BIGINT NOT NULL CHECK (credits >= 0),
  price_cents BIGINT NOT NULL CHECK (price_cents > 0),
  currency TEXT NOT NULL,
  cycle_ends_at BIGINT NOT NULL,
  provider TEXT NOT NULL,
  checkout_ref TEXT,
  payment_ref TEXT,
  status TEXT NOT NULL CHECK (status IN ('pending','paid','cancelled')),
  transaction_id TEXT,
  created_at BIGINT NOT NULL,
  paid_at BIGINT,
  cancelled_at BIGINT,
  PRIMARY KEY (account_id, upgrade_id)
);
CREATE INDEX plan_upgrades_by_id ON plan_upgrades (upgrade_id);`,
  },
];
