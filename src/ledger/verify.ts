import type { Book } from '../core/journal.js';
import type { AccountAudit, Store } from './store.js';

export interface Violation {
  readonly accountId: string;
  readonly check: string;
  readonly detail: string;
}

export interface Totals {
  granted: number;
  consumed: number;
  breakage: number;
  refunded: number;
  held: number;
  available: number;
}

export interface VerifyReport {
  readonly accounts: number;
  readonly transactions: number;
  readonly totals: Totals;
  readonly violations: readonly Violation[];
  readonly ok: boolean;
}

/** Most violations kept in one report: past this, the count still grows. */
export const MAX_REPORTED_VIOLATIONS = 1000;

function sumBy(audit: AccountAudit, book: Book, key?: { grantId?: string; holdId?: string }) {
  let s = 0;
  for (const x of audit.sums) {
    if (x.book !== book) continue;
    if (key?.grantId !== undefined && x.grantId !== key.grantId) continue;
    if (key?.holdId !== undefined && x.holdId !== key.holdId) continue;
    s += x.credits;
  }
  return s;
}

/** Recomputes one account from its journal and checks every invariant. Pure over the audit. */
export function checkAccount(
  accountId: string,
  audit: AccountAudit,
): { violations: Violation[]; totals: Totals } {
  const violations: Violation[] = [];
  const fail = (check: string, detail: string) => violations.push({ accountId, check, detail });

  for (const u of audit.unbalanced)
    fail('transaction_balanced', `${u.transactionId} sums to ${u.sum}`);

  for (const g of audit.grants) {
    if (g.remaining < 0 || g.remaining > g.amount) {
      fail('grant_bounds', `${g.id} remaining ${g.remaining} outside [0, ${g.amount}]`);
    }
    const journal = sumBy(audit, 'grant', { grantId: g.id });
    if (journal !== g.remaining)
      fail('grant_matches_journal', `${g.id} remaining ${g.remaining}, journal ${journal}`);
    // A renewal fills its rollover grant from the ending allocation (nothing issued); any other
    // grant, a rollover granted by an operator included, is issued whole.
    const issued = 0 - sumBy(audit, 'issued', { grantId: g.id });
    const ok = issued === g.amount || (g.source === 'rollover' && issued === 0);
    if (!ok) fail('grant_issued', `${g.id} amount ${g.amount}, issued ${issued}`);
  }

  let heldOpen = 0;
  for (const h of audit.holds) {
    const drawn = h.draws.reduce((s, d) => s + d.credits, 0);
    if (drawn !== h.credits) fail('hold_draws', `${h.id} draws ${drawn} for ${h.credits} held`);
    if (h.capturedCredits > h.credits)
      fail('capture_within_hold', `${h.id} captured ${h.capturedCredits} of ${h.credits}`);
    const inHeld = sumBy(audit, 'held', { holdId: h.id });
    const expected = h.status === 'held' ? h.credits : 0;
    if (inHeld !== expected)
      fail(
        'hold_matches_journal',
        `${h.id} (${h.status}) holds ${inHeld} in the journal, expected ${expected}`,
      );
    const consumed = sumBy(audit, 'consumed', { holdId: h.id });
    if (consumed !== h.capturedCredits)
      fail('capture_matches_journal', `${h.id} captured ${h.capturedCredits}, journal ${consumed}`);
    const resolutions = audit.resolutions.get(h.id) ?? 0;
    if (resolutions !== (h.status === 'held' ? 0 : 1))
      fail('hold_resolved_once', `${h.id} (${h.status}) resolved ${resolutions} times`);
    if (h.status === 'held') heldOpen += h.credits;
  }

  const totals: Totals = {
    granted: 0 - sumBy(audit, 'issued'),
    consumed: sumBy(audit, 'consumed'),
    breakage: sumBy(audit, 'breakage'),
    refunded: sumBy(audit, 'refunded'),
    held: sumBy(audit, 'held'),
    available: sumBy(audit, 'grant'),
  };
  const accounted =
    totals.consumed + totals.breakage + totals.refunded + totals.held + totals.available;
  if (totals.granted !== accounted) {
    fail(
      'conservation',
      `granted ${totals.granted} != spent ${totals.consumed} + expired ${totals.breakage} + refunded ${totals.refunded} + held ${totals.held} + available ${totals.available}`,
    );
  }
  const remaining = audit.grants.reduce((s, g) => s + g.remaining, 0);
  if (remaining !== totals.available)
    fail('available_matches_journal', `grants hold ${remaining}, journal ${totals.available}`);
  if (heldOpen !== totals.held)
    fail('held_matches_journal', `open holds ${heldOpen}, journal ${totals.held}`);
  return { violations, totals };
}

/** Recomputes every account from the journal; `onProgress` is told after each page. */
export async function verify(
  store: Store,
  options: { pageSize?: number; onProgress?: (accounts: number) => void } = {},
): Promise<VerifyReport> {
  const pageSize = options.pageSize ?? 500;
  const totals: Totals = {
    granted: 0,
    consumed: 0,
    breakage: 0,
    refunded: 0,
    held: 0,
    available: 0,
  };
  const violations: Violation[] = [];
  let violationCount = 0;
  let accounts = 0;
  let transactions = 0;
  let after: string | null = null;
  for (;;) {
    const page = await store.listAccounts(after, pageSize);
    for (const account of page) {
      const audit = await store.accountAudit(account.id);
      const result = checkAccount(account.id, audit);
      for (const k of Object.keys(totals) as (keyof Totals)[]) totals[k] += result.totals[k];
      violationCount += result.violations.length;
      for (const v of result.violations)
        if (violations.length < MAX_REPORTED_VIOLATIONS) violations.push(v);
      transactions += audit.transactionCount;
      accounts += 1;
    }
    options.onProgress?.(accounts);
    if (page.length < pageSize) break;
    after = page[page.length - 1]!.id;
  }
  return { accounts, transactions, totals, violations, ok: violationCount === 0 };
}
