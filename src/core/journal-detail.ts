import { assert } from './errors.js';
import { GRANT_SOURCES, type GrantSource } from './grants.js';
import type { Attribution } from './holds.js';
import { TRANSACTION_KINDS, type TransactionKind } from './journal.js';
import type { QuoteLine } from './quote.js';
import type { Subscription } from './subscriptions.js';

/**
 * What a journal transaction's detail holds, one shape per kind: exactly the fields the ledger
 * writes there (quote lines, attribution, reasons, what a replay answers). The JSON stored is the
 * object the writer built, in its key order; reading it back checks it against its kind's shape
 * once (`parseDetail`), so readers narrow by `kind` and never cast.
 *
 * Fields added after rows were first written are optional here, because those rows stay in the
 * journal: `hold_expiry.attribution` (since the teams review, before it a hold's expiry named no
 * member) and `subscription.providerRef` in a plan change (since plans billed through Stripe).
 *
 * Keys this version does not know are kept and not refused: several servers may share one
 * database, and during a rolling deploy an older one reads what a newer one wrote.
 */

/** A grant made by the operator or the ledger (`grant`: allocation, promotion, adjustment, ...). */
export type GrantDetail = {
  readonly source: GrantSource;
  readonly reason?: string;
};

/** The grant of a paid pack purchase. */
export type PurchaseGrantDetail = {
  readonly source: 'purchase';
  readonly purchaseId: string;
  readonly pack: string;
  readonly priceCents: number;
  readonly currency: string;
  readonly paymentRef: string;
};

/** A hold of a request batch names the batch and its item. */
export type HoldBatchRef = { readonly id: string; readonly item: number };

/** A release of a request batch; the first release of one call lists every item it released. */
export type ReleaseBatchRef = HoldBatchRef & { readonly released?: readonly number[] };

export type HoldDetail = {
  readonly credits: number;
  readonly attribution: Attribution;
  /** The quote's lines; empty when the hold was for plain credits. */
  readonly lines: readonly QuoteLine[];
  readonly batch?: HoldBatchRef;
  /** When the hold was to expire as made (missing in rows written before holds could extend). */
  readonly expiresAt?: number;
};

export type CaptureDetail = {
  readonly captured: number;
  readonly released: number;
  readonly attribution: Attribution;
  /** Credits captured in parts before this (missing: none, as before partial captures). */
  readonly capturedBefore?: number;
};

/** A capture that keeps the rest held (`final: false`): what it took, and what is still held. */
export type PartialCaptureDetail = {
  readonly captured: number;
  readonly capturedBefore: number;
  readonly held: number;
  readonly attribution: Attribution;
};

/** A hold's new ttl: when it expires now, and when it was to expire before. */
export type HoldExtensionDetail = {
  readonly expiresAt: number;
  readonly previousExpiresAt: number;
};

/** More credits reserved on an open hold (a job bigger than quoted): priced by its own lines. */
export type HoldIncreaseDetail = {
  readonly credits: number;
  /** The hold's credits after the increase. */
  readonly total: number;
  readonly attribution: Attribution;
  readonly lines: readonly QuoteLine[];
};

export type ReleaseDetail = CaptureDetail & { readonly batch?: ReleaseBatchRef };

export type HoldExpiryDetail = {
  readonly credits: number;
  readonly reason: string;
  /** Missing in rows written before holds' expiries named their attribution. */
  readonly attribution?: Attribution;
};

export type ChargeDetail = {
  readonly credits: number;
  readonly attribution: Attribution;
  readonly lines: readonly QuoteLine[];
};

export type GrantExpiryDetail = { readonly credits: number; readonly source: GrantSource };

/** A renewal at a cycle boundary: what ended, what rolled over, what was granted. */
export type CycleRenewalDetail = {
  readonly subscriptionId: string;
  readonly cycle: number;
  readonly at: number;
  readonly plan: string;
  readonly unused: number;
  readonly rolled: number;
  readonly expired: number;
  readonly trimmed: number;
  readonly allocation: number;
  readonly ended: boolean;
};

export const SUBSCRIPTION_CHANGES = [
  'subscribe',
  'upgrade',
  'downgrade',
  'cancel',
  'unchanged',
] as const;
export type SubscriptionChange = (typeof SUBSCRIPTION_CHANGES)[number];

/** The subscription as a plan change left it; `providerRef` is missing in rows written before it. */
export type StoredSubscription = Omit<Subscription, 'providerRef'> & {
  readonly providerRef?: string | null;
};

/** A subscribe or plan change: the result a replay answers. */
export type SubscriptionChangeDetail = {
  readonly subscription: StoredSubscription;
  readonly chargeCents: number;
  readonly currency: string;
  readonly credits: number;
  readonly change: SubscriptionChange;
};

export type RefundDetail = {
  readonly purchaseId: string;
  readonly credits: number;
  readonly cents: number;
  readonly currency: string;
  readonly full: boolean;
};

