import Database from 'better-sqlite3';
import { AmisiError, assert } from '../../core/errors.js';
import type { Grant } from '../../core/grants.js';
import type { Hold, HoldStatus } from '../../core/holds.js';
import type { Book, JournalTransaction, TransactionKind } from '../../core/journal.js';
import type { Budget, BudgetAlert, BudgetScope, Member, Project } from '../../core/teams.js';
import type {
  AccountAudit,
  AccountRecord,
  AccountKey,
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
  ENTRY_COLUMNS,
  IDEMPOTENCY_COLUMNS,
  int,
  toAccount,
  toAccountView,
  ACCOUNTS_WITH_PLAN,
  toCatalog,
  toGrant,
  toHold,
  purchaseValues,
  AUTOTOPUP_COLUMNS,
  autoTopupValues,
  toAutoTopup,
  awaitingCheckoutSql,
  DELIVERY_COLUMNS,
  deliveryValues,
  toDelivery,
  toDeliveryAttempt,
  toWebhookEndpoint,
  toWebhookEvent,
  WEBHOOK_EVENT_COLUMNS,
  webhookEventValues,
  PURCHASE_COLUMNS,
  toPurchase,
  subscriptionValues,
  SUBSCRIPTION_COLUMNS,
  toSubscription,
  toTransaction,
  TRANSACTION_COLUMNS,
  REQUEST_BATCH_COLUMNS,
  REQUEST_BATCH_ITEM_COLUMNS,
  requestBatchItemValues,
  requestBatchValues,
  toRequestBatch,
  FLOW_COLUMNS,
  OUTCOME_COLUMNS,
  outcomeValues,
  toFlowRow,
  toOutcome,
  toUsageRow,
  USAGE_COLUMNS,
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

export interface SqliteOptions {
  /** A file path, or ':memory:' for a private in-memory database (tests). */
  readonly path: string;
  /** FULL (the default) makes every commit durable; NORMAL trades the last commits on power loss. */
  readonly synchronous?: 'FULL' | 'NORMAL';
  /** How long a writer waits for another process's write lock before store_busy. */
  readonly busyTimeoutMs?: number;
}

/** Rows per multi-row INSERT: few statement calls, far below SQLite's variable limit. */
const INSERT_CHUNK = 64;

function transactionWithEntries(r: Row, entries: Database.Statement): JournalTransaction {
  return toTransaction(r, entries.all(r.transaction_id, r.account_id) as Row[]);
}

/** Prepared statements of one connection, made on first use. */
class Statements {
  private readonly cache = new Map<string, Database.Statement>();
  constructor(private readonly db: Database.Database) {}

  private readonly inserts = new Map<string, Database.Statement>();
  /** Reused for every chunk: run() copies the values into SQLite before returning. */
  private readonly args: unknown[] = [];

  /**
   * Inserts `count` rows with multi-row INSERTs of up to INSERT_CHUNK rows each; `row(i, out)`
   * pushes the values of row i (no intermediate arrays: this is the hot path of every batch).
   * `conflict` (an ON CONFLICT clause) makes it an upsert; rows later in `count` win over
   * earlier rows with the same key, as SQLite applies a multi-row INSERT row by row.
   */
  insertMany(
    table: string,
    columns: readonly string[],
    count: number,
    row: (i: number, out: unknown[]) => void,
    conflict = '',
  ): void {
    for (let at = 0; at < count; at += INSERT_CHUNK) {
      const n = Math.min(INSERT_CHUNK, count - at);
      const id = `${table}:${n}:${conflict}`;
      let statement = this.inserts.get(id);
      if (!statement) {
        const one = `(${columns.map(() => '?').join(', ')})`;
        statement = this.db.prepare(
          `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array(n).fill(one).join(', ')}${conflict}`,
        );
        this.inserts.set(id, statement);
      }
      const args = this.args;
      args.length = 0;
      for (let i = at; i < at + n; i++) row(i, args);
      statement.run(args);
    }
  }

  get(sql: string): Database.Statement {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.cache.set(sql, s);
    }
    return s;
  }
}

