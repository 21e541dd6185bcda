import pg from 'pg';
import { AmisiError, assert } from '../../core/errors.js';
import type { Grant } from '../../core/grants.js';
import type { Hold, HoldStatus } from '../../core/holds.js';
import type { Book, JournalTransaction, TransactionKind } from '../../core/journal.js';
import type { Budget, BudgetAlert, BudgetScope, Member, Project } from '../../core/teams.js';
import type {
  AccountAudit,
  AccountKey,
  AccountRecord,
  ApiKeyRecord,
  CatalogRecord,
  GrantRemaining,
  HistoryQuery,
  DeliveryQuery,
  HoldRef,
  IdempotencyRecord,
  RollupWindow,
  RollupWindowQuery,
  Store,
  WriteTx,
} from '../../ledger/store.js';
import { migrations } from '../migrations/index.js';
import {
  ACCOUNT_COLUMNS,
  accountValues,
  BUDGET_ALERT_COLUMNS,
  budgetAlertValues,
  BUDGET_COLUMNS,
  budgetValues,
  lastByKey,
  MEMBER_COLUMNS,
  memberValues,
  PROJECT_COLUMNS,
  projectValues,
  toBudget,
  toBudgetAlert,
  toMember,
  toProject,
  API_KEY_COLUMNS,
  apiKeyValues,
  toApiKey,
  int,
  AUTOTOPUP_COLUMNS,
  autoTopupValues,
  awaitingCheckoutSql,
  DELIVERY_COLUMNS,
  deliveryValues,
  toDelivery,
  toDeliveryAttempt,
  toWebhookEndpoint,
  toWebhookEvent,
  WEBHOOK_EVENT_COLUMNS,
  webhookEventValues,
  toAutoTopup,
  purchaseValues,
  PURCHASE_COLUMNS,
  toPurchase,
  subscriptionValues,
  SUBSCRIPTION_COLUMNS,
  toAccount,
  toAccountView,
  ACCOUNTS_WITH_PLAN,
  toCatalog,
  toGrant,
  toHold,
  toSubscription,
  toTransaction,
  REQUEST_BATCH_COLUMNS,
  REQUEST_BATCH_ITEM_COLUMNS,
  requestBatchItemValues,
  requestBatchValues,
  toRequestBatch,
  FLOW_COLUMNS,
  flowValues,
  OUTCOME_COLUMNS,
  outcomeValues,
  toFlowRow,
  toOutcome,
  toUsageRow,
  USAGE_COLUMNS,
  usageValues,
  type Row,
} from '../rows.js';
import { hourCeil, hourOf, type FlowIncrement, type UsageIncrement } from '../../core/rollups.js';
import type { Outcome } from '../../core/outcomes.js';
import type { Subscription } from '../../core/subscriptions.js';
import type { Purchase } from '../../core/purchases.js';
import type { AutoTopup } from '../../core/autotopup.js';
import type { RequestBatch } from '../../core/batches.js';
import type {
  Delivery,
  DeliveryAttempt,
  WebhookEndpoint,
  WebhookEvent,
} from '../../core/webhooks.js';

const UPSERT_AUTOTOPUP = `INSERT INTO autotopups (${AUTOTOPUP_COLUMNS.join(', ')})
  VALUES (${AUTOTOPUP_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})
  ON CONFLICT (account_id) DO UPDATE SET ${AUTOTOPUP_COLUMNS.slice(1)
    .map((c) => `${c} = excluded.${c}`)
    .join(', ')}`;

/** ` ON CONFLICT (key) DO UPDATE SET` every other column to the new row's value. */
function upsertClause(columns: readonly string[], key: number): string {
  return ` ON CONFLICT (${columns.slice(0, key).join(', ')}) DO UPDATE SET ${columns
    .slice(key)
    .map((c) => `${c} = excluded.${c}`)
    .join(', ')}`;
}

/** A multi-row insert of `columns` (PostgreSQL types in `types`, in order) through unnest. */
function insertUnnest(table: string, columns: readonly string[], types: readonly string[]) {
  assert(columns.length === types.length, `a type for every column of ${table}`);
  return `INSERT INTO ${table} (${columns.join(', ')})
  SELECT * FROM unnest(${types.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})`;
}

/** The column arrays unnest takes, from each row's values. */
function columnArrays<T>(rows: readonly T[], values: (row: T) => unknown[], width: number) {
  const cols: unknown[][] = Array.from({ length: width }, () => []);
  for (const row of rows) values(row).forEach((v, i) => cols[i]!.push(v));
  return cols;
}

const MEMBER_TYPES = [
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'bigint',
  'bigint',
] as const;
const BUDGET_TYPES = [
  'text',
  'text',
  'text',
  'bigint',
  'text',
  'text',
  'bigint',
  'bigint',
  'bigint',
  'bigint',
  'bigint',
  'int',
  'bigint',
  'bigint',
] as const;
const BUDGET_ALERT_TYPES = [
  'text',
  'text',
  'text',
  'text',
  'int',
  'bigint',
  'bigint',
  'bigint',
  'bigint',
  'text',
  'bigint',
] as const;

const PUT_MEMBERS =
  insertUnnest('members', MEMBER_COLUMNS, MEMBER_TYPES) + upsertClause(MEMBER_COLUMNS, 2);
const PUT_PROJECT = `INSERT INTO projects (${PROJECT_COLUMNS.join(', ')}) VALUES (${PROJECT_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})${upsertClause(PROJECT_COLUMNS, 2)}`;
const PUT_BUDGETS =
  insertUnnest('budgets', BUDGET_COLUMNS, BUDGET_TYPES) + upsertClause(BUDGET_COLUMNS, 3);
const INSERT_BUDGET_ALERTS = insertUnnest(
  'budget_alerts',
  BUDGET_ALERT_COLUMNS,
  BUDGET_ALERT_TYPES,
);

/** Rollups add up: a row already there for the key gets the increment added. */
const ADD_USAGE =
  insertUnnest('usage_hourly', USAGE_COLUMNS, [
    'text',
    'bigint',
    'text',
    'text',
    'bigint',
    'bigint',
  ]) +
  ' ON CONFLICT (account_id, hour, dim, key) DO UPDATE SET credits = usage_hourly.credits + excluded.credits, units = usage_hourly.units + excluded.units';
const ADD_FLOWS =
  insertUnnest('flows_hourly', FLOW_COLUMNS, [
    'text',
    'bigint',
    'text',
    'text',
    'bigint',
    'text',
    'text',
  ]) +
  ' ON CONFLICT (account_id, hour, flow, key) DO UPDATE SET credits = flows_hourly.credits + excluded.credits, first_transaction_id = LEAST(flows_hourly.first_transaction_id, excluded.first_transaction_id), last_transaction_id = GREATEST(flows_hourly.last_transaction_id, excluded.last_transaction_id)';
