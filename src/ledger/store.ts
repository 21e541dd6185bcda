import type { Catalog } from '../core/catalog.js';
import type { Grant } from '../core/grants.js';
import type { Hold, HoldStatus } from '../core/holds.js';
import type { Book, JournalTransaction, TransactionKind } from '../core/journal.js';
import type { Subscription } from '../core/subscriptions.js';
import type { Purchase } from '../core/purchases.js';
import type { AutoTopup } from '../core/autotopup.js';
import type { RequestBatch } from '../core/batches.js';
import type { Outcome } from '../core/outcomes.js';
import type {
  FlowIncrement,
  FlowRow,
  Interval,
  UsageIncrement,
  UsageRow,
} from '../core/rollups.js';
import type {
  AccountKind,
  Budget,
  BudgetAlert,
  BudgetScope,
  Member,
  Project,
} from '../core/teams.js';
import type {
  Delivery,
  DeliveryAttempt,
  DeliveryStatus,
  WebhookEndpoint,
  WebhookEvent,
} from '../core/webhooks.js';

/**
 * The Store port: everything the ledger needs from storage, and nothing that names SQL.
 * Adapters live in src/store/ (SQLite now, PostgreSQL next); all of them pass the one
 * conformance suite in test/store-conformance.ts.
 *
 * Rules every adapter keeps:
 * - `write` runs its callback inside one database transaction and commits before resolving;
 *   nothing is acknowledged before its commit. If the callback throws, nothing is written.
 * - `lockAccount` serializes writers per account until the transaction ends (SQLite: the
 *   database write lock; PostgreSQL: a row lock), so decisions made on loaded rows hold.
 * - Every statement touches one account's rows, except the catalog and the reads marked
 *   "crosses accounts" (operator reports, sweeps and verify).
 * - Every amount read back is asserted to be a safe integer.
 */

export interface AccountRecord {
  readonly id: string;
  readonly createdAt: number;
  /** An organization pools credits for members (core/teams.ts); default 'individual'. */
  readonly kind: AccountKind;
  readonly name: string | null;
}

/**
 * An account as readers see it: with the plan of its active subscription (null without one).
 * The plan is the subscription's, never a label of the account, so there is one truth.
 */
export interface AccountView extends AccountRecord {
  readonly plan: string | null;
}

export interface IdempotencyRecord {
  readonly accountId: string;
  readonly key: string;
  readonly requestHash: string;
  /** The journal transaction the key produced; a replay rebuilds the result from it. */
  readonly transactionId: string;
  readonly createdAt: number;
}

export interface GrantRemaining {
  readonly accountId: string;
  readonly grantId: string;
  readonly remaining: number;
}

export interface CatalogRecord {
  readonly version: string;
  readonly body: Catalog;
  readonly digest: string;
  readonly loadedAt: number;
  readonly activatedAt: number;
}

export interface HistoryQuery {
  readonly accountId: string;
  readonly kinds?: readonly TransactionKind[];
  /** Inclusive lower bound on createdAt (epoch ms). */
  readonly since?: number;
  /** Exclusive upper bound on createdAt (epoch ms). */
  readonly until?: number;
  /** Return transactions older than this id (newest first). */
  readonly before?: string;
  readonly limit: number;
}

export interface BookSum {
  readonly book: Book;
  readonly grantId: string | null;
  readonly holdId: string | null;
  readonly credits: number;
}

/** Everything verify needs to recompute one account from its journal. */
export interface AccountAudit {
  readonly grants: readonly Grant[];
  readonly holds: readonly Hold[];
  readonly sums: readonly BookSum[];
  /** Transactions whose entries do not sum to zero, with their sums. */
  readonly unbalanced: readonly { readonly transactionId: string; readonly sum: number }[];
  /** Journal transactions that resolved each hold (capture, release, expiry), by hold id. */
  readonly resolutions: ReadonlyMap<string, number>;
  readonly transactionCount: number;
}

export interface DeliveryQuery {
  readonly accountId?: string;
  readonly endpointId?: string;
  readonly status?: DeliveryStatus;
  readonly limit: number;
}