/** Credits of the account's grants that paid its debt (core/overdraft.ts), and what is owed after. */
export type RepaymentDetail = { readonly credits: number; readonly debt: number };

/** Each kind's detail. A subscribe that grants credits is journaled as a renewal. */
export interface DetailOf {
  readonly grant: GrantDetail | PurchaseGrantDetail;
  readonly hold: HoldDetail;
  readonly capture: CaptureDetail;
  readonly release: ReleaseDetail;
  readonly hold_expiry: HoldExpiryDetail;
  readonly charge: ChargeDetail;
  readonly grant_expiry: GrantExpiryDetail;
  readonly renewal: CycleRenewalDetail | SubscriptionChangeDetail;
  readonly plan_change: SubscriptionChangeDetail;
  readonly refund: RefundDetail;
  readonly repayment: RepaymentDetail;
  readonly partial_capture: PartialCaptureDetail;
  readonly hold_extension: HoldExtensionDetail;
  readonly hold_increase: HoldIncreaseDetail;
}

/** A kind with its detail: `kind` narrows `detail`. */
export type KindDetail = {
  [K in TransactionKind]: { readonly kind: K; readonly detail: DetailOf[K] };
}[TransactionKind];

/** A purchase's grant (rather than one the operator made). */
export function isPurchaseGrant(d: DetailOf['grant']): d is PurchaseGrantDetail {
  return 'purchaseId' in d;
}

/** A subscribe or plan change journaled as a renewal (rather than a cycle's renewal). */
export function isSubscriptionChange(
  d: DetailOf['renewal'] | DetailOf['plan_change'],
): d is SubscriptionChangeDetail {
  return 'change' in d;
}

/** Who a hold, its resolution or a charge was for; null for other kinds. */
export function attributionOf(t: KindDetail): Attribution | null {
  switch (t.kind) {
    case 'hold':
    case 'capture':
    case 'release':
    case 'charge':
    case 'partial_capture':
    case 'hold_increase':
      return t.detail.attribution;
    case 'hold_expiry':
      return t.detail.attribution ?? null;
    default:
      return null;
  }
}

/**
 * The quote lines a hold, a hold's increase or a charge was priced by (empty for plain credits
 * and other kinds).
 */
export function linesOf(t: KindDetail): readonly QuoteLine[] {
  return t.kind === 'hold' || t.kind === 'charge' || t.kind === 'hold_increase'
    ? t.detail.lines
    : [];
}

// The checks: each asserts one field of the object at `path` and answers the value typed.

type Fields = Readonly<Record<string, unknown>>;

function object(value: unknown, path: string): Fields {
  assert(
    typeof value === 'object' && value !== null && !Array.isArray(value),
    `${path} is an object`,
  );
  return value as Fields;
}

function text(o: Fields, key: string, path: string): string {
  const v = o[key];
  assert(typeof v === 'string', `${path}.${key} is a string`);
  return v;
}

function textOrNull(o: Fields, key: string, path: string): string | null {
  const v = o[key];
  assert(v === null || typeof v === 'string', `${path}.${key} is a string or null`);
  return v;
}

function integer(o: Fields, key: string, path: string): number {
  const v = o[key];
  assert(typeof v === 'number' && Number.isSafeInteger(v), `${path}.${key} is a safe integer`);
  return v;
}

function integerOrNull(o: Fields, key: string, path: string): number | null {
  if (o[key] === null) return null;
  return integer(o, key, path);
}

function flag(o: Fields, key: string, path: string): boolean {
  const v = o[key];
  assert(typeof v === 'boolean', `${path}.${key} is true or false`);
  return v;
}

function oneOf<T extends string>(o: Fields, key: string, allowed: readonly T[], path: string): T {
  const v = o[key];
  assert(
    typeof v === 'string' && (allowed as readonly string[]).includes(v),
    `${path}.${key} is one of ${allowed.join(', ')}`,
  );
  return v as T;
}

function present(o: Fields, key: string): boolean {
  return Object.hasOwn(o, key);
}

function texts(value: unknown, path: string): void {
  const o = object(value, path);
  for (const key of Object.keys(o)) text(o, key, path);
}

function attribution(value: unknown, path: string): void {
  const o = object(value, path);
  textOrNull(o, 'member', path);
  textOrNull(o, 'project', path);
  texts(o.labels, `${path}.labels`);
}

function quoteLines(value: unknown, path: string): void {
  assert(Array.isArray(value), `${path} is a list`);
  value.forEach((line: unknown, i) => {
    const at = `${path}[${i}]`;
    const o = object(line, at);
    text(o, 'operation', at);
    texts(o.params, `${at}.params`);
    text(o, 'unit', at);
    for (const key of ['unitCredits', 'count', 'credits']) integer(o, key, at);
  });
}

function batchRef(value: unknown, path: string, releases: boolean): void {
  const o = object(value, path);
  text(o, 'id', path);
  integer(o, 'item', path);
  if (releases && present(o, 'released')) {
    const released: unknown = o.released;
    assert(Array.isArray(released), `${path}.released is a list`);
    released.forEach((n: unknown, i) =>
      assert(Number.isSafeInteger(n), `${path}.released[${i}] is a safe integer`),
    );
  }
}