const PUT_OUTCOMES =
  insertUnnest('outcomes', OUTCOME_COLUMNS, [
    'text',
    'text',
    'text',
    'jsonb',
    'bigint',
    'text',
    'text',
    'bigint',
    'text',
    'text',
    'bigint',
    'bigint',
  ]) + upsertClause(OUTCOME_COLUMNS, 2);

/** Rollup reads: see Store.rollupWindow. */
const ROLLUP_SQL = {
  flowsBefore:
    'SELECT flow, key, SUM(credits) AS credits FROM flows_hourly WHERE account_id = $1 AND hour < $2 GROUP BY flow, key',
  flowsBetween:
    'SELECT flow, key, SUM(credits) AS credits FROM flows_hourly WHERE account_id = $1 AND hour >= $2 AND hour < $3 GROUP BY flow, key',
  usageBetween:
    'SELECT dim, key, SUM(credits) AS credits, SUM(units) AS units FROM usage_hourly WHERE account_id = $1 AND hour >= $2 AND hour < $3 GROUP BY dim, key',
  hourBounds:
    'SELECT MIN(first_transaction_id) AS lo, MAX(last_transaction_id) AS hi FROM flows_hourly WHERE account_id = $1 AND hour >= $2 AND hour < $3',
  transactionsIn:
    'SELECT * FROM transactions WHERE account_id = $1 AND transaction_id >= $2 AND transaction_id <= $3 AND created_at >= $4 AND created_at < $5 ORDER BY transaction_id',
  grants: 'SELECT * FROM grants WHERE account_id = $1 AND grant_id = ANY($2::text[])',
  holds: 'SELECT * FROM holds WHERE account_id = $1 AND hold_id = ANY($2::text[])',
  pending: 'SELECT 1 AS pending FROM rollups_pending WHERE account_id = $1',
} as const;

const MEMBERS = 'SELECT * FROM members WHERE account_id = $1 ORDER BY member_id';
const MEMBER = 'SELECT * FROM members WHERE account_id = $1 AND member_id = $2';
const PROJECTS = 'SELECT * FROM projects WHERE account_id = $1 ORDER BY project_id';
const BUDGETS = 'SELECT * FROM budgets WHERE account_id = $1 ORDER BY scope, target';

export interface PostgresOptions {
  readonly url: string;
  /** Connections in the pool (writes use one at a time per batch; reads share the rest). */
  readonly poolSize?: number;
  /** Write transactions at once (default 2): one batch is built while another commits. */
  readonly writeConcurrency?: number;
  /** Told every statement the adapter sends (tests check the single-account rule with it). */
  readonly onStatement?: (text: string, values: readonly unknown[]) => void;
}

/** BIGINT and NUMERIC (SUM of BIGINT) come back as numbers, asserted to be safe integers. */
function safeInteger(text: string): number {
  const n = Number(text);
  assert(Number.isSafeInteger(n), `database integer ${text} is a safe integer`);
  return n;
}

const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20 || oid === 1700) return safeInteger;
    return pg.types.getTypeParser(oid, format);
  },
};

/** Error codes that mean "try again": serialization, deadlock, lock timeout, connections. */
const RETRYABLE = new Set(['40001', '40P01', '55P03', '53300', '57P01', '57P02', '57P03']);

function mapError(e: unknown): unknown {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (RETRYABLE.has(code) || code.startsWith('08'))) {
    return new AmisiError('store_busy', `the database asked to retry (${code})`, {
      sqlstate: code,
    });
  }
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT') {
    return new AmisiError('store_busy', `the database is unreachable (${code})`, {});
  }
  return e;
}

type Queryable = Pick<pg.PoolClient, 'query'>;

class Sql {
  constructor(
    private readonly db: Queryable,
    private readonly log: PostgresOptions['onStatement'],
  ) {}
  async rows(text: string, values: unknown[] = [], name?: string): Promise<Row[]> {
    return (await this.run(text, values, name)).rows as Row[];
  }
  async run(text: string, values: unknown[] = [], name?: string): Promise<pg.QueryResult> {
    this.log?.(text, values);
    return name ? this.db.query({ name, text, values }) : this.db.query(text, values);
  }
}

const HOLD_COLUMNS =
  'account_id, hold_id, status, credits, captured_credits, draws, expires_at, created_at, resolved_at, catalog_version, quote, attribution';

async function transactionsWithEntries(sql: Sql, rows: Row[]): Promise<JournalTransaction[]> {
  if (rows.length === 0) return [];
  const accountId = rows[0]!.account_id as string;
  assert(
    rows.every((r) => r.account_id === accountId),
    'one account per journal read',
  );
  const entries = await sql.rows(
    'SELECT * FROM entries WHERE account_id = $1 AND transaction_id = ANY($2::text[]) ORDER BY transaction_id, line',
    [accountId, rows.map((r) => r.transaction_id)],
    'entries_of_transactions',
  );
  const byTransaction = new Map<string, Row[]>();
  for (const e of entries) {
    const list = byTransaction.get(e.transaction_id as string) ?? [];
    list.push(e);
    byTransaction.set(e.transaction_id as string, list);
  }
  return rows.map((r) => toTransaction(r, byTransaction.get(r.transaction_id as string) ?? []));
}

class PostgresWriteTx implements WriteTx {
  constructor(private readonly sql: Sql) {}

