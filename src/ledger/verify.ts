import { isOverdraftDraw } from '../core/grants.js';
import { heldNow } from '../core/holds.js';
import type { Book } from '../core/journal.js';
import { sumFlows, sumUsage, type FlowRow, type UsageRow } from '../core/rollups.js';
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
  /** Drawn past zero: owed (debt) and reserved by open holds (minus the overdraft book). */
  overdrawn: number;
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

type Fail = (check: string, detail: string) => void;

/** Recomputes one account from its journal and checks every invariant. Pure over the audit. */
export function checkAccount(
  accountId: string,
  audit: AccountAudit,
): { violations: Violation[]; totals: Totals } {
  const violations: Violation[] = [];
  const fail: Fail = (check, detail) => violations.push({ accountId, check, detail });

  for (const u of audit.unbalanced)
    fail('transaction_balanced', `${u.transactionId} sums to ${u.sum}`);
  checkGrants(audit, fail);
  const { heldOpen, heldPastZero } = checkHolds(audit, fail);

  const totals: Totals = {
    granted: 0 - sumBy(audit, 'issued'),
    consumed: sumBy(audit, 'consumed'),
    breakage: sumBy(audit, 'breakage'),
    refunded: sumBy(audit, 'refunded'),
    held: sumBy(audit, 'held'),
    available: sumBy(audit, 'grant'),
    overdrawn: 0 - sumBy(audit, 'overdraft'),
  };
  // Every credit spent or held was granted, or drawn past zero (owed, or held past zero).
  const accounted =
    totals.consumed + totals.breakage + totals.refunded + totals.held + totals.available;
  if (totals.granted + totals.overdrawn !== accounted) {
    fail(
      'conservation',
      `granted ${totals.granted} + overdrawn ${totals.overdrawn} != spent ${totals.consumed} + expired ${totals.breakage} + refunded ${totals.refunded} + held ${totals.held} + available ${totals.available}`,
    );
  }
  const { debt, overdraftHeld } = audit.overdraft;
  if (debt + overdraftHeld !== totals.overdrawn)
    fail(
      'overdraft_matches_journal',
      `debt ${debt} + held past zero ${overdraftHeld}, journal ${totals.overdrawn}`,
    );
  if (overdraftHeld !== heldPastZero)
    fail(
      'overdraft_held_matches_holds',
      `held past zero ${overdraftHeld}, open holds ${heldPastZero}`,
    );
  const remaining = audit.grants.reduce((s, g) => s + g.remaining, 0);
  if (remaining !== totals.available)
    fail('available_matches_journal', `grants hold ${remaining}, journal ${totals.available}`);
  if (heldOpen !== totals.held)
    fail('held_matches_journal', `open holds ${heldOpen}, journal ${totals.held}`);
  return { violations, totals };
}

function checkGrants(audit: AccountAudit, fail: Fail): void {
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
}

/** Each hold against its journal; what open holds still reserve, and the part past zero. */
function checkHolds(audit: AccountAudit, fail: Fail) {
  let heldOpen = 0;
  let heldPastZero = 0;
  for (const h of audit.holds) {
    // An open hold draws exactly what it still holds; a resolved one kept what it held last.
    const drawn = h.draws.reduce((s, d) => s + d.credits, 0);
    const still = heldNow(h);
    if (h.status === 'held' ? drawn !== still : drawn > h.credits)
      fail('hold_draws', `${h.id} (${h.status}) draws ${drawn}, holds ${still} of ${h.credits}`);
    if (h.capturedCredits > h.credits)
      fail('capture_within_hold', `${h.id} captured ${h.capturedCredits} of ${h.credits}`);
    const inHeld = sumBy(audit, 'held', { holdId: h.id });
    const expected = still;
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
    if (h.status === 'held') {
      heldOpen += still;
      heldPastZero += h.draws.filter(isOverdraftDraw).reduce((s, d) => s + d.credits, 0);
    }
  }
  return { heldOpen, heldPastZero };
}

/** An account's rollups summed over all time: what reports read. */
export interface RollupTotals {
  readonly flows: readonly FlowRow[];
  readonly usage: readonly UsageRow[];
}

