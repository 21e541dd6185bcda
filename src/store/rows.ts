import { assert } from '../core/errors.js';
import type { Grant, GrantSource } from '../core/grants.js';
import type { Hold, HoldStatus } from '../core/holds.js';
import type { Book, Entry, JournalTransaction, TransactionKind } from '../core/journal.js';
import type { Purchase } from '../core/purchases.js';
import type { AutoTopup } from '../core/autotopup.js';
import type { Delivery, DeliveryAttempt, WebhookEndpoint, WebhookEvent } from '../core/webhooks.js';
import type { Subscription } from '../core/subscriptions.js';
import type { RequestBatch, RequestBatchItem } from '../core/batches.js';
import type { Outcome, OutcomeKind } from '../core/outcomes.js';
import type {
  Flow,
  FlowIncrement,
  FlowRow,
  UsageDim,
  UsageIncrement,
  UsageRow,
} from '../core/rollups.js';
import {
  ACCOUNT_KINDS,
  ALERT_THRESHOLDS,
  BUDGET_SCOPES,
  type AccountKind,
  type AlertThreshold,
  type Budget,
  type BudgetAlert,
  type BudgetScope,
  type Member,
  type Project,
} from '../core/teams.js';
import {
  API_KEY_SCOPES,
  type AccountRecord,
  type AccountView,
  type ApiKeyRecord,
  type ApiKeyScope,
  type CatalogRecord,
} from '../ledger/store.js';

/**
 * Row mappers shared by every adapter. Amounts are asserted to be safe integers on the way in
 * (STYLE.md: at every boundary); JSON columns arrive as text (SQLite) or parsed (PostgreSQL).
 */
export type Row = Record<string, unknown>;

export function int(value: unknown, what: string): number {
  assert(typeof value === 'number' && Number.isSafeInteger(value), `${what} is a safe integer`);
  return value;
}

export function intOrNull(value: unknown, what: string): number | null {
  return value === null ? null : int(value, what);
}

export function json<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

const text = (value: unknown): string | null => (value as string | null) ?? null;

export function toGrant(r: Row): Grant {
  return {
    accountId: r.account_id as string,
    id: r.grant_id as string,
    source: r.source as GrantSource,
    amount: int(r.amount, 'grant amount'),
    remaining: int(r.remaining, 'grant remaining'),
    startsAt: int(r.starts_at, 'grant starts_at'),
    expiresAt: intOrNull(r.expires_at, 'grant expires_at'),
    createdAt: int(r.created_at, 'grant created_at'),
  };
}

export function toHold(r: Row): Hold {
  return {
    accountId: r.account_id as string,
    id: r.hold_id as string,
    status: r.status as HoldStatus,
    credits: int(r.credits, 'hold credits'),
    capturedCredits: int(r.captured_credits, 'hold captured'),
    draws: json<Hold['draws']>(r.draws),
    expiresAt: int(r.expires_at, 'hold expires_at'),
    createdAt: int(r.created_at, 'hold created_at'),
    resolvedAt: intOrNull(r.resolved_at, 'hold resolved_at'),
    catalogVersion: text(r.catalog_version),
    quote: r.quote === null ? null : json<Hold['quote']>(r.quote),
    attribution: json<Hold['attribution']>(r.attribution),
  };
}

export function toAccount(r: Row): AccountRecord {
  const kind = r.kind as AccountKind;
  assert(ACCOUNT_KINDS.includes(kind), `account kind ${String(r.kind)} is known`);
  return {
    id: r.account_id as string,
    createdAt: int(r.created_at, 'account created_at'),
    kind,
    name: text(r.name),
  };
}

/**
 * Accounts as readers see them, with the plan of the active subscription (one per account, or
 * none): `${ACCOUNTS_WITH_PLAN} WHERE a.account_id ...`, read by `toAccountView`. The same text
 * in both dialects.
 */
export const ACCOUNTS_WITH_PLAN =
  "SELECT a.*, s.plan FROM accounts a LEFT JOIN subscriptions s ON s.account_id = a.account_id AND s.status = 'active'";

