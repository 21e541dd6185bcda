import { assert } from './errors.js';
import { addMonths } from './cycles.js';

/**
 * Auto top-up: when an account's available credits fall below a threshold, buy a given pack,
 * at most `maxPerPeriod` times per period. Pure: the ledger calls `decideAutoTopup` at the end
 * of every batch that touched the account, under the account's lock, so a burst of concurrent
 * charges sees one crossing and buys one pack.
 *
 * The rule is armed while the balance is at or above the threshold. A crossing below it fires
 * (a pending purchase) and disarms the rule; it re-arms only once the balance is back at or
 * above the threshold (typically when the pack's payment is confirmed). When the period's cap
 * is reached the crossing does not fire and the rule stays armed, so the first change in the
 * next period fires if the balance is still low.
 */

export const AUTO_TOPUP_PERIODS = ['day', 'week', 'month'] as const;
export type AutoTopupPeriod = (typeof AUTO_TOPUP_PERIODS)[number];

export interface AutoTopup {
  readonly accountId: string;
  readonly pack: string;
  /** Fires when available credits drop below this (strictly). */
  readonly thresholdCredits: number;
  readonly maxPerPeriod: number;
  readonly period: AutoTopupPeriod;
  /** The payment provider that will be asked for the money (a name, e.g. manual or stripe). */
  readonly provider: string;
  readonly armed: boolean;
  /** Start of the period `firedInPeriod` counts (UTC day, ISO week from Monday, or month). */
  readonly periodStartsAt: number;
  readonly firedInPeriod: number;
  /** When it last fired; null if never. */
  readonly lastFiredAt: number | null;
  readonly updatedAt: number;
}

const DAY_MS = 86_400_000;

/** The start (UTC) of the period containing `at`. */
export function periodStart(period: AutoTopupPeriod, at: number): number {
  const day = Math.floor(at / DAY_MS) * DAY_MS;
  if (period === 'day') return day;
  if (period === 'week') {
    // 1970-01-01 was a Thursday: shift so weeks start on Monday.
    const weekday = (new Date(day).getUTCDay() + 6) % 7;
    return day - weekday * DAY_MS;
  }
  const d = new Date(at);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** The start of the period after the one starting at `start`. */
export function nextPeriodStart(period: AutoTopupPeriod, start: number): number {
  if (period === 'day') return start + DAY_MS;
  if (period === 'week') return start + 7 * DAY_MS;
  return addMonths(start, 1);
}

export interface AutoTopupDecision {
  /** Buy the pack now. */
  readonly fire: boolean;
  /** The rule as it stands after this decision (may equal the input). */
  readonly next: AutoTopup;
  /** Why not, when a crossing did not fire (for the log and the API). */
  readonly skipped: 'cap_reached' | null;
}

export function decideAutoTopup(
  rule: AutoTopup,
  availableCredits: number,
  now: number,
): AutoTopupDecision {
  assert(Number.isSafeInteger(availableCredits) && availableCredits >= 0, 'available >= 0');
  let next = rule;
  const start = periodStart(rule.period, now);
  if (start > rule.periodStartsAt) next = { ...next, periodStartsAt: start, firedInPeriod: 0 };
  if (availableCredits >= rule.thresholdCredits) {
    if (!next.armed) next = { ...next, armed: true, updatedAt: now };
    return { fire: false, next, skipped: null };
  }
  if (!next.armed) return { fire: false, next, skipped: null };
  if (next.firedInPeriod >= next.maxPerPeriod) return { fire: false, next, skipped: 'cap_reached' };
  next = {
    ...next,
    armed: false,
    firedInPeriod: next.firedInPeriod + 1,
    lastFiredAt: now,
    updatedAt: now,
  };
  return { fire: true, next, skipped: null };
}

/** Two rules differ in what the store keeps (so unchanged rules are not rewritten). */
export function sameAutoTopup(a: AutoTopup, b: AutoTopup): boolean {
  return (
    a.pack === b.pack &&
    a.thresholdCredits === b.thresholdCredits &&
    a.maxPerPeriod === b.maxPerPeriod &&
    a.period === b.period &&
    a.provider === b.provider &&
    a.armed === b.armed &&
    a.periodStartsAt === b.periodStartsAt &&
    a.firedInPeriod === b.firedInPeriod &&
    a.lastFiredAt === b.lastFiredAt
  );
}
