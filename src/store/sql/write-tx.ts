import { assert } from '../../core/errors.js';
import type { RequestBatch } from '../../core/batches.js';
import type { HoldStatus } from '../../core/holds.js';
import type { JournalTransaction, TransactionKind } from '../../core/journal.js';
import type { BudgetScope } from '../../core/teams.js';
import type { AccountKey, GrantRemaining, HoldRef, WriteTx } from '../../ledger/store.js';
import { ACTIVE, HELD, lit, type Access } from './access.js';
import { withEntries } from './journal.js';
import { decode } from './rows.js';
import type { Row } from './tables.js';

/** The newest activated catalog (activation time, then version). */
export const activeCatalog = (a: Access) =>
  a.get('catalogs', {}, { order: ['activatedAt desc', 'version desc'], limit: 1 });

/** A request batch with its items, in item order. */
export function requestBatch(
  row: Row<'request_batches'>,
  items: readonly Row<'request_batch_items'>[],
) {
  const { itemCount, ...rest } = row;
  assert(
    items.length === itemCount && items.every((item, n) => item.index === n),
    `batch ${row.id} has items 0 to ${itemCount - 1}`,
  );
  const list = items.map((i) => ({ index: i.index, holdId: i.holdId, ref: i.ref }));
  return { ...rest, items: list } satisfies RequestBatch;
}

/** Rollups add up: a row already there for the key gets the increment added. */
function addClauses(a: Access) {
  const { least, greatest } = a.dialect;
  return {
    usage:
      ' ON CONFLICT (account_id, hour, dim, key) DO UPDATE SET credits = usage_hourly.credits + excluded.credits, units = usage_hourly.units + excluded.units',
    flows: ` ON CONFLICT (account_id, hour, flow, key) DO UPDATE SET credits = flows_hourly.credits + excluded.credits, first_transaction_id = ${least}(flows_hourly.first_transaction_id, excluded.first_transaction_id), last_transaction_id = ${greatest}(flows_hourly.last_transaction_id, excluded.last_transaction_id)`,
  };
}

/**
 * The write side of the port over the generic table layer: each method one or two calls. The
 * dialect decides how a multi-row write or a read of many keys becomes statements.
 */
export class SqlWriteTx implements WriteTx {
  constructor(private readonly a: Access) {}