/**
 * The rollups (core/rollups.ts) agree with the journal's totals: granted flows per grant source
 * (what advice reads as allocation and packs bought) and consumed, expired and refunded flows
 * sum to the books they come from, and usage by operation to the credits consumed (every
 * consumed credit is a charge's or a capture's); usage by resolution, member and project is a
 * part of that. Pure.
 */
export function checkRollups(
  accountId: string,
  audit: AccountAudit,
  totals: Totals,
  r: RollupTotals,
): Violation[] {
  const violations: Violation[] = [];
  const issuedBySource = new Map<string, number>();
  for (const g of audit.grants) {
    const issued = 0 - sumBy(audit, 'issued', { grantId: g.id });
    issuedBySource.set(g.source, (issuedBySource.get(g.source) ?? 0) + issued);
  }
  const grantedBySource = new Map<string, number>();
  for (const x of r.flows) {
    if (x.flow === 'granted')
      grantedBySource.set(x.key, (grantedBySource.get(x.key) ?? 0) + x.credits);
  }
  const flow = (f: FlowRow['flow']) =>
    r.flows.filter((x) => x.flow === f).reduce((s, x) => s + x.credits, 0);
  const dim = (d: UsageRow['dim']) =>
    r.usage.filter((x) => x.dim === d).reduce((s, x) => s + x.credits, 0);
  const sources = [...new Set([...issuedBySource.keys(), ...grantedBySource.keys()])].sort();
  const expect: [string, number, number][] = [
    ...sources.map((source): [string, number, number] => [
      `granted from ${source}`,
      grantedBySource.get(source) ?? 0,
      issuedBySource.get(source) ?? 0,
    ]),
    ['granted', flow('granted'), totals.granted],
    ['consumed', flow('consumed'), totals.consumed],
    ['expired', flow('expired'), totals.breakage],
    ['refunded', flow('refunded'), totals.refunded],
    ['usage by operation', dim('operation'), totals.consumed],
  ];
  for (const [what, rolled, journal] of expect) {
    if (rolled !== journal) {
      violations.push({
        accountId,
        check: 'rollups_match_journal',
        detail: `${what}: rollups ${rolled}, journal ${journal} (amisi rollups rebuild ${accountId})`,
      });
    }
  }
  for (const d of ['resolution', 'member', 'project'] as const) {
    if (dim(d) > totals.consumed) {
      violations.push({
        accountId,
        check: 'rollups_within_consumed',
        detail: `usage by ${d} ${dim(d)} exceeds the ${totals.consumed} consumed`,
      });
    }
  }
  return violations;
}

/** The account's rollups over all time; null while they await a rebuild (nothing to check). */
async function rollupTotals(store: Store, accountId: string): Promise<RollupTotals | null> {
  const w = await store.rollupWindow({
    accountId,
    hoursFrom: Number.MIN_SAFE_INTEGER,
    hoursTo: Number.MAX_SAFE_INTEGER,
    before: false,
    usage: true,
    journal: [],
  });
  // Summed per key in a fixed order, so two reads of the same rollups compare equal.
  return w.pending ? null : { flows: sumFlows(w.flows), usage: sumUsage(w.usage) };
}

function sameRollups(a: RollupTotals, b: RollupTotals): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Recomputes every account from the journal, and checks its rollups against it; `onProgress` is
 * told after each page. An account whose rollups change while it is read (a live server wrote)
 * has its rollups left unchecked this time: the journal and the rollups were not one snapshot.
 */
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
    overdrawn: 0,
  };
  const violations: Violation[] = [];
  let violationCount = 0;
  let accounts = 0;
  let transactions = 0;
  let after: string | null = null;
  for (;;) {
    const page = await store.accounts({ afterId: after, limit: pageSize });
    for (const account of page) {
      const rollups = await rollupTotals(store, account.id);
      const audit = await store.accountAudit(account.id);
      const result = checkAccount(account.id, audit);
      const again = rollups && (await rollupTotals(store, account.id));
      if (rollups && again && sameRollups(rollups, again)) {
        result.violations.push(...checkRollups(account.id, audit, result.totals, rollups));
      }
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