export function toAccountView(r: Row): AccountView {
  return { ...toAccount(r), plan: text(r.plan) };
}

export const ACCOUNT_COLUMNS = ['account_id', 'created_at', 'kind', 'name'] as const;

export function accountValues(a: AccountRecord): unknown[] {
  return [a.id, a.createdAt, a.kind, a.name];
}

export function toCatalog(r: Row): CatalogRecord {
  return {
    version: r.version as string,
    body: json<CatalogRecord['body']>(r.body),
    digest: r.digest as string,
    loadedAt: int(r.loaded_at, 'catalog loaded_at'),
    activatedAt: int(r.activated_at, 'catalog activated_at'),
  };
}

export function toApiKey(r: Row): ApiKeyRecord {
  const scope = r.scope as ApiKeyScope;
  assert(API_KEY_SCOPES.includes(scope), `api key scope ${String(r.scope)} is known`);
  return {
    id: r.key_id as string,
    secretHash: r.secret_hash as string,
    scope,
    accountId: text(r.account_id),
    readOnly: int(r.read_only, 'api key read_only') === 1,
    name: text(r.name),
    createdAt: int(r.created_at, 'api key created_at'),
    revokedAt: intOrNull(r.revoked_at, 'api key revoked_at'),
    memberId: text(r.member_id),
  };
}

export const API_KEY_COLUMNS = [
  'key_id',
  'secret_hash',
  'scope',
  'account_id',
  'read_only',
  'name',
  'created_at',
  'revoked_at',
  'member_id',
] as const;

export function apiKeyValues(k: ApiKeyRecord): unknown[] {
  return [
    k.id,
    k.secretHash,
    k.scope,
    k.accountId,
    k.readOnly ? 1 : 0,
    k.name,
    k.createdAt,
    k.revokedAt,
    k.memberId,
  ];
}

export function toSubscription(r: Row): Subscription {
  return {
    accountId: r.account_id as string,
    id: r.subscription_id as string,
    plan: r.plan as string,
    pendingPlan: text(r.pending_plan),
    anchorAt: int(r.anchor_at, 'subscription anchor_at'),
    cycleIndex: int(r.cycle_index, 'subscription cycle_index'),
    nextRenewalAt: int(r.next_renewal_at, 'subscription next_renewal_at'),
    status: r.status as Subscription['status'],
    cancelAt: intOrNull(r.cancel_at, 'subscription cancel_at'),
    allocationGrantId: text(r.allocation_grant_id),
    createdAt: int(r.created_at, 'subscription created_at'),
    providerRef: text(r.provider_ref),
  };
}

/** Column order of the subscriptions table, and the row values in that order. */
export const SUBSCRIPTION_COLUMNS = [
  'account_id',
  'subscription_id',
  'plan',
  'pending_plan',
  'anchor_at',
  'cycle_index',
  'next_renewal_at',
  'status',
  'cancel_at',
  'allocation_grant_id',
  'created_at',
  'provider_ref',
] as const;

export function subscriptionValues(s: Subscription): unknown[] {
  return [
    s.accountId,
    s.id,
    s.plan,
    s.pendingPlan,
    s.anchorAt,
    s.cycleIndex,
    s.nextRenewalAt,
    s.status,
    s.cancelAt,
    s.allocationGrantId,
    s.createdAt,
    s.providerRef,
  ];
}

export function toPurchase(r: Row): Purchase {
  return {
    accountId: r.account_id as string,
    id: r.purchase_id as string,
    pack: r.pack as string,
    credits: int(r.credits, 'purchase credits'),
    priceCents: int(r.price_cents, 'purchase price_cents'),
    currency: r.currency as string,
    provider: r.provider as string,
    checkoutRef: text(r.checkout_ref),
    paymentRef: text(r.payment_ref),
    status: r.status as Purchase['status'],
    grantId: text(r.grant_id),
    refundedCredits: int(r.refunded_credits, 'purchase refunded_credits'),
    refundedCents: int(r.refunded_cents, 'purchase refunded_cents'),
    refundRef: text(r.refund_ref),
    createdAt: int(r.created_at, 'purchase created_at'),
    paidAt: intOrNull(r.paid_at, 'purchase paid_at'),
    origin: r.origin as Purchase['origin'],
  };
}