export interface AccountKey {
  readonly accountId: string;
  readonly key: string;
}

export interface HoldRef {
  readonly accountId: string;
  readonly holdId: string;
}

/** What a report over a time range reads, as one snapshot (core/rollups.ts exactWindow). */
export interface RollupWindowQuery {
  readonly accountId: string;
  /** Whole hours [hoursFrom, hoursTo) whose rollups are summed (hour starts). */
  readonly hoursFrom: number;
  readonly hoursTo: number;
  /** Also sum the flows of every hour before hoursFrom (an opening balance). */
  readonly before: boolean;
  /** Also sum usage (a statement needs flows only). */
  readonly usage: boolean;
  /** Journal intervals read exactly, each inside one hour (the partial hours at the edges). */
  readonly journal: readonly Interval[];
}

export interface RollupWindow {
  /** Flows summed per flow and key over the hours before hoursFrom (empty unless `before`). */
  readonly flowsBefore: readonly FlowRow[];
  /** Flows summed per flow and key over [hoursFrom, hoursTo). */
  readonly flows: readonly FlowRow[];
  /** Usage summed per dim and key over [hoursFrom, hoursTo) (empty unless `usage`). */
  readonly usage: readonly UsageRow[];
  /** The journal transactions created in the intervals, oldest first, with their entries. */
  readonly transactions: readonly JournalTransaction[];
  /** The grants those transactions name (for their sources). */
  readonly grants: readonly Grant[];
  /** The holds their captures resolved (for their quote lines). */
  readonly holds: readonly Hold[];
  /** The account's journal predates its rollups: they need a rebuild (amisi rollups rebuild). */
  readonly pending: boolean;
}

