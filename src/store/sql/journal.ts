import { assert } from '../../core/errors.js';
import { overdraftState } from '../../core/overdraft.js';
import type { JournalTransaction } from '../../core/journal.js';
import { parseDetail } from '../../core/journal-detail.js';
import { hourCeil, hourOf, type FlowRow, type UsageRow } from '../../core/rollups.js';
import type { AccountAudit, BookSum, RollupWindow, RollupWindowQuery } from '../../ledger/store.js';
import type { Access } from './access.js';
import { decode, int, type Raw } from './rows.js';
import type { Row } from './tables.js';

/** Journal transactions of one account with their entries, in the order given. */
export async function withEntries(
  a: Access,
  rows: readonly Row<'transactions'>[],
): Promise<JournalTransaction[]> {
  if (rows.length === 0) return [];
  const accountId = rows[0]!.accountId;
  assert(
    rows.every((r) => r.accountId === accountId),
    'one account per journal read',
  );
  const ids = rows.map((r) => r.id);
  const entries = await a.findFor(
    'entries',
    'transactionId',
    ids,
    { accountId },
    { order: ['line'] },
  );
  const byTransaction = new Map<string, Row<'entries'>[]>();
  for (const e of entries) {
    const list = byTransaction.get(e.transactionId) ?? [];
    list.push(e);
    byTransaction.set(e.transactionId, list);
  }
  return rows.map((r) => ({
    ...r,
    ...parseDetail(r.kind, r.detail, `transaction ${r.id} of ${accountId}`),
    entries: (byTransaction.get(r.id) ?? []).map((e) => ({
      book: e.book,
      grantId: e.grantId,
      holdId: e.holdId,
      credits: e.credits,
    })),
  }));
}

const AUDIT = {
  sums: `SELECT e.book, e.grant_id, e.hold_id, SUM(e.credits) AS credits FROM transactions t
  JOIN entries e ON e.transaction_id = t.transaction_id AND e.account_id = t.account_id
  WHERE t.account_id = ? GROUP BY e.book, e.grant_id, e.hold_id`,
  unbalanced: `SELECT t.transaction_id, COALESCE(SUM(e.credits), 0) AS total FROM transactions t
  LEFT JOIN entries e ON e.transaction_id = t.transaction_id AND e.account_id = t.account_id
  WHERE t.account_id = ? GROUP BY t.transaction_id
  HAVING COALESCE(SUM(e.credits), 0) <> 0 OR COUNT(e.line) = 1`,
  resolutions: `SELECT hold_id, COUNT(*) AS n FROM transactions
  WHERE account_id = ? AND kind IN ('capture','release','hold_expiry') GROUP BY hold_id`,
} as const;

/** Everything verify needs of one account; the caller runs it as one snapshot. */
export async function accountAudit(a: Access, accountId: string): Promise<AccountAudit> {
  const grants = await a.find('grants', { accountId });
  const holds = await a.find('holds', { accountId });
  // Through the account's transactions: entries has no index that starts with account_id, so
  // filtering entries alone would scan every account's entries.
  const sums: BookSum[] = await a.rows('entries', AUDIT.sums, [accountId]);
  const unbalanced = (await a.exec.all(AUDIT.unbalanced, [accountId])).map((r) => ({
    transactionId: r.transaction_id as string,
    sum: int(r.total, 'transaction sum'),
  }));
  const resolutions = new Map<string, number>();
  for (const r of await a.exec.all(AUDIT.resolutions, [accountId])) {
    resolutions.set(r.hold_id as string, int(r.n, 'resolution count'));
  }
  const transactionCount = await a.count('transactions', { accountId });
  const overdraft = overdraftState(await a.get('accounts', { id: accountId }));
  return { grants, holds, sums, unbalanced, resolutions, transactionCount, overdraft };
}

const WINDOW = {
  flowsBefore:
    'SELECT flow, key, SUM(credits) AS credits FROM flows_hourly WHERE account_id = ? AND hour < ? GROUP BY flow, key',
  flowsBetween:
    'SELECT flow, key, SUM(credits) AS credits FROM flows_hourly WHERE account_id = ? AND hour >= ? AND hour < ? GROUP BY flow, key',
  usageBetween:
    'SELECT dim, key, SUM(credits) AS credits, SUM(units) AS units FROM usage_hourly WHERE account_id = ? AND hour >= ? AND hour < ? GROUP BY dim, key',
  hourBounds:
    'SELECT MIN(first_transaction_id) AS lo, MAX(last_transaction_id) AS hi FROM flows_hourly WHERE account_id = ? AND hour >= ? AND hour < ?',
} as const;

/** Sums read through the rollup tables' descriptions (the columns they select). */
const flowRow = (r: Raw): FlowRow => decode('flows_hourly', r);
const usageRow = (r: Raw): UsageRow => decode('usage_hourly', r);

/** The journal transactions of the query's edge intervals, oldest first. */
async function edgeTransactions(a: Access, q: RollupWindowQuery) {
  const out: JournalTransaction[] = [];
  for (const i of q.journal) {
    // Every transaction of these hours that moved a flow lies between the ids the hours keep.
    const [b] = await a.exec.all(WINDOW.hourBounds, [q.accountId, hourOf(i.from), hourCeil(i.to)]);
    if (!b || b.lo === null || b.lo === undefined) continue;
    const rows = await a.find(
      'transactions',
      {
        accountId: q.accountId,
        id: { gte: b.lo as string, lte: b.hi as string },
        createdAt: { gte: i.from, lt: i.to },
      },
      { order: ['id'] },
    );
    out.push(...(await withEntries(a, rows)));
  }
  return out;
}

/** Rollups of a time range and the journal of its edges; the caller runs it as one snapshot. */
export async function rollupWindow(a: Access, q: RollupWindowQuery): Promise<RollupWindow> {
  const id = q.accountId;
  const sums = (sql: string, args: unknown[]) => a.exec.all(sql, args);
  const flowsBefore = q.before
    ? (await sums(WINDOW.flowsBefore, [id, q.hoursFrom])).map(flowRow)
    : [];
  const flows = (await sums(WINDOW.flowsBetween, [id, q.hoursFrom, q.hoursTo])).map(flowRow);
  const usage = q.usage
    ? (await sums(WINDOW.usageBetween, [id, q.hoursFrom, q.hoursTo])).map(usageRow)
    : [];
  const transactions = await edgeTransactions(a, q);
  const grantIds = new Set<string>();
  const holdIds = new Set<string>();
  for (const t of transactions) {
    for (const e of t.entries) if (e.grantId !== null) grantIds.add(e.grantId);
    if ((t.kind === 'capture' || t.kind === 'partial_capture') && t.holdId !== null)
      holdIds.add(t.holdId);
  }
  const grants = await a.getMany(
    'grants',
    [...grantIds].map((g) => ({ accountId: id, id: g })),
  );
  const holds = await a.getMany(
    'holds',
    [...holdIds].map((h) => ({ accountId: id, id: h })),
  );
  const pending = await a.exists('rollups_pending', { accountId: id });
  return { flowsBefore, flows, usage, transactions, grants, holds, pending };
}