export const PURCHASE_COLUMNS = [
  'account_id',
  'purchase_id',
  'pack',
  'credits',
  'price_cents',
  'currency',
  'provider',
  'checkout_ref',
  'payment_ref',
  'status',
  'grant_id',
  'refunded_credits',
  'refunded_cents',
  'refund_ref',
  'created_at',
  'paid_at',
  'origin',
] as const;

export function purchaseValues(p: Purchase): unknown[] {
  return [
    p.accountId,
    p.id,
    p.pack,
    p.credits,
    p.priceCents,
    p.currency,
    p.provider,
    p.checkoutRef,
    p.paymentRef,
    p.status,
    p.grantId,
    p.refundedCredits,
    p.refundedCents,
    p.refundRef,
    p.createdAt,
    p.paidAt,
    p.origin,
  ];
}

export function toAutoTopup(r: Row): AutoTopup {
  return {
    accountId: r.account_id as string,
    pack: r.pack as string,
    thresholdCredits: int(r.threshold_credits, 'autotopup threshold_credits'),
    maxPerPeriod: int(r.max_per_period, 'autotopup max_per_period'),
    period: r.period as AutoTopup['period'],
    provider: r.provider as string,
    armed: int(r.armed, 'autotopup armed') === 1,
    periodStartsAt: int(r.period_starts_at, 'autotopup period_starts_at'),
    firedInPeriod: int(r.fired_in_period, 'autotopup fired_in_period'),
    lastFiredAt: intOrNull(r.last_fired_at, 'autotopup last_fired_at'),
    updatedAt: int(r.updated_at, 'autotopup updated_at'),
  };
}

export const AUTOTOPUP_COLUMNS = [
  'account_id',
  'pack',
  'threshold_credits',
  'max_per_period',
  'period',
  'provider',
  'armed',
  'period_starts_at',
  'fired_in_period',
  'last_fired_at',
  'updated_at',
] as const;

/** Auto top-up purchases waiting for their checkout; `limit` is the dialect's placeholder. */
export function awaitingCheckoutSql(limit: string): string {
  return `SELECT * FROM purchases
  WHERE origin = 'autotopup' AND status = 'pending' AND checkout_ref IS NULL
  ORDER BY created_at, purchase_id LIMIT ${limit}`;
}

export function autoTopupValues(a: AutoTopup): unknown[] {
  return [
    a.accountId,
    a.pack,
    a.thresholdCredits,
    a.maxPerPeriod,
    a.period,
    a.provider,
    a.armed ? 1 : 0,
    a.periodStartsAt,
    a.firedInPeriod,
    a.lastFiredAt,
    a.updatedAt,
  ];
}

export function toEntry(e: Row): Entry {
  return {
    book: e.book as Book,
    grantId: text(e.grant_id),
    holdId: text(e.hold_id),
    credits: int(e.credits, 'entry credits'),
  };
}

export function toTransaction(r: Row, entries: readonly Row[]): JournalTransaction {
  return {
    accountId: r.account_id as string,
    id: r.transaction_id as string,
    kind: r.kind as TransactionKind,
    createdAt: int(r.created_at, 'transaction created_at'),
    idempotencyKey: text(r.idempotency_key),
    holdId: text(r.hold_id),
    grantId: text(r.grant_id),
    catalogVersion: text(r.catalog_version),
    detail: json<Record<string, unknown>>(r.detail),
    entries: entries.map(toEntry),
  };
}

export const TRANSACTION_COLUMNS = [
  'account_id',
  'transaction_id',
  'kind',
  'created_at',
  'idempotency_key',
  'hold_id',
  'grant_id',
  'catalog_version',
  'detail',
] as const;
export const ENTRY_COLUMNS = [
  'account_id',
  'transaction_id',
  'line',
  'book',
  'grant_id',
  'hold_id',
  'credits',
] as const;
export const IDEMPOTENCY_COLUMNS = [
  'account_id',
  'key',
  'request_hash',
  'transaction_id',
  'created_at',
] as const;