function subscription(value: unknown, path: string): void {
  const o = object(value, path);
  for (const key of ['accountId', 'id', 'plan']) text(o, key, path);
  textOrNull(o, 'pendingPlan', path);
  for (const key of ['anchorAt', 'cycleIndex', 'nextRenewalAt', 'createdAt']) integer(o, key, path);
  oneOf(o, 'status', ['active', 'ended'], path);
  integerOrNull(o, 'cancelAt', path);
  textOrNull(o, 'allocationGrantId', path);
  if (present(o, 'providerRef')) textOrNull(o, 'providerRef', path);
}

function grantDetail(o: Fields, path: string): void {
  oneOf(o, 'source', GRANT_SOURCES, path);
  if (present(o, 'purchaseId')) {
    assert(o.source === 'purchase', `${path}.source of a purchase's grant is purchase`);
    for (const key of ['purchaseId', 'pack', 'currency', 'paymentRef']) text(o, key, path);
    integer(o, 'priceCents', path);
  } else if (present(o, 'reason')) {
    text(o, 'reason', path);
  }
}

function spendDetail(o: Fields, path: string): void {
  integer(o, 'credits', path);
  attribution(o.attribution, `${path}.attribution`);
  quoteLines(o.lines, `${path}.lines`);
}

function resolveDetail(o: Fields, path: string): void {
  integer(o, 'captured', path);
  integer(o, 'released', path);
  attribution(o.attribution, `${path}.attribution`);
  if (present(o, 'capturedBefore')) integer(o, 'capturedBefore', path);
}

function cycleRenewalDetail(o: Fields, path: string): void {
  text(o, 'subscriptionId', path);
  text(o, 'plan', path);
  for (const key of ['cycle', 'at', 'unused', 'rolled', 'expired', 'trimmed', 'allocation']) {
    integer(o, key, path);
  }
  flag(o, 'ended', path);
}

function subscriptionChangeDetail(o: Fields, path: string): void {
  subscription(o.subscription, `${path}.subscription`);
  integer(o, 'chargeCents', path);
  text(o, 'currency', path);
  integer(o, 'credits', path);
  oneOf(o, 'change', SUBSCRIPTION_CHANGES, path);
}

/** Checks one kind's fields; `o` is the detail object. */
const CHECKS: { readonly [K in TransactionKind]: (o: Fields, path: string) => void } = {
  grant: grantDetail,
  hold: (o, path) => {
    spendDetail(o, path);
    if (present(o, 'batch')) batchRef(o.batch, `${path}.batch`, false);
    if (present(o, 'expiresAt')) integer(o, 'expiresAt', path);
  },
  capture: resolveDetail,
  release: (o, path) => {
    resolveDetail(o, path);
    if (present(o, 'batch')) batchRef(o.batch, `${path}.batch`, true);
  },
  hold_expiry: (o, path) => {
    integer(o, 'credits', path);
    text(o, 'reason', path);
    if (present(o, 'attribution')) attribution(o.attribution, `${path}.attribution`);
  },
  charge: spendDetail,
  grant_expiry: (o, path) => {
    integer(o, 'credits', path);
    oneOf(o, 'source', GRANT_SOURCES, path);
  },
  renewal: (o, path) =>
    present(o, 'change') ? subscriptionChangeDetail(o, path) : cycleRenewalDetail(o, path),
  plan_change: subscriptionChangeDetail,
  refund: (o, path) => {
    text(o, 'purchaseId', path);
    integer(o, 'credits', path);
    integer(o, 'cents', path);
    text(o, 'currency', path);
    flag(o, 'full', path);
  },
  repayment: (o, path) => {
    integer(o, 'credits', path);
    integer(o, 'debt', path);
  },
  partial_capture: (o, path) => {
    for (const key of ['captured', 'capturedBefore', 'held']) integer(o, key, path);
    attribution(o.attribution, `${path}.attribution`);
  },
  hold_extension: (o, path) => {
    integer(o, 'expiresAt', path);
    integer(o, 'previousExpiresAt', path);
  },
  hold_increase: (o, path) => {
    integer(o, 'total', path);
    spendDetail(o, path);
  },
};

/**
 * A stored transaction's kind and detail, checked against the kind's shape (a malformed row is
 * a bug or a damaged database: an assertion names the field). The detail is answered as stored,
 * the same object, so what history shows is what was written. `where` names the row.
 */
export function parseDetail(
  kind: string,
  json: unknown,
  where = 'journal transaction',
): KindDetail {
  assert(
    (TRANSACTION_KINDS as readonly string[]).includes(kind),
    `${where}: kind ${kind} is known`,
  );
  const path = `${where}: detail`;
  CHECKS[kind as TransactionKind](object(json, path), path);
  // Checked just above against the shape of `kind`: this is the one place that says so.
  return { kind, detail: json } as KindDetail;
}