  async lockAccounts(accountIds: readonly string[]) {
    // In id order, so two batches that share accounts queue instead of deadlocking (SQLite:
    // BEGIN IMMEDIATE already holds the database write lock for the whole transaction).
    return this.a.findFor('accounts', 'id', [...accountIds].sort(), {}, { lock: true });
  }
  async insertAccount(account: Row<'accounts'>) {
    return (await this.a.insert('accounts', [account], 'skip')) === 1;
  }
  openGrants(accountIds: readonly string[]) {
    return this.a.findFor('grants', 'accountId', accountIds, { remaining: { gt: lit(0) } });
  }
  getGrant(accountId: string, grantId: string) {
    return this.a.get('grants', { accountId, id: grantId });
  }
  async insertGrant(grant: Row<'grants'>) {
    await this.a.insert('grants', [grant]);
  }
  async insertGrants(grants: readonly Row<'grants'>[]) {
    await this.a.insert('grants', grants);
  }
  async setGrantsRemaining(updates: readonly GrantRemaining[]) {
    const rows = updates.map((u) => ({
      accountId: u.accountId,
      id: u.grantId,
      remaining: u.remaining,
    }));
    const changed = await this.a.updateMany('grants', rows as Row<'grants'>[], ['remaining']);
    assert(changed === updates.length, 'every grant changed in the batch was updated');
  }
  async findHoldAccount(holdId: string) {
    return (await this.a.get('holds', { id: holdId }, { fields: ['accountId'] }))?.accountId;
  }
  getHolds(refs: readonly HoldRef[]) {
    return this.a.getMany(
      'holds',
      refs.map((r) => ({ accountId: r.accountId, id: r.holdId })),
    );
  }
  dueHolds(accountIds: readonly string[], now: number) {
    const where = { status: HELD, expiresAt: { lte: now } };
    return this.a.findFor('holds', 'accountId', accountIds, where, { order: ['expiresAt', 'id'] });
  }
  async insertHold(hold: Row<'holds'>) {
    await this.a.insert('holds', [hold]);
  }
  async resolveHold(
    accountId: string,
    holdId: string,
    status: Exclude<HoldStatus, 'held'>,
    capturedCredits: number,
    resolvedAt: number,
  ) {
    const set = { status, capturedCredits, resolvedAt };
    const n = await this.a.update('holds', set, {
      accountId,
      id: holdId,
      status: HELD,
    });
    assert(n === 1, `hold ${holdId} resolved once`);
  }
  async getTransaction(accountId: string, transactionId: string) {
    const rows = await this.a.find('transactions', { accountId, id: transactionId });
    return (await withEntries(this.a, rows))[0];
  }
  async appendTransactions(txs: readonly JournalTransaction[]) {
    await this.a.insert('transactions', txs);
    // Each line's transaction and line number, in two flat lists: no object per line.
    const ofTx: JournalTransaction[] = [];
    const lineNo: number[] = [];
    for (const t of txs) {
      for (let line = 0; line < t.entries.length; line++) {
        ofTx.push(t);
        lineNo.push(line);
      }
    }
    await this.a.insertFields('entries', ofTx.length, (i, field) => {
      const t = ofTx[i]!;
      if (field === 'accountId') return t.accountId;
      if (field === 'transactionId') return t.id;
      if (field === 'line') return lineNo[i];
      return t.entries[lineNo[i]!]![field];
    });
  }
  getIdempotency(refs: readonly AccountKey[]): Promise<Row<'idempotency'>[]> {
    return this.a.getMany('idempotency', refs);
  }
  async putIdempotency(records: readonly Row<'idempotency'>[]) {
    await this.a.insert('idempotency', records);
  }
  async findPurchaseAccount(purchaseId: string) {
    const r = await this.a.get('purchases', { id: purchaseId }, { fields: ['accountId'] });
    return r?.accountId;
  }
  getPurchase(accountId: string, purchaseId: string) {
    return this.a.get('purchases', { accountId, id: purchaseId });
  }
  async insertPurchase(purchase: Row<'purchases'>) {
    await this.a.insert('purchases', [purchase]);
  }
  async updatePurchase(purchase: Row<'purchases'>) {
    assert(
      (await this.a.replaceMany('purchases', [purchase])) === 1,
      `purchase ${purchase.id} updated`,
    );
  }
  async markPaymentEvent(accountId: string, eventId: string, at: number) {
    const row = { accountId, eventId, processedAt: at };
    return (await this.a.insert('payment_events', [row], 'skip')) === 1;
  }
  async autoTopups(accountIds: readonly string[]) {
    // Most databases have few rules or none: where each account costs a statement, one probe
    // spares a lookup per account per batch.
    if (!this.a.dialect.arrays && accountIds.length > 1 && !(await this.a.exists('autotopups')))
      return [];
    return this.a.findFor('autotopups', 'accountId', accountIds);
  }
  async putAutoTopups(rules: readonly Row<'autotopups'>[]) {
    await this.a.insert('autotopups', rules, 'replace');
  }
  async deleteAutoTopup(accountId: string) {
    return (await this.a.delete('autotopups', { accountId })) === 1;
  }
  webhookEndpoints() {
    return this.a.find('webhook_endpoints', { disabledAt: null });
  }
  webhookEndpoint(endpointId: string) {
    return this.a.get('webhook_endpoints', { id: endpointId });
  }
  async insertWebhookEndpoint(endpoint: Row<'webhook_endpoints'>) {
    await this.a.insert('webhook_endpoints', [endpoint]);
  }
  async disableWebhookEndpoint(endpointId: string, at: number) {
    const where = { id: endpointId, disabledAt: null };
    return (await this.a.update('webhook_endpoints', { disabledAt: at }, where)) === 1;
  }
  async insertWebhookEvents(events: readonly Row<'webhook_events'>[]) {
    await this.a.insert('webhook_events', events);
  }
  async webhookEventIds(accountId: string, eventIds: readonly string[]) {
    const rows = await this.a.findFor(
      'webhook_events',
      'id',
      eventIds,
      { accountId },
      { fields: ['id'] },
    );
    return rows.map((r) => r.id);
  }
  async insertDeliveries(deliveries: readonly Row<'webhook_deliveries'>[]) {
    await this.a.insert('webhook_deliveries', deliveries);
  }
  async claimDeliveries(now: number, leaseUntil: number, limit: number) {
    const rows = await this.a.dialect.claimDeliveries(this.a.exec, now, leaseUntil, limit);
    return rows.map((r) => ({ ...decode('webhook_deliveries', r), nextAttemptAt: leaseUntil }));
  }
  async finishDelivery(delivery: Row<'webhook_deliveries'>, attempt: Row<'webhook_attempts'>) {
    const n = await this.a.replaceMany('webhook_deliveries', [delivery]);
    assert(n === 1, `delivery ${delivery.id} updated`);
    await this.a.insert('webhook_attempts', [attempt]);
  }
  members(accountId: string) {
    return this.a.find('members', { accountId }, { order: ['id'] });
  }
  async putMembers(members: readonly Row<'members'>[]) {
    await this.a.insert('members', members, 'replace');
  }
  async deleteMember(accountId: string, memberId: string) {
    return (await this.a.delete('members', { accountId, id: memberId })) === 1;
  }
  projects(accountId: string) {
    return this.a.find('projects', { accountId }, { order: ['id'] });
  }
  async putProject(project: Row<'projects'>) {
    await this.a.insert('projects', [project], 'replace');
  }
  budgets(accountIds: readonly string[]) {
    return this.a.findFor('budgets', 'accountId', accountIds, {}, { order: ['scope', 'target'] });
  }
  async putBudgets(budgets: readonly Row<'budgets'>[]) {
    await this.a.insert('budgets', budgets, 'replace');
  }
  async deleteBudget(accountId: string, scope: BudgetScope, target: string) {
    return (await this.a.delete('budgets', { accountId, scope, target })) === 1;
  }
  async insertBudgetAlerts(alerts: readonly Row<'budget_alerts'>[]) {
    await this.a.insert('budget_alerts', alerts);
  }
  async budgetAlertThresholds(
    accountId: string,
    scope: BudgetScope,
    target: string,
    periodStart: number,
  ) {
    const where = { accountId, scope, target, periodStart };
    const rows = await this.a.find('budget_alerts', where, {
      fields: ['threshold'],
      order: ['threshold'],
    });
    return rows.map((r) => r.threshold);
  }
  openHoldsOf(accountId: string) {
    return this.a.find('holds', { accountId, status: HELD }, { order: ['createdAt', 'id'] });
  }
  async transactionsSince(accountId: string, kinds: readonly TransactionKind[], since: number) {
    if (kinds.length === 0) return [];
    const where = { accountId, kind: kinds, createdAt: { gte: since } };
    const rows = await this.a.find('transactions', where, { order: ['createdAt', 'id'] });
    return withEntries(this.a, rows);
  }
  activeSubscriptions(accountIds: readonly string[]) {
    return this.a.findFor('subscriptions', 'accountId', accountIds, {
      status: ACTIVE,
    });
  }
  async insertSubscription(subscription: Row<'subscriptions'>) {
    await this.a.insert('subscriptions', [subscription]);
  }
  async updateSubscription(subscription: Row<'subscriptions'>) {
    await this.updateSubscriptions([subscription]);
  }
  async updateSubscriptions(subscriptions: readonly Row<'subscriptions'>[]) {
    const n = await this.a.replaceMany('subscriptions', subscriptions);
    assert(n === subscriptions.length, 'every subscription changed in the batch was updated');
  }
  async insertApiKey(key: Row<'api_keys'>) {
    await this.a.insert('api_keys', [key]);
  }
  async revokeApiKey(keyId: string, at: number) {
    return (
      (await this.a.update('api_keys', { revokedAt: at }, { id: keyId, revokedAt: null })) === 1
    );
  }
  revokeMemberKeys(accountId: string, memberId: string, at: number) {
    return this.a.update('api_keys', { revokedAt: at }, { accountId, memberId, revokedAt: null });
  }
  activeCatalog() {
    return activeCatalog(this.a);
  }
  getCatalog(version: string) {
    return this.a.get('catalogs', { version });
  }
  async putCatalog(record: Row<'catalogs'>) {
    return (await this.a.insert('catalogs', [record], 'skip')) === 1;
  }
  async activateCatalog(version: string, at: number) {
    await this.a.update('catalogs', { activatedAt: at }, { version });
  }
  async addUsage(rows: readonly Row<'usage_hourly'>[]) {
    await this.a.insertWith('usage_hourly', rows, addClauses(this.a).usage);
  }
  async addFlows(rows: readonly Row<'flows_hourly'>[]) {
    await this.a.insertWith('flows_hourly', rows, addClauses(this.a).flows);
  }
  async clearRollups(accountId: string) {
    await this.a.delete('usage_hourly', { accountId });
    await this.a.delete('flows_hourly', { accountId });
    await this.a.delete('rollups_pending', { accountId });
  }
  async journalPage(accountId: string, afterId: string | null, limit: number) {
    const where = { accountId, id: { gt: afterId ?? '' } };
    const rows = await this.a.find('transactions', where, { order: ['id'], limit });
    return withEntries(this.a, rows);
  }
  getOutcome(accountId: string, transactionId: string) {
    return this.a.get('outcomes', { accountId, transactionId });
  }
  async putOutcomes(outcomes: readonly Row<'outcomes'>[]) {
    await this.a.insert('outcomes', outcomes, 'replace');
  }
  async insertRequestBatch(batch: RequestBatch) {
    const { items, ...row } = batch;
    await this.a.insert('request_batches', [{ ...row, itemCount: items.length }]);
    const itemRows = items.map((i) => ({ ...i, accountId: batch.accountId, batchId: batch.id }));
    await this.a.insert('request_batch_items', itemRows);
  }
  async getRequestBatch(accountId: string, batchId: string) {
    const row = await this.a.get('request_batches', { accountId, id: batchId });
    if (!row) return undefined;
    const items = await this.a.find(
      'request_batch_items',
      { accountId, batchId },
      { order: ['index'] },
    );
    return requestBatch(row, items);
  }
}
