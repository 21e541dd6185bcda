import type { GatewayJob } from '../core/gateway-routes.js';
import type { OverdraftState } from '../core/overdraft.js';
import type { TestClock } from '../core/clocks.js';
import type { Catalog } from '../core/catalog.js';
import type { Grant } from '../core/grants.js';
import type { Hold } from '../core/holds.js';
import type { Book, JournalTransaction } from '../core/journal.js';
import type { Subscription } from '../core/subscriptions.js';
import type { Purchase } from '../core/purchases.js';
import type { PlanUpgrade } from '../core/upgrades.js';
import type { AutoTopup } from '../core/autotopup.js';
import type { RequestBatch, RequestBatchItem } from '../core/batches.js';
import type { Outcome } from '../core/outcomes.js';
import type {
  FlowIncrement,
  FlowRow,
  Interval,
  UsageIncrement,
  UsageRow,
} from '../core/rollups.js';
import type { AccountKind, Budget, BudgetAlert, Member, Project } from '../core/teams.js';
import type { Delivery, DeliveryAttempt, WebhookEndpoint, WebhookEvent } from '../core/webhooks.js';

/**
 * The Store port: everything the ledger needs from storage, and nothing that names SQL.
 * Adapters live in src/store/ (one SQL store over SQLite and PostgreSQL); all of them pass the
 * one conformance suite in test/store/conformance.ts (docs/adr/0011-one-sql-store.md, "Port").
 *
 * Most of it is one generic reader and writer over record kinds (`grants`, `holds`, `members`,
 * ...: one record type each, field names the records'); the few methods beside them are the
 * queries that are really specific: account locks, the journal with its entries, rollups that
 * add up, the delivery claim, sweeps and audits. Secret-bearing records (a webhook endpoint's
 * signing secret, an API key's hash) read through the generic reader without their secret;
 * `webhookTargets` and `keyForCheck` are the only ways to the secrets.
 *
 * Rules every adapter keeps:
 * - `write` runs its callback inside one database transaction and commits before resolving;
 *   nothing is acknowledged before its commit. If the callback throws, nothing is written.
 * - `lockAccounts` serializes writers per account until the transaction ends (SQLite: the
 *   database write lock; PostgreSQL: a row lock), so decisions made on loaded rows hold.
 * - Every statement touches one account's rows, except the catalog and the reads that name no
 *   account (operator reports, sweeps and verify): test/store/single-account.test.ts.
 * - Every amount read back is asserted to be a safe integer.
 */

