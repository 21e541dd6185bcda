import type { Catalog } from '../core/catalog.js';
import type { Grant } from '../core/grants.js';
import type { Hold, HoldStatus } from '../core/holds.js';
import type { Book, JournalTransaction, TransactionKind } from '../core/journal.js';

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
  readonly plan: string | null;
  readonly createdAt: number;
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

export interface WriteTx {
  /** Loads the account and locks it for the rest of the transaction. */
  lockAccount(accountId: string): Promise<AccountRecord | undefined>;
  insertAccount(account: AccountRecord): Promise<void>;

  /** Grants of the account that still have credits (remaining > 0), any expiry. */
  openGrants(accountId: string): Promise<Grant[]>;
  getGrant(accountId: string, grantId: string): Promise<Grant | undefined>;
  insertGrant(grant: Grant): Promise<void>;
  /** Writes the final `remaining` of grants changed in a batch (one row per grant). */
  setGrantsRemaining(updates: readonly GrantRemaining[]): Promise<void>;

  /** The account of a hold, found by its id alone (crosses accounts: an index lookup). */
  findHoldAccount(holdId: string): Promise<string | undefined>;
  getHold(accountId: string, holdId: string): Promise<Hold | undefined>;
  /** Holds still held whose ttl has passed at `now`. */
  dueHolds(accountId: string, now: number): Promise<Hold[]>;
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

  getIdempotency(accountId: string, key: string): Promise<IdempotencyRecord | undefined>;
  putIdempotency(records: readonly IdempotencyRecord[]): Promise<void>;

  activeCatalog(): Promise<CatalogRecord | undefined>;
  getCatalog(version: string): Promise<CatalogRecord | undefined>;
  putCatalog(record: CatalogRecord): Promise<void>;
  activateCatalog(version: string, at: number): Promise<void>;
}

export interface Store {
  readonly kind: string;
  /** Applies pending migrations in order; returns how many ran. */
  migrate(): Promise<number>;
  write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T>;

  getAccount(accountId: string): Promise<AccountRecord | undefined>;
  /** Accounts in id order after `afterId` (crosses accounts: operator listing). */
  listAccounts(afterId: string | null, limit: number): Promise<AccountRecord[]>;
  /** Every grant of the account, newest first. */
  listGrants(accountId: string): Promise<Grant[]>;
  openHolds(accountId: string): Promise<Hold[]>;
  findHold(holdId: string): Promise<Hold | undefined>;
  listTransactions(query: HistoryQuery): Promise<JournalTransaction[]>;
  activeCatalog(): Promise<CatalogRecord | undefined>;
  getCatalog(version: string): Promise<CatalogRecord | undefined>;
  listCatalogs(): Promise<CatalogRecord[]>;
  accountAudit(accountId: string): Promise<AccountAudit>;
  /** Accounts with an expired grant that still has credits or a hold past its ttl (crosses accounts: the sweep). */
  accountsDue(now: number, limit: number): Promise<string[]>;
  /** Deletes idempotency records created before `before`; returns how many. */
  purgeIdempotency(before: number, limit: number): Promise<number>;
  close(): Promise<void>;
}
