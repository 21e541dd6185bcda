import type { UsageCycle } from './advice.js';
import type { Plan } from './catalog.js';
import { addMonths, cycleAt, cycleStart } from './cycles.js';
import { AmisiError, assert } from './errors.js';
import { basisPoints } from './phases.js';
import type { FlowRow, RangeTotals, UsageDim, UsageRow } from './rollups.js';
import { flowSum } from './findings.js';

export * from './findings.js';

/**
 * Reports built from rollups (core/rollups.ts) and outcomes: statements, usage with the change
 * against the previous period, and the findings that need only those. Pure: the ledger reads,
 * these compute.
 *
 * Periods are half-open [from, to). Something that happens at a cycle boundary belongs to the
 * cycle it opens: the renewal at the start of cycle n expires and rolls over what was left of
 * cycle n-1's allocation and grants cycle n's, so cycle n's statement shows them, and cycle n-1's
 * closing balance still holds the allocation that expired at that instant (as the journal did
 * until the renewal). Closing of n is therefore always opening of n+1.
 *
 * The findings of an audit are in core/findings.ts, re-exported here.
 */

// ---------------------------------------------------------------------------------------------
// Periods

export interface Period {
  readonly from: number;
  readonly to: number;
  /** The cycle's index: of the subscription, or of calendar months since the account's first. */
  readonly cycle: number | null;
  /** cycle: the subscription's; month: calendar months (no plan); range: as asked. */
  readonly basis: 'cycle' | 'month' | 'range';
}

export interface PeriodInput {
  readonly cycle?: number;
  readonly from?: number;
  readonly to?: number;
}

/** What periods are counted from: the subscription's anchor, else the account's first month. */
export interface PeriodBasis {
  readonly anchorAt: number | null;
  readonly accountCreatedAt: number;
  readonly now: number;
}

/** Longest range a report covers: ten years (an hourly rollup row is small, not free). */
export const MAX_REPORT_RANGE_MS = 3660 * 86_400_000;