export function toWebhookEndpoint(r: Row): WebhookEndpoint {
  return {
    id: r.endpoint_id as string,
    url: r.url as string,
    secret: r.secret as string,
    eventTypes: json<WebhookEndpoint['eventTypes']>(r.event_types),
    accountId: text(r.account_id),
    publicOnly: r.public_only === true || r.public_only === 1,
    createdAt: int(r.created_at, 'endpoint created_at'),
    disabledAt: intOrNull(r.disabled_at, 'endpoint disabled_at'),
  };
}

export function toWebhookEvent(r: Row): WebhookEvent {
  return {
    accountId: r.account_id as string,
    id: r.event_id as string,
    type: r.type as WebhookEvent['type'],
    createdAt: int(r.created_at, 'event created_at'),
    data: json<Record<string, unknown>>(r.data),
  };
}

export const WEBHOOK_EVENT_COLUMNS = [
  'account_id',
  'event_id',
  'type',
  'data',
  'created_at',
] as const;

export function webhookEventValues(e: WebhookEvent): unknown[] {
  return [e.accountId, e.id, e.type, JSON.stringify(e.data), e.createdAt];
}

export function toDelivery(r: Row): Delivery {
  return {
    accountId: r.account_id as string,
    id: r.delivery_id as string,
    endpointId: r.endpoint_id as string,
    eventId: r.event_id as string,
    status: r.status as Delivery['status'],
    attempts: int(r.attempts, 'delivery attempts'),
    nextAttemptAt: int(r.next_attempt_at, 'delivery next_attempt_at'),
    createdAt: int(r.created_at, 'delivery created_at'),
    deliveredAt: intOrNull(r.delivered_at, 'delivery delivered_at'),
    lastStatusCode: intOrNull(r.last_status_code, 'delivery last_status_code'),
    lastError: text(r.last_error),
  };
}

export const DELIVERY_COLUMNS = [
  'account_id',
  'delivery_id',
  'endpoint_id',
  'event_id',
  'status',
  'attempts',
  'next_attempt_at',
  'created_at',
  'delivered_at',
  'last_status_code',
  'last_error',
] as const;

export function deliveryValues(d: Delivery): unknown[] {
  return [
    d.accountId,
    d.id,
    d.endpointId,
    d.eventId,
    d.status,
    d.attempts,
    d.nextAttemptAt,
    d.createdAt,
    d.deliveredAt,
    d.lastStatusCode,
    d.lastError,
  ];
}

export function toDeliveryAttempt(r: Row): DeliveryAttempt {
  return {
    accountId: r.account_id as string,
    deliveryId: r.delivery_id as string,
    attempt: int(r.attempt, 'attempt number'),
    at: int(r.at, 'attempt at'),
    statusCode: intOrNull(r.status_code, 'attempt status_code'),
    error: text(r.error),
    durationMs: int(r.duration_ms, 'attempt duration_ms'),
  };
}

export function toMember(r: Row): Member {
  return {
    accountId: r.account_id as string,
    id: r.member_id as string,
    role: r.role as Member['role'],
    status: r.status as Member['status'],
    name: text(r.name),
    email: text(r.email),
    inviteHash: text(r.invite_hash),
    createdAt: int(r.created_at, 'member created_at'),
    joinedAt: intOrNull(r.joined_at, 'member joined_at'),
  };
}

export const MEMBER_COLUMNS = [
  'account_id',
  'member_id',
  'role',
  'status',
  'name',
  'email',
  'invite_hash',
  'created_at',
  'joined_at',
] as const;

export function memberValues(m: Member): unknown[] {
  return [
    m.accountId,
    m.id,
    m.role,
    m.status,
    m.name,
    m.email,
    m.inviteHash,
    m.createdAt,
    m.joinedAt,
  ];
}