const UPSERT_AUTOTOPUP = `INSERT INTO autotopups (${AUTOTOPUP_COLUMNS.join(', ')})
  VALUES (${AUTOTOPUP_COLUMNS.map(() => '?').join(', ')})
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

const UPSERT_MEMBER = upsertClause(MEMBER_COLUMNS, 2);
const UPSERT_PROJECT = upsertClause(PROJECT_COLUMNS, 2);
const UPSERT_BUDGET = upsertClause(BUDGET_COLUMNS, 3);
const UPSERT_OUTCOME = upsertClause(OUTCOME_COLUMNS, 2);
/** Rollups add up: a row already there for the key gets the increment added. */
const ADD_USAGE =
  ' ON CONFLICT (account_id, hour, dim, key) DO UPDATE SET credits = usage_hourly.credits + excluded.credits, units = usage_hourly.units + excluded.units';
const ADD_FLOWS =
  ' ON CONFLICT (account_id, hour, flow, key) DO UPDATE SET credits = flows_hourly.credits + excluded.credits, first_transaction_id = MIN(flows_hourly.first_transaction_id, excluded.first_transaction_id), last_transaction_id = MAX(flows_hourly.last_transaction_id, excluded.last_transaction_id)';

const SQL = {
  account: 'SELECT * FROM accounts WHERE account_id = ?',
  openGrants: 'SELECT * FROM grants WHERE account_id = ? AND remaining > 0',
  grant: 'SELECT * FROM grants WHERE account_id = ? AND grant_id = ?',
  holdAccount: 'SELECT account_id FROM holds WHERE hold_id = ?',
  hold: 'SELECT * FROM holds WHERE account_id = ? AND hold_id = ?',
  holdById: 'SELECT * FROM holds WHERE hold_id = ?',
  dueHolds:
    "SELECT * FROM holds WHERE account_id = ? AND status = 'held' AND expires_at <= ? ORDER BY expires_at, hold_id",
  openHolds:
    "SELECT * FROM holds WHERE account_id = ? AND status = 'held' ORDER BY expires_at, hold_id",
  openHoldsByAge:
    "SELECT * FROM holds WHERE account_id = ? AND status = 'held' ORDER BY created_at, hold_id",
  members: 'SELECT * FROM members WHERE account_id = ? ORDER BY member_id',
  member: 'SELECT * FROM members WHERE account_id = ? AND member_id = ?',
  projects: 'SELECT * FROM projects WHERE account_id = ? ORDER BY project_id',
  budgets: 'SELECT * FROM budgets WHERE account_id = ? ORDER BY scope, target',
  budgetAlerts:
    'SELECT * FROM budget_alerts WHERE account_id = ? ORDER BY created_at DESC, alert_id DESC LIMIT ?',
  idempotency: 'SELECT * FROM idempotency WHERE account_id = ? AND key = ?',
  transaction: 'SELECT * FROM transactions WHERE account_id = ? AND transaction_id = ?',
  entries: 'SELECT * FROM entries WHERE transaction_id = ? AND account_id = ? ORDER BY line',
  activeCatalog: 'SELECT * FROM catalogs ORDER BY activated_at DESC, version DESC LIMIT 1',
  catalog: 'SELECT * FROM catalogs WHERE version = ?',
  requestBatch: 'SELECT * FROM request_batches WHERE account_id = ? AND batch_id = ?',
  requestBatchItems:
    'SELECT * FROM request_batch_items WHERE account_id = ? AND batch_id = ? ORDER BY item_index',
  requestBatchById: 'SELECT * FROM request_batches WHERE batch_id = ?',
  flowsBefore:
    'SELECT flow, key, SUM(credits) AS credits FROM flows_hourly WHERE account_id = ? AND hour < ? GROUP BY flow, key',
  flowsBetween:
    'SELECT flow, key, SUM(credits) AS credits FROM flows_hourly WHERE account_id = ? AND hour >= ? AND hour < ? GROUP BY flow, key',
  usageBetween:
    'SELECT dim, key, SUM(credits) AS credits, SUM(units) AS units FROM usage_hourly WHERE account_id = ? AND hour >= ? AND hour < ? GROUP BY dim, key',
  hourBounds:
    'SELECT MIN(first_transaction_id) AS lo, MAX(last_transaction_id) AS hi FROM flows_hourly WHERE account_id = ? AND hour >= ? AND hour < ?',
  transactionsIn:
    'SELECT * FROM transactions WHERE account_id = ? AND transaction_id >= ? AND transaction_id <= ? AND created_at >= ? AND created_at < ? ORDER BY transaction_id',
  rollupsPending: 'SELECT 1 AS pending FROM rollups_pending WHERE account_id = ?',
  journalPage:
    'SELECT * FROM transactions WHERE account_id = ? AND transaction_id > ? ORDER BY transaction_id LIMIT ?',
  outcome: 'SELECT * FROM outcomes WHERE account_id = ? AND transaction_id = ?',
  requestBatchHolds:
    'SELECT i.item_index, i.ref, h.* FROM request_batch_items i JOIN holds h ON h.account_id = i.account_id AND h.hold_id = i.hold_id WHERE i.account_id = ? AND i.batch_id = ? ORDER BY i.item_index',
} as const;

const GRANT_COLUMNS = [
  'account_id',
  'grant_id',
  'source',
  'amount',
  'remaining',
  'starts_at',
  'expires_at',
  'created_at',
] as const;

/** Every column but the key (account_id, subscription_id), which comes last. */
const UPDATE_SUBSCRIPTION = `UPDATE subscriptions SET ${SUBSCRIPTION_COLUMNS.slice(2)
  .map((c) => `${c} = ?`)
  .join(', ')} WHERE account_id = ? AND subscription_id = ?`;

/** Readers shared by the write transaction and the read connection. */
class Reads {
  constructor(protected readonly s: Statements) {}
  account(id: string) {
    const r = this.s.get(SQL.account).get(id) as Row | undefined;
    return r ? toAccount(r) : undefined;
  }
  hold(accountId: string, holdId: string) {
    const r = this.s.get(SQL.hold).get(accountId, holdId) as Row | undefined;
    return r ? toHold(r) : undefined;
  }
  activeCatalogRow() {
    const r = this.s.get(SQL.activeCatalog).get() as Row | undefined;
    return r ? toCatalog(r) : undefined;
  }
  catalog(version: string) {
    const r = this.s.get(SQL.catalog).get(version) as Row | undefined;
    return r ? toCatalog(r) : undefined;
  }
  transaction(accountId: string, transactionId: string) {
    const r = this.s.get(SQL.transaction).get(accountId, transactionId) as Row | undefined;
    return r ? transactionWithEntries(r, this.s.get(SQL.entries)) : undefined;
  }
  /** Run inside one read transaction by the store: see Store.rollupWindow. */
  rollupWindow(q: RollupWindowQuery): RollupWindow {
    const id = q.accountId;
    const flowsBefore = q.before
      ? (this.s.get(SQL.flowsBefore).all(id, q.hoursFrom) as Row[]).map(toFlowRow)
      : [];
    const flows = (this.s.get(SQL.flowsBetween).all(id, q.hoursFrom, q.hoursTo) as Row[]).map(
      toFlowRow,
    );
    const usage = q.usage
      ? (this.s.get(SQL.usageBetween).all(id, q.hoursFrom, q.hoursTo) as Row[]).map(toUsageRow)
      : [];
    const transactions: JournalTransaction[] = [];
    const entries = this.s.get(SQL.entries);
    for (const i of q.journal) {
      // Every transaction of these hours that moved a flow lies between the ids the hours keep.
      const b = this.s.get(SQL.hourBounds).get(id, hourOf(i.from), hourCeil(i.to)) as Row;
      if (b.lo === null || b.lo === undefined) continue;
      const rows = this.s.get(SQL.transactionsIn).all(id, b.lo, b.hi, i.from, i.to) as Row[];
      for (const r of rows) transactions.push(transactionWithEntries(r, entries));
    }
    const grantIds = new Set<string>();
    const holdIds = new Set<string>();
    for (const t of transactions) {
      for (const e of t.entries) if (e.grantId !== null) grantIds.add(e.grantId);
      if (t.kind === 'capture' && t.holdId !== null) holdIds.add(t.holdId);
    }
    const grant = this.s.get(SQL.grant);
    const grants = [...grantIds].flatMap((g) => {
      const r = grant.get(id, g) as Row | undefined;
      return r ? [toGrant(r)] : [];
    });
    const holds = [...holdIds].flatMap((h) => this.hold(id, h) ?? []);
    const pending = this.s.get(SQL.rollupsPending).get(id) !== undefined;
    return { flowsBefore, flows, usage, transactions, grants, holds, pending };
  }
}

class SqliteWriteTx extends Reads implements WriteTx {
  async lockAccounts(accountIds: readonly string[]) {
    // BEGIN IMMEDIATE already holds the database write lock for the whole transaction.
    const out: AccountRecord[] = [];
    for (const id of [...accountIds].sort()) {
      const a = this.account(id);
      if (a) out.push(a);
    }
    return out;
  }
  async insertAccount(a: AccountRecord) {
    const r = this.s
      .get(
        `INSERT INTO accounts (${ACCOUNT_COLUMNS.join(', ')}) VALUES (${ACCOUNT_COLUMNS.map(() => '?').join(', ')}) ON CONFLICT DO NOTHING`,
      )
      .run(accountValues(a));
    return r.changes === 1;
  }
  async openGrants(accountIds: readonly string[]) {
    const statement = this.s.get(SQL.openGrants);
    return accountIds.flatMap((id) => (statement.all(id) as Row[]).map(toGrant));
  }
  async getGrant(accountId: string, grantId: string) {
    const r = this.s.get(SQL.grant).get(accountId, grantId) as Row | undefined;
    return r ? toGrant(r) : undefined;
  }
  async insertGrant(g: Grant) {
    this.s
      .get(
        'INSERT INTO grants (account_id, grant_id, source, amount, remaining, starts_at, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        g.accountId,
        g.id,
        g.source,
        g.amount,
        g.remaining,
        g.startsAt,
        g.expiresAt,
        g.createdAt,
      );
  }
  async insertGrants(grants: readonly Grant[]) {
    this.s.insertMany('grants', GRANT_COLUMNS, grants.length, (i, out) => {
      const g = grants[i]!;
      out.push(
        g.accountId,
        g.id,
        g.source,
        g.amount,
        g.remaining,
        g.startsAt,
        g.expiresAt,
        g.createdAt,
      );
    });
  }
  async setGrantsRemaining(updates: readonly GrantRemaining[]) {
    const update = this.s.get(
      'UPDATE grants SET remaining = ? WHERE account_id = ? AND grant_id = ?',
    );
    for (const u of updates) {
      const r = update.run(u.remaining, u.accountId, u.grantId);
      assert(r.changes === 1, `grant ${u.grantId} updated`);
    }
  }
  async findHoldAccount(holdId: string) {
    const r = this.s.get(SQL.holdAccount).get(holdId) as Row | undefined;
    return r ? (r.account_id as string) : undefined;
  }
  async getHolds(refs: readonly HoldRef[]) {
    return refs.flatMap((r) => this.hold(r.accountId, r.holdId) ?? []);
  }
  async dueHolds(accountIds: readonly string[], now: number) {
    const statement = this.s.get(SQL.dueHolds);
    return accountIds.flatMap((id) => (statement.all(id, now) as Row[]).map(toHold));
  }
  async insertHold(h: Hold) {
    this.s
      .get(
        'INSERT INTO holds (account_id, hold_id, status, credits, captured_credits, draws, expires_at, created_at, resolved_at, catalog_version, quote, attribution) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
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
      );
  }
  async resolveHold(
    accountId: string,
    holdId: string,
    status: HoldStatus,
    captured: number,
    at: number,
  ) {
    const r = this.s
      .get(
        "UPDATE holds SET status = ?, captured_credits = ?, resolved_at = ? WHERE account_id = ? AND hold_id = ? AND status = 'held'",
      )
      .run(status, captured, at, accountId, holdId);
    assert(r.changes === 1, `hold ${holdId} resolved once`);
  }
  async getTransaction(accountId: string, transactionId: string) {
    const r = this.s.get(SQL.transaction).get(accountId, transactionId) as Row | undefined;
    return r ? transactionWithEntries(r, this.s.get(SQL.entries)) : undefined;
  }
  async appendTransactions(txs: readonly JournalTransaction[]) {
    this.s.insertMany('transactions', TRANSACTION_COLUMNS, txs.length, (i, out) => {
      const t = txs[i]!;
      out.push(
        t.accountId,
        t.id,
        t.kind,
        t.createdAt,
        t.idempotencyKey,
        t.holdId,
        t.grantId,
        t.catalogVersion,
        JSON.stringify(t.detail),
      );
    });
    const lines: [JournalTransaction, number][] = [];
    for (const t of txs) for (let line = 0; line < t.entries.length; line++) lines.push([t, line]);
    this.s.insertMany('entries', ENTRY_COLUMNS, lines.length, (i, out) => {
      const [t, line] = lines[i]!;
      const e = t.entries[line]!;
      out.push(t.accountId, t.id, line, e.book, e.grantId, e.holdId, e.credits);
    });
  }
  async getIdempotency(refs: readonly AccountKey[]): Promise<IdempotencyRecord[]> {
    const statement = this.s.get(SQL.idempotency);
    return refs.flatMap(({ accountId, key }) => {
      const r = statement.get(accountId, key) as Row | undefined;
      if (!r) return [];
      return [
        {
          accountId,
          key,
          requestHash: r.request_hash as string,
          transactionId: r.transaction_id as string,
          createdAt: int(r.created_at, 'idempotency created_at'),
        },
      ];
    });
  }
  async putIdempotency(records: readonly IdempotencyRecord[]) {
    this.s.insertMany('idempotency', IDEMPOTENCY_COLUMNS, records.length, (i, out) => {
      const r = records[i]!;
      out.push(r.accountId, r.key, r.requestHash, r.transactionId, r.createdAt);
    });
  }
  async findPurchaseAccount(purchaseId: string) {
    const r = this.s
      .get('SELECT account_id FROM purchases WHERE purchase_id = ?')
      .get(purchaseId) as Row | undefined;
    return r ? (r.account_id as string) : undefined;
  }
  async getPurchase(accountId: string, purchaseId: string) {
    const r = this.s
      .get('SELECT * FROM purchases WHERE account_id = ? AND purchase_id = ?')
      .get(accountId, purchaseId) as Row | undefined;
    return r ? toPurchase(r) : undefined;
  }
  async insertPurchase(p: Purchase) {
    this.s.insertMany('purchases', PURCHASE_COLUMNS, 1, (_i, out) => {
      out.push(...purchaseValues(p));
    });
  }
  async updatePurchase(p: Purchase) {
    const sets = PURCHASE_COLUMNS.slice(2)
      .map((c) => `${c} = ?`)
      .join(', ');
    const values = purchaseValues(p);
    const r = this.s
      .get(`UPDATE purchases SET ${sets} WHERE account_id = ? AND purchase_id = ?`)
      .run(...values.slice(2), p.accountId, p.id);
    assert(r.changes === 1, `purchase ${p.id} updated`);
  }
  async markPaymentEvent(accountId: string, eventId: string, at: number) {
    const r = this.s
      .get(
        'INSERT INTO payment_events (account_id, event_id, processed_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
      )
      .run(accountId, eventId, at);
    return r.changes === 1;
  }
  async autoTopups(accountIds: readonly string[]) {
    // Most databases have few rules or none: one probe spares a lookup per account per batch.
    if (accountIds.length > 1 && !this.s.get('SELECT 1 FROM autotopups LIMIT 1').get()) return [];
    const statement = this.s.get('SELECT * FROM autotopups WHERE account_id = ?');
    return accountIds.flatMap((id) => {
      const r = statement.get(id) as Row | undefined;
      return r ? [toAutoTopup(r)] : [];
    });
  }
  async putAutoTopups(rules: readonly AutoTopup[]) {
    const upsert = this.s.get(UPSERT_AUTOTOPUP);
    for (const rule of rules) upsert.run(...autoTopupValues(rule));
  }
  async deleteAutoTopup(accountId: string) {
    return this.s.get('DELETE FROM autotopups WHERE account_id = ?').run(accountId).changes === 1;
  }
  async webhookEndpoints() {
    return (
      this.s.get('SELECT * FROM webhook_endpoints WHERE disabled_at IS NULL').all() as Row[]
    ).map(toWebhookEndpoint);
  }
  async webhookEndpoint(endpointId: string) {
    const r = this.s
      .get('SELECT * FROM webhook_endpoints WHERE endpoint_id = ?')
      .get(endpointId) as Row | undefined;
    return r ? toWebhookEndpoint(r) : undefined;
  }
  async insertWebhookEndpoint(e: WebhookEndpoint) {
    this.s
      .get(
        'INSERT INTO webhook_endpoints (endpoint_id, url, secret, event_types, account_id, public_only, created_at, disabled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        e.id,
        e.url,
        e.secret,
        JSON.stringify(e.eventTypes),
        e.accountId,
        e.publicOnly ? 1 : 0,
        e.createdAt,
        e.disabledAt,
      );
  }
  async disableWebhookEndpoint(endpointId: string, at: number) {
    const r = this.s
      .get(
        'UPDATE webhook_endpoints SET disabled_at = ? WHERE endpoint_id = ? AND disabled_at IS NULL',
      )
      .run(at, endpointId);
    return r.changes === 1;
  }
  async insertWebhookEvents(events: readonly WebhookEvent[]) {
    this.s.insertMany('webhook_events', WEBHOOK_EVENT_COLUMNS, events.length, (i, out) => {
      out.push(...webhookEventValues(events[i]!));
    });
  }
  async webhookEventIds(accountId: string, eventIds: readonly string[]) {
    const statement = this.s.get(
      'SELECT event_id FROM webhook_events WHERE account_id = ? AND event_id = ?',
    );
    return eventIds.filter((id) => statement.get(accountId, id) !== undefined);
  }
  async insertDeliveries(deliveries: readonly Delivery[]) {
    this.s.insertMany('webhook_deliveries', DELIVERY_COLUMNS, deliveries.length, (i, out) => {
      out.push(...deliveryValues(deliveries[i]!));
    });
  }
  async claimDeliveries(now: number, leaseUntil: number, limit: number) {
    // The database write lock is held for the whole transaction: nobody else can claim these.
    const due = (
      this.s
        .get(
          "SELECT * FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?",
        )
        .all(now, limit) as Row[]
    ).map(toDelivery);
    const lease = this.s.get(
      'UPDATE webhook_deliveries SET next_attempt_at = ? WHERE account_id = ? AND delivery_id = ?',
    );
    for (const d of due) lease.run(leaseUntil, d.accountId, d.id);
    return due.map((d) => ({ ...d, nextAttemptAt: leaseUntil }));
  }
  async finishDelivery(d: Delivery, a: DeliveryAttempt) {
    const sets = DELIVERY_COLUMNS.slice(2)
      .map((c) => `${c} = ?`)
      .join(', ');
    const values = deliveryValues(d);
    const r = this.s
      .get(`UPDATE webhook_deliveries SET ${sets} WHERE account_id = ? AND delivery_id = ?`)
      .run(...values.slice(2), d.accountId, d.id);
    assert(r.changes === 1, `delivery ${d.id} updated`);
    this.s
      .get(
        'INSERT INTO webhook_attempts (account_id, delivery_id, attempt, at, status_code, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(a.accountId, a.deliveryId, a.attempt, a.at, a.statusCode, a.error, a.durationMs);
  }
  async members(accountId: string) {
    return (this.s.get(SQL.members).all(accountId) as Row[]).map(toMember);
  }
  async putMembers(members: readonly Member[]) {
    this.s.insertMany(
      'members',
      MEMBER_COLUMNS,
      members.length,
      (i, out) => {
        out.push(...memberValues(members[i]!));
      },
      UPSERT_MEMBER,
    );
  }
  async deleteMember(accountId: string, memberId: string) {
    const r = this.s
      .get('DELETE FROM members WHERE account_id = ? AND member_id = ?')
      .run(accountId, memberId);
    return r.changes === 1;
  }
  async projects(accountId: string) {
    return (this.s.get(SQL.projects).all(accountId) as Row[]).map(toProject);
  }
  async putProject(p: Project) {
    this.s.insertMany(
      'projects',
      PROJECT_COLUMNS,
      1,
      (_i, out) => {
        out.push(...projectValues(p));
      },
      UPSERT_PROJECT,
    );
  }
  async budgets(accountIds: readonly string[]) {
    const statement = this.s.get(SQL.budgets);
    return accountIds.flatMap((id) => (statement.all(id) as Row[]).map(toBudget));
  }
  async putBudgets(budgets: readonly Budget[]) {
    this.s.insertMany(
      'budgets',
      BUDGET_COLUMNS,
      budgets.length,
      (i, out) => {
        out.push(...budgetValues(budgets[i]!));
      },
      UPSERT_BUDGET,
    );
  }
  async deleteBudget(accountId: string, scope: BudgetScope, target: string) {
    const r = this.s
      .get('DELETE FROM budgets WHERE account_id = ? AND scope = ? AND target = ?')
      .run(accountId, scope, target);
    return r.changes === 1;
  }
  async insertBudgetAlerts(alerts: readonly BudgetAlert[]) {
    this.s.insertMany('budget_alerts', BUDGET_ALERT_COLUMNS, alerts.length, (i, out) => {
      out.push(...budgetAlertValues(alerts[i]!));
    });
  }
  async budgetAlertThresholds(
    accountId: string,
    scope: BudgetScope,
    target: string,
    periodStart: number,
  ) {
    const rows = this.s
      .get(
        'SELECT threshold FROM budget_alerts WHERE account_id = ? AND scope = ? AND target = ? AND period_start = ? ORDER BY threshold',
      )
      .all(accountId, scope, target, periodStart) as Row[];
    return rows.map((r) => int(r.threshold, 'threshold'));
  }
  async openHoldsOf(accountId: string) {
    return (this.s.get(SQL.openHoldsByAge).all(accountId) as Row[]).map(toHold);
  }
  async transactionsSince(accountId: string, kinds: readonly TransactionKind[], since: number) {
    if (kinds.length === 0) return [];
    const rows = this.s
      .get(
        `SELECT * FROM transactions WHERE account_id = ? AND kind IN (${kinds.map(() => '?').join(', ')}) AND created_at >= ? ORDER BY created_at, transaction_id`,
      )
      .all(accountId, ...kinds, since) as Row[];
    const entries = this.s.get(SQL.entries);
    return rows.map((r) => transactionWithEntries(r, entries));
  }
  async activeSubscriptions(accountIds: readonly string[]) {
    const statement = this.s.get(
      "SELECT * FROM subscriptions WHERE account_id = ? AND status = 'active'",
    );
    return accountIds.flatMap((id) => (statement.all(id) as Row[]).map(toSubscription));
  }
  async insertSubscription(sub: Subscription) {
    this.s.insertMany('subscriptions', SUBSCRIPTION_COLUMNS, 1, (_i, out) => {
      out.push(...subscriptionValues(sub));
    });
  }
  async updateSubscription(sub: Subscription) {
    await this.updateSubscriptions([sub]);
  }
  async updateSubscriptions(subs: readonly Subscription[]) {
    const update = this.s.get(UPDATE_SUBSCRIPTION);
    for (const sub of subs) {
      const values = subscriptionValues(sub);
      const r = update.run(...values.slice(2), sub.accountId, sub.id);
      assert(r.changes === 1, `subscription ${sub.id} updated`);
    }
  }
  async activeCatalog() {
    return this.activeCatalogRow();
  }
  async getCatalog(version: string) {
    return this.catalog(version);
  }
  async putCatalog(c: CatalogRecord) {
    const r = this.s
      .get(
        'INSERT INTO catalogs (version, body, digest, loaded_at, activated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
      )
      .run(c.version, JSON.stringify(c.body), c.digest, c.loadedAt, c.activatedAt);
    return r.changes === 1;
  }
  async activateCatalog(version: string, at: number) {
    this.s.get('UPDATE catalogs SET activated_at = ? WHERE version = ?').run(at, version);
  }
  async insertApiKey(k: ApiKeyRecord) {
    this.s
      .get(
        `INSERT INTO api_keys (${API_KEY_COLUMNS.join(', ')}) VALUES (${API_KEY_COLUMNS.map(() => '?').join(', ')})`,
      )
      .run(apiKeyValues(k));
  }
  async revokeApiKey(keyId: string, at: number) {
    const r = this.s
      .get('UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL')
      .run(at, keyId);
    return r.changes === 1;
  }
  async revokeMemberKeys(accountId: string, memberId: string, at: number) {
    const r = this.s
      .get(
        'UPDATE api_keys SET revoked_at = ? WHERE account_id = ? AND member_id = ? AND revoked_at IS NULL',
      )
      .run(at, accountId, memberId);
    return r.changes;
  }
  async insertRequestBatch(b: RequestBatch) {
    this.s.insertMany('request_batches', REQUEST_BATCH_COLUMNS, 1, (_i, out) => {
      out.push(...requestBatchValues(b));
    });
    this.s.insertMany(
      'request_batch_items',
      REQUEST_BATCH_ITEM_COLUMNS,
      b.items.length,
      (i, out) => {
        out.push(...requestBatchItemValues(b, b.items[i]!));
      },
    );
  }
  async getRequestBatch(accountId: string, batchId: string) {
    const r = this.s.get(SQL.requestBatch).get(accountId, batchId) as Row | undefined;
    if (!r) return undefined;
    return toRequestBatch(r, this.s.get(SQL.requestBatchItems).all(accountId, batchId) as Row[]);
  }
  async addUsage(rows: readonly UsageIncrement[]) {
    this.s.insertMany(
      'usage_hourly',
      USAGE_COLUMNS,
      rows.length,
      (i, out) => {
        const u = rows[i]!;
        out.push(u.accountId, u.hour, u.dim, u.key, u.credits, u.units);
      },
      ADD_USAGE,
    );
  }
  async addFlows(rows: readonly FlowIncrement[]) {
    this.s.insertMany(
      'flows_hourly',
      FLOW_COLUMNS,
      rows.length,
      (i, out) => {
        const f = rows[i]!;
        out.push(
          f.accountId,
          f.hour,
          f.flow,
          f.key,
          f.credits,
          f.firstTransactionId,
          f.lastTransactionId,
        );
      },
      ADD_FLOWS,
    );
  }
  async clearRollups(accountId: string) {
    for (const table of ['usage_hourly', 'flows_hourly', 'rollups_pending'])
      this.s.get(`DELETE FROM ${table} WHERE account_id = ?`).run(accountId);
  }
  async journalPage(accountId: string, afterId: string | null, limit: number) {
    const rows = this.s.get(SQL.journalPage).all(accountId, afterId ?? '', limit) as Row[];
    const entries = this.s.get(SQL.entries);
    return rows.map((r) => transactionWithEntries(r, entries));
  }
  async getOutcome(accountId: string, transactionId: string) {
    const r = this.s.get(SQL.outcome).get(accountId, transactionId) as Row | undefined;
    return r ? toOutcome(r) : undefined;
  }
  async putOutcomes(outcomes: readonly Outcome[]) {
    this.s.insertMany(
      'outcomes',
      OUTCOME_COLUMNS,
      outcomes.length,
      (i, out) => {
        out.push(...outcomeValues(outcomes[i]!));
      },
      UPSERT_OUTCOME,
    );
  }
}

/** "AMIS" in the SQLite header: this file is an Amisi Credits database. */
export const AMISI_APPLICATION_ID = 0x414d4953;

export interface SqliteFileFacts {
  readonly tables: readonly string[];
  readonly applicationId: number;
}

/**
 * Looks at a file without changing it (read-only connection, no WAL switch): which tables it
 * has and whose it is. A file SQLite cannot read is invalid input, not a crash.
 */
export function inspectSqliteFile(path: string): SqliteFileFacts {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    const tables = (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Row[]
    ).map((r) => r.name as string);
    const applicationId = db.pragma('application_id', { simple: true }) as number;
    return { tables, applicationId };
  } catch (e) {
    const code = (e as { code?: string }).code ?? '';
    if (code.startsWith('SQLITE_')) {
      throw new AmisiError('invalid_argument', `${path} is not a SQLite database (${code})`, {
        field: 'db',
        value: path,
      });
    }
    throw e;
  } finally {
    db?.close();
  }
}

function isBusy(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || code === 'SQLITE_BUSY_SNAPSHOT';
}

function open(path: string, options: SqliteOptions, readonly: boolean): Database.Database {
  const db = new Database(path, readonly ? { readonly: true } : {});
  db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 10_000}`);
  if (!readonly) db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
  // 64 MiB of page cache: the open grants and journal leaves of many accounts stay in memory.
  db.pragma('cache_size = -65536');
  if (!readonly) db.pragma('wal_autocheckpoint = 10000');
  return db;
}