export const API_KEY_SCOPES = ['operator', 'account'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** An API key as stored: its visible id and the hash of the whole key, never the key. */
export interface ApiKeyRecord {
  readonly id: string;
  /** SHA-256 (hex) of the whole key. */
  readonly secretHash: string;
  readonly scope: ApiKeyScope;
  /** The account an account key acts on; null for an operator key. */
  readonly accountId: string | null;
  readonly readOnly: boolean;
  readonly name: string | null;
  readonly createdAt: number;
  readonly revokedAt: number | null;
  /** A member key: the organization member (of accountId) whose role limits it; else null. */
  readonly memberId: string | null;
}

/**
 * The write side of the port. The bulk reads (several accounts in one call) let a batch load
 * everything its commands need in a few round trips; each names the accounts it reads, so on
 * a sharded database it only reaches their shards.
 */
export interface WriteTx {
  /**
   * Locks the accounts that exist among `accountIds` (in id order, so two batches never wait
   * on each other in a cycle) and returns them; the locks last until the transaction ends.
   */
  lockAccounts(accountIds: readonly string[]): Promise<AccountRecord[]>;
  /** Inserts an account; false (and nothing written) when the id exists. */
  insertAccount(account: AccountRecord): Promise<boolean>;

  /** Grants of these accounts that still have credits (remaining > 0), any expiry. */
  openGrants(accountIds: readonly string[]): Promise<Grant[]>;
  getGrant(accountId: string, grantId: string): Promise<Grant | undefined>;
  insertGrant(grant: Grant): Promise<void>;
  /** Inserts grants of any accounts (multi-row inserts welcome). */
  insertGrants(grants: readonly Grant[]): Promise<void>;
  /** Writes the final `remaining` of grants changed in a batch (one row per grant). */
  setGrantsRemaining(updates: readonly GrantRemaining[]): Promise<void>;

  /** The account of a hold, found by its id alone (crosses accounts: an index lookup). */
  findHoldAccount(holdId: string): Promise<string | undefined>;
  getHolds(refs: readonly HoldRef[]): Promise<Hold[]>;
  /** Holds of these accounts still held whose ttl has passed at `now`. */
  dueHolds(accountIds: readonly string[], now: number): Promise<Hold[]>;
  insertHold(hold: Hold): Promise<void>;
  resolveHold(
    accountId: string,
    holdId: string,
    status: Exclude<HoldStatus, 'held'>,
    capturedCredits: number,
    resolvedAt: number,
  ): Promise<void>;

  getTransaction(accountId: string, transactionId: string): Promise<JournalTransaction | undefined>;
  /** Appends balanced journal transactions with their entries (multi-row inserts welcome). */
  appendTransactions(txs: readonly JournalTransaction[]): Promise<void>;

  getIdempotency(refs: readonly AccountKey[]): Promise<IdempotencyRecord[]>;
  putIdempotency(records: readonly IdempotencyRecord[]): Promise<void>;

  /** The account of a purchase, found by its id alone (crosses accounts: an index lookup). */
  findPurchaseAccount(purchaseId: string): Promise<string | undefined>;
  getPurchase(accountId: string, purchaseId: string): Promise<Purchase | undefined>;
  insertPurchase(purchase: Purchase): Promise<void>;
  updatePurchase(purchase: Purchase): Promise<void>;
  /** Records a provider event as processed; false when it was already (a redelivery). */
  markPaymentEvent(accountId: string, eventId: string, at: number): Promise<boolean>;

  /** The auto top-up rules of these accounts (at most one each). */
  autoTopups(accountIds: readonly string[]): Promise<AutoTopup[]>;
  /** Inserts or replaces these rules (one per account). */
  putAutoTopups(rules: readonly AutoTopup[]): Promise<void>;
  /** Removes the account's rule; false when it had none. */
  deleteAutoTopup(accountId: string): Promise<boolean>;

  /** Endpoints not disabled (a batch reads them once, when it first has an event). */
  webhookEndpoints(): Promise<WebhookEndpoint[]>;
  /** One endpoint by id, disabled or not (a registration's replay). */
  webhookEndpoint(endpointId: string): Promise<WebhookEndpoint | undefined>;
  insertWebhookEndpoint(endpoint: WebhookEndpoint): Promise<void>;
  /** Disables an endpoint; false when there is no such endpoint or it is disabled already. */
  disableWebhookEndpoint(endpointId: string, at: number): Promise<boolean>;
  insertWebhookEvents(events: readonly WebhookEvent[]): Promise<void>;
  /** Which of these event ids the account already has. */
  webhookEventIds(accountId: string, eventIds: readonly string[]): Promise<string[]>;
  insertDeliveries(deliveries: readonly Delivery[]): Promise<void>;
  /**
   * Takes up to `limit` pending deliveries due at `now` (crosses accounts) and moves their next
   * attempt to `leaseUntil`, so no other deliverer takes them meanwhile (PostgreSQL: SKIP LOCKED).
   */
  claimDeliveries(now: number, leaseUntil: number, limit: number): Promise<Delivery[]>;
  /** Writes a delivery's new state and the attempt that led to it. */
  finishDelivery(delivery: Delivery, attempt: DeliveryAttempt): Promise<void>;

  /** The organization's members (invited ones too), in id order. */
  members(accountId: string): Promise<Member[]>;
  /** Inserts or replaces these members (keyed by account and member id). */
  putMembers(members: readonly Member[]): Promise<void>;
  /** Removes a member; false when there was none. */
  deleteMember(accountId: string, memberId: string): Promise<boolean>;
  /** The organization's projects, in id order. */
  projects(accountId: string): Promise<Project[]>;
  /** Inserts or replaces a project (keyed by account and project id). */
  putProject(project: Project): Promise<void>;
  /** The budgets of these accounts (the pool's row included). */
  budgets(accountIds: readonly string[]): Promise<Budget[]>;
  /** Inserts or replaces these budgets (keyed by account, scope and target). */
  putBudgets(budgets: readonly Budget[]): Promise<void>;
  /** Removes a budget; false when there was none. */
  deleteBudget(accountId: string, scope: BudgetScope, target: string): Promise<boolean>;
  insertBudgetAlerts(alerts: readonly BudgetAlert[]): Promise<void>;
  /** The thresholds already announced for this budget in the period that began at periodStart. */
  budgetAlertThresholds(
    accountId: string,
    scope: BudgetScope,
    target: string,
    periodStart: number,
  ): Promise<number[]>;
  /** The account's holds still held (ttl passed or not), oldest first. */
  openHoldsOf(accountId: string): Promise<Hold[]>;
  /** The account's transactions of these kinds created at or after `since`, oldest first. */
  transactionsSince(
    accountId: string,
    kinds: readonly TransactionKind[],
    since: number,
  ): Promise<JournalTransaction[]>;

  /** The active subscriptions of these accounts (at most one each). */
  activeSubscriptions(accountIds: readonly string[]): Promise<Subscription[]>;
  insertSubscription(subscription: Subscription): Promise<void>;
  /** Replaces the subscription's row (it is locked through its account). */
  updateSubscription(subscription: Subscription): Promise<void>;
  /** Replaces the rows of these subscriptions (distinct ids; one statement welcome). */
  updateSubscriptions(subscriptions: readonly Subscription[]): Promise<void>;

  /** API keys are credentials, not ledger state; they cross accounts (an index lookup). */
  insertApiKey(key: ApiKeyRecord): Promise<void>;
  /** Marks a key revoked at `at`; false when there is no such key or it was revoked already. */
  revokeApiKey(keyId: string, at: number): Promise<boolean>;
  /** Revokes every key of the organization's member (it left); returns how many. */
  revokeMemberKeys(accountId: string, memberId: string, at: number): Promise<number>;

  activeCatalog(): Promise<CatalogRecord | undefined>;
  getCatalog(version: string): Promise<CatalogRecord | undefined>;
  /** Stores a catalog version; false (and nothing written) when the version exists. */
  putCatalog(record: CatalogRecord): Promise<boolean>;
  activateCatalog(version: string, at: number): Promise<void>;

  /** Adds these increments to usage_hourly (rows with the same key add up; one key per row). */
  addUsage(rows: readonly UsageIncrement[]): Promise<void>;
  /** Adds these increments to flows_hourly, widening each row's first and last transaction. */
  addFlows(rows: readonly FlowIncrement[]): Promise<void>;
  /** Deletes the account's rollups and its mark as pending a rebuild (a rebuild starts here). */
  clearRollups(accountId: string): Promise<void>;
  /** The account's journal in id order after `afterId` (null: from the start), with entries. */
  journalPage(
    accountId: string,
    afterId: string | null,
    limit: number,
  ): Promise<JournalTransaction[]>;
  /** The outcome recorded for a charge or capture of the account, if any. */
  getOutcome(accountId: string, transactionId: string): Promise<Outcome | undefined>;
  /** Inserts or replaces outcomes (keyed by account and transaction; one row per key). */
  putOutcomes(outcomes: readonly Outcome[]): Promise<void>;

  /** Inserts a request batch with its items (their holds are inserted by the batch too). */
  insertRequestBatch(batch: RequestBatch): Promise<void>;
  /** A request batch of the account, with its items in order. */
  getRequestBatch(accountId: string, batchId: string): Promise<RequestBatch | undefined>;
}

export interface Store {
  readonly kind: string;
  /**
   * How many write transactions may run at once. SQLite: 1 (one writer). PostgreSQL: a few,
   * so the next batch is built while one commits; accounts they share wait on row locks.
   */
  readonly writeConcurrency: number;
  /** Applies pending migrations in order; returns how many ran. */
  migrate(): Promise<number>;
  write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T>;

  getAccount(accountId: string): Promise<AccountView | undefined>;
  /**
   * Accounts in id order after `afterId` (crosses accounts: operator listing). With `search`,
   * only those whose id or name contains it, ignoring case.
   */
  listAccounts(afterId: string | null, limit: number, search?: string): Promise<AccountView[]>;
  /** Every grant of the account, newest first. */
  listGrants(accountId: string): Promise<Grant[]>;
  /** The grants with credits or reservations and the open holds, read as one snapshot. */
  accountView(accountId: string): Promise<{ grants: Grant[]; holds: Hold[] }>;
  openHolds(accountId: string): Promise<Hold[]>;
  findHold(holdId: string): Promise<Hold | undefined>;
  listTransactions(query: HistoryQuery): Promise<JournalTransaction[]>;
  activeCatalog(): Promise<CatalogRecord | undefined>;
  getCatalog(version: string): Promise<CatalogRecord | undefined>;
  listCatalogs(): Promise<CatalogRecord[]>;
  accountAudit(accountId: string): Promise<AccountAudit>;
  /** Accounts with an expired grant that still has credits or a hold past its ttl (crosses accounts: the sweep). */
  accountsDue(now: number, limit: number): Promise<string[]>;
  findPurchase(purchaseId: string): Promise<Purchase | undefined>;
  listPurchases(accountId: string): Promise<Purchase[]>;
  getAutoTopup(accountId: string): Promise<AutoTopup | undefined>;
  listWebhookEndpoints(): Promise<WebhookEndpoint[]>;
  getWebhookEvent(accountId: string, eventId: string): Promise<WebhookEvent | undefined>;
  /** Deliveries newest first, optionally of one account, endpoint or status (crosses accounts). */
  listDeliveries(query: DeliveryQuery): Promise<Delivery[]>;
  findDelivery(deliveryId: string): Promise<Delivery | undefined>;
  listAttempts(accountId: string, deliveryId: string): Promise<DeliveryAttempt[]>;
  /** Grants with credits expiring in (from, to], soonest first (crosses accounts: a scan job). */
  grantsExpiring(from: number, to: number, limit: number): Promise<Grant[]>;
  /** Auto top-up purchases still waiting for a checkout, oldest first (crosses accounts). */
  autoTopupsAwaitingCheckout(limit: number): Promise<Purchase[]>;
  /** The account's active subscription, else its latest one. */
  getSubscription(accountId: string): Promise<Subscription | undefined>;
  /** Accounts whose subscription renews at or before `until` (crosses accounts: the renewal sweep). */
  dueSubscriptions(until: number, limit: number): Promise<string[]>;
  /** An API key by its visible id (crosses accounts: a primary-key lookup). */
  getApiKey(keyId: string): Promise<ApiKeyRecord | undefined>;
  /** Every API key, revoked ones too, oldest first (crosses accounts: operator listing). */
  listApiKeys(): Promise<ApiKeyRecord[]>;
  listMembers(accountId: string): Promise<Member[]>;
  getMember(accountId: string, memberId: string): Promise<Member | undefined>;
  listProjects(accountId: string): Promise<Project[]>;
  /** The account's budgets as stored (a cycle budget may still show a period that has ended). */
  listBudgets(accountId: string): Promise<Budget[]>;
  /** The account's budget alerts, newest first. */
  listBudgetAlerts(accountId: string, limit: number): Promise<BudgetAlert[]>;
  /** Holds still held in every account (crosses accounts: the metrics gauge). */
  countOpenHolds(): Promise<number>;
  /** Deletes idempotency records created before `before`; returns how many. */
  purgeIdempotency(before: number, limit: number): Promise<number>;
  /** Rollups of a time range and the journal of its edge hours, as one snapshot. */
  rollupWindow(query: RollupWindowQuery): Promise<RollupWindow>;
  /** Outcomes of the account's charges and captures created in [from, to), oldest first. */
  outcomesBetween(accountId: string, from: number, to: number): Promise<Outcome[]>;
  /** Accounts whose rollups await a rebuild, in id order after `afterId` (crosses accounts). */
  accountsPendingRollups(afterId: string | null, limit: number): Promise<string[]>;
  /** A journal transaction of the account with its entries. */
  getTransaction(accountId: string, transactionId: string): Promise<JournalTransaction | undefined>;
  /**
   * A request batch found by its id alone (crosses accounts: an index lookup, like findHold),
   * with its items' holds, read as one snapshot.
   */
  findRequestBatch(batchId: string): Promise<RequestBatchRead | undefined>;
  close(): Promise<void>;
}

/** A request batch and the holds of its items, as one snapshot. */
export interface RequestBatchRead {
  readonly batch: RequestBatch;
  readonly holds: readonly Hold[];
}
