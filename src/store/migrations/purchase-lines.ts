import type { Migration } from './migration.js';

const STATUSES = `'pending','paid','refunding','refunded','cancelled'`;
/** The copied columns of the SQLite rebuild, in the old table's terms. */
const COPIED =
  'account_id, purchase_id, pack, credits, price_cents, currency, provider, checkout_ref, ' +
  'payment_ref, status, grant_id, refunded_credits, refunded_cents, refund_ref, created_at, ' +
  'paid_at, origin';

/**
 * Migration 17: a purchase buys one or more packs in one payment (its lines, as JSON: a
 * purchase made before has one line, its pack), and a pending purchase can be cancelled
 * (status 'cancelled', cancelled_at). SQLite rebuilds the table to widen its status CHECK (the
 * procedure of migration 13, src/store/migrations/migration.ts), filling each row's line as
 * it copies it; PostgreSQL alters it in place. The new columns come last in both, in the same
 * order.
 */
export const PURCHASE_LINES: readonly Migration[] = [
  {
    id: 17,
    name: 'purchase lines and cancelled purchases',
    sqlite: `
CREATE TABLE purchases_new (
  account_id TEXT NOT NULL,
  purchase_id TEXT NOT NULL,
  pack TEXT NOT NULL,
  credits INTEGER NOT NULL CHECK (credits > 0),
  price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
  currency TEXT NOT NULL,
  provider TEXT NOT NULL,
  checkout_ref TEXT,
  payment_ref TEXT,
  status TEXT NOT NULL CHECK (status IN (${STATUSES})),
  grant_id TEXT,
  refunded_credits INTEGER NOT NULL DEFAULT 0 CHECK (refunded_credits >= 0 AND refunded_credits <= credits),
  refunded_cents INTEGER NOT NULL DEFAULT 0 CHECK (refunded_cents >= 0 AND refunded_cents <= price_cents),
  refund_ref TEXT,
  created_at INTEGER NOT NULL,
  paid_at INTEGER,
  origin TEXT NOT NULL DEFAULT 'customer' CHECK (origin IN ('customer','autotopup')),
  lines TEXT NOT NULL,
  cancelled_at INTEGER,
  PRIMARY KEY (account_id, purchase_id)
) WITHOUT ROWID;
INSERT INTO purchases_new (${COPIED}, lines)
  SELECT ${COPIED}, json_array(json_object('pack', pack, 'unitCredits', credits,
    'unitPriceCents', price_cents, 'count', 1, 'credits', credits, 'priceCents', price_cents))
  FROM purchases;
DROP TABLE purchases;
ALTER TABLE purchases_new RENAME TO purchases;
CREATE INDEX purchases_by_id ON purchases (purchase_id);
CREATE INDEX purchases_autotopup_pending ON purchases (created_at) WHERE origin = 'autotopup' AND status = 'pending' AND checkout_ref IS NULL;
`,
    postgres: `
ALTER TABLE purchases ADD COLUMN lines JSONB;
UPDATE purchases SET lines = jsonb_build_array(jsonb_build_object('pack', pack,
  'unitCredits', credits, 'unitPriceCents', price_cents, 'count', 1, 'credits', credits,
  'priceCents', price_cents));
ALTER TABLE purchases ALTER COLUMN lines SET NOT NULL;
ALTER TABLE purchases ADD COLUMN cancelled_at BIGINT;
ALTER TABLE purchases DROP CONSTRAINT purchases_status_check,
  ADD CONSTRAINT purchases_status_check CHECK (status IN (${STATUSES}));
`,
  },
];