  async lockAccounts(accountIds: readonly string[]) {
    // FOR UPDATE in id order: two batches that share accounts queue instead of deadlocking.
    const rows = await this.sql.rows(
      'SELECT * FROM accounts WHERE account_id = ANY($1::text[]) ORDER BY account_id FOR UPDATE',
      [[...accountIds].sort()],
      'lock_accounts',
    );
    return rows.map(toAccount);
  }
  async insertAccount(a: AccountRecord) {
    const r = await this.sql.run(
      `INSERT INTO accounts (${ACCOUNT_COLUMNS.join(', ')}) VALUES (${ACCOUNT_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')}) ON CONFLICT DO NOTHING`,
      accountValues(a),
    );
    return r.rowCount === 1;
  }
  async openGrants(accountIds: readonly string[]) {
    const rows = await this.sql.rows(
      'SELECT * FROM grants WHERE account_id = ANY($1::text[]) AND remaining > 0',
      [accountIds],
      'open_grants',
    );
    return rows.map(toGrant);
  }
  async getGrant(accountId: string, grantId: string) {
    const [r] = await this.sql.rows(
      'SELECT * FROM grants WHERE account_id = $1 AND grant_id = $2',
      [accountId, grantId],
    );
    return r ? toGrant(r) : undefined;
  }
  async insertGrant(g: Grant) {
    await this.sql.run(
      'INSERT INTO grants (account_id, grant_id, source, amount, remaining, starts_at, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [g.accountId, g.id, g.source, g.amount, g.remaining, g.startsAt, g.expiresAt, g.createdAt],
      'insert_grant',
    );
  }
  async insertGrants(grants: readonly Grant[]) {
    // One statement however many rows: unnest turns the column arrays into rows.
    await this.sql.run(
      `INSERT INTO grants (account_id, grant_id, source, amount, remaining, starts_at, expires_at, created_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[])`,
      [
        grants.map((g) => g.accountId),
        grants.map((g) => g.id),
        grants.map((g) => g.source),
        grants.map((g) => g.amount),
        grants.map((g) => g.remaining),
        grants.map((g) => g.startsAt),
        grants.map((g) => g.expiresAt),
        grants.map((g) => g.createdAt),
      ],
      'insert_grants',
    );
  }
  async setGrantsRemaining(updates: readonly GrantRemaining[]) {
    const r = await this.sql.run(
      `UPDATE grants g SET remaining = u.remaining
       FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u(account_id, grant_id, remaining)
       WHERE g.account_id = u.account_id AND g.grant_id = u.grant_id`,
      [
        updates.map((u) => u.accountId),
        updates.map((u) => u.grantId),
        updates.map((u) => u.remaining),
      ],
      'set_grants_remaining',
    );
    assert(r.rowCount === updates.length, 'every grant changed in the batch was updated');
  }
  async findHoldAccount(holdId: string) {
    const [r] = await this.sql.rows(
      'SELECT account_id FROM holds WHERE hold_id = $1',
      [holdId],
      'hold_account',
    );
    return r ? (r.account_id as string) : undefined;
  }
  async getHolds(refs: readonly HoldRef[]) {
    if (refs.length === 0) return [];
    const rows = await this.sql.rows(
      `SELECT h.* FROM holds h JOIN unnest($1::text[], $2::text[]) AS r(account_id, hold_id)
       ON h.account_id = r.account_id AND h.hold_id = r.hold_id`,
      [refs.map((r) => r.accountId), refs.map((r) => r.holdId)],
      'get_holds',
    );
    return rows.map(toHold);
  }
  async dueHolds(accountIds: readonly string[], now: number) {
    const rows = await this.sql.rows(
      `SELECT * FROM holds WHERE account_id = ANY($1::text[]) AND status = 'held' AND expires_at <= $2
       ORDER BY account_id, expires_at, hold_id`,
      [accountIds, now],
      'due_holds',
    );
    return rows.map(toHold);
  }
  async insertHold(h: Hold) {
    await this.sql.run(
      `INSERT INTO holds (${HOLD_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        h.accountId,
        h.id,
        h.status,
        h.credits,
        h.capturedCredits,
        JSON.stringify(h.draws),
        h.expiresAt,
        h.createdAt,
        h.resolvedAt,
        h.catalogVersion,
        h.quote === null ? null : JSON.stringify(h.quote),
        JSON.stringify(h.attribution),
      ],
      'insert_hold',
    );
  }
  async resolveHold(
    accountId: string,
    holdId: string,
    status: HoldStatus,
    captured: number,
    at: number,
  ) {
    const r = await this.sql.run(
      "UPDATE holds SET status = $1, captured_credits = $2, resolved_at = $3 WHERE account_id = $4 AND hold_id = $5 AND status = 'held'",
      [status, captured, at, accountId, holdId],
      'resolve_hold',
    );
    assert(r.rowCount === 1, `hold ${holdId} resolved once`);
  }
  async getTransaction(accountId: string, transactionId: string) {
    const rows = await this.sql.rows(
      'SELECT * FROM transactions WHERE account_id = $1 AND transaction_id = $2',
      [accountId, transactionId],
    );
    const [t] = await transactionsWithEntries(this.sql, rows);
    return t;
  }
  async appendTransactions(txs: readonly JournalTransaction[]) {
    // One statement per table however many rows: unnest turns the column arrays into rows.
    await this.sql.run(
      `INSERT INTO transactions (account_id, transaction_id, kind, created_at, idempotency_key, hold_id, grant_id, catalog_version, detail)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::jsonb[])`,
      [
        txs.map((t) => t.accountId),
        txs.map((t) => t.id),
        txs.map((t) => t.kind),
        txs.map((t) => t.createdAt),
        txs.map((t) => t.idempotencyKey),
        txs.map((t) => t.holdId),
        txs.map((t) => t.grantId),
        txs.map((t) => t.catalogVersion),
        txs.map((t) => JSON.stringify(t.detail)),
      ],
      'append_transactions',
    );
    const cols: unknown[][] = [[], [], [], [], [], [], []];
    for (const t of txs) {
      t.entries.forEach((e, line) => {
        cols[0]!.push(t.accountId);
        cols[1]!.push(t.id);
        cols[2]!.push(line);
        cols[3]!.push(e.book);
        cols[4]!.push(e.grantId);
        cols[5]!.push(e.holdId);
        cols[6]!.push(e.credits);
      });
    }
    await this.sql.run(
      `INSERT INTO entries (account_id, transaction_id, line, book, grant_id, hold_id, credits)
       SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::bigint[])`,
      cols,
      'append_entries',
    );
  }
  async getIdempotency(refs: readonly AccountKey[]): Promise<IdempotencyRecord[]> {
    if (refs.length === 0) return [];
    const rows = await this.sql.rows(
      `SELECT i.* FROM idempotency i JOIN unnest($1::text[], $2::text[]) AS k(account_id, key)
       ON i.account_id = k.account_id AND i.key = k.key`,
      [refs.map((r) => r.accountId), refs.map((r) => r.key)],
      'get_idempotency',
    );
    return rows.map((r) => ({
      accountId: r.account_id as string,
      key: r.key as string,
      requestHash: r.request_hash as string,
      transactionId: r.transaction_id as string,
      createdAt: int(r.created_at, 'idempotency created_at'),
    }));
  }
  async putIdempotency(records: readonly IdempotencyRecord[]) {
    await this.sql.run(
      `INSERT INTO idempotency (account_id, key, request_hash, transaction_id, created_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[])`,
      [
        records.map((r) => r.accountId),
        records.map((r) => r.key),
        records.map((r) => r.requestHash),
        records.map((r) => r.transactionId),
        records.map((r) => r.createdAt),
      ],
      'put_idempotency',
    );
  }
  async findPurchaseAccount(purchaseId: string) {
    const [r] = await this.sql.rows(
      'SELECT account_id FROM purchases WHERE purchase_id = $1',
      [purchaseId],
      'purchase_account',
    );
    return r ? (r.account_id as string) : undefined;
  }
  async getPurchase(accountId: string, purchaseId: string) {
    const [r] = await this.sql.rows(
      'SELECT * FROM purchases WHERE account_id = $1 AND purchase_id = $2',
      [accountId, purchaseId],
    );
    return r ? toPurchase(r) : undefined;
  }
  async insertPurchase(p: Purchase) {
    const values = purchaseValues(p);
    await this.sql.run(
      `INSERT INTO purchases (${PURCHASE_COLUMNS.join(', ')}) VALUES (${values.map((_, i) => `$${i + 1}`).join(', ')})`,
      values,
    );
  }
  async updatePurchase(p: Purchase) {
    const values = purchaseValues(p);
    const sets = PURCHASE_COLUMNS.slice(2)
      .map((c, i) => `${c} = $${i + 3}`)
      .join(', ');
    const r = await this.sql.run(
      `UPDATE purchases SET ${sets} WHERE account_id = $1 AND purchase_id = $2`,
      values,
    );
    assert(r.rowCount === 1, `purchase ${p.id} updated`);
  }
  async markPaymentEvent(accountId: string, eventId: string, at: number) {
    const r = await this.sql.run(
      'INSERT INTO payment_events (account_id, event_id, processed_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [accountId, eventId, at],
    );
    return r.rowCount === 1;
  }
  async autoTopups(accountIds: readonly string[]) {
    const rows = await this.sql.rows(
      'SELECT * FROM autotopups WHERE account_id = ANY($1::text[])',
      [accountIds],
      'autotopups',
    );
    return rows.map(toAutoTopup);
  }
  async putAutoTopups(rules: readonly AutoTopup[]) {
    for (const rule of rules) await this.sql.run(UPSERT_AUTOTOPUP, autoTopupValues(rule));
  }
  async deleteAutoTopup(accountId: string) {
    const r = await this.sql.run('DELETE FROM autotopups WHERE account_id = $1', [accountId]);
    return r.rowCount === 1;
  }
  async webhookEndpoints() {
    const rows = await this.sql.rows(
      'SELECT * FROM webhook_endpoints WHERE disabled_at IS NULL',
      [],
      'webhook_endpoints',
    );
    return rows.map(toWebhookEndpoint);
  }
  async webhookEndpoint(endpointId: string) {
    const [r] = await this.sql.rows(
      'SELECT * FROM webhook_endpoints WHERE endpoint_id = $1',
      [endpointId],
      'webhook_endpoint',
    );
    return r ? toWebhookEndpoint(r) : undefined;
  }
  async insertWebhookEndpoint(e: WebhookEndpoint) {
    await this.sql.run(
      'INSERT INTO webhook_endpoints (endpoint_id, url, secret, event_types, account_id, public_only, created_at, disabled_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [
        e.id,
        e.url,
        e.secret,
        JSON.stringify(e.eventTypes),
        e.accountId,
        e.publicOnly,
        e.createdAt,
        e.disabledAt,
      ],
    );
  }
  async disableWebhookEndpoint(endpointId: string, at: number) {
    const r = await this.sql.run(
      'UPDATE webhook_endpoints SET disabled_at = $1 WHERE endpoint_id = $2 AND disabled_at IS NULL',
      [at, endpointId],
    );
    return r.rowCount === 1;
  }
  async insertWebhookEvents(events: readonly WebhookEvent[]) {
    await this.sql.run(
      `INSERT INTO webhook_events (account_id, event_id, type, data, created_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[], $5::bigint[])`,
      WEBHOOK_EVENT_COLUMNS.map((_, i) => events.map((e) => webhookEventValues(e)[i])),
      'insert_webhook_events',
    );
  }
  async webhookEventIds(accountId: string, eventIds: readonly string[]) {
    const rows = await this.sql.rows(
      'SELECT event_id FROM webhook_events WHERE account_id = $1 AND event_id = ANY($2::text[])',
      [accountId, eventIds],
    );
    return rows.map((r) => r.event_id as string);
  }
  async insertDeliveries(deliveries: readonly Delivery[]) {
    await this.sql.run(
      `INSERT INTO webhook_deliveries (${DELIVERY_COLUMNS.join(', ')})
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::bigint[], $8::bigint[], $9::bigint[], $10::int[], $11::text[])`,
      DELIVERY_COLUMNS.map((_, i) => deliveries.map((d) => deliveryValues(d)[i])),
      'insert_deliveries',
    );
  }
  async claimDeliveries(now: number, leaseUntil: number, limit: number) {
    // SKIP LOCKED: deliverers in other processes take other rows instead of waiting.
    const rows = await this.sql.rows(
      `UPDATE webhook_deliveries d SET next_attempt_at = $2
       FROM (SELECT account_id, delivery_id FROM webhook_deliveries
             WHERE status = 'pending' AND next_attempt_at <= $1
             ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED) due
       WHERE d.account_id = due.account_id AND d.delivery_id = due.delivery_id
       RETURNING d.*`,
      [now, leaseUntil, limit],
      'claim_deliveries',
    );
    return rows.map(toDelivery);
  }
  async finishDelivery(d: Delivery, a: DeliveryAttempt) {
    const values = deliveryValues(d);
    const sets = DELIVERY_COLUMNS.slice(2)
      .map((c, i) => `${c} = $${i + 3}`)
      .join(', ');
    const r = await this.sql.run(
      `UPDATE webhook_deliveries SET ${sets} WHERE account_id = $1 AND delivery_id = $2`,
      values,
    );
    assert(r.rowCount === 1, `delivery ${d.id} updated`);
    await this.sql.run(
      'INSERT INTO webhook_attempts (account_id, delivery_id, attempt, at, status_code, error, duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [a.accountId, a.deliveryId, a.attempt, a.at, a.statusCode, a.error, a.durationMs],
    );
  }
  async members(accountId: string) {
    return (await this.sql.rows(MEMBERS, [accountId], 'members')).map(toMember);
  }
  async putMembers(members: readonly Member[]) {
    if (members.length === 0) return;
    const rows = lastByKey(members, (m) => `${m.accountId}\u0000${m.id}`);
    await this.sql.run(
      PUT_MEMBERS,
      columnArrays(rows, memberValues, MEMBER_COLUMNS.length),
      'put_members',
    );
  }
  async deleteMember(accountId: string, memberId: string) {
    const r = await this.sql.run('DELETE FROM members WHERE account_id = $1 AND member_id = $2', [
      accountId,
      memberId,
    ]);
    return r.rowCount === 1;
  }
  async projects(accountId: string) {
    return (await this.sql.rows(PROJECTS, [accountId], 'projects')).map(toProject);
  }
  async putProject(p: Project) {
    await this.sql.run(PUT_PROJECT, projectValues(p), 'put_project');
  }
  async budgets(accountIds: readonly string[]) {
    const rows = await this.sql.rows(
      'SELECT * FROM budgets WHERE account_id = ANY($1::text[]) ORDER BY account_id, scope, target',
      [accountIds],
      'budgets',
    );
    return rows.map(toBudget);
  }
  async putBudgets(budgets: readonly Budget[]) {
    if (budgets.length === 0) return;
    const rows = lastByKey(budgets, (b) => `${b.accountId}\u0000${b.scope}\u0000${b.target}`);
    await this.sql.run(
      PUT_BUDGETS,
      columnArrays(rows, budgetValues, BUDGET_COLUMNS.length),
      'put_budgets',
    );
  }
  async deleteBudget(accountId: string, scope: BudgetScope, target: string) {
    const r = await this.sql.run(
      'DELETE FROM budgets WHERE account_id = $1 AND scope = $2 AND target = $3',
      [accountId, scope, target],
    );
    return r.rowCount === 1;
  }
  async insertBudgetAlerts(alerts: readonly BudgetAlert[]) {
    if (alerts.length === 0) return;
    await this.sql.run(
      INSERT_BUDGET_ALERTS,
      columnArrays(alerts, budgetAlertValues, BUDGET_ALERT_COLUMNS.length),
      'insert_budget_alerts',
    );
  }
  async budgetAlertThresholds(
    accountId: string,
    scope: BudgetScope,
    target: string,
    periodStart: number,
  ) {
    const rows = await this.sql.rows(
      `SELECT threshold FROM budget_alerts
       WHERE account_id = $1 AND scope = $2 AND target = $3 AND period_start = $4 ORDER BY threshold`,
      [accountId, scope, target, periodStart],
      'budget_alert_thresholds',
    );
    return rows.map((r) => int(r.threshold, 'threshold'));
  }
  async openHoldsOf(accountId: string) {
    const rows = await this.sql.rows(
      "SELECT * FROM holds WHERE account_id = $1 AND status = 'held' ORDER BY created_at, hold_id",
      [accountId],
      'open_holds_of',
    );
    return rows.map(toHold);
  }
  async transactionsSince(accountId: string, kinds: readonly TransactionKind[], since: number) {
    if (kinds.length === 0) return [];
    const rows = await this.sql.rows(
      `SELECT * FROM transactions WHERE account_id = $1 AND kind = ANY($2::text[]) AND created_at >= $3
       ORDER BY created_at, transaction_id`,
      [accountId, kinds, since],
      'transactions_since',
    );
    return transactionsWithEntries(this.sql, rows);
  }
  async activeSubscriptions(accountIds: readonly string[]) {
    const rows = await this.sql.rows(
      "SELECT * FROM subscriptions WHERE account_id = ANY($1::text[]) AND status = 'active'",
      [accountIds],
      'active_subscriptions',
    );
    return rows.map(toSubscription);
  }
  async insertSubscription(sub: Subscription) {
    const values = subscriptionValues(sub);
    await this.sql.run(
      `INSERT INTO subscriptions (${SUBSCRIPTION_COLUMNS.join(', ')}) VALUES (${values.map((_, i) => `$${i + 1}`).join(', ')})`,
      values,
    );
  }
  async updateSubscription(sub: Subscription) {
    const values = subscriptionValues(sub);
    const sets = SUBSCRIPTION_COLUMNS.slice(2)
      .map((c, i) => `${c} = $${i + 3}`)
      .join(', ');
    const r = await this.sql.run(
      `UPDATE subscriptions SET ${sets} WHERE account_id = $1 AND subscription_id = $2`,
      values,
    );
    assert(r.rowCount === 1, `subscription ${sub.id} updated`);
  }
  async updateSubscriptions(subs: readonly Subscription[]) {
    const rows = subs.map(subscriptionValues);
    const r = await this.sql.run(
      UPDATE_SUBSCRIPTIONS,
      SUBSCRIPTION_COLUMNS.map((_, i) => rows.map((values) => values[i])),
      'update_subscriptions',
    );
    assert(r.rowCount === subs.length, 'every subscription changed in the batch was updated');
  }
  async activeCatalog() {
    const [r] = await this.sql.rows(ACTIVE_CATALOG, [], 'active_catalog');
    return r ? toCatalog(r) : undefined;
  }
  async getCatalog(version: string) {
    const [r] = await this.sql.rows(
      'SELECT * FROM catalogs WHERE version = $1',
      [version],
      'tx_get_catalog',
    );
    return r ? toCatalog(r) : undefined;
  }
  async putCatalog(c: CatalogRecord) {
    const r = await this.sql.run(
      'INSERT INTO catalogs (version, body, digest, loaded_at, activated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING',
      [c.version, JSON.stringify(c.body), c.digest, c.loadedAt, c.activatedAt],
    );
    return r.rowCount === 1;
  }
  async activateCatalog(version: string, at: number) {
    await this.sql.run('UPDATE catalogs SET activated_at = $1 WHERE version = $2', [at, version]);
  }
  async insertApiKey(k: ApiKeyRecord) {
    await this.sql.run(
      `INSERT INTO api_keys (${API_KEY_COLUMNS.join(', ')}) VALUES (${API_KEY_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`,
      apiKeyValues(k),
    );
  }
  async revokeApiKey(keyId: string, at: number) {
    const r = await this.sql.run(
      'UPDATE api_keys SET revoked_at = $1 WHERE key_id = $2 AND revoked_at IS NULL',
      [at, keyId],
    );
    return r.rowCount === 1;
  }
  async revokeMemberKeys(accountId: string, memberId: string, at: number) {
    const r = await this.sql.run(
      'UPDATE api_keys SET revoked_at = $1 WHERE account_id = $2 AND member_id = $3 AND revoked_at IS NULL',
      [at, accountId, memberId],
    );
    return r.rowCount ?? 0;
  }
  async insertRequestBatch(b: RequestBatch) {
    await this.sql.run(INSERT_REQUEST_BATCH, requestBatchValues(b), 'insert_request_batch');
    await this.sql.run(
      INSERT_REQUEST_BATCH_ITEMS,
      columnArrays(
        b.items,
        (item) => requestBatchItemValues(b, item),
        REQUEST_BATCH_ITEM_COLUMNS.length,
      ),
      'insert_request_batch_items',
    );
  }
  async getRequestBatch(accountId: string, batchId: string) {
    const [r] = await this.sql.rows(REQUEST_BATCH, [accountId, batchId], 'request_batch');
    if (!r) return undefined;
    const items = await this.sql.rows(
      REQUEST_BATCH_ITEMS,
      [accountId, batchId],
      'request_batch_items',
    );
    return toRequestBatch(r, items);
  }
  async addUsage(rows: readonly UsageIncrement[]) {
    if (rows.length === 0) return;
    await this.sql.run(
      ADD_USAGE,
      columnArrays(rows, usageValues, USAGE_COLUMNS.length),
      'add_usage',
    );
  }
  async addFlows(rows: readonly FlowIncrement[]) {
    if (rows.length === 0) return;
    await this.sql.run(ADD_FLOWS, columnArrays(rows, flowValues, FLOW_COLUMNS.length), 'add_flows');
  }
  async clearRollups(accountId: string) {
    for (const table of ['usage_hourly', 'flows_hourly', 'rollups_pending'])
      await this.sql.run(`DELETE FROM ${table} WHERE account_id = $1`, [accountId]);
  }
  async journalPage(accountId: string, afterId: string | null, limit: number) {
    const rows = await this.sql.rows(
      'SELECT * FROM transactions WHERE account_id = $1 AND transaction_id > $2 ORDER BY transaction_id LIMIT $3',
      [accountId, afterId ?? '', limit],
      'journal_page',
    );
    return transactionsWithEntries(this.sql, rows);
  }
  async getOutcome(accountId: string, transactionId: string) {
    const [r] = await this.sql.rows(
      'SELECT * FROM outcomes WHERE account_id = $1 AND transaction_id = $2',
      [accountId, transactionId],
      'get_outcome',
    );
    return r ? toOutcome(r) : undefined;
  }
  async putOutcomes(outcomes: readonly Outcome[]) {
    if (outcomes.length === 0) return;
    const rows = lastByKey(outcomes, (o) => `${o.accountId}\u0000${o.transactionId}`);
    await this.sql.run(
      PUT_OUTCOMES,
      columnArrays(rows, outcomeValues, OUTCOME_COLUMNS.length),
      'put_outcomes',
    );
  }
}

const INSERT_REQUEST_BATCH = `INSERT INTO request_batches (${REQUEST_BATCH_COLUMNS.join(', ')}) VALUES (${REQUEST_BATCH_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`;
const INSERT_REQUEST_BATCH_ITEMS = insertUnnest('request_batch_items', REQUEST_BATCH_ITEM_COLUMNS, [
  'text',
  'text',
  'int',
  'text',
  'text',
]);
const REQUEST_BATCH = 'SELECT * FROM request_batches WHERE account_id = $1 AND batch_id = $2';
const REQUEST_BATCH_ITEMS =
  'SELECT * FROM request_batch_items WHERE account_id = $1 AND batch_id = $2 ORDER BY item_index';
const REQUEST_BATCH_HOLDS = `SELECT i.item_index, i.ref, h.* FROM request_batch_items i
  JOIN holds h ON h.account_id = i.account_id AND h.hold_id = i.hold_id
  WHERE i.account_id = $1 AND i.batch_id = $2 ORDER BY i.item_index`;

/** PostgreSQL types of SUBSCRIPTION_COLUMNS, in order (for unnest). */
const SUBSCRIPTION_TYPES = [
  'text',
  'text',
  'text',
  'text',
  'bigint',
  'int',
  'bigint',
  'text',
  'bigint',
  'text',
  'bigint',
  'text',
] as const;

/** Many subscriptions' rows in one statement (their ids are distinct: one row each). */
const UPDATE_SUBSCRIPTIONS = `UPDATE subscriptions s SET ${SUBSCRIPTION_COLUMNS.slice(2)
  .map((c) => `${c} = u.${c}`)
  .join(', ')}
  FROM unnest(${SUBSCRIPTION_TYPES.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})
    AS u(${SUBSCRIPTION_COLUMNS.join(', ')})
  WHERE s.account_id = u.account_id AND s.subscription_id = u.subscription_id`;

const ACTIVE_CATALOG = 'SELECT * FROM catalogs ORDER BY activated_at DESC, version DESC LIMIT 1';

/** A key for pg_advisory_xact_lock: one migrator at a time across every process. */
const MIGRATION_LOCK = 0x414d4953;

/**
 * PostgreSQL through node-postgres. Each batch is one READ COMMITTED transaction that locks
 * its accounts' rows (SELECT ... FOR UPDATE, in id order) before reading anything it decides
 * on, so several processes can share one database without overspending
 * (docs/adr/0004-postgres-row-locks.md). synchronous_commit stays on: COMMIT returns after the
 * WAL is flushed.
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres';
  readonly writeConcurrency: number;
  private readonly pool: pg.Pool;
  private readonly log: PostgresOptions['onStatement'];

  constructor(options: PostgresOptions) {
    this.writeConcurrency = options.writeConcurrency ?? 2;
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: Math.max(options.poolSize ?? 10, this.writeConcurrency + 2),
      types,
    });
    // An idle client that loses its connection must not crash the process.
    this.pool.on('error', () => undefined);
    this.log = options.onStatement;
  }

  private sql(db: Queryable = this.pool): Sql {
    return new Sql(db, this.log);
  }

  private async inTransaction<T>(begin: string, fn: (sql: Sql) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw mapError(e);
    }
    let broken: Error | undefined;
    try {
      const sql = this.sql(client);
      await sql.run(begin);
      const result = await fn(sql);
      await sql.run('COMMIT');
      return result;
    } catch (e) {
      try {
        this.log?.('ROLLBACK', []);
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError as Error;
      }
      throw mapError(e);
    } finally {
      client.release(broken);
    }
  }

  async migrate(): Promise<number> {
    let applied = 0;
    await this.inTransaction('BEGIN', async (sql) => {
      await sql.run('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await sql.run(
        'CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
      );
      const done = new Set(
        (await sql.rows('SELECT id FROM schema_migrations')).map((r) => r.id as number),
      );
      for (const m of migrations) {
        if (done.has(m.id)) continue;
        await sql.run(m.postgres);
        await sql.run('INSERT INTO schema_migrations (id, name, applied_at) VALUES ($1, $2, $3)', [
          m.id,
          m.name,
          Date.now(),
        ]);
        applied += 1;
      }
    });
    return applied;
  }

  write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    return this.inTransaction('BEGIN', (sql) => fn(new PostgresWriteTx(sql)));
  }

  private snapshot<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return this.inTransaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', fn);
  }

  async getAccount(accountId: string) {
    const [r] = await this.sql().rows(
      `${ACCOUNTS_WITH_PLAN} WHERE a.account_id = $1`,
      [accountId],
      'get_account_view',
    );
    return r ? toAccountView(r) : undefined;
  }

  async listAccounts(afterId: string | null, limit: number, search?: string) {
    const rows =
      search === undefined
        ? await this.sql().rows(
            `${ACCOUNTS_WITH_PLAN} WHERE a.account_id > $1 ORDER BY a.account_id LIMIT $2`,
            [afterId ?? '', limit],
          )
        : await this.sql().rows(
            `${ACCOUNTS_WITH_PLAN} WHERE a.account_id > $1 AND (strpos(lower(a.account_id), $3) > 0 OR strpos(lower(coalesce(a.name, '')), $3) > 0) ORDER BY a.account_id LIMIT $2`,
            [afterId ?? '', limit, search.toLowerCase()],
          );
    return rows.map(toAccountView);
  }

  async listGrants(accountId: string) {
    const rows = await this.sql().rows(
      'SELECT * FROM grants WHERE account_id = $1 ORDER BY created_at DESC, grant_id DESC',
      [accountId],
    );
    return rows.map(toGrant);
  }

  async accountView(accountId: string) {
    return this.snapshot(async (sql) => ({
      grants: (
        await sql.rows(
          'SELECT * FROM grants WHERE account_id = $1 ORDER BY created_at DESC, grant_id DESC',
          [accountId],
        )
      ).map(toGrant),
      holds: (await sql.rows(OPEN_HOLDS, [accountId])).map(toHold),
    }));
  }

  async openHolds(accountId: string) {
    return (await this.sql().rows(OPEN_HOLDS, [accountId])).map(toHold);
  }

  async findHold(holdId: string) {
    const [r] = await this.sql().rows(
      'SELECT * FROM holds WHERE hold_id = $1',
      [holdId],
      'find_hold',
    );
    return r ? toHold(r) : undefined;
  }

  async listTransactions(q: HistoryQuery): Promise<JournalTransaction[]> {
    const where = ['account_id = $1'];
    const values: unknown[] = [q.accountId];
    const add = (clause: string, value: unknown) => {
      values.push(value);
      where.push(clause.replace('?', `$${values.length}`));
    };
    if (q.kinds && q.kinds.length > 0) add('kind = ANY(?::text[])', q.kinds);
    if (q.since !== undefined) add('created_at >= ?', q.since);
    if (q.until !== undefined) add('created_at < ?', q.until);
    if (q.before !== undefined) add('transaction_id < ?', q.before);
    values.push(q.limit);
    const sql = this.sql();
    const rows = await sql.rows(
      `SELECT * FROM transactions WHERE ${where.join(' AND ')} ORDER BY transaction_id DESC LIMIT $${values.length}`,
      values,
    );
    return transactionsWithEntries(sql, rows);
  }

  async activeCatalog() {
    const [r] = await this.sql().rows(ACTIVE_CATALOG, [], 'active_catalog');
    return r ? toCatalog(r) : undefined;
  }

  async getCatalog(version: string) {
    const [r] = await this.sql().rows(
      'SELECT * FROM catalogs WHERE version = $1',
      [version],
      'get_catalog',
    );
    return r ? toCatalog(r) : undefined;
  }

  async listCatalogs() {
    const rows = await this.sql().rows(
      'SELECT * FROM catalogs ORDER BY activated_at DESC, version DESC',
    );
    return rows.map(toCatalog);
  }

  async accountAudit(accountId: string): Promise<AccountAudit> {
    return this.snapshot(async (sql) => {
      const grants = (
        await sql.rows('SELECT * FROM grants WHERE account_id = $1', [accountId], 'audit_grants')
      ).map(toGrant);
      const holds = (
        await sql.rows('SELECT * FROM holds WHERE account_id = $1', [accountId], 'audit_holds')
      ).map(toHold);
      const sums = (
        await sql.rows(
          // Through the account's transactions (as SQLite does): entries has no index that
          // starts with account_id, so filtering entries alone scans every account's entries.
          `SELECT e.book, e.grant_id, e.hold_id, SUM(e.credits) AS credits FROM transactions t
           JOIN entries e ON e.transaction_id = t.transaction_id AND e.account_id = t.account_id
           WHERE t.account_id = $1 GROUP BY e.book, e.grant_id, e.hold_id`,
          [accountId],
          'audit_sums',
        )
      ).map((r) => ({
        book: r.book as Book,
        grantId: (r.grant_id as string | null) ?? null,
        holdId: (r.hold_id as string | null) ?? null,
        credits: int(r.credits, 'entry sum'),
      }));
      const unbalanced = (
        await sql.rows(
          `SELECT t.transaction_id, COALESCE(SUM(e.credits), 0) AS total FROM transactions t
           LEFT JOIN entries e ON e.transaction_id = t.transaction_id AND e.account_id = t.account_id
           WHERE t.account_id = $1 GROUP BY t.transaction_id
           HAVING COALESCE(SUM(e.credits), 0) <> 0 OR COUNT(e.line) = 1`,
          [accountId],
          'audit_unbalanced',
        )
      ).map((r) => ({
        transactionId: r.transaction_id as string,
        sum: int(r.total, 'transaction sum'),
      }));
      const resolutions = new Map<string, number>();
      for (const r of await sql.rows(
        `SELECT hold_id, COUNT(*) AS n FROM transactions
         WHERE account_id = $1 AND kind IN ('capture','release','hold_expiry') GROUP BY hold_id`,
        [accountId],
        'audit_resolutions',
      )) {
        resolutions.set(r.hold_id as string, int(r.n, 'resolution count'));
      }
      const [count] = await sql.rows(
        'SELECT COUNT(*) AS n FROM transactions WHERE account_id = $1',
        [accountId],
        'audit_count',
      );
      return {
        grants,
        holds,
        sums,
        unbalanced,
        resolutions,
        transactionCount: int(count!.n, 'count'),
      };
    });
  }

  async findPurchase(purchaseId: string) {
    const [r] = await this.sql().rows(
      'SELECT * FROM purchases WHERE purchase_id = $1',
      [purchaseId],
      'find_purchase',
    );
    return r ? toPurchase(r) : undefined;
  }

  async listPurchases(accountId: string) {
    const rows = await this.sql().rows(
      'SELECT * FROM purchases WHERE account_id = $1 ORDER BY created_at DESC, purchase_id DESC',
      [accountId],
    );
    return rows.map(toPurchase);
  }

  async getAutoTopup(accountId: string) {
    const [r] = await this.sql().rows('SELECT * FROM autotopups WHERE account_id = $1', [
      accountId,
    ]);
    return r ? toAutoTopup(r) : undefined;
  }

  async listWebhookEndpoints() {
    const rows = await this.sql().rows(
      'SELECT * FROM webhook_endpoints ORDER BY created_at, endpoint_id',
    );
    return rows.map(toWebhookEndpoint);
  }

  async getWebhookEvent(accountId: string, eventId: string) {
    const [r] = await this.sql().rows(
      'SELECT * FROM webhook_events WHERE account_id = $1 AND event_id = $2',
      [accountId, eventId],
    );
    return r ? toWebhookEvent(r) : undefined;
  }

  async listDeliveries(q: DeliveryQuery) {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (column: string, value: unknown) => {
      args.push(value);
      where.push(`${column} = $${args.length}`);
    };
    if (q.accountId !== undefined) add('account_id', q.accountId);
    if (q.endpointId !== undefined) add('endpoint_id', q.endpointId);
    if (q.status !== undefined) add('status', q.status);
    args.push(q.limit);
    const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const rows = await this.sql().rows(
      `SELECT * FROM webhook_deliveries ${filter} ORDER BY created_at DESC, delivery_id DESC LIMIT $${args.length}`,
      args,
    );
    return rows.map(toDelivery);
  }

  async findDelivery(deliveryId: string) {
    const [r] = await this.sql().rows('SELECT * FROM webhook_deliveries WHERE delivery_id = $1', [
      deliveryId,
    ]);
    return r ? toDelivery(r) : undefined;
  }

  async listAttempts(accountId: string, deliveryId: string) {
    const rows = await this.sql().rows(
      'SELECT * FROM webhook_attempts WHERE account_id = $1 AND delivery_id = $2 ORDER BY attempt',
      [accountId, deliveryId],
    );
    return rows.map(toDeliveryAttempt);
  }

  async grantsExpiring(from: number, to: number, limit: number) {
    const rows = await this.sql().rows(
      'SELECT * FROM grants WHERE remaining > 0 AND expires_at IS NOT NULL AND expires_at > $1 AND expires_at <= $2 ORDER BY expires_at, grant_id LIMIT $3',
      [from, to, limit],
    );
    return rows.map(toGrant);
  }

  async autoTopupsAwaitingCheckout(limit: number) {
    const rows = await this.sql().rows(awaitingCheckoutSql('$1'), [limit]);
    return rows.map(toPurchase);
  }

  async getSubscription(accountId: string) {
    const [r] = await this.sql().rows(
      "SELECT * FROM subscriptions WHERE account_id = $1 ORDER BY status = 'active' DESC, created_at DESC LIMIT 1",
      [accountId],
    );
    return r ? toSubscription(r) : undefined;
  }

  async dueSubscriptions(until: number, limit: number) {
    const rows = await this.sql().rows(
      "SELECT account_id FROM subscriptions WHERE status = 'active' AND next_renewal_at <= $1 ORDER BY next_renewal_at LIMIT $2",
      [until, limit],
    );
    return rows.map((r) => r.account_id as string);
  }

  async accountsDue(now: number, limit: number) {
    const rows = await this.sql().rows(
      `SELECT account_id FROM grants WHERE remaining > 0 AND expires_at IS NOT NULL AND expires_at <= $1
       UNION SELECT account_id FROM holds WHERE status = 'held' AND expires_at <= $1 LIMIT $2`,
      [now, limit],
    );
    return rows.map((r) => r.account_id as string);
  }

  async getApiKey(keyId: string) {
    const [r] = await this.sql().rows(
      'SELECT * FROM api_keys WHERE key_id = $1',
      [keyId],
      'get_api_key',
    );
    return r ? toApiKey(r) : undefined;
  }

  async listApiKeys() {
    const rows = await this.sql().rows('SELECT * FROM api_keys ORDER BY created_at, key_id');
    return rows.map(toApiKey);
  }

  async listMembers(accountId: string) {
    return (await this.sql().rows(MEMBERS, [accountId])).map(toMember);
  }

  async getMember(accountId: string, memberId: string) {
    const [r] = await this.sql().rows(MEMBER, [accountId, memberId], 'get_member');
    return r ? toMember(r) : undefined;
  }

  async listProjects(accountId: string) {
    return (await this.sql().rows(PROJECTS, [accountId])).map(toProject);
  }

  async listBudgets(accountId: string) {
    return (await this.sql().rows(BUDGETS, [accountId])).map(toBudget);
  }

  async listBudgetAlerts(accountId: string, limit: number) {
    const rows = await this.sql().rows(
      'SELECT * FROM budget_alerts WHERE account_id = $1 ORDER BY created_at DESC, alert_id DESC LIMIT $2',
      [accountId, limit],
    );
    return rows.map(toBudgetAlert);
  }

  async countOpenHolds() {
    const [r] = await this.sql().rows(
      "SELECT COUNT(*) AS n FROM holds WHERE status = 'held'",
      [],
      'count_open_holds',
    );
    return int(r!.n, 'open holds');
  }

  async purgeIdempotency(before: number, limit: number) {
    const r = await this.sql().run(
      `DELETE FROM idempotency WHERE (account_id, key) IN
       (SELECT account_id, key FROM idempotency WHERE created_at < $1 LIMIT $2)`,
      [before, limit],
    );
    return r.rowCount ?? 0;
  }

  async rollupWindow(q: RollupWindowQuery): Promise<RollupWindow> {
    // One snapshot: the rollups and the journal of the edges are one moment of the account.
    return this.snapshot(async (sql) => {
      const id = q.accountId;
      const flowsBefore = q.before
        ? (await sql.rows(ROLLUP_SQL.flowsBefore, [id, q.hoursFrom], 'flows_before')).map(toFlowRow)
        : [];
      const flows = (
        await sql.rows(ROLLUP_SQL.flowsBetween, [id, q.hoursFrom, q.hoursTo], 'flows_between')
      ).map(toFlowRow);
      const usage = q.usage
        ? (
            await sql.rows(ROLLUP_SQL.usageBetween, [id, q.hoursFrom, q.hoursTo], 'usage_between')
          ).map(toUsageRow)
        : [];
      const transactions: JournalTransaction[] = [];
      for (const i of q.journal) {
        // Every transaction of these hours that moved a flow lies between the ids they keep.
        const [b] = await sql.rows(
          ROLLUP_SQL.hourBounds,
          [id, hourOf(i.from), hourCeil(i.to)],
          'hour_bounds',
        );
        if (!b || b.lo === null) continue;
        const rows = await sql.rows(
          ROLLUP_SQL.transactionsIn,
          [id, b.lo, b.hi, i.from, i.to],
          'transactions_in',
        );
        transactions.push(...(await transactionsWithEntries(sql, rows)));
      }
      const grantIds = new Set<string>();
      const holdIds = new Set<string>();
      for (const t of transactions) {
        for (const e of t.entries) if (e.grantId !== null) grantIds.add(e.grantId);
        if (t.kind === 'capture' && t.holdId !== null) holdIds.add(t.holdId);
      }
      const grants =
        grantIds.size === 0
          ? []
          : (await sql.rows(ROLLUP_SQL.grants, [id, [...grantIds]], 'window_grants')).map(toGrant);
      const holds =
        holdIds.size === 0
          ? []
          : (await sql.rows(ROLLUP_SQL.holds, [id, [...holdIds]], 'window_holds')).map(toHold);
      const pending = (await sql.rows(ROLLUP_SQL.pending, [id], 'rollups_pending')).length > 0;
      return { flowsBefore, flows, usage, transactions, grants, holds, pending };
    });
  }

  async outcomesBetween(accountId: string, from: number, to: number) {
    const rows = await this.sql().rows(
      'SELECT * FROM outcomes WHERE account_id = $1 AND created_at >= $2 AND created_at < $3 ORDER BY created_at, transaction_id',
      [accountId, from, to],
      'outcomes_between',
    );
    return rows.map(toOutcome);
  }

  async accountsPendingRollups(afterId: string | null, limit: number) {
    const rows = await this.sql().rows(
      'SELECT account_id FROM rollups_pending WHERE account_id > $1 ORDER BY account_id LIMIT $2',
      [afterId ?? '', limit],
    );
    return rows.map((r) => r.account_id as string);
  }

  async getTransaction(accountId: string, transactionId: string) {
    const sql = this.sql();
    const rows = await sql.rows(
      'SELECT * FROM transactions WHERE account_id = $1 AND transaction_id = $2',
      [accountId, transactionId],
    );
    const [t] = await transactionsWithEntries(sql, rows);
    return t;
  }

  async findRequestBatch(batchId: string) {
    return this.snapshot(async (sql) => {
      const [r] = await sql.rows(
        'SELECT * FROM request_batches WHERE batch_id = $1',
        [batchId],
        'find_request_batch',
      );
      if (!r) return undefined;
      const rows = await sql.rows(
        REQUEST_BATCH_HOLDS,
        [r.account_id, batchId],
        'request_batch_holds',
      );
      return { batch: toRequestBatch(r, rows), holds: rows.map(toHold) };
    });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

const OPEN_HOLDS = `SELECT * FROM holds WHERE account_id = $1 AND status = 'held' ORDER BY expires_at, hold_id`;
