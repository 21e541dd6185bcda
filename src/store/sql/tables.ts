import { OVERDRAFT_MODES } from '../../core/overdraft.js';
import type { TestClock } from '../../core/clocks.js';
import type { AutoTopup } from '../../core/autotopup.js';
import type { Grant } from '../../core/grants.js';
import { JOB_STATUSES, type GatewayJob } from '../../core/gateway-routes.js';
import type { Hold } from '../../core/holds.js';
import type { Entry, JournalTransaction } from '../../core/journal.js';
import type { Outcome } from '../../core/outcomes.js';
import { PURCHASE_STATUSES, type Purchase } from '../../core/purchases.js';
import { UPGRADE_STATUSES, type PlanUpgrade } from '../../core/upgrades.js';
import type { FlowIncrement, UsageIncrement } from '../../core/rollups.js';
import type { Subscription } from '../../core/subscriptions.js';
import {
  ACCOUNT_KINDS,
  ALERT_THRESHOLDS,
  BUDGET_SCOPES,
  type Budget,
  type BudgetAlert,
  type Member,
  type Project,
} from '../../core/teams.js';
import type {
  Delivery,
  DeliveryAttempt,
  WebhookEndpoint,
  WebhookEvent,
} from '../../core/webhooks.js';
import {
  API_KEY_SCOPES,
  type AccountRecord,
  type ApiKeyRecord,
  type CatalogRecord,
  type IdempotencyRecord,
  type PaymentEventRecord,
  type RequestBatchItemRecord,
  type RequestBatchRecord,
  type RollupsPendingRecord,
} from '../../ledger/store.js';

/**
 * One description per table: its columns (name, the record's field, the SQL type, nullable),
 * its key. Row mapping, column lists, the PostgreSQL unnest types, upsert clauses and the DDL
 * of new tables all come from here, so a column is written down once (STYLE.md).
 *
 * Column kinds, as each dialect stores them:
 * - text: TEXT; int: INTEGER (both); bigint: INTEGER (SQLite) / BIGINT (PostgreSQL);
 * - json: TEXT / JSONB, written as JSON text; jsonText: JSON text in TEXT on both;
 * - flag: a boolean as INTEGER 0/1 on both; bool: INTEGER 0/1 / BOOLEAN.
 */
export type ColumnKind = 'text' | 'int' | 'bigint' | 'json' | 'jsonText' | 'flag' | 'bool';

/** Each kind's SQL type: SQLite, PostgreSQL, and PostgreSQL's array element (for unnest). */
export const KIND_TYPES: Record<ColumnKind, { sqlite: string; postgres: string; element: string }> =
  {
    text: { sqlite: 'TEXT', postgres: 'TEXT', element: 'text' },
    int: { sqlite: 'INTEGER', postgres: 'INTEGER', element: 'int' },
    bigint: { sqlite: 'INTEGER', postgres: 'BIGINT', element: 'bigint' },
    json: { sqlite: 'TEXT', postgres: 'JSONB', element: 'jsonb' },
    jsonText: { sqlite: 'TEXT', postgres: 'TEXT', element: 'text' },
    flag: { sqlite: 'INTEGER', postgres: 'INTEGER', element: 'int' },
    bool: { sqlite: 'INTEGER', postgres: 'BOOLEAN', element: 'boolean' },
  };

export interface Column {
  readonly name: string;
  readonly field: string;
  readonly kind: ColumnKind;
  readonly nullable: boolean;
  /** The values a text or int column may hold (asserted on read), when the domain closes them. */
  readonly oneOf?: readonly unknown[];
}

export interface TableDescription<R = unknown> {
  readonly name: string;
  /** The primary key's fields, in key order (what get, upsert and update address). */
  readonly key: readonly (keyof R & string)[];
  readonly columns: readonly Column[];
  /** Columns by field. */
  readonly byField: ReadonlyMap<string, Column>;
  /** Never set: carries the record type, so `Row<'holds'>` is read off the description. */
  readonly record?: R;
}

interface Spec {
  readonly c: string;
  readonly k: ColumnKind;
  readonly null?: true;
  readonly oneOf?: readonly unknown[];
}

const t = (c: string, extra: Omit<Spec, 'c' | 'k'> = {}): Spec => ({ c, k: 'text', ...extra });
const tn = (c: string): Spec => ({ c, k: 'text', null: true });
const big = (c: string): Spec => ({ c, k: 'bigint' });
const bign = (c: string): Spec => ({ c, k: 'bigint', null: true });
const i32 = (c: string, extra: Omit<Spec, 'c' | 'k'> = {}): Spec => ({ c, k: 'int', ...extra });
const js = (c: string, extra: Omit<Spec, 'c' | 'k'> = {}): Spec => ({ c, k: 'json', ...extra });

