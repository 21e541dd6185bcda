import { rebuild, type Migration } from './migration.js';

const SOURCES = `'allocation','rollover','purchase','promotion','adjustment','trial'`;
const KINDS =
  `'grant','hold','capture','release','hold_expiry','charge','grant_expiry','renewal',` +
  `'plan_change','refund','partial_capture','hold_extension','hold_increase','repayment'`;
const BOOKS = `'issued','grant','held','consumed','breakage','refunded','overdraft'`;
const FLOWS = `'granted','consumed','expired','refunded','rolled','capped','overdrawn','repaid'`;

/** Migration 13: overdraft limits and debt, partial captures, longer and larger holds, trial grants. */
export const HOLDS_AND_OVERDRAFT: readonly Migration[] = [
  {
    id: 13,
    name: 'overdraft, partial captures, hold extensions and increases, trial grants',
    // Accounts: the operator's overdraft limit (null: the plan's, else none), its mode, and
    // what the account owes (debt: captured past zero) and holds in overdraft now. A hold may
    // now be captured in parts, so captured_credits is no longer 0 until the hold is captured:
    // only captured_credits <= credits holds. Journal kinds, books, flows and grant sources
    // gain the new values.
    sqlite:
      `
ALTER TABLE accounts ADD COLUMN overdraft_limit INTEGER CHECK (overdraft_limit IS NULL OR overdraft_limit >= 0);
ALTER TABLE accounts ADD COLUMN overdraft_mode TEXT CHECK (overdraft_mode IS NULL OR overdraft_mode IN ('hard','soft'));
ALTER TABLE accounts ADD COLUMN debt INTEGER NOT NULL DEFAULT 0 CHECK (debt >= 0);
ALTER TABLE accounts ADD COLUMN overdraft_held INTEGER NOT NULL DEFAULT 0 CHECK (overdraft_held >= 0);` +
      rebuild(
        'grants',
        `
  account_id TEXT NOT NULL,
  grant_id TEXT NOT NULL,
  source TEXT NOT NULL CHECK (source IN (${SOURCES})),
  amount INTEGER NOT NULL CHECK (amount > 0),
  remaining INTEGER NOT NULL CHECK (remaining >= 0 AND remaining <= amount),
  starts_at INTEGER NOT NULL,
  expires_at INTEGER CHECK (expires_at IS NULL OR expires_at > starts_at),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, grant_id)`,
        'account_id, grant_id, source, amount, remaining, starts_at, expires_at, created_at',
        `CREATE INDEX grants_open ON grants (account_id) WHERE remaining > 0;
CREATE INDEX grants_due ON grants (expires_at) WHERE remaining > 0 AND expires_at IS NOT NULL;`,
      ) +
      rebuild(
        'holds',
        `
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
  PRIMARY KEY (account_id, hold_id)`,
        'account_id, hold_id, status, credits, captured_credits, draws, expires_at, created_at, resolved_at, catalog_version, quote, attribution',
        `CREATE INDEX holds_by_id ON holds (hold_id);
CREATE INDEX holds_due ON holds (expires_at) WHERE status = 'held';
CREATE INDEX holds_open ON holds (account_id, expires_at) WHERE status = 'held';`,
      ) +
      rebuild(
        'transactions',
        `
  account_id TEXT NOT NULL,
  transaction_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN (${KINDS})),
  created_at INTEGER NOT NULL,
  idempotency_key TEXT,
  hold_id TEXT,
  grant_id TEXT,
  catalog_version TEXT,
  detail TEXT NOT NULL,
  PRIMARY KEY (transaction_id, account_id)`,
        'account_id, transaction_id, kind, created_at, idempotency_key, hold_id, grant_id, catalog_version, detail',
        'CREATE INDEX transactions_by_account ON transactions (account_id, transaction_id);',
      ) +
      rebuild(
        'entries',
        `
  account_id TEXT NOT NULL,
  transaction_id TEXT NOT NULL,
  line INTEGER NOT NULL,
  book TEXT NOT NULL CHECK (book IN (${BOOKS})),
  grant_id TEXT,
  hold_id TEXT,
  credits INTEGER NOT NULL CHECK (credits <> 0),
  PRIMARY KEY (transaction_id, line, account_id)`,
        'account_id, transaction_id, line, book, grant_id, hold_id, credits',
        '',
      ) +
      rebuild(
        'flows_hourly',
        `
  account_id TEXT NOT NULL,
  hour INTEGER NOT NULL,
  flow TEXT NOT NULL CHECK (flow IN (${FLOWS})),
  key TEXT NOT NULL,
  credits INTEGER NOT NULL,
  first_transaction_id TEXT NOT NULL,
  last_transaction_id TEXT NOT NULL,
  PRIMARY KEY (account_id, hour, flow, key)`,
        'account_id, hour, flow, key, credits, first_transaction_id, last_transaction_id',
        '',
      ),
    // PostgreSQL names a column's CHECK <table>_<column>_check and a table's <table>_check,
    // <table>_check1, ... in the order written (a column CHECK naming two columns is a table's):
    // status = 'captured' OR captured_credits = 0 is the holds' third, holds_check2.
    postgres: `
ALTER TABLE accounts ADD COLUMN overdraft_limit BIGINT CHECK (overdraft_limit IS NULL OR overdraft_limit >= 0);
ALTER TABLE accounts ADD COLUMN overdraft_mode TEXT CHECK (overdraft_mode IS NULL OR overdraft_mode IN ('hard','soft'));
ALTER TABLE accounts ADD COLUMN debt BIGINT NOT NULL DEFAULT 0 CHECK (debt >= 0);
ALTER TABLE accounts ADD COLUMN overdraft_held BIGINT NOT NULL DEFAULT 0 CHECK (overdraft_held >= 0);
ALTER TABLE grants DROP CONSTRAINT grants_source_check,
  ADD CONSTRAINT grants_source_check CHECK (source IN (${SOURCES}));
ALTER TABLE holds DROP CONSTRAINT holds_check2;
ALTER TABLE transactions DROP CONSTRAINT transactions_kind_check,
  ADD CONSTRAINT transactions_kind_check CHECK (kind IN (${KINDS}));
ALTER TABLE entries DROP CONSTRAINT entries_book_check,
  ADD CONSTRAINT entries_book_check CHECK (book IN (${BOOKS}));
ALTER TABLE flows_hourly DROP CONSTRAINT flows_hourly_flow_check,
  ADD CONSTRAINT flows_hourly_flow_check CHECK (flow IN (${FLOWS}));
`,
  },
];