export function toProject(r: Row): Project {
  return {
    accountId: r.account_id as string,
    id: r.project_id as string,
    name: r.name as string,
    createdAt: int(r.created_at, 'project created_at'),
  };
}

export const PROJECT_COLUMNS = ['account_id', 'project_id', 'name', 'created_at'] as const;

export function projectValues(p: Project): unknown[] {
  return [p.accountId, p.id, p.name, p.createdAt];
}

function budgetScope(value: unknown): BudgetScope {
  const scope = value as BudgetScope;
  assert(BUDGET_SCOPES.includes(scope), `budget scope ${String(value)} is known`);
  return scope;
}

export function toBudget(r: Row): Budget {
  return {
    accountId: r.account_id as string,
    scope: budgetScope(r.scope),
    target: r.target as string,
    limitCredits: intOrNull(r.limit_credits, 'budget limit_credits'),
    mode: r.mode as Budget['mode'],
    period: r.period as Budget['period'],
    startsAt: intOrNull(r.starts_at, 'budget starts_at'),
    endsAt: intOrNull(r.ends_at, 'budget ends_at'),
    periodStart: int(r.period_start, 'budget period_start'),
    used: int(r.used, 'budget used'),
    held: int(r.held, 'budget held'),
    alerted: int(r.alerted, 'budget alerted'),
    createdAt: int(r.created_at, 'budget created_at'),
    updatedAt: int(r.updated_at, 'budget updated_at'),
  };
}

/** Column order of the budgets table; the key (account_id, scope, target) comes first. */
export const BUDGET_COLUMNS = [
  'account_id',
  'scope',
  'target',
  'limit_credits',
  'mode',
  'period',
  'starts_at',
  'ends_at',
  'period_start',
  'used',
  'held',
  'alerted',
  'created_at',
  'updated_at',
] as const;

export function budgetValues(b: Budget): unknown[] {
  return [
    b.accountId,
    b.scope,
    b.target,
    b.limitCredits,
    b.mode,
    b.period,
    b.startsAt,
    b.endsAt,
    b.periodStart,
    b.used,
    b.held,
    b.alerted,
    b.createdAt,
    b.updatedAt,
  ];
}

export function toBudgetAlert(r: Row): BudgetAlert {
  const threshold = int(r.threshold, 'budget alert threshold') as AlertThreshold;
  assert(ALERT_THRESHOLDS.includes(threshold), `budget alert threshold ${threshold} is known`);
  return {
    accountId: r.account_id as string,
    id: r.alert_id as string,
    scope: budgetScope(r.scope),
    target: r.target as string,
    threshold,
    periodStart: int(r.period_start, 'budget alert period_start'),
    used: int(r.used, 'budget alert used'),
    held: int(r.held, 'budget alert held'),
    limitCredits: int(r.limit_credits, 'budget alert limit_credits'),
    mode: r.mode as BudgetAlert['mode'],
    createdAt: int(r.created_at, 'budget alert created_at'),
  };
}

export const BUDGET_ALERT_COLUMNS = [
  'account_id',
  'alert_id',
  'scope',
  'target',
  'threshold',
  'period_start',
  'used',
  'held',
  'limit_credits',
  'mode',
  'created_at',
] as const;

export function budgetAlertValues(a: BudgetAlert): unknown[] {
  return [
    a.accountId,
    a.id,
    a.scope,
    a.target,
    a.threshold,
    a.periodStart,
    a.used,
    a.held,
    a.limitCredits,
    a.mode,
    a.createdAt,
  ];
}

/**
 * The rows to upsert in one statement, the last of each key kept: a statement may not change
 * one row twice (PostgreSQL refuses it), and the last write wins as it would row by row.
 */
export function lastByKey<T>(rows: readonly T[], key: (row: T) => string): T[] {
  const byKey = new Map<string, T>();
  for (const row of rows) {
    const k = key(row);
    byKey.delete(k);
    byKey.set(k, row);
  }
  return [...byKey.values()];
}

