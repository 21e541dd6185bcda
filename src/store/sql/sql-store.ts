import type {
  HistoryQuery,
  DeliveryQuery,
  RollupWindowQuery,
  Store,
  WriteTx,
} from '../../ledger/store.js';
import type { AccountView, RequestBatchRead } from '../../ledger/store.js';
import { Access, ACTIVE, HELD, lit } from './access.js';
import type { Dialect, Executor } from './dialect.js';
import { accountAudit, rollupWindow, withEntries } from './journal.js';
import { decode, type Raw } from './rows.js';
import { activeCatalog, requestBatch, SqlWriteTx } from './write-tx.js';

/**
 * Accounts as readers see them, with the plan of the active subscription (one per account, or
 * none): `${ACCOUNTS_WITH_PLAN} WHERE a.account_id ...`.
 */
export const ACCOUNTS_WITH_PLAN =
  "SELECT a.*, s.plan FROM accounts a LEFT JOIN subscriptions s ON s.account_id = a.account_id AND s.status = 'active'";

/** Auto top-up purchases waiting for their checkout, oldest first. */
export const AWAITING_CHECKOUT = `SELECT * FROM purchases
  WHERE origin = 'autotopup' AND status = 'pending' AND checkout_ref IS NULL
  ORDER BY created_at, purchase_id LIMIT ?`;

const SQL = {
  accountsDue: `SELECT account_id FROM grants WHERE remaining > 0 AND expires_at IS NOT NULL AND expires_at <= ?
  UNION SELECT account_id FROM holds WHERE status = 'held' AND expires_at <= ? LIMIT ?`,
  subscription:
    "SELECT * FROM subscriptions WHERE account_id = ? ORDER BY status = 'active' DESC, created_at DESC LIMIT 1",
  purgeIdempotency:
    'DELETE FROM idempotency WHERE (account_id, key) IN (SELECT account_id, key FROM idempotency WHERE created_at < ? LIMIT ?)',
  requestBatchHolds: `SELECT i.item_index, i.ref, h.* FROM request_batch_items i
  JOIN holds h ON h.account_id = i.account_id AND h.hold_id = i.hold_id
  WHERE i.account_id = ? AND i.batch_id = ? ORDER BY i.item_index`,
} as const;

const accountView = (r: Raw): AccountView => ({
  ...decode('accounts', r),
  plan: (r.plan as string | null) ?? null,
});
const ids = (rows: readonly Raw[]) => rows.map((r) => r.account_id as string);

/**
 * The Store port written once over an executor and a dialect. An adapter gives the
 * transactions (write, a read-only snapshot), the connection reads use, migrate and close.
 */
export abstract class SqlStore implements Store {
  abstract readonly kind: string;
  abstract readonly writeConcurrency: number;
  constructor(protected readonly dialect: Dialect) {}

  abstract migrate(): Promise<number>;
  abstract close(): Promise<void>;
  /** Runs `fn` in one write transaction; commits before resolving, rolls back on a throw. */
  protected abstract transaction<T>(fn: (exec: Executor) => Promise<T>): Promise<T>;
  /** Runs `fn` in one read transaction on committed data: its reads are one snapshot. */
  protected abstract snapshot<T>(fn: (exec: Executor) => Promise<T>): Promise<T>;
  /** The executor of plain reads (committed data only). */
  protected abstract reader(): Executor;

  private get r(): Access {
    return new Access(this.reader(), this.dialect);
  }
  private inSnapshot<T>(fn: (a: Access) => Promise<T>): Promise<T> {
    return this.snapshot((exec) => fn(new Access(exec, this.dialect)));
  }

