import { adviseTier, type Advice, type CycleFigures, type UsageCycle } from './advice.js';
import type { Catalog, Plan } from './catalog.js';
import { addMonths, cycleAt, cycleStart } from './cycles.js';
import { AmisiError, assert } from './errors.js';
import {
  findResolution,
  findUse,
  IMAGE_OPERATION,
  imageResolutionPrices,
  type ResolutionPrice,
} from './guidance.js';
import type { Outcome } from './outcomes.js';
import { basisPoints } from './phases.js';
import type { FlowRow, RangeTotals, UsageDim, UsageRow } from './rollups.js';

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
// Findings

export const FINDING_KINDS = [
  'high_resolution_exploration',
  'resolution_above_use',
  'allocation_expired_with_packs',
  'rollover_lost_to_cap',
  'tier_fit',
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

/** Resolutions the seed calls high: exploring at them costs 3 to 4 times 720p. */
export const HIGH_RESOLUTIONS: readonly string[] = ['4k', '8k'];
/** High-resolution images of one concept before its first kept one that count as "many". */
export const MANY_BEFORE_KEPT = 3;
/** The resolution the seed says to explore at. */
export const EXPLORE_RESOLUTION = '720p';
/** Values of the `phase` label that mean exploring (core/phases.ts calls the phase explore). */
export const EXPLORE_PHASES: readonly string[] = ['explore', 'exploration', 'exploring', 'draft'];

export interface Finding {
  readonly kind: FindingKind;
  /** One line for people, with the numbers. */
  readonly summary: string;
  /** Credits involved. */
  readonly credits: number;
  /** Credits that doing what `advice` says would have saved. */
  readonly savingCredits: number;
  readonly advice: string;
  /** The figures behind it. */
  readonly data: Readonly<Record<string, unknown>>;
}

export interface FindingInput {
  readonly catalog: Catalog;
  readonly period: Period;
  readonly previous: Period;
  /** Flows of the period and of the previous one. */
  readonly flows: readonly FlowRow[];
  readonly previousFlows: readonly FlowRow[];
  /** Outcomes of the charges and captures made in the period. */
  readonly outcomes: readonly Outcome[];
}

function isHigh(resolution: string | null): resolution is string {
  return resolution !== null && HIGH_RESOLUTIONS.includes(resolution.toLowerCase());
}

/** Images of image.generate whose price per image is known in the catalog. */
function imagePrice(prices: readonly ResolutionPrice[], o: Outcome): number | undefined {
  if (o.operation !== IMAGE_OPERATION || o.resolution === null || o.units === 0) return undefined;
  return findResolution(prices, o.resolution)?.credits;
}

interface Priced {
  readonly outcome: Outcome;
  /** What the same images cost at the cheaper resolution. */
  readonly cheaper: number;
}

function total(items: readonly Priced[]) {
  return {
    images: items.reduce((s, i) => s + i.outcome.units, 0),
    credits: items.reduce((s, i) => s + i.outcome.credits, 0),
    saving: items.reduce((s, i) => s + Math.max(0, i.outcome.credits - i.cheaper), 0),
  };
}

/**
 * High-resolution exploration: generated images at 4K or 8K that were discarded or labelled as
 * exploring (`phase`), and, per `concept` label, MANY_BEFORE_KEPT or more 4K/8K images made
 * before the concept's first kept image. Saving: their cost minus the same images at 720p.
 */
function exploration(
  input: FindingInput,
  prices: readonly ResolutionPrice[],
  counted: Set<string>,
): Finding | null {
  const low = findResolution(prices, EXPLORE_RESOLUTION);
  if (!low) return null;
  const high = input.outcomes.filter(
    (o) => isHigh(o.resolution) && imagePrice(prices, o) !== undefined,
  );
  const priced = (o: Outcome): Priced => ({ outcome: o, cheaper: o.units * low.credits });
  const discarded = high.filter((o) => o.outcome === 'discarded').map(priced);
  const explored = high
    .filter((o) => EXPLORE_PHASES.includes((o.labels.phase ?? '').toLowerCase()))
    .map(priced);
  const byConcept = new Map<string, Outcome[]>();
  for (const o of input.outcomes) {
    const concept = o.labels.concept;
    if (concept === undefined) continue;
    byConcept.set(concept, [...(byConcept.get(concept) ?? []), o]);
  }
  const concepts: { concept: string; items: Priced[] }[] = [];
  for (const [concept, list] of [...byConcept].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const firstKept = list.find((o) => o.outcome === 'kept');
    if (!firstKept) continue;
    const before = list.filter(
      (o) =>
        isHigh(o.resolution) &&
        imagePrice(prices, o) !== undefined &&
        (o.createdAt < firstKept.createdAt ||
          (o.createdAt === firstKept.createdAt && o.transactionId < firstKept.transactionId)),
    );
    if (before.reduce((s, o) => s + o.units, 0) >= MANY_BEFORE_KEPT)
      concepts.push({ concept, items: before.map(priced) });
  }
  const all = new Map<string, Priced>();
  for (const p of [...discarded, ...explored, ...concepts.flatMap((c) => c.items)])
    all.set(p.outcome.transactionId, p);
  if (all.size === 0) return null;
  for (const id of all.keys()) counted.add(id);
  const t = total([...all.values()]);
  const d = total(discarded);
  const e = total(explored);
  return {
    kind: 'high_resolution_exploration',
    summary:
      `${t.images} images at 4K/8K cost ${t.credits} credits while exploring ` +
      `(${d.images} discarded, ${e.images} labelled as exploring; ` +
      `${concepts.length} concept(s) with ${MANY_BEFORE_KEPT}+ before the kept one)`,
    credits: t.credits,
    savingCredits: t.saving,
    advice:
      `explore at ${low.resolution} (${low.credits} credit(s) per image) and generate 4K/8K only ` +
      `for the images you keep: ${t.credits} - ${t.credits - t.saving} = ${t.saving} credits saved`,
    data: {
      images: t.images,
      exploreResolution: low.resolution,
      exploreCredits: low.credits,
      discarded: { images: d.images, credits: d.credits, savingCredits: d.saving },
      exploring: { images: e.images, credits: e.credits, savingCredits: e.saving },
      concepts: concepts.map((c) => ({ concept: c.concept, ...total(c.items) })),
    },
  };
}

/**
 * Resolution above the guideline for the intended use its outcome was labelled with (`use`:
 * an id or alias of core/guidance.ts). Saving: their cost minus the same images at the
 * guideline's resolution. Images already counted as exploration are not counted again.
 */
function aboveUse(
  input: FindingInput,
  prices: readonly ResolutionPrice[],
  counted: Set<string>,
): Finding | null {
  const byUse = new Map<string, { resolution: string; unit: number; items: Priced[] }>();
  for (const o of input.outcomes) {
    if (counted.has(o.transactionId) || o.labels.use === undefined) continue;
    const price = imagePrice(prices, o);
    if (price === undefined) continue;
    let use;
    try {
      use = findUse(o.labels.use);
    } catch {
      continue; // a label that names no use the guidance knows
    }
    const guide = findResolution(prices, use.resolution);
    if (!guide || price <= guide.credits) continue;
    const entry = byUse.get(use.use) ?? {
      resolution: guide.resolution,
      unit: guide.credits,
      items: [],
    };
    entry.items.push({ outcome: o, cheaper: o.units * guide.credits });
    byUse.set(use.use, entry);
  }
  if (byUse.size === 0) return null;
  const uses = [...byUse].sort(([a], [b]) => (a < b ? -1 : 1));
  const all = uses.flatMap(([, u]) => u.items);
  for (const p of all) counted.add(p.outcome.transactionId);
  const t = total(all);
  return {
    kind: 'resolution_above_use',
    summary: `${t.images} images made above the resolution their intended use needs, for ${t.credits} credits`,
    credits: t.credits,
    savingCredits: t.saving,
    advice:
      uses.map(([use, u]) => `${use}: ${u.resolution} (${u.unit} credit(s) per image)`).join('; ') +
      ` would have cost ${t.credits - t.saving}: ${t.saving} credits saved`,
    data: {
      images: t.images,
      uses: uses.map(([use, u]) => ({
        use,
        resolution: u.resolution,
        unitCredits: u.unit,
        ...total(u.items),
      })),
    },
  };
}

function flowSum(rows: readonly FlowRow[], flow: FlowRow['flow'], key?: string): number {
  return rows
    .filter((r) => r.flow === flow && (key === undefined || r.key === key))
    .reduce((s, r) => s + r.credits, 0);
}

/**
 * Allocation left to expire in a cycle in which packs were bought. A cycle's allocation expires
 * at the renewal that opens the next one, so this period's expired allocation belongs to the
 * previous period, and is set against the packs bought in it: the smaller of the two is what
 * buying fewer packs (spending the allocation first) would have saved.
 */
function allocationWithPacks(input: FindingInput): Finding | null {
  const expired = flowSum(input.flows, 'expired', 'allocation');
  const bought = flowSum(input.previousFlows, 'granted', 'purchase');
  if (expired === 0 || bought === 0) return null;
  const saving = Math.min(expired, bought);
  return {
    kind: 'allocation_expired_with_packs',
    summary:
      `${expired} allocation credits expired at the renewal that opened this period, ` +
      `after ${bought} credits of packs were bought in the period before`,
    credits: expired,
    savingCredits: saving,
    advice:
      `spend the allocation before buying packs (it expires at renewal; packs last 12 months): ` +
      `${saving} fewer pack credits would have covered the same use`,
    data: { expiredAllocation: expired, packCredits: bought, previous: input.previous },
  };
}

/** Rollover lost to the plan's cap at the renewal that opened this period. */
function lostToCap(input: FindingInput): Finding | null {
  const allocation = flowSum(input.flows, 'capped', 'allocation');
  const rollover = flowSum(input.flows, 'capped', 'rollover');
  const lost = allocation + rollover;
  if (lost === 0) return null;
  return {
    kind: 'rollover_lost_to_cap',
    summary:
      `${lost} credits were lost to the rollover cap at renewal ` +
      `(${allocation} unused allocation over the cap, ${rollover} older rollover trimmed)`,
    credits: lost,
    savingCredits: lost,
    advice:
      'use the allocation before the renewal date, or move to a plan whose rollover cap holds ' +
      'what you bank: every credit over the cap expires',
    data: { allocationOverCap: allocation, rolloverTrimmed: rollover },
  };
}

/** The findings that need only rollups and outcomes, in FINDING_KINDS order. */
export function findings(input: FindingInput): Finding[] {
  const prices = imageResolutionPricesOrNone(input.catalog);
  const counted = new Set<string>();
  const out = [
    exploration(input, prices, counted),
    aboveUse(input, prices, counted),
    allocationWithPacks(input),
    lostToCap(input),
  ];
  return out.filter((f): f is Finding => f !== null);
}

function imageResolutionPricesOrNone(catalog: Catalog): ResolutionPrice[] {
  try {
    return imageResolutionPrices(catalog);
  } catch {
    return []; // a catalog without image.generate: no image findings
  }
}

// ---------------------------------------------------------------------------------------------
// Cycles for advice, and the tier-fit finding

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
 * consumed, the pack credits bought, and the credits per project when any project spent.
 */
export function usageCycle(
  period: Pick<Period, 'from' | 'to'>,
  totals: Pick<RangeTotals, 'flows' | 'usage'>,
  plans: Readonly<Record<string, Plan>>,
  currentPlan: string,
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
    ...(projects.length === 0
      ? {}
      : { byProject: Object.fromEntries(projects.map((u) => [u.key, u.credits])) }),
  };
}