function monthStart(t: number): number {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

function cyclePeriod(basis: PeriodBasis, index: number): Period {
  if (basis.anchorAt !== null) {
    return {
      from: cycleStart(basis.anchorAt, index),
      to: cycleStart(basis.anchorAt, index + 1),
      cycle: index,
      basis: 'cycle',
    };
  }
  const first = monthStart(basis.accountCreatedAt);
  return {
    from: addMonths(first, index),
    to: addMonths(first, index + 1),
    cycle: index,
    basis: 'month',
  };
}

/** The cycle containing `at` (0 before the anchor or the account's first month). */
function cycleIndexAt(basis: PeriodBasis, at: number): number {
  if (basis.anchorAt !== null) return at < basis.anchorAt ? 0 : cycleAt(basis.anchorAt, at).index;
  const first = monthStart(basis.accountCreatedAt);
  return at < first ? 0 : cycleAt(first, at).index;
}

/**
 * The period asked for: a cycle by index, a range, or (neither) the current cycle. Cycles are
 * the subscription's (anchored on its start, core/cycles.ts), calendar months without one.
 */
export function resolvePeriod(basis: PeriodBasis, input: PeriodInput): Period {
  const hasRange = input.from !== undefined || input.to !== undefined;
  if (input.cycle !== undefined && hasRange) {
    throw new AmisiError('invalid_argument', 'give either a cycle or a range (from, until)', {
      field: 'cycle',
    });
  }
  if (hasRange) {
    if (input.from === undefined || input.to === undefined) {
      throw new AmisiError('invalid_argument', 'a range needs both from and until', {
        field: input.from === undefined ? 'from' : 'until',
      });
    }
    if (input.to <= input.from || input.to - input.from > MAX_REPORT_RANGE_MS) {
      throw new AmisiError(
        'invalid_argument',
        'until must be after from, at most ten years later',
        { field: 'until', value: input.to },
      );
    }
    return { from: input.from, to: input.to, cycle: null, basis: 'range' };
  }
  const index = input.cycle ?? cycleIndexAt(basis, basis.now);
  if (!Number.isSafeInteger(index) || index < 0 || index > 1200) {
    throw new AmisiError('invalid_argument', 'cycle must be a whole number from 0 to 1200', {
      field: 'cycle',
      value: String(index),
    });
  }
  return cyclePeriod(basis, index);
}

/** How many cycles a report lists to pick from (the current one and those before it). */
export const MAX_LISTED_CYCLES = 24;

/**
 * The current cycle and the ones before it, newest first, at most `limit`: what a cycle picker
 * offers, each with its dates (older cycles can still be asked for by index).
 */
export function recentCycles(basis: PeriodBasis, limit = MAX_LISTED_CYCLES): Period[] {
  const current = cycleIndexAt(basis, basis.now);
  const count = Math.min(limit, current + 1);
  return Array.from({ length: count }, (_, i) => cyclePeriod(basis, current - i));
}

/**
 * The period before: the previous cycle (before the first, the month before it), or the range
 * of equal length just before.
 */
export function previousPeriod(basis: PeriodBasis, p: Period): Period {
  if (p.cycle !== null && p.cycle > 0) return cyclePeriod(basis, p.cycle - 1);
  if (p.cycle === 0)
    return { from: addMonths(p.from, -1), to: p.from, cycle: null, basis: 'range' };
  return { from: p.from - (p.to - p.from), to: p.from, cycle: null, basis: 'range' };
}

// ---------------------------------------------------------------------------------------------
// Statements

export interface SourceCredits {
  readonly source: string;
  readonly credits: number;
}

export interface FlowTotal {
  readonly credits: number;
  /** By the source of the grants the credits came from (granted: the new grants' source). */
  readonly bySource: readonly SourceCredits[];
}

export interface Statement {
  readonly accountId: string;
  readonly period: Period;
  /** Available and held at `from`: every flow before it. */
  readonly opening: number;
  readonly granted: FlowTotal;
  /** Consumed by charges and captures. */
  readonly spent: FlowTotal;
  /** Expired (breakage), rollover lost to the cap included. */
  readonly expired: FlowTotal;
  readonly refunded: FlowTotal;
  /** Unused allocation that became rollover at a renewal in the period (moves no balance). */
  readonly rolledOver: number;
  /** Part of `expired`: allocation over the rollover cap, and older rollover trimmed for room. */
  readonly lostToCap: number;
  /** Available and held at `to`: opening + granted - spent - expired - refunded. */
  readonly closing: number;
  /**
   * The overdraft (docs/adr/0014-overdraft.md): credits charged or captured past zero in the
   * period (part of spent), the debt repaid by credits that arrived, and what is owed at `to`.
   */
  readonly overdraft: {
    readonly overdrawn: number;
    readonly repaid: number;
    readonly owedAtClose: number;
  };
}

function flowTotal(rows: readonly FlowRow[], flow: FlowRow['flow']): FlowTotal {
  const mine = rows.filter((r) => r.flow === flow);
  return {
    credits: mine.reduce((s, r) => s + r.credits, 0),
    bySource: mine
      .map((r) => ({ source: r.key === '' ? '(none)' : r.key, credits: r.credits }))
      .sort((a, b) => b.credits - a.credits || (a.source < b.source ? -1 : 1)),
  };
}

/** The net balance the flows leave: granted - consumed - expired - refunded. */
export function netOfFlows(rows: readonly FlowRow[]): number {
  let net = 0;
  for (const r of rows) {
    if (r.flow === 'granted') net += r.credits;
    else if (r.flow === 'consumed' || r.flow === 'expired' || r.flow === 'refunded')
      net -= r.credits;
  }
  return net;
}

export function buildStatement(accountId: string, period: Period, t: RangeTotals): Statement {
  const opening = netOfFlows(t.before);
  const granted = flowTotal(t.flows, 'granted');
  const spent = flowTotal(t.flows, 'consumed');
  const expired = flowTotal(t.flows, 'expired');
  const refunded = flowTotal(t.flows, 'refunded');
  const closing = netOfFlows([...t.before, ...t.flows]);
  assert(
    opening + granted.credits - spent.credits - expired.credits - refunded.credits === closing,
    'a statement balances: opening + granted - spent - expired - refunded = closing',
  );
  const sum = (flow: FlowRow['flow']) =>
    t.flows.filter((r) => r.flow === flow).reduce((s, r) => s + r.credits, 0);
  return {
    accountId,
    period,
    opening,
    granted,
    spent,
    expired,
    refunded,
    rolledOver: sum('rolled'),
    lostToCap: sum('capped'),
    closing,
    overdraft: {
      overdrawn: sum('overdrawn'),
      repaid: sum('repaid'),
      owedAtClose: [...t.before, ...t.flows].reduce(
        (owed, r) =>
          r.flow === 'overdrawn' ? owed + r.credits : r.flow === 'repaid' ? owed - r.credits : owed,
        0,
      ),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Usage

export interface UsageLine {
  readonly key: string;
  readonly credits: number;
  readonly units: number;
  readonly previousCredits: number;
  readonly previousUnits: number;
  /** credits - previousCredits. */
  readonly changeCredits: number;
  /** The change as a share of the previous period's credits, in basis points (half up); null when it was 0. */
  readonly changeBasisPoints: number | null;
}

export interface UsageReport {
  readonly accountId: string;
  readonly period: Period;
  readonly previous: Period;
  /** Credits consumed in the period, and in the previous one. */
  readonly credits: number;
  readonly previousCredits: number;
  readonly changeCredits: number;
  readonly changeBasisPoints: number | null;
  readonly byOperation: readonly UsageLine[];
  readonly byResolution: readonly UsageLine[];
  readonly byMember: readonly UsageLine[];
  readonly byProject: readonly UsageLine[];
}

/** (current - previous) / previous in basis points, half away from zero; null when previous is 0. */
export function changeBasisPoints(current: number, previous: number): number | null {
  if (previous === 0) return null;
  const diff = current - previous;
  return diff < 0 ? -basisPoints(-diff, previous) : basisPoints(diff, previous);
}

function lines(current: readonly UsageRow[], previous: readonly UsageRow[], dim: UsageDim) {
  const now = new Map(current.filter((r) => r.dim === dim).map((r) => [r.key, r]));
  const before = new Map(previous.filter((r) => r.dim === dim).map((r) => [r.key, r]));
  const keys = [...new Set([...now.keys(), ...before.keys()])];
  return keys
    .map((key): UsageLine => {
      const c = now.get(key);
      const p = before.get(key);
      const credits = c?.credits ?? 0;
      const previousCredits = p?.credits ?? 0;
      return {
        key,
        credits,
        units: c?.units ?? 0,
        previousCredits,
        previousUnits: p?.units ?? 0,
        changeCredits: credits - previousCredits,
        changeBasisPoints: changeBasisPoints(credits, previousCredits),
      };
    })
    .sort(
      (a, b) =>
        b.credits - a.credits || b.previousCredits - a.previousCredits || (a.key < b.key ? -1 : 1),
    );
}

export function buildUsage(
  accountId: string,
  period: Period,
  previous: Period,
  current: RangeTotals,
  before: RangeTotals,
): UsageReport {
  const consumed = (t: RangeTotals) =>
    t.flows.filter((r) => r.flow === 'consumed').reduce((s, r) => s + r.credits, 0);
  const credits = consumed(current);
  const previousCredits = consumed(before);
  const byOperation = lines(current.usage, before.usage, 'operation');
  assert(
    byOperation.reduce((s, l) => s + l.credits, 0) === credits,
    'usage by operation adds up to the credits consumed',
  );
  return {
    accountId,
    period,
    previous,
    credits,
    previousCredits,
    changeCredits: credits - previousCredits,
    changeBasisPoints: changeBasisPoints(credits, previousCredits),
    byOperation,
    byResolution: lines(current.usage, before.usage, 'resolution'),
    byMember: lines(current.usage, before.usage, 'member'),
    byProject: lines(current.usage, before.usage, 'project'),
  };
}

// ---------------------------------------------------------------------------------------------
// Cycles for advice (the tier-fit finding that reads them is in core/findings.ts)

/**
 * The plan a closed cycle was on, told by the allocation it granted (rollups keep credits, not
 * plan ids): the current plan when it grants that many credits a cycle, else the one plan of the
 * catalog that does. Otherwise (a prorated change mid-cycle, a plan since removed) the current
 * plan's id: the tier rules read the allocation, and use the plan id only to name the cycle.
 */
export function planOfAllocation(
  plans: Readonly<Record<string, Plan>>,
  allocation: number,
  current: string,
): string {
  if (plans[current]?.creditsPerCycle === allocation) return current;
  const matching = Object.entries(plans).filter(([, p]) => p.creditsPerCycle === allocation);
  return matching.length === 1 ? matching[0]![0] : current;
}

/** A UsageCycle whose byProject, when present, is set. */
export type ReportedCycle = Omit<UsageCycle, 'byProject'> & {
  readonly byProject?: Readonly<Record<string, number>>;
};

/**
 * A closed cycle as advice reads it (core/advice.ts): the allocation granted in it, the credits
 * consumed, the pack credits bought, and the credits per project when the account has projects
 * (a project missing from it spent nothing in the cycle) or any project spent.
 */
export function usageCycle(
  period: Pick<Period, 'from' | 'to'>,
  totals: Pick<RangeTotals, 'flows' | 'usage'>,
  plans: Readonly<Record<string, Plan>>,
  currentPlan: string,
  withProjects: boolean,
): ReportedCycle {
  const allocation = flowSum(totals.flows, 'granted', 'allocation');
  const projects = totals.usage.filter((u) => u.dim === 'project');
  return {
    startsAt: period.from,
    endsAt: period.to,
    plan: planOfAllocation(plans, allocation, currentPlan),
    allocation,
    consumed: flowSum(totals.flows, 'consumed'),
    purchased: flowSum(totals.flows, 'granted', 'purchase'),
    ...(withProjects || projects.length > 0
      ? { byProject: Object.fromEntries(projects.map((u) => [u.key, u.credits])) }
      : {}),
  };
}
