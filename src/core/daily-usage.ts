import { assert } from './errors.js';
import type { Attribution } from './holds.js';
import type { SpendPart, UsageRow } from './rollups.js';

/**
 * Daily usage: the credits a cycle spent on each UTC day, split by operation, member or
 * project, for a chart. Pure: the ledger reads the hourly rollups (or, for a member that sees
 * only its own usage, the cycle's charges and captures) and this adds them up by day.
 *
 * A split names the DAILY_TOP keys that spent the most over the whole period (ties: key
 * order); the rest is one "other" series, and credits spent without a member (or project) are
 * a "none" series: each credit is counted once, so every day's split adds up to its credits.
 */

export const DAY_MS = 86_400_000;

export const DAILY_DIMS = ['operation', 'member', 'project'] as const;
export type DailyDim = (typeof DAILY_DIMS)[number];

/** Keys named in a split; the rest is "other". */
export const DAILY_TOP = 5;

/** A period has at most this many days (a cycle is a month: 31 days, and a part day). */
export const MAX_DAILY_DAYS = 32;

/** Credits spent at an instant (an hour's start for rollups), under a key of the dimension. */
export interface UsageAt {
  readonly at: number;
  /** null: spent without a member (or project). */
  readonly key: string | null;
  readonly credits: number;
}

export interface DailySeries {
  /** The member, project or operation; null for "other" and "none". */
  readonly key: string | null;
  readonly kind: 'key' | 'other' | 'none';
  /** Credits over the whole period. */
  readonly credits: number;
}

export interface UsageDay {
  /** The day's part of the period: [from, to), UTC days cut at the period's edges. */
  readonly from: number;
  readonly to: number;
  readonly credits: number;
  /** Credits of each series, in the order of `series`. */
  readonly split: readonly number[];
}

export interface DailyUsage {
  readonly by: DailyDim;
  readonly credits: number;
  readonly series: readonly DailySeries[];
  readonly days: readonly UsageDay[];
}

/** The UTC days of [from, to), each cut at the period's edges. */
export function utcDays(from: number, to: number): { from: number; to: number }[] {
  assert(Number.isSafeInteger(from) && Number.isSafeInteger(to) && from < to, 'a period');
  const days: { from: number; to: number }[] = [];
  for (let d = Math.floor(from / DAY_MS) * DAY_MS; d < to; d += DAY_MS) {
    days.push({ from: Math.max(d, from), to: Math.min(d + DAY_MS, to) });
  }
  assert(days.length <= MAX_DAILY_DAYS, `a period of at most ${MAX_DAILY_DAYS} days`);
  return days;
}

/**
 * Rollup rows (of one hour or one edge interval, at `at`) as usage under `by`: the operation
 * rows for operation; else that dimension's rows, and what the operation rows spent beyond
 * them as "none" (usage without a member or project has no row of its own).
 */
export function usageOfRollups(at: number, rows: readonly UsageRow[], by: DailyDim): UsageAt[] {
  const total = rows.filter((r) => r.dim === 'operation').reduce((s, r) => s + r.credits, 0);
  if (by === 'operation') {
    return rows
      .filter((r) => r.dim === 'operation')
      .map((r) => ({ at, key: r.key, credits: r.credits }));
  }
  const named = rows.filter((r) => r.dim === by);
  const none = total - named.reduce((s, r) => s + r.credits, 0);
  assert(none >= 0, 'a dimension never spends more than the operations');
  const out: UsageAt[] = named.map((r) => ({ at, key: r.key, credits: r.credits }));
  if (none > 0) out.push({ at, key: null, credits: none });
  return out;
}

/** One spend (a charge or capture, its parts and attribution) as usage under `by`. */
export function usageOfSpend(
  at: number,
  spend: { readonly parts: readonly SpendPart[]; readonly attribution: Attribution | null },
  by: DailyDim,
): UsageAt[] {
  if (by === 'operation')
    return spend.parts.map((p) => ({ at, key: p.operation, credits: p.credits }));
  const credits = spend.parts.reduce((s, p) => s + p.credits, 0);
  if (credits === 0) return [];
  return [{ at, key: spend.attribution?.[by] ?? null, credits }];
}

/** The usage of [from, to) by UTC day, split into the top keys, "other" and "none". */
export function dailyUsage(input: {
  readonly from: number;
  readonly to: number;
  readonly by: DailyDim;
  readonly usage: readonly UsageAt[];
  readonly top?: number;
}): DailyUsage {
  const { from, to, by } = input;
  const top = input.top ?? DAILY_TOP;
  const days = utcDays(from, to);
  const totals = new Map<string, number>();
  let none = 0;
  for (const u of input.usage) {
    assert(Number.isSafeInteger(u.credits) && u.credits >= 0, 'credits are whole');
    assert(u.at >= from && u.at < to, 'usage inside the period');
    if (u.key === null) none += u.credits;
    else totals.set(u.key, (totals.get(u.key) ?? 0) + u.credits);
  }
  const ranked = [...totals]
    .filter(([, c]) => c > 0)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  // "Other" for one key would hide a name to save nothing: it is named then.
  const named = ranked.length <= top + 1 ? ranked : ranked.slice(0, top);
  const rest = ranked.slice(named.length).reduce((s, [, c]) => s + c, 0);
  const series: DailySeries[] = named.map(([key, credits]) => ({ key, kind: 'key', credits }));
  if (rest > 0) series.push({ key: null, kind: 'other', credits: rest });
  if (none > 0) series.push({ key: null, kind: 'none', credits: none });
  const column = new Map(named.map(([key], i) => [key, i]));
  const otherAt = rest > 0 ? named.length : -1;
  const noneAt = series.length - 1;
  const splits = days.map(() => series.map(() => 0));
  for (const u of input.usage) {
    if (u.credits === 0) continue;
    const day = splits[Math.floor(u.at / DAY_MS) - Math.floor(from / DAY_MS)];
    assert(day !== undefined, 'usage falls on a day of the period');
    const i = u.key === null ? noneAt : (column.get(u.key) ?? otherAt);
    day[i] = (day[i] ?? 0) + u.credits;
  }
  const out = days.map((d, i) => {
    const split = splits[i]!;
    return { ...d, credits: split.reduce((s, c) => s + c, 0), split };
  });
  const credits = series.reduce((s, x) => s + x.credits, 0);
  assert(out.reduce((s, d) => s + d.credits, 0) === credits, 'the days add up to the period');
  return { by, credits, series, days: out };
}