/** Tier advice that asks for action: packs or a plan change. */
const ACTIONABLE_TIER: ReadonlySet<Advice['kind']> = new Set([
  'occasional-overrun',
  'project-spike',
  'frequent-overrun',
  'consistent-overrun',
  'downgrade',
]);

/**
 * The audit's tier-fit finding: the tier advice (core/advice.ts adviseTier) over the closed
 * cycles up to the audited one, when it asks for packs or a plan change. Credits: the overruns
 * of the window (for a downgrade, the allocation left unused). The saving is money, not credits:
 * the advice's monthly saving, in data.monthlySavingCents (savingCredits 0).
 */
export function tierFit(input: {
  readonly catalog: Catalog;
  readonly cycles: readonly UsageCycle[];
  readonly plan: string;
  readonly members: number;
}): Finding | null {
  const advice = adviseTier(input);
  if (!ACTIONABLE_TIER.has(advice.kind)) return null;
  const window: readonly CycleFigures[] =
    'heavyCycles' in advice.figures ? advice.figures.cycles : [];
  const credits =
    advice.kind === 'downgrade'
      ? window.reduce((s, c) => s + Math.max(0, c.allocation - c.consumed), 0)
      : window.reduce((s, c) => s + c.overrun, 0);
  const rec = advice.recommendation;
  const monthlySavingCents =
    rec === null ? null : rec.action === 'buy-packs' ? null : rec.monthlySavingCents;
  return {
    kind: 'tier_fit',
    summary: advice.summary,
    credits,
    savingCredits: 0,
    advice:
      rec === null
        ? 'see amisi advise'
        : rec.action === 'buy-packs'
          ? `buy packs for ${rec.credits} credits rather than change plan`
          : `${rec.action} from ${rec.from} to ${rec.plan}`,
    data: { advice: advice.kind, recommendation: rec, monthlySavingCents },
  };
}