export interface AccountRecord extends OverdraftState {
  readonly id: string;
  readonly createdAt: number;
  /** An organization pools credits for members (core/teams.ts); default 'individual'. */
  readonly kind: AccountKind;
  readonly name: string | null;
  /** The test clock the account was made on (its time is the clock's), or null: real time. */
  readonly testClockId: string | null;
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

export interface CatalogRecord {
  readonly version: string;
  readonly body: Catalog;
  readonly digest: string;
  readonly loadedAt: number;
  readonly activatedAt: number;
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
  /** The account row's overdraft counters, in the same snapshot. */
  readonly overdraft: Pick<OverdraftState, 'debt' | 'overdraftHeld'>;
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
  /** When the key stops working by itself (a short-lived key); null: only a revocation ends it. */
  readonly expiresAt: number | null;
}

/** A request batch as stored: its items are records of their own (`request_batch_items`). */
export type RequestBatchRecord = Omit<RequestBatch, 'items'> & { readonly itemCount: number };
export type RequestBatchItemRecord = RequestBatchItem & {
  readonly accountId: string;
  readonly batchId: string;
};
/** A payment provider's event, recorded once (a redelivery finds it). */
export interface PaymentEventRecord {
  readonly accountId: string;
  readonly eventId: string;
  readonly processedAt: number;
}
/** An account whose journal predates its rollups (it awaits `amisi rollups rebuild`). */
export interface RollupsPendingRecord {
  readonly accountId: string;
}
/** A journal transaction as the journal reader filters it (its entries come with it). */
export type TransactionRecord = Omit<JournalTransaction, 'entries'>;

/** An endpoint as the generic reader answers it: without its signing secret. */
export type WebhookEndpointInfo = Omit<WebhookEndpoint, 'secret'>;
/** An API key as the generic reader answers it: without the hash of the key. */
export type ApiKeyInfo = Omit<ApiKeyRecord, 'secretHash'>;

/** Every record kind as written, by kind (each is one table of the SQL store). */
export interface StoredRecords {
  accounts: AccountRecord;
  catalogs: CatalogRecord;
  grants: Grant;
  holds: Hold;
  idempotency: IdempotencyRecord;
  subscriptions: Subscription;
  purchases: Purchase;
  plan_upgrades: PlanUpgrade;
  payment_events: PaymentEventRecord;
  autotopups: AutoTopup;
  api_keys: ApiKeyRecord;
  webhook_endpoints: WebhookEndpoint;
  webhook_events: WebhookEvent;
  webhook_deliveries: Delivery;
  webhook_attempts: DeliveryAttempt;
  members: Member;
  projects: Project;
  budgets: Budget;
  budget_alerts: BudgetAlert;
  request_batches: RequestBatchRecord;
  request_batch_items: RequestBatchItemRecord;
  usage_hourly: UsageIncrement;
  flows_hourly: FlowIncrement;
  rollups_pending: RollupsPendingRecord;
  outcomes: Outcome;
  test_clocks: TestClock;
  gateway_jobs: GatewayJob;
}
export type Kind = keyof StoredRecords;
/** The kinds that carry a secret: the generic reader answers them without it. */
export type SecretKind = 'api_keys' | 'webhook_endpoints';

/** Every record kind as the generic reader answers it (secrets left out). */
export type Records = Omit<StoredRecords, SecretKind> & {
  api_keys: ApiKeyInfo;
  webhook_endpoints: WebhookEndpointInfo;
};

/** Each kind's key: the fields that name one record (what getMany and updateMany address). */
export interface RecordKeys {
  accounts: 'id';
  catalogs: 'version';
  grants: 'accountId' | 'id';
  holds: 'accountId' | 'id';
  idempotency: 'accountId' | 'key';
  subscriptions: 'accountId' | 'id';
  purchases: 'accountId' | 'id';
  plan_upgrades: 'accountId' | 'id';
  payment_events: 'accountId' | 'eventId';
  autotopups: 'accountId';
  api_keys: 'id';
  webhook_endpoints: 'id';
  webhook_events: 'accountId' | 'id';
  webhook_deliveries: 'accountId' | 'id';
  webhook_attempts: 'accountId' | 'deliveryId' | 'attempt';
  members: 'accountId' | 'id';
  projects: 'accountId' | 'id';
  budgets: 'accountId' | 'scope' | 'target';
  budget_alerts: 'accountId' | 'id';
  request_batches: 'accountId' | 'id';
  request_batch_items: 'accountId' | 'batchId' | 'index';
  usage_hourly: 'accountId' | 'hour' | 'dim' | 'key';
  flows_hourly: 'accountId' | 'hour' | 'flow' | 'key';
  rollups_pending: 'accountId';
  test_clocks: 'id';
  outcomes: 'accountId' | 'transactionId';
  gateway_jobs: 'accountId' | 'holdId';
}
/** The key fields of kind K, and a key of a record of kind K. */
export type KeyField<K extends Kind> = RecordKeys[K] & keyof StoredRecords[K];
export type KeyOf<K extends Kind> = Pick<StoredRecords[K], KeyField<K>>;

/** A bound on a field: `{ gte: from, lt: to }`; `{ not: null }` is "is not null". */
export interface Range<V> {
  readonly gt?: V | undefined;
  readonly gte?: V | undefined;
  readonly lt?: V | undefined;
  readonly lte?: V | undefined;
  readonly not?: null;
}

/**
 * Conditions on a record's fields, joined by AND: a value (null: is null), a list (any of) or
 * a range; undefined leaves the field unconstrained.
 */
export type Where<R> = {
  readonly [F in keyof R]?: R[F] | null | readonly R[F][] | Range<R[F]> | undefined;
};

/** A field, ascending, or `field desc`. */
export type Order<R> = (keyof R & string) | `${keyof R & string} desc`;

export interface FindOptions<R, F extends keyof R = keyof R> {
  readonly order?: readonly Order<R>[];
  readonly limit?: number;
  /** Lock the rows read until the transaction ends (in a write transaction). */
  readonly lock?: boolean;
  /** Read only these fields: the records then carry only them. */
  readonly fields?: readonly (F & string)[];
}

/** What an insert does with a record whose key exists: fail, skip it, or replace it. */
export type Conflict = 'fail' | 'skip' | 'replace';

/** The journal reader's conditions: always one account's journal. */
export type JournalWhere = Where<TransactionRecord> & { readonly accountId: string };
export type JournalOptions = Pick<FindOptions<TransactionRecord>, 'order' | 'limit'>;

/**
 * The generic reader, shared by the store (committed data) and the write transaction (its own
 * writes included). Typed per kind: `find('holds', { accountId, status: 'held' })` answers
 * Holds; `fields` narrows the records to those fields.
 */
export interface Reader {
  /** The first record that matches, in the order given. */
  get<K extends Kind, F extends keyof Records[K] = keyof Records[K]>(
    kind: K,
    where: Where<Records[K]>,
    options?: FindOptions<Records[K], F>,
  ): Promise<Pick<Records[K], F> | undefined>;
  find<K extends Kind, F extends keyof Records[K] = keyof Records[K]>(
    kind: K,
    where: Where<Records[K]>,
    options?: FindOptions<Records[K], F>,
  ): Promise<Pick<Records[K], F>[]>;
  /**
   * The records for each of `values` of one field (the accounts of a commit group), grouped
   * by that field in the order of `values`, each group in the order given. A bulk read: each
   * value names the accounts it reads, so on a sharded database it reaches only their shards.
   */
  findFor<
    K extends Kind,
    G extends keyof Records[K] & string,
    F extends keyof Records[K] = keyof Records[K],
  >(
    kind: K,
    field: G,
    values: readonly Records[K][G][],
    where?: Where<Records[K]>,
    options?: FindOptions<Records[K], F>,
  ): Promise<Pick<Records[K], F>[]>;
  /** The records whose keys are among `keys` (any order; a missing key is left out). */
  getMany<K extends Exclude<Kind, SecretKind>>(
    kind: K,
    keys: readonly KeyOf<K>[],
  ): Promise<Records[K][]>;
  count<K extends Kind>(kind: K, where: Where<Records[K]>): Promise<number>;
  /** Journal transactions of one account with their entries, in the order given. */
  journal(where: JournalWhere, options?: JournalOptions): Promise<JournalTransaction[]>;
}

/** Webhooks: the only read of the endpoints' signing secrets. */
export interface WebhookSecrets {
  /**
   * Endpoints with their signing secrets, disabled ones too (of these ids, or all): for the
   * deliverer, which signs with them, and for a registration's replay, which answers the
   * secret again. Nothing else reads a secret.
   */
  webhookTargets(endpointIds?: readonly string[]): Promise<WebhookEndpoint[]>;
}

/**
 * The write side of the ledger: locks, the generic writer, the journal. Commands reach it
 * only through the unit of work (ledger/unit-of-work.ts).
 */
export interface LedgerWrites {
  /**
   * Locks the accounts that exist among `accountIds` (in id order, so two commit groups never
   * wait on each other in a cycle) and returns them; the locks last until the transaction ends.
   */
  lockAccounts(accountIds: readonly string[]): Promise<AccountRecord[]>;
  /** Inserts records (multi-row statements); returns how many were written. */
  insert<K extends Kind>(
    kind: K,
    records: readonly StoredRecords[K][],
    conflict?: Conflict,
  ): Promise<number>;
  /** Sets these fields on every record that matches; returns how many changed. */
  update<K extends Kind>(
    kind: K,
    set: Partial<StoredRecords[K]>,
    where: Where<Records[K]>,
  ): Promise<number>;
  /**
   * Sets `fields` (default: every field but the key) of each record, found by its key (one
   * statement welcome); returns how many changed.
   */
  updateMany<K extends Kind, F extends keyof StoredRecords[K] = keyof StoredRecords[K]>(
    kind: K,
    records: readonly Pick<StoredRecords[K], KeyField<K> | F>[],
    fields?: readonly (F & string)[],
  ): Promise<number>;
  /** Deletes the records that match (the condition may not be empty); returns how many. */
  delete<K extends Kind>(kind: K, where: Where<Records[K]>): Promise<number>;
  /** Appends balanced journal transactions with their entries (multi-row inserts welcome). */
  appendTransactions(txs: readonly JournalTransaction[]): Promise<void>;
}

/** Reports' writes: hourly rollups, which add up. */
export interface ReportWrites {
  /**
   * Adds these increments to the hourly rollups: rows of one key add up (one key per row);
   * a flow row widens its first and last transaction.
   */
  addRollups(usage: readonly UsageIncrement[], flows: readonly FlowIncrement[]): Promise<void>;
}

/** Webhooks' delivery claim. */
export interface WebhookWrites {
  /**
   * Takes up to `limit` pending deliveries due at `now` (crosses accounts) and moves their next
   * attempt to `leaseUntil`, so no other deliverer takes them meanwhile (PostgreSQL: SKIP LOCKED).
   */
  claimDeliveries(now: number, leaseUntil: number, limit: number): Promise<Delivery[]>;
}

/** The write transaction `Store.write` hands its callback. */
export interface WriteTx
  extends Reader, WebhookSecrets, LedgerWrites, ReportWrites, WebhookWrites {}

/** Accounts in id order (crosses accounts: the operator listing), or one account. */
export type AccountQuery =
  | { readonly id: string }
  | {
      readonly afterId: string | null;
      readonly limit: number;
      /** Only accounts whose id or name contains it, ignoring case. */
      readonly search?: string;
    };

/** Reports and sweeps: reads that aggregate or join, run by the store as one snapshot. */
export interface ReportReads {
  /** Accounts with the plan of their active subscription. */
  accounts(query: AccountQuery): Promise<AccountView[]>;
  accountAudit(accountId: string): Promise<AccountAudit>;
  /** Rollups of a time range and the journal of its edge hours, as one snapshot. */
  rollupWindow(query: RollupWindowQuery): Promise<RollupWindow>;
  /**
   * Accounts with an expired grant that still has credits, a hold past its ttl, or a debt and
   * spendable credits to repay it (crosses accounts: the sweep).
   */
  accountsDue(now: number, limit: number): Promise<string[]>;
}

/** API keys: the only read of a key's hash. */
export interface KeyReads {
  /** An API key with its hash, by its visible id: for the key check alone. */
  keyForCheck(keyId: string): Promise<ApiKeyRecord | undefined>;
}

export interface Store extends Reader, WebhookSecrets, ReportReads, KeyReads {
  readonly kind: string;
  /**
   * How many write transactions may run at once. SQLite: 1 (one writer). PostgreSQL: a few,
   * so the next commit group is built while one commits; accounts they share wait on row locks.
   */
  readonly writeConcurrency: number;
  /** Applies pending migrations in order; returns how many ran. */
  migrate(): Promise<number>;
  write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T>;
  /** Runs `fn`'s reads as one snapshot of committed data. */
  snapshot<T>(fn: (reader: Reader) => Promise<T>): Promise<T>;
  /** Deletes idempotency records created before `before`, at most `limit`; returns how many. */
  purgeIdempotency(before: number, limit: number): Promise<number>;
  close(): Promise<void>;
}
