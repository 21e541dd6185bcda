import { overdraftState } from '../core/overdraft.js';
import { assert } from '../core/errors.js';
import type { RequestBatch } from '../core/batches.js';
import type { Hold } from '../core/holds.js';
import type { JournalTransaction, TransactionKind } from '../core/journal.js';
import type { Subscription } from '../core/subscriptions.js';
import type {
  AccountView,
  CatalogRecord,
  Reader,
  RequestBatchItemRecord,
  RequestBatchRecord,
  Store,
} from './store.js';

/**
 * Reads several domains share, written once over the port's generic reader (a reader is the
 * store, one of its snapshots, or a unit of work's transaction).
 */

/** The newest activated catalog (activation time, then version). */
export const activeCatalog = (r: Reader): Promise<CatalogRecord | undefined> =>
  r.get('catalogs', {}, { order: ['activatedAt desc', 'version desc'], limit: 1 });

/** The account's active subscription, else its latest one. */
export async function currentSubscription(
  r: Reader,
  accountId: string,
): Promise<Subscription | undefined> {
  return (
    (await r.get('subscriptions', { accountId, status: 'active' })) ??
    (await r.get('subscriptions', { accountId }, { order: ['createdAt desc'], limit: 1 }))
  );
}

/** An account with the plan of its active subscription. */
export async function accountView(
  store: Store,
  accountId: string,
): Promise<AccountView | undefined> {
  const [account] = await store.accounts({ id: accountId });
  return account;
}

/** The grants of an account (newest first) and its open holds, as one snapshot. */
export function grantsAndHolds(store: Store, accountId: string) {
  return store.snapshot(async (r) => ({
    grants: await r.find('grants', { accountId }, { order: ['createdAt desc', 'id desc'] }),
    holds: await r.find('holds', { accountId, status: 'held' }, { order: ['expiresAt', 'id'] }),
    /** The account's overdraft counters in the same snapshot (nothing owed if it is gone). */
    overdraft: overdraftState(await r.get('accounts', { id: accountId })),
  }));
}

/** A request batch as stored, with its items in item order. */
export function requestBatch(
  row: RequestBatchRecord,
  items: readonly RequestBatchItemRecord[],
): RequestBatch {
  const { itemCount, ...rest } = row;
  assert(
    items.length === itemCount && items.every((item, n) => item.index === n),
    `batch ${row.id} has items 0 to ${itemCount - 1}`,
  );
  const list = items.map((i) => ({ index: i.index, holdId: i.holdId, ref: i.ref }));
  return { ...rest, items: list };
}

/** A request batch of the account, with its items in order. */
export async function readRequestBatch(
  r: Reader,
  accountId: string,
  batchId: string,
): Promise<RequestBatch | undefined> {
  const row = await r.get('request_batches', { accountId, id: batchId });
  if (!row) return undefined;
  const items = await r.find('request_batch_items', { accountId, batchId }, { order: ['index'] });
  return requestBatch(row, items);
}

/** A request batch and the holds of its items, as one snapshot. */
export interface RequestBatchRead {
  readonly batch: RequestBatch;
  readonly holds: readonly Hold[];
}

/** A request batch found by its id alone (an index lookup, like a hold) with its holds. */
export function findRequestBatch(
  store: Store,
  batchId: string,
): Promise<RequestBatchRead | undefined> {
  return store.snapshot(async (r) => {
    const row = await r.get('request_batches', { id: batchId });
    if (!row) return undefined;
    const items = await r.find(
      'request_batch_items',
      { accountId: row.accountId, batchId },
      { order: ['index'] },
    );
    const batch = requestBatch(row, items);
    const keys = batch.items.map((i) => ({ accountId: row.accountId, id: i.holdId }));
    const byId = new Map((await r.getMany('holds', keys)).map((h) => [h.id, h]));
    const holds = batch.items.map((i) => byId.get(i.holdId)).filter((h) => h !== undefined);
    assert(holds.length === batch.items.length, `every item of batch ${batchId} has its hold`);
    return { batch, holds };
  });
}

/** A journal transaction of the account with its entries, or undefined. */
export async function journalTransaction(
  r: Reader,
  accountId: string,
  transactionId: string,
): Promise<JournalTransaction | undefined> {
  const [t] = await r.journal({ accountId, id: transactionId });
  return t;
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

/** A page of the account's journal, newest first. */
export function history(r: Reader, q: HistoryQuery): Promise<JournalTransaction[]> {
  const bounded = q.since !== undefined || q.until !== undefined;
  const where = {
    accountId: q.accountId,
    kind: q.kinds && q.kinds.length > 0 ? q.kinds : undefined,
    createdAt: bounded ? { gte: q.since, lt: q.until } : undefined,
    id: q.before !== undefined ? { lt: q.before } : undefined,
  };
  return r.journal(where, { order: ['id desc'], limit: q.limit });
}

/** The account of a hold or a purchase, found by its id alone (an index lookup). */
export async function accountOf(
  r: Reader,
  kind: 'holds' | 'purchases' | 'plan_upgrades',
  id: string,
): Promise<string | undefined> {
  return (await r.get(kind, { id }, { fields: ['accountId'] }))?.accountId;
}

/** Accounts whose subscription renews at or before `until` (crosses accounts: the sweep). */
export async function dueSubscriptions(r: Reader, until: number, limit: number): Promise<string[]> {
  const where = { status: 'active', nextRenewalAt: { lte: until } } as const;
  const o = { fields: ['accountId'], order: ['nextRenewalAt'], limit } as const;
  return (await r.find('subscriptions', where, o)).map((s) => s.accountId);
}