/** Every field of R described, in the table's column order. */
function describe<R>(
  name: string,
  key: readonly (keyof R & string)[],
  specs: { readonly [F in keyof R]-?: Spec },
): TableDescription<R> {
  const columns = Object.entries(specs as Record<string, Spec>).map(([field, s]) => ({
    name: s.c,
    field,
    kind: s.k,
    nullable: s.null === true,
    ...(s.oneOf ? { oneOf: s.oneOf } : {}),
  }));
  return { name, key, columns, byField: new Map(columns.map((c) => [c.field, c])) };
}

/** A journal line as stored: the entry with its transaction and line number. */
export interface EntryRow extends Entry {
  readonly accountId: string;
  readonly transactionId: string;
  readonly line: number;
}

/** A journal header as stored: its detail is checked against its kind when read (withEntries). */
export type TransactionRow = Omit<JournalTransaction, 'entries' | 'kind' | 'detail'> & {
  readonly kind: JournalTransaction['kind'];
  readonly detail: unknown;
};

const acc = t('account_id');
const createdAt = big('created_at');

export const TABLES = {
  accounts: describe<AccountRecord>('accounts', ['id'], {
    id: acc,
    createdAt,
    kind: t('kind', { oneOf: ACCOUNT_KINDS }),
    name: tn('name'),
    overdraftLimit: bign('overdraft_limit'),
    overdraftMode: { c: 'overdraft_mode', k: 'text', null: true, oneOf: OVERDRAFT_MODES },
    debt: big('debt'),
    overdraftHeld: big('overdraft_held'),
    testClockId: tn('test_clock_id'),
  }),
  test_clocks: describe<TestClock>('test_clocks', ['id'], {
    id: t('clock_id'),
    name: tn('name'),
    now: big('now'),
    createdAt,
    advancedAt: bign('advanced_at'),
  }),
  catalogs: describe<CatalogRecord>('catalogs', ['version'], {
    version: t('version'),
    body: js('body'),
    digest: t('digest'),
    loadedAt: big('loaded_at'),
    activatedAt: big('activated_at'),
  }),
  grants: describe<Grant>('grants', ['accountId', 'id'], {
    accountId: acc,
    id: t('grant_id'),
    source: t('source'),
    amount: big('amount'),
    remaining: big('remaining'),
    startsAt: big('starts_at'),
    expiresAt: bign('expires_at'),
    createdAt,
  }),
  holds: describe<Hold>('holds', ['accountId', 'id'], {
    accountId: acc,
    id: t('hold_id'),
    status: t('status'),
    credits: big('credits'),
    capturedCredits: big('captured_credits'),
    draws: js('draws'),
    expiresAt: big('expires_at'),
    createdAt,
    resolvedAt: bign('resolved_at'),
    catalogVersion: tn('catalog_version'),
    quote: js('quote', { null: true }),
    attribution: js('attribution'),
  }),
  transactions: describe<TransactionRow>('transactions', ['accountId', 'id'], {
    accountId: acc,
    id: t('transaction_id'),
    kind: t('kind'),
    createdAt,
    idempotencyKey: tn('idempotency_key'),
    holdId: tn('hold_id'),
    grantId: tn('grant_id'),
    catalogVersion: tn('catalog_version'),
    detail: js('detail'),
  }),
  entries: describe<EntryRow>('entries', ['accountId', 'transactionId', 'line'], {
    accountId: acc,
    transactionId: t('transaction_id'),
    line: i32('line'),
    book: t('book'),
    grantId: tn('grant_id'),
    holdId: tn('hold_id'),
    credits: big('credits'),
  }),
  idempotency: describe<IdempotencyRecord>('idempotency', ['accountId', 'key'], {
    accountId: acc,
    key: t('key'),
    requestHash: t('request_hash'),
    transactionId: t('transaction_id'),
    createdAt,
  }),
  subscriptions: describe<Subscription>('subscriptions', ['accountId', 'id'], {
    accountId: acc,
    id: t('subscription_id'),
    plan: t('plan'),
    pendingPlan: tn('pending_plan'),
    anchorAt: big('anchor_at'),
    cycleIndex: i32('cycle_index'),
    nextRenewalAt: big('next_renewal_at'),
    status: t('status'),
    cancelAt: bign('cancel_at'),
    allocationGrantId: tn('allocation_grant_id'),
    createdAt,
    providerRef: tn('provider_ref'),
  }),
  purchases: describe<Purchase>('purchases', ['accountId', 'id'], {
    accountId: acc,
    id: t('purchase_id'),
    pack: t('pack'),
    lines: js('lines'),
    credits: big('credits'),
    priceCents: big('price_cents'),
    currency: t('currency'),
    provider: t('provider'),
    checkoutRef: tn('checkout_ref'),
    paymentRef: tn('payment_ref'),
    status: t('status', { oneOf: PURCHASE_STATUSES }),
    grantId: tn('grant_id'),
    refundedCredits: big('refunded_credits'),
    refundedCents: big('refunded_cents'),
    refundRef: tn('refund_ref'),
    createdAt,
    paidAt: bign('paid_at'),
    cancelledAt: bign('cancelled_at'),
    origin: t('origin'),
  }),
  plan_upgrades: describe<PlanUpgrade>('plan_upgrades', ['accountId', 'id'], {
    accountId: acc,
    id: t('upgrade_id'),
    subscriptionId: t('subscription_id'),
    fromPlan: t('from_plan'),
    plan: t('plan'),
    credits: big('credits'),
    priceCents: big('price_cents'),
    currency: t('currency'),
    cycleEndsAt: big('cycle_ends_at'),
    provider: t('provider'),
    checkoutRef: tn('checkout_ref'),
    paymentRef: tn('payment_ref'),
    status: t('status', { oneOf: UPGRADE_STATUSES }),
    transactionId: tn('transaction_id'),
    createdAt,
    paidAt: bign('paid_at'),
    cancelledAt: bign('cancelled_at'),
  }),
  payment_events: describe<PaymentEventRecord>('payment_events', ['accountId', 'eventId'], {
    accountId: acc,
    eventId: t('event_id'),
    processedAt: big('processed_at'),
  }),
  autotopups: describe<AutoTopup>('autotopups', ['accountId'], {
    accountId: acc,
    pack: t('pack'),
    thresholdCredits: big('threshold_credits'),
    maxPerPeriod: i32('max_per_period'),
    period: t('period'),
    provider: t('provider'),
    armed: { c: 'armed', k: 'flag' },
    periodStartsAt: big('period_starts_at'),
    firedInPeriod: i32('fired_in_period'),
    lastFiredAt: bign('last_fired_at'),
    updatedAt: big('updated_at'),
  }),
  api_keys: describe<ApiKeyRecord>('api_keys', ['id'], {
    id: t('key_id'),
    secretHash: t('secret_hash'),
    scope: t('scope', { oneOf: API_KEY_SCOPES }),
    accountId: tn('account_id'),
    readOnly: { c: 'read_only', k: 'flag' },
    name: tn('name'),
    createdAt,
    revokedAt: bign('revoked_at'),
    memberId: tn('member_id'),
    expiresAt: bign('expires_at'),
  }),
  webhook_endpoints: describe<WebhookEndpoint>('webhook_endpoints', ['id'], {
    id: t('endpoint_id'),
    url: t('url'),
    secret: t('secret'),
    eventTypes: { c: 'event_types', k: 'jsonText' },
    accountId: tn('account_id'),
    publicOnly: { c: 'public_only', k: 'bool' },
    createdAt,
    disabledAt: bign('disabled_at'),
  }),
  webhook_events: describe<WebhookEvent>('webhook_events', ['accountId', 'id'], {
    accountId: acc,
    id: t('event_id'),
    type: t('type'),
    data: js('data'),
    createdAt,
  }),
  webhook_deliveries: describe<Delivery>('webhook_deliveries', ['accountId', 'id'], {
    accountId: acc,
    id: t('delivery_id'),
    endpointId: t('endpoint_id'),
    eventId: t('event_id'),
    status: t('status'),
    attempts: i32('attempts'),
    nextAttemptAt: big('next_attempt_at'),
    createdAt,
    deliveredAt: bign('delivered_at'),
    lastStatusCode: { c: 'last_status_code', k: 'int', null: true },
    lastError: tn('last_error'),
  }),
  webhook_attempts: describe<DeliveryAttempt>(
    'webhook_attempts',
    ['accountId', 'deliveryId', 'attempt'],
    {
      accountId: acc,
      deliveryId: t('delivery_id'),
      attempt: i32('attempt'),
      at: big('at'),
      statusCode: { c: 'status_code', k: 'int', null: true },
      error: tn('error'),
      durationMs: i32('duration_ms'),
    },
  ),
  members: describe<Member>('members', ['accountId', 'id'], {
    accountId: acc,
    id: t('member_id'),
    role: t('role'),
    status: t('status'),
    name: tn('name'),
    email: tn('email'),
    inviteHash: tn('invite_hash'),
    createdAt,
    joinedAt: bign('joined_at'),
  }),
  projects: describe<Project>('projects', ['accountId', 'id'], {
    accountId: acc,
    id: t('project_id'),
    name: t('name'),
    createdAt,
  }),
  budgets: describe<Budget>('budgets', ['accountId', 'scope', 'target'], {
    accountId: acc,
    scope: t('scope', { oneOf: BUDGET_SCOPES }),
    target: t('target'),
    limitCredits: bign('limit_credits'),
    mode: t('mode'),
    period: t('period'),
    startsAt: bign('starts_at'),
    endsAt: bign('ends_at'),
    periodStart: big('period_start'),
    used: big('used'),
    held: big('held'),
    alerted: i32('alerted'),
    createdAt,
    updatedAt: big('updated_at'),
  }),
  budget_alerts: describe<BudgetAlert>('budget_alerts', ['accountId', 'id'], {
    accountId: acc,
    id: t('alert_id'),
    scope: t('scope', { oneOf: BUDGET_SCOPES }),
    target: t('target'),
    threshold: i32('threshold', { oneOf: ALERT_THRESHOLDS }),
    periodStart: big('period_start'),
    used: big('used'),
    held: big('held'),
    limitCredits: big('limit_credits'),
    mode: t('mode'),
    createdAt,
  }),
  gateway_jobs: describe<GatewayJob>('gateway_jobs', ['accountId', 'holdId'], {
    accountId: acc,
    holdId: t('hold_id'),
    holdKey: t('hold_key'),
    route: t('route'),
    jobId: t('job_id'),
    status: t('status', { oneOf: JOB_STATUSES }),
    units: { c: 'units', k: 'int', null: true },
    createdAt,
    deadlineAt: big('deadline_at'),
    nextPollAt: big('next_poll_at'),
    endedAt: bign('ended_at'),
  }),
  request_batches: describe<RequestBatchRecord>('request_batches', ['accountId', 'id'], {
    accountId: acc,
    id: t('batch_id'),
    idempotencyKey: t('idempotency_key'),
    createdAt,
    expiresAt: big('expires_at'),
    catalogVersion: t('catalog_version'),
    attribution: js('attribution'),
    itemCount: i32('item_count'),
  }),
  request_batch_items: describe<RequestBatchItemRecord>(
    'request_batch_items',
    ['accountId', 'batchId', 'index'],
    {
      accountId: acc,
      batchId: t('batch_id'),
      index: i32('item_index'),
      holdId: t('hold_id'),
      ref: tn('ref'),
    },
  ),
  usage_hourly: describe<UsageIncrement>('usage_hourly', ['accountId', 'hour', 'dim', 'key'], {
    accountId: acc,
    hour: big('hour'),
    dim: t('dim'),
    key: t('key'),
    credits: big('credits'),
    units: big('units'),
  }),
  flows_hourly: describe<FlowIncrement>('flows_hourly', ['accountId', 'hour', 'flow', 'key'], {
    accountId: acc,
    hour: big('hour'),
    flow: t('flow'),
    key: t('key'),
    credits: big('credits'),
    firstTransactionId: t('first_transaction_id'),
    lastTransactionId: t('last_transaction_id'),
  }),
  rollups_pending: describe<RollupsPendingRecord>('rollups_pending', ['accountId'], {
    accountId: acc,
  }),
  outcomes: describe<Outcome>('outcomes', ['accountId', 'transactionId'], {
    accountId: acc,
    transactionId: t('transaction_id'),
    outcome: t('outcome'),
    labels: js('labels'),
    credits: big('credits'),
    operation: t('operation'),
    resolution: tn('resolution'),
    units: big('units'),
    member: tn('member'),
    project: tn('project'),
    createdAt,
    recordedAt: big('recorded_at'),
  }),
};

export type TableName = keyof typeof TABLES;
/** The record type of a table: `Row<'holds'>` is a Hold. */
export type Row<T extends TableName> =
  (typeof TABLES)[T] extends TableDescription<infer R> ? R : never;

/**
 * CREATE TABLE for a described table in a dialect: the columns, NOT NULL, the primary key.
 * New tables' migrations start from it (CHECK constraints and indexes are added by hand);
 * released migrations keep their text.
 */
export function createTable(table: TableName, dialect: 'sqlite' | 'postgres'): string {
  const d = TABLES[table];
  const columns = d.columns.map(
    (c) => `  ${c.name} ${KIND_TYPES[c.kind][dialect]}${c.nullable ? '' : ' NOT NULL'}`,
  );
  const key = (d.key as readonly string[]).map((f) => d.byField.get(f)!.name).join(', ');
  return `CREATE TABLE ${table} (\n${[...columns, `  PRIMARY KEY (${key})`].join(',\n')}\n);`;
}