export const REQUEST_BATCH_COLUMNS = [
  'account_id',
  'batch_id',
  'idempotency_key',
  'created_at',
  'expires_at',
  'catalog_version',
  'attribution',
  'item_count',
] as const;

export function requestBatchValues(b: RequestBatch): unknown[] {
  return [
    b.accountId,
    b.id,
    b.idempotencyKey,
    b.createdAt,
    b.expiresAt,
    b.catalogVersion,
    JSON.stringify(b.attribution),
    b.items.length,
  ];
}

export const REQUEST_BATCH_ITEM_COLUMNS = [
  'account_id',
  'batch_id',
  'item_index',
  'hold_id',
  'ref',
] as const;

export function requestBatchItemValues(b: RequestBatch, item: RequestBatchItem): unknown[] {
  return [b.accountId, b.id, item.index, item.holdId, item.ref];
}

/** A batch from its row and its items' rows (item_index, hold_id, ref), in item order. */
export function toRequestBatch(r: Row, items: readonly Row[]): RequestBatch {
  const count = int(r.item_count, 'batch item_count');
  const out = items.map((i) => ({
    index: int(i.item_index, 'batch item_index'),
    holdId: i.hold_id as string,
    ref: text(i.ref),
  }));
  assert(
    out.length === count && out.every((item, n) => item.index === n),
    `batch ${String(r.batch_id)} has items 0 to ${count - 1}`,
  );
  return {
    accountId: r.account_id as string,
    id: r.batch_id as string,
    idempotencyKey: r.idempotency_key as string,
    createdAt: int(r.created_at, 'batch created_at'),
    expiresAt: int(r.expires_at, 'batch expires_at'),
    catalogVersion: r.catalog_version as string,
    attribution: json<RequestBatch['attribution']>(r.attribution),
    items: out,
  };
}

export const USAGE_COLUMNS = ['account_id', 'hour', 'dim', 'key', 'credits', 'units'] as const;

export function usageValues(u: UsageIncrement): unknown[] {
  return [u.accountId, u.hour, u.dim, u.key, u.credits, u.units];
}

export const FLOW_COLUMNS = [
  'account_id',
  'hour',
  'flow',
  'key',
  'credits',
  'first_transaction_id',
  'last_transaction_id',
] as const;

export function flowValues(f: FlowIncrement): unknown[] {
  return [f.accountId, f.hour, f.flow, f.key, f.credits, f.firstTransactionId, f.lastTransactionId];
}

export function toUsageRow(r: Row): UsageRow {
  return {
    dim: r.dim as UsageDim,
    key: r.key as string,
    credits: int(r.credits, 'usage credits'),
    units: int(r.units, 'usage units'),
  };
}

export function toFlowRow(r: Row): FlowRow {
  return { flow: r.flow as Flow, key: r.key as string, credits: int(r.credits, 'flow credits') };
}

export const OUTCOME_COLUMNS = [
  'account_id',
  'transaction_id',
  'outcome',
  'labels',
  'credits',
  'operation',
  'resolution',
  'units',
  'member',
  'project',
  'created_at',
  'recorded_at',
] as const;

export function outcomeValues(o: Outcome): unknown[] {
  return [
    o.accountId,
    o.transactionId,
    o.outcome,
    JSON.stringify(o.labels),
    o.credits,
    o.operation,
    o.resolution,
    o.units,
    o.member,
    o.project,
    o.createdAt,
    o.recordedAt,
  ];
}

export function toOutcome(r: Row): Outcome {
  return {
    accountId: r.account_id as string,
    transactionId: r.transaction_id as string,
    outcome: r.outcome as OutcomeKind,
    labels: json<Record<string, string>>(r.labels),
    credits: int(r.credits, 'outcome credits'),
    operation: r.operation as string,
    resolution: text(r.resolution),
    units: int(r.units, 'outcome units'),
    member: text(r.member),
    project: text(r.project),
    createdAt: int(r.created_at, 'outcome created_at'),
    recordedAt: int(r.recorded_at, 'outcome recorded_at'),
  };
}