/**
 * SQLite through better-sqlite3: WAL, synchronous=FULL by default. One write connection
 * (transactions begin IMMEDIATE, so writers from several processes queue on the database lock)
 * and one read connection that only ever sees committed data.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  readonly writeConcurrency = 1;
  private readonly writer: Database.Database;
  private reader: Database.Database | undefined;
  private readonly ws: Statements;
  private rs: Reads | undefined;
  private rsStatements: Statements | undefined;
  private writing = false;

  constructor(private readonly options: SqliteOptions) {
    this.writer = open(options.path, options, false);
    this.ws = new Statements(this.writer);
  }

  private readConnection(): { r: Reads; s: Statements } {
    if (!this.rs) {
      // An in-memory database is private to its connection: read it through the writer.
      this.reader =
        this.options.path === ':memory:'
          ? this.writer
          : open(this.options.path, this.options, false);
      this.rsStatements = this.reader === this.writer ? this.ws : new Statements(this.reader);
      this.rs = new Reads(this.rsStatements);
    }
    return { r: this.rs, s: this.rsStatements! };
  }

  async migrate(): Promise<number> {
    // Marks the file as ours (the SQLite header's application id), so a later open can tell an
    // Amisi database from another program's.
    this.writer.pragma(`application_id = ${AMISI_APPLICATION_ID}`);
    this.writer.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
    );
    let applied = 0;
    for (const m of migrations) {
      const run = this.writer.transaction(() => {
        const done = this.writer.prepare('SELECT 1 FROM schema_migrations WHERE id = ?').get(m.id);
        if (done) return false;
        this.writer.exec(m.sqlite);
        this.writer
          .prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)')
          .run(m.id, m.name, Date.now());
        return true;
      });
      if (run.immediate()) applied += 1;
    }
    return applied;
  }

  /** The schema version: the highest migration applied, 0 for a new file. */
  schemaVersion(): number {
    const exists = this.writer
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
      .get();
    if (!exists) return 0;
    const r = this.writer.prepare('SELECT MAX(id) AS v FROM schema_migrations').get() as Row;
    return (r.v as number | null) ?? 0;
  }

  async write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    assert(!this.writing, 'one write transaction at a time per store');
    this.writing = true;
    try {
      try {
        this.writer.exec('BEGIN IMMEDIATE');
      } catch (e) {
        if (isBusy(e))
          throw new AmisiError('store_busy', 'the database is locked by another writer', {});
        throw e;
      }
      try {
        const result = await fn(new SqliteWriteTx(this.ws));
        this.writer.exec('COMMIT');
        return result;
      } catch (e) {
        if (this.writer.inTransaction) this.writer.exec('ROLLBACK');
        if (isBusy(e))
          throw new AmisiError('store_busy', 'the database is locked by another writer', {});
        throw e;
      }
    } finally {
      this.writing = false;
    }
  }

  async getAccount(accountId: string) {
    const { s } = this.readConnection();
    const r = s.get(`${ACCOUNTS_WITH_PLAN} WHERE a.account_id = ?`).get(accountId) as
      Row | undefined;
    return r ? toAccountView(r) : undefined;
  }

  async listAccounts(afterId: string | null, limit: number, search?: string) {
    const { s } = this.readConnection();
    const rows = (
      search === undefined
        ? s
            .get(`${ACCOUNTS_WITH_PLAN} WHERE a.account_id > ? ORDER BY a.account_id LIMIT ?`)
            .all(afterId ?? '', limit)
        : s
            .get(
              `${ACCOUNTS_WITH_PLAN} WHERE a.account_id > ? AND (instr(lower(a.account_id), ?) > 0 OR instr(lower(coalesce(a.name, '')), ?) > 0) ORDER BY a.account_id LIMIT ?`,
            )
            .all(afterId ?? '', search.toLowerCase(), search.toLowerCase(), limit)
    ) as Row[];
    return rows.map(toAccountView);
  }

  async listGrants(accountId: string) {
    const { s } = this.readConnection();
    return (
      s
        .get('SELECT * FROM grants WHERE account_id = ? ORDER BY created_at DESC, grant_id DESC')
        .all(accountId) as Row[]
    ).map(toGrant);
  }

  async accountView(accountId: string) {
    const { s } = this.readConnection();
    return this.reader!.transaction(() => ({
      grants: (
        s
          .get('SELECT * FROM grants WHERE account_id = ? ORDER BY created_at DESC, grant_id DESC')
          .all(accountId) as Row[]
      ).map(toGrant),
      holds: (s.get(SQL.openHolds).all(accountId) as Row[]).map(toHold),
    }))();
  }

  async openHolds(accountId: string) {
    const { s } = this.readConnection();
    return (s.get(SQL.openHolds).all(accountId) as Row[]).map(toHold);
  }

  async findHold(holdId: string) {
    const { s } = this.readConnection();
    const r = s.get(SQL.holdById).get(holdId) as Row | undefined;
    return r ? toHold(r) : undefined;
  }

  async listTransactions(q: HistoryQuery): Promise<JournalTransaction[]> {
    const { s } = this.readConnection();
    const where = ['account_id = ?'];
    const args: unknown[] = [q.accountId];
    if (q.kinds && q.kinds.length > 0) {
      where.push(`kind IN (${q.kinds.map(() => '?').join(', ')})`);
      args.push(...q.kinds);
    }
    if (q.since !== undefined) {
      where.push('created_at >= ?');
      args.push(q.since);
    }
    if (q.until !== undefined) {
      where.push('created_at < ?');
      args.push(q.until);
    }
    if (q.before !== undefined) {
      where.push('transaction_id < ?');
      args.push(q.before);
    }
    const rows = s
      .get(
        `SELECT * FROM transactions WHERE ${where.join(' AND ')} ORDER BY transaction_id DESC LIMIT ?`,
      )
      .all(...args, q.limit) as Row[];
    const entries = s.get(SQL.entries);
    return rows.map((r) => transactionWithEntries(r, entries));
  }

  async activeCatalog() {
    return this.readConnection().r.activeCatalogRow();
  }

  async getCatalog(version: string) {
    return this.readConnection().r.catalog(version);
  }

  async listCatalogs() {
    const { s } = this.readConnection();
    return (
      s.get('SELECT * FROM catalogs ORDER BY activated_at DESC, version DESC').all() as Row[]
    ).map(toCatalog);
  }

  async accountAudit(accountId: string): Promise<AccountAudit> {
    const { s } = this.readConnection();
    // One read transaction, so the rows and the journal sums are one snapshot.
    const db = this.reader!;
    return db.transaction(() => {
      const grants = (
        s.get('SELECT * FROM grants WHERE account_id = ?').all(accountId) as Row[]
      ).map(toGrant);
      const holds = (s.get('SELECT * FROM holds WHERE account_id = ?').all(accountId) as Row[]).map(
        toHold,
      );
      const sums = (
        s
          .get(
            'SELECT e.book, e.grant_id, e.hold_id, SUM(e.credits) AS credits FROM transactions t JOIN entries e ON e.transaction_id = t.transaction_id AND e.account_id = t.account_id WHERE t.account_id = ? GROUP BY e.book, e.grant_id, e.hold_id',
          )
          .all(accountId) as Row[]
      ).map((r) => ({
        book: r.book as Book,
        grantId: (r.grant_id as string | null) ?? null,
        holdId: (r.hold_id as string | null) ?? null,
        credits: int(r.credits, 'entry sum'),
      }));
      const unbalanced = (
        s
          .get(
            'SELECT t.transaction_id, COALESCE(SUM(e.credits), 0) AS total FROM transactions t LEFT JOIN entries e ON e.transaction_id = t.transaction_id AND e.account_id = t.account_id WHERE t.account_id = ? GROUP BY t.transaction_id HAVING COALESCE(SUM(e.credits), 0) <> 0 OR COUNT(e.line) = 1',
          )
          .all(accountId) as Row[]
      ).map((r) => ({
        transactionId: r.transaction_id as string,
        sum: int(r.total, 'transaction sum'),
      }));
      const resolutions = new Map<string, number>();
      for (const r of s
        .get(
          "SELECT hold_id, COUNT(*) AS n FROM transactions WHERE account_id = ? AND kind IN ('capture','release','hold_expiry') GROUP BY hold_id",
        )
        .all(accountId) as Row[]) {
        resolutions.set(r.hold_id as string, int(r.n, 'resolution count'));
      }
      const count = s
        .get('SELECT COUNT(*) AS n FROM transactions WHERE account_id = ?')
        .get(accountId) as Row;
      return {
        grants,
        holds,
        sums,
        unbalanced,
        resolutions,
        transactionCount: int(count.n, 'count'),
      };
    })();
  }

  async findPurchase(purchaseId: string) {
    const { s } = this.readConnection();
    const r = s.get('SELECT * FROM purchases WHERE purchase_id = ?').get(purchaseId) as
      Row | undefined;
    return r ? toPurchase(r) : undefined;
  }

  async listPurchases(accountId: string) {
    const { s } = this.readConnection();
    return (
      s
        .get(
          'SELECT * FROM purchases WHERE account_id = ? ORDER BY created_at DESC, purchase_id DESC',
        )
        .all(accountId) as Row[]
    ).map(toPurchase);
  }

  async getAutoTopup(accountId: string) {
    const { s } = this.readConnection();
    const r = s.get('SELECT * FROM autotopups WHERE account_id = ?').get(accountId) as
      Row | undefined;
    return r ? toAutoTopup(r) : undefined;
  }

  async listWebhookEndpoints() {
    const { s } = this.readConnection();
    return (
      s.get('SELECT * FROM webhook_endpoints ORDER BY created_at, endpoint_id').all() as Row[]
    ).map(toWebhookEndpoint);
  }

  async getWebhookEvent(accountId: string, eventId: string) {
    const { s } = this.readConnection();
    const r = s
      .get('SELECT * FROM webhook_events WHERE account_id = ? AND event_id = ?')
      .get(accountId, eventId) as Row | undefined;
    return r ? toWebhookEvent(r) : undefined;
  }

  async listDeliveries(q: DeliveryQuery) {
    const { s } = this.readConnection();
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.accountId !== undefined) {
      where.push('account_id = ?');
      args.push(q.accountId);
    }
    if (q.endpointId !== undefined) {
      where.push('endpoint_id = ?');
      args.push(q.endpointId);
    }
    if (q.status !== undefined) {
      where.push('status = ?');
      args.push(q.status);
    }
    const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    return (
      s
        .get(
          `SELECT * FROM webhook_deliveries ${filter} ORDER BY created_at DESC, delivery_id DESC LIMIT ?`,
        )
        .all(...args, q.limit) as Row[]
    ).map(toDelivery);
  }

  async findDelivery(deliveryId: string) {
    const { s } = this.readConnection();
    const r = s.get('SELECT * FROM webhook_deliveries WHERE delivery_id = ?').get(deliveryId) as
      Row | undefined;
    return r ? toDelivery(r) : undefined;
  }

  async listAttempts(accountId: string, deliveryId: string) {
    const { s } = this.readConnection();
    return (
      s
        .get(
          'SELECT * FROM webhook_attempts WHERE account_id = ? AND delivery_id = ? ORDER BY attempt',
        )
        .all(accountId, deliveryId) as Row[]
    ).map(toDeliveryAttempt);
  }

  async grantsExpiring(from: number, to: number, limit: number) {
    const { s } = this.readConnection();
    return (
      s
        .get(
          'SELECT * FROM grants WHERE remaining > 0 AND expires_at IS NOT NULL AND expires_at > ? AND expires_at <= ? ORDER BY expires_at, grant_id LIMIT ?',
        )
        .all(from, to, limit) as Row[]
    ).map(toGrant);
  }

  async autoTopupsAwaitingCheckout(limit: number) {
    const { s } = this.readConnection();
    return (s.get(awaitingCheckoutSql('?')).all(limit) as Row[]).map(toPurchase);
  }

  async getSubscription(accountId: string) {
    const { s } = this.readConnection();
    const r = s
      .get(
        "SELECT * FROM subscriptions WHERE account_id = ? ORDER BY status = 'active' DESC, created_at DESC LIMIT 1",
      )
      .get(accountId) as Row | undefined;
    return r ? toSubscription(r) : undefined;
  }

  async dueSubscriptions(until: number, limit: number) {
    const { s } = this.readConnection();
    const rows = s
      .get(
        "SELECT account_id FROM subscriptions WHERE status = 'active' AND next_renewal_at <= ? ORDER BY next_renewal_at LIMIT ?",
      )
      .all(until, limit) as Row[];
    return rows.map((r) => r.account_id as string);
  }

  async accountsDue(now: number, limit: number) {
    const { s } = this.readConnection();
    const rows = s
      .get(
        `SELECT account_id FROM grants WHERE remaining > 0 AND expires_at IS NOT NULL AND expires_at <= ?
         UNION SELECT account_id FROM holds WHERE status = 'held' AND expires_at <= ? LIMIT ?`,
      )
      .all(now, now, limit) as Row[];
    return rows.map((r) => r.account_id as string);
  }

  async getApiKey(keyId: string) {
    const { s } = this.readConnection();
    const r = s.get('SELECT * FROM api_keys WHERE key_id = ?').get(keyId) as Row | undefined;
    return r ? toApiKey(r) : undefined;
  }

  async listApiKeys() {
    const { s } = this.readConnection();
    return (s.get('SELECT * FROM api_keys ORDER BY created_at, key_id').all() as Row[]).map(
      toApiKey,
    );
  }

  async listMembers(accountId: string) {
    const { s } = this.readConnection();
    return (s.get(SQL.members).all(accountId) as Row[]).map(toMember);
  }

  async getMember(accountId: string, memberId: string) {
    const { s } = this.readConnection();
    const r = s.get(SQL.member).get(accountId, memberId) as Row | undefined;
    return r ? toMember(r) : undefined;
  }

  async listProjects(accountId: string) {
    const { s } = this.readConnection();
    return (s.get(SQL.projects).all(accountId) as Row[]).map(toProject);
  }

  async listBudgets(accountId: string) {
    const { s } = this.readConnection();
    return (s.get(SQL.budgets).all(accountId) as Row[]).map(toBudget);
  }

  async listBudgetAlerts(accountId: string, limit: number) {
    const { s } = this.readConnection();
    return (s.get(SQL.budgetAlerts).all(accountId, limit) as Row[]).map(toBudgetAlert);
  }

  async countOpenHolds() {
    const { s } = this.readConnection();
    const r = s.get("SELECT COUNT(*) AS n FROM holds WHERE status = 'held'").get() as Row;
    return int(r.n, 'open holds');
  }

  async purgeIdempotency(before: number, limit: number) {
    const r = this.writer
      .prepare(
        'DELETE FROM idempotency WHERE (account_id, key) IN (SELECT account_id, key FROM idempotency WHERE created_at < ? LIMIT ?)',
      )
      .run(before, limit);
    return r.changes;
  }

  async rollupWindow(q: RollupWindowQuery) {
    const { r } = this.readConnection();
    // One read transaction: the rollups and the journal of the edges are one snapshot.
    return this.reader!.transaction(() => r.rollupWindow(q))();
  }

  async outcomesBetween(accountId: string, from: number, to: number) {
    const { s } = this.readConnection();
    return (
      s
        .get(
          'SELECT * FROM outcomes WHERE account_id = ? AND created_at >= ? AND created_at < ? ORDER BY created_at, transaction_id',
        )
        .all(accountId, from, to) as Row[]
    ).map(toOutcome);
  }

  async accountsPendingRollups(afterId: string | null, limit: number) {
    const { s } = this.readConnection();
    const rows = s
      .get(
        'SELECT account_id FROM rollups_pending WHERE account_id > ? ORDER BY account_id LIMIT ?',
      )
      .all(afterId ?? '', limit) as Row[];
    return rows.map((r) => r.account_id as string);
  }

  async getTransaction(accountId: string, transactionId: string) {
    return this.readConnection().r.transaction(accountId, transactionId);
  }

  async findRequestBatch(batchId: string) {
    const { s } = this.readConnection();
    // One read transaction: the batch and its holds are one snapshot.
    return this.reader!.transaction(() => {
      const r = s.get(SQL.requestBatchById).get(batchId) as Row | undefined;
      if (!r) return undefined;
      const rows = s.get(SQL.requestBatchHolds).all(r.account_id, batchId) as Row[];
      return { batch: toRequestBatch(r, rows), holds: rows.map(toHold) };
    })();
  }

  async close(): Promise<void> {
    if (this.reader && this.reader !== this.writer) this.reader.close();
    this.writer.close();
  }
}