  write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    return this.transaction((exec) => fn(new SqlWriteTx(new Access(exec, this.dialect))));
  }

  async getAccount(accountId: string) {
    const sql = `${ACCOUNTS_WITH_PLAN} WHERE a.account_id = ?`;
    const [r] = await this.reader().all(sql, [accountId]);
    return r ? accountView(r) : undefined;
  }
  async listAccounts(afterId: string | null, limit: number, search?: string) {
    const page = 'ORDER BY a.account_id LIMIT ?';
    if (search === undefined) {
      const sql = `${ACCOUNTS_WITH_PLAN} WHERE a.account_id > ? ${page}`;
      return (await this.reader().all(sql, [afterId ?? '', limit])).map(accountView);
    }
    const s = search.toLowerCase();
    const contains = this.dialect.contains;
    const sql = `${ACCOUNTS_WITH_PLAN} WHERE a.account_id > ? AND (${contains('lower(a.account_id)')} OR ${contains("lower(coalesce(a.name, ''))")}) ${page}`;
    return (await this.reader().all(sql, [afterId ?? '', s, s, limit])).map(accountView);
  }
  listGrants(accountId: string) {
    return this.r.find('grants', { accountId }, { order: ['createdAt desc', 'id desc'] });
  }
  accountView(accountId: string) {
    return this.inSnapshot(async (a) => ({
      grants: await a.find('grants', { accountId }, { order: ['createdAt desc', 'id desc'] }),
      holds: await a.find('holds', { accountId, status: HELD }, { order: ['expiresAt', 'id'] }),
    }));
  }
  openHolds(accountId: string) {
    return this.r.find('holds', { accountId, status: HELD }, { order: ['expiresAt', 'id'] });
  }
  findHold(holdId: string) {
    return this.r.get('holds', { id: holdId });
  }
  async listTransactions(q: HistoryQuery) {
    const r = this.r;
    const where = {
      accountId: q.accountId,
      kind: q.kinds && q.kinds.length > 0 ? q.kinds : undefined,
      createdAt:
        q.since !== undefined || q.until !== undefined ? { gte: q.since, lt: q.until } : undefined,
      id: q.before !== undefined ? { lt: q.before } : undefined,
    };
    const rows = await r.find('transactions', where, { order: ['id desc'], limit: q.limit });
    return withEntries(r, rows);
  }
  activeCatalog() {
    return activeCatalog(this.r);
  }
  getCatalog(version: string) {
    return this.r.get('catalogs', { version });
  }
  listCatalogs() {
    return this.r.find('catalogs', {}, { order: ['activatedAt desc', 'version desc'] });
  }
  accountAudit(accountId: string) {
    return this.inSnapshot((a) => accountAudit(a, accountId));
  }
  async accountsDue(now: number, limit: number) {
    return ids(await this.reader().all(SQL.accountsDue, [now, now, limit]));
  }
  findPurchase(purchaseId: string) {
    return this.r.get('purchases', { id: purchaseId });
  }
  listPurchases(accountId: string) {
    return this.r.find('purchases', { accountId }, { order: ['createdAt desc', 'id desc'] });
  }
  getAutoTopup(accountId: string) {
    return this.r.get('autotopups', { accountId });
  }
  listWebhookEndpoints() {
    return this.r.find('webhook_endpoints', {}, { order: ['createdAt', 'id'] });
  }
  getWebhookEvent(accountId: string, eventId: string) {
    return this.r.get('webhook_events', { accountId, id: eventId });
  }
  listDeliveries(q: DeliveryQuery) {
    const where = { accountId: q.accountId, endpointId: q.endpointId, status: q.status };
    const order = ['createdAt desc', 'id desc'] as const;
    return this.r.find('webhook_deliveries', where, { order, limit: q.limit });
  }
  findDelivery(deliveryId: string) {
    return this.r.get('webhook_deliveries', { id: deliveryId });
  }
  listAttempts(accountId: string, deliveryId: string) {
    return this.r.find('webhook_attempts', { accountId, deliveryId }, { order: ['attempt'] });
  }
  grantsExpiring(from: number, to: number, limit: number) {
    const where = { remaining: { gt: lit(0) }, expiresAt: { not: null, gt: from, lte: to } };
    return this.r.find('grants', where, { order: ['expiresAt', 'id'], limit });
  }
  autoTopupsAwaitingCheckout(limit: number) {
    return this.r.rows('purchases', AWAITING_CHECKOUT, [limit]);
  }
  async getSubscription(accountId: string) {
    return (await this.r.rows('subscriptions', SQL.subscription, [accountId]))[0];
  }
  async dueSubscriptions(until: number, limit: number) {
    const where = { status: ACTIVE, nextRenewalAt: { lte: until } };
    const o = { fields: ['accountId'], order: ['nextRenewalAt'], limit } as const;
    return (await this.r.find('subscriptions', where, o)).map((s) => s.accountId);
  }
  getApiKey(keyId: string) {
    return this.r.get('api_keys', { id: keyId });
  }
  listApiKeys() {
    return this.r.find('api_keys', {}, { order: ['createdAt', 'id'] });
  }
  listMembers(accountId: string) {
    return this.r.find('members', { accountId }, { order: ['id'] });
  }
  getMember(accountId: string, memberId: string) {
    return this.r.get('members', { accountId, id: memberId });
  }
  listProjects(accountId: string) {
    return this.r.find('projects', { accountId }, { order: ['id'] });
  }
  listBudgets(accountId: string) {
    return this.r.find('budgets', { accountId }, { order: ['scope', 'target'] });
  }
  listBudgetAlerts(accountId: string, limit: number) {
    const order = ['createdAt desc', 'id desc'] as const;
    return this.r.find('budget_alerts', { accountId }, { order, limit });
  }
  countOpenHolds() {
    return this.r.count('holds', { status: HELD });
  }
  purgeIdempotency(before: number, limit: number) {
    // Through the write transaction, like every write (SQLite: the one write connection).
    return this.transaction((exec) => exec.run(SQL.purgeIdempotency, [before, limit]));
  }
  rollupWindow(q: RollupWindowQuery) {
    return this.inSnapshot((a) => rollupWindow(a, q));
  }
  outcomesBetween(accountId: string, from: number, to: number) {
    const where = { accountId, createdAt: { gte: from, lt: to } };
    return this.r.find('outcomes', where, { order: ['createdAt', 'transactionId'] });
  }
  async accountsPendingRollups(afterId: string | null, limit: number) {
    const where = { accountId: { gt: afterId ?? '' } };
    const o = { fields: ['accountId'], order: ['accountId'], limit } as const;
    return (await this.r.find('rollups_pending', where, o)).map((r) => r.accountId);
  }
  async getTransaction(accountId: string, transactionId: string) {
    const r = this.r;
    return (
      await withEntries(r, await r.find('transactions', { accountId, id: transactionId }))
    )[0];
  }
  findRequestBatch(batchId: string): Promise<RequestBatchRead | undefined> {
    return this.inSnapshot(async (a) => {
      const row = await a.get('request_batches', { id: batchId });
      if (!row) return undefined;
      const raw = await a.exec.all(SQL.requestBatchHolds, [row.accountId, batchId]);
      const items = raw.map((r) => ({
        ...decode('request_batch_items', r),
        accountId: row.accountId,
        batchId,
      }));
      return { batch: requestBatch(row, items), holds: raw.map((r) => decode('holds', r)) };
    });
  }
}
