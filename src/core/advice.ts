import type { Catalog, Pack, Plan } from './catalog.js';
import { addMonths } from './cycles.js';
import { AmisiError, assert } from './errors.js';
import { formatMoney } from './money.js';
import { cheapestPacks, MAX_SHORTFALL_CREDITS, type PackCombination } from './packs.js';
import { seatsOf } from './teams.js';

/**
 * Advice: buy packs or change plan, when credits run out, and how to plan for busy seasons.
 * The seed's rules ("When to Purchase vs. Upgrade", "Seasonal planning") made exact. Pure:
 * every input is an argument, every result is integers (credits, cents, milliseconds, basis
 * points) and every item carries the figures its summary was computed from.
 *
 * Tier fit (adviseTier) looks at the last TIER_WINDOW (3) cycles, the window. Per cycle:
 *
 *   overrun = consumed - allocation when positive, else 0 (rollover and packs are not
 *             subtracted: the question is whether the plan's own allocation fits);
 *   heavy   = an overrun of 50% or more: 2 x consumed >= 3 x allocation and consumed >
 *             allocation (with allocation 0, any use is heavy).
 *
 * Exactly one tier item comes out: the first of these steps that applies. The brief's rules
 * are 1 occasional overruns (step d, refined by c), 2 project spikes (b), 3 consistent overruns
 * (a), 4 downgrade (e), 5 run-out forecast (forecastRunOut), 6 seasonal planning (planSeasons).
 *
 *   a. consistent-overrun: 2 or more heavy cycles in the window (with only 2 cycles known, both
 *      heavy). Demand = the heavy cycles' average consumption, rounded up. Side by side per
 *      month: staying (plan price + the cheapest packs for demand - the plan's credits) and
 *      each plan with more credits per cycle that seats the members (its price + the cheapest
 *      packs for what its allocation still lacks). The cheapest option is recommended (ties:
 *      more credits for the money, then staying, then plan id), with the monthly saving against
 *      staying. Consistent use wins over a project spike: two heavy months out of three are not
 *      a passing spike, and the comparison is per month, so it holds for a two-month project.
 *   b. project-spike: every overrun cycle of the window (1, 2 or 3, at most 1 heavy) has
 *      one project whose credits above its usual make up SPIKE_SHARE_BP (50%) or more of the
 *      cycle's overrun: 2 x spike >= overrun. A project's usual is its average (rounded half
 *      up) over the cycles of the whole input that report byProject and did not overrun; a
 *      project missing from such a cycle's byProject used 0 there. Without such cycles there
 *      is no usual and no spike. Recommends the cheapest packs for the largest overrun of
 *      those cycles (what the spike cost beyond the allocation), not a plan change.
 *   c. frequent-overrun: overruns in 2 or 3 of the window's cycles, at most 1 of them heavy.
 *      The brief counts this as occasional (overruns under 50%), but the seed's "occasional"
 *      does not cover every month, so step a's comparison is run (demand = the overrun
 *      cycles' average, rounded up) and packs are recommended unless a larger plan is cheaper
 *      per month (with the default catalog Starter at +21% or more every month is cheaper on
 *      Pro: 9.99 + 2 x 9.99 > 24.99).
 *   d. occasional-overrun: an overrun in 1 cycle of the window: the cheapest packs covering
 *      the largest overrun of the window.
 *   e. downgrade (needs all 3 cycles): a plan cheaper than the current one whose credits per
 *      cycle covered each of the 3 (consumed <= creditsPerCycle) and that seats the members
 *      (seatsOf: a plan without team access seats 1). The cheapest such plan (ties: more
 *      credits, then id), with the monthly saving: the difference in plan prices.
 *   f. plan-fits (3 cycles, no overrun, no downgrade), or short-history (fewer than 3 cycles,
 *      no overrun: a downgrade needs 3 covered cycles).
 *
 */

/** Cycles the tier rules look at, and how many a downgrade needs. */
export const TIER_WINDOW = 3;
/** A heavy cycle consumes at least this share of its allocation, in basis points (150%). */
export const HEAVY_USAGE_BP = 15_000;
/** Heavy cycles in the window that make use consistent. */
export const CONSISTENT_HEAVY_CYCLES = 2;
/** Share of an overrun, in basis points, that one project's spike must reach. */
export const SPIKE_SHARE_BP = 5000;
/** Cycles seasonal planning looks at, at most, and needs, at least. */
export const SEASON_WINDOW = 12;
export const SEASON_MIN_CYCLES = 6;
/** A peak cycle consumes at least PEAK_NUMERATOR / PEAK_DENOMINATOR (1.25) x the median. */
export const PEAK_NUMERATOR = 5;
export const PEAK_DENOMINATOR = 4;

const DAY_MS = 86_400_000;
/** The shortest time the run-out pace is measured over: a day. */
export const MIN_PACE_WINDOW_MS = DAY_MS;
const MAX_DATE_MS = 8_640_000_000_000_000;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** What advice needs of a catalog (a parsed Catalog fits). */
export type AdviceCatalog = Pick<Catalog, 'currency' | 'plans' | 'packs'>;

/** One closed cycle of an account's usage. */
export interface UsageCycle {
  readonly startsAt: number;
  readonly endsAt: number;
  /** The plan id in force during the cycle. */
  readonly plan: string;
  /** Credits the plan granted for the cycle (0 without a plan). */
  readonly allocation: number;
  /** Credits spent in the cycle. */
  readonly consumed: number;
  /** Pack credits bought in the cycle. */
  readonly purchased: number;
  /** Credits spent per project, when the account has projects. */
  readonly byProject?: Readonly<Record<string, number>> | undefined;
}

export interface TierInput {
  readonly catalog: AdviceCatalog;
  /** Closed cycles, oldest first. */
  readonly cycles: readonly UsageCycle[];
  /** The plan the account is on now; default the last cycle's plan. */
  readonly plan?: string | undefined;
  /** Members the plan must seat; default 1. */
  readonly members?: number | undefined;
}

export interface ForecastInput {
  readonly now: number;
  /** Credits available now. */
  readonly available: number;
  readonly renewalAt: number;
  readonly spentSoFarThisCycle: number;
  readonly cycleStartsAt: number;
}

export interface AdviceInput extends TierInput {
  /** The current cycle, for the run-out forecast; no forecast item without it. */
  readonly forecast?: ForecastInput | undefined;
}

/** A cycle as the rules saw it. */
export interface CycleFigures {
  readonly startsAt: number;
  readonly endsAt: number;
  readonly plan: string;
  readonly allocation: number;
  readonly consumed: number;
  readonly purchased: number;
  /** consumed - allocation when positive, else 0. */
  readonly overrun: number;
  /** consumed / allocation in basis points (15000 = 150%), half up; null with no allocation. */
  readonly usageBasisPoints: number | null;
  /** 2 x consumed >= 3 x allocation and consumed > allocation. */
  readonly heavy: boolean;
}

/** One way to pay for a month's demand: a plan, plus packs for what its allocation lacks. */
export interface PlanOption {
  readonly plan: string;
  readonly name: string;
  /** The plan the account is on: staying. */
  readonly current: boolean;
  readonly planPriceCents: number;
  readonly creditsPerCycle: number;
  /** Members the plan seats (seatsOf). */
  readonly seats: number;
  /** demand - creditsPerCycle when positive, else 0. */
  readonly shortfall: number;
  /** The cheapest packs for the shortfall; null when there is none or they cannot be priced. */
  readonly packs: PackCombination | null;
  /** plan price + packs; null when a shortfall cannot be priced (no packs, or too many). */
  readonly monthlyCents: number | null;
}

export interface BuyPacks {
  readonly action: 'buy-packs';
  /** The credits to cover. */
  readonly credits: number;
  readonly packs: PackCombination;
  readonly priceCents: number;
}

export interface ChangePlan {
  readonly action: 'upgrade' | 'downgrade';
  readonly from: string;
  readonly plan: string;
  readonly priceCents: number;
  /** Per month against staying (with packs); null when staying cannot be priced. */
  readonly monthlySavingCents: number | null;
}

export type Recommendation = BuyPacks | ChangePlan;

export interface SpikeFigures {
  readonly startsAt: number;
  readonly overrun: number;
  readonly project: string;
  readonly projectCredits: number;
  /** The project's average over the usual cycles, half up. */
  readonly usualCredits: number;
  readonly usualCycles: number;
  /** projectCredits - usualCredits. */
  readonly spikeCredits: number;
  /** spikeCredits / overrun in basis points, half up. */
  readonly shareBasisPoints: number;
}

export interface SeasonPeak {
  readonly startsAt: number;
  /** Calendar month of the start (UTC), 1-12. */
  readonly month: number;
  readonly consumed: number;
  readonly allocation: number;
  readonly overrun: number;
  /** The same cycle a year later (startsAt + 12 months): when to expect it again. */
  readonly expectedAgainAt: number;
}

/** One piece of advice: a stable kind, a line for people, the numbers, what to do. */
export interface AdviceItem<K extends string, F> {
  readonly kind: K;
  readonly summary: string;
  readonly figures: F;
  readonly recommendation: Recommendation | null;
}

/** What every tier item shows: the window's cycles and their counts. */
export interface TierFigures {
  readonly plan: string;
  readonly members: number;
  readonly cycles: readonly CycleFigures[];
  readonly overrunCycles: number;
  readonly heavyCycles: number;
}

/** Staying (with packs) against each larger plan, per month. */
export interface ComparisonFigures extends TierFigures {
  /** The average of demandFrom (the consumption of the heavy or overrun cycles), rounded up. */
  readonly demandCredits: number;
  readonly demandFrom: readonly number[];
  /** Staying first, then each larger plan that seats the members, fewest credits first. */
  readonly options: readonly PlanOption[];
  /** Plan id of the cheapest option (the current plan when staying wins); null if none priced. */
  readonly cheapest: string | null;
  /** Staying's monthly cost minus the cheapest's; null when staying cannot be priced. */
  readonly monthlySavingCents: number | null;
}

export type Advice =
  | AdviceItem<
      'short-history',
      {
        readonly rule: 'tier' | 'seasonal';
        readonly cycles: number;
        readonly needed: number;
        readonly plan: string | null;
      }
    >
  | AdviceItem<
      'plan-fits',
      TierFigures & { readonly creditsPerCycle: number; readonly blockedBySeats: readonly string[] }
    >
  | AdviceItem<
      'occasional-overrun',
      TierFigures & { readonly coveredOverrun: number; readonly coveredStartsAt: number }
    >
  | AdviceItem<
      'project-spike',
      TierFigures & { readonly spikes: readonly SpikeFigures[]; readonly coveredOverrun: number }
    >
  | AdviceItem<'frequent-overrun', ComparisonFigures>
  | AdviceItem<'consistent-overrun', ComparisonFigures>
  | AdviceItem<
      'downgrade',
      TierFigures & {
        readonly largestConsumed: number;
        readonly priceCents: number;
        readonly candidates: readonly string[];
        readonly blockedBySeats: readonly string[];
        readonly monthlySavingCents: number;
      }
    >
  | AdviceItem<'run-out', ForecastFigures>
  | AdviceItem<'lasts-past-renewal', ForecastFigures>
  | AdviceItem<'seasonal-peaks', SeasonFigures>
  | AdviceItem<'steady-usage', SeasonFigures>;

export type AdviceKind = Advice['kind'];

/** Every kind of advice, for schemas and validation. */
export const ADVICE_KINDS = [
  'short-history',
  'plan-fits',
  'occasional-overrun',
  'project-spike',
  'frequent-overrun',
  'consistent-overrun',
  'downgrade',
  'run-out',
  'lasts-past-renewal',
  'seasonal-peaks',
  'steady-usage',
] as const satisfies readonly AdviceKind[];
// Every kind is listed: a kind missing above makes this type `false` and the line fail.
const ALL_KINDS_LISTED: AdviceKind extends (typeof ADVICE_KINDS)[number] ? true : false = true;
void ALL_KINDS_LISTED;

export interface ForecastFigures extends ForecastInput {
  readonly elapsedMs: number;
  /** What the pace is measured over: elapsedMs, or MIN_PACE_WINDOW_MS early in a cycle. */
  readonly paceWindowMs: number;
  /** Credits a day at the pace, half up (display only: the pace is spent / paceWindowMs). */
  readonly paceCreditsPerDay: number;
  /** When the available credits reach 0 at the pace (ms, floor); null at pace 0. */
  readonly runOutAt: number | null;
  readonly runOutDate: string | null;
  /** renewalAt - runOutAt, and in whole days (floor); null unless it runs out first. */
  readonly msBeforeRenewal: number | null;
  readonly daysBeforeRenewal: number | null;
  /** Credits the pace spends from now to the renewal, rounded up. */
  readonly projectedToRenewal: number;
  /** projectedToRenewal - available when positive, else 0: what to buy to reach the renewal. */
  readonly shortfallAtRenewal: number;
  /** available - projectedToRenewal when positive, else 0. */
  readonly leftAtRenewal: number;
}

export interface SeasonFigures {
  readonly plan: string | null;
  readonly cycles: readonly CycleFigures[];
  /** The lower median of consumption (the middle value; the lower middle for an even count). */
  readonly medianCredits: number;
  /** ceil(1.25 x median), at least 1: a cycle consuming this much or more is a peak. */
  readonly peakThresholdCredits: number;
  readonly peaks: readonly SeasonPeak[];
  /** Peaks that overran, and their average overrun rounded up (0 when none overran). */
  readonly overrunPeaks: number;
  readonly typicalPeakOverrun: number;
  /** Months the recommended packs last (the shortest of them); null without packs. */
  readonly packsLastMonths: number | null;
  /** Cycles below their allocation, and the allocation they left unused. */
  readonly quietCycles: number;
  readonly unusedCredits: number;
  /** The current plan's rollover cap and how many cycles rollover lasts; null without plan. */
  readonly rolloverCap: number | null;
  readonly rolloverCycles: number | null;
}

// ---------------------------------------------------------------------------------------------
// Validation

function bad(message: string, details: Record<string, unknown>): never {
  throw new AmisiError('invalid_argument', message, details);
}

function whole(value: unknown, field: string, min = 0): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    bad(`${field} must be a whole number from ${min}, got ${String(value)}`, { field, min });
  }
  return value;
}

/** An instant in ms that Date can represent (|t| <= 8.64e15). */
function instant(value: unknown, field: string): number {
  const t = whole(value, field, -MAX_DATE_MS);
  if (t > MAX_DATE_MS) bad(`${field} must be at most ${MAX_DATE_MS}`, { field });
  return t;
}

function checkCycles(cycles: readonly UsageCycle[]): void {
  cycles.forEach((c, i) => {
    const at = `cycles[${i}]`;
    instant(c.startsAt, `${at}.startsAt`);
    instant(c.endsAt, `${at}.endsAt`);
    if (c.endsAt <= c.startsAt) bad(`${at} must end after it starts`, { field: at });
    if (i > 0 && c.startsAt < cycles[i - 1]!.endsAt) {
      bad(`${at} must start at or after the previous cycle's end (oldest first)`, { field: at });
    }
    if (typeof c.plan !== 'string') bad(`${at}.plan must be a plan id`, { field: `${at}.plan` });
    whole(c.allocation, `${at}.allocation`);
    whole(c.consumed, `${at}.consumed`);
    whole(c.purchased, `${at}.purchased`);
    for (const [p, n] of Object.entries(c.byProject ?? {})) whole(n, `${at}.byProject.${p}`);
  });
}

function planOf(catalog: AdviceCatalog, id: string): Plan {
  const plan = Object.hasOwn(catalog.plans, id) ? catalog.plans[id] : undefined;
  if (!plan) {
    throw new AmisiError('invalid_parameter', `unknown plan "${id}"`, {
      parameter: 'plan',
      value: id,
      allowed: Object.keys(catalog.plans),
    });
  }
  return plan;
}

// ---------------------------------------------------------------------------------------------
// Integer helpers

/** ceil(a / b) for a >= 0, b > 0. */
function ceilDiv(a: number, b: number): number {
  return (a - (a % b)) / b + (a % b === 0 ? 0 : 1);
}

/** round(part x scale / whole) half up, for part >= 0 and whole > 0, exactly (BigInt). */
function scaled(part: number, whole: number, scale: number): number {
  const x = 2n * BigInt(scale) * BigInt(part) + BigInt(whole);
  return Number(x / (2n * BigInt(whole)));
}

function cyclesFigures(cycles: readonly UsageCycle[]): CycleFigures[] {
  return cycles.map((c) => ({
    startsAt: c.startsAt,
    endsAt: c.endsAt,
    plan: c.plan,
    allocation: c.allocation,
    consumed: c.consumed,
    purchased: c.purchased,
    overrun: Math.max(0, c.consumed - c.allocation),
    usageBasisPoints: c.allocation > 0 ? scaled(c.consumed, c.allocation, 10_000) : null,
    heavy: c.consumed > c.allocation && c.consumed * 10_000 >= HEAVY_USAGE_BP * c.allocation,
  }));
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function money(cents: number, catalog: AdviceCatalog): string {
  return formatMoney(cents, catalog.currency);
}

/** "2 x pack-20 + 1 x pack-50 for 29.98 USD" */
function packsText(c: PackCombination, catalog: AdviceCatalog): string {
  const lines = c.lines.map((l) => `${l.count} x ${l.pack}`).join(' + ');
  return `${lines} for ${money(c.priceCents, catalog)}`;
}

/** The cheapest packs for `credits`, or null when the catalog sells none or too many needed. */
function packsFor(catalog: AdviceCatalog, credits: number): PackCombination | null {
  if (credits <= 0 || credits > MAX_SHORTFALL_CREDITS) return null;
  if (Object.keys(catalog.packs).length === 0) return null;
  return cheapestPacks(catalog.packs, credits);
}

function buyPacks(catalog: AdviceCatalog, credits: number): BuyPacks | null {
  const packs = packsFor(catalog, credits);
  return packs ? { action: 'buy-packs', credits, packs, priceCents: packs.priceCents } : null;
}

function noPacksText(credits: number): string {
  return credits > MAX_SHORTFALL_CREDITS
    ? `more than ${MAX_SHORTFALL_CREDITS} credits cannot be priced in packs`
    : 'the catalog sells no packs';
}

// ---------------------------------------------------------------------------------------------
// Tier fit

function option(
  catalog: AdviceCatalog,
  id: string,
  plan: Plan,
  demand: number,
  current: boolean,
): PlanOption {
  const shortfall = Math.max(0, demand - plan.creditsPerCycle);
  const packs = packsFor(catalog, shortfall);
  const priceable = shortfall === 0 || packs !== null;
  return {
    plan: id,
    name: plan.name,
    current,
    planPriceCents: plan.priceCents,
    creditsPerCycle: plan.creditsPerCycle,
    seats: seatsOf(plan),
    shortfall,
    packs,
    monthlyCents: priceable ? plan.priceCents + (packs?.priceCents ?? 0) : null,
  };
}

/** Credits a month an option brings: the plan's and the packs'. */
function optionCredits(o: PlanOption): number {
  return o.creditsPerCycle + (o.packs?.credits ?? 0);
}

/**
 * Staying and every plan with more credits per cycle that seats the members, staying first,
 * then by credits per cycle; the cheapest priceable option (ties: more credits, staying, id).
 */
function compare(
  catalog: AdviceCatalog,
  planId: string,
  members: number,
  demand: number,
): { options: PlanOption[]; best: PlanOption | null; savingCents: number | null } {
  const current = planOf(catalog, planId);
  const stay = option(catalog, planId, current, demand, true);
  const higher = Object.entries(catalog.plans)
    .filter(([id, p]) => id !== planId && p.creditsPerCycle > current.creditsPerCycle)
    .filter(([, p]) => seatsOf(p) >= members)
    .map(([id, p]) => option(catalog, id, p, demand, false))
    .sort((a, b) => a.creditsPerCycle - b.creditsPerCycle || (a.plan < b.plan ? -1 : 1));
  const options = [stay, ...higher];
  let best: PlanOption | null = null;
  for (const o of options) {
    if (o.monthlyCents === null) continue;
    if (
      best === null ||
      o.monthlyCents < best.monthlyCents! ||
      (o.monthlyCents === best.monthlyCents && optionCredits(o) > optionCredits(best))
    ) {
      best = o;
    }
  }
  const savingCents =
    best !== null && stay.monthlyCents !== null ? stay.monthlyCents - best.monthlyCents! : null;
  return { options, best, savingCents };
}

function comparisonItem(
  kind: 'frequent-overrun' | 'consistent-overrun',
  catalog: AdviceCatalog,
  base: TierFigures,
  from: readonly CycleFigures[],
): Advice {
  const consumed = from.map((c) => c.consumed);
  const demand = ceilDiv(
    consumed.reduce((s, n) => s + n, 0),
    consumed.length,
  );
  const { options, best, savingCents } = compare(catalog, base.plan, base.members, demand);
  const stay = options[0]!;
  const figures: ComparisonFigures = {
    ...base,
    demandCredits: demand,
    demandFrom: consumed,
    options,
    cheapest: best?.plan ?? null,
    monthlySavingCents: savingCents,
  };
  const head =
    kind === 'consistent-overrun'
      ? `Used 150% or more of the ${stay.name} allocation in ${base.heavyCycles} of the last ${base.cycles.length} cycles`
      : `Overran the ${stay.name} allocation in ${base.overrunCycles} of the last ${base.cycles.length} cycles`;
  const stayText =
    stay.monthlyCents === null
      ? `${stay.name} plus packs cannot be priced (${noPacksText(stay.shortfall)})`
      : `${stay.name} plus packs costs ${money(stay.monthlyCents, catalog)} a month`;
  let summary: string;
  let recommendation: Recommendation | null = null;
  if (best === null) {
    summary = `${head} (about ${demand} credits a month): ${stayText}, and no larger plan fits.`;
  } else if (best.current) {
    recommendation = buyPacks(catalog, best.shortfall);
    const others = options.filter((o) => !o.current && o.monthlyCents !== null);
    const cheapestOther = others.reduce<PlanOption | null>(
      (a, o) => (a === null || o.monthlyCents! < a.monthlyCents! ? o : a),
      null,
    );
    summary =
      `${head} (about ${demand} credits a month): ` +
      (best.packs
        ? `stay and buy packs, ${packsText(best.packs, catalog)} a month`
        : `stay: ${stay.name}'s ${stay.creditsPerCycle} credits cover it`) +
      (cheapestOther
        ? ` (${stay.name} plus packs ${money(best.monthlyCents!, catalog)} against ${cheapestOther.name} ${money(cheapestOther.monthlyCents!, catalog)}).`
        : '; no larger plan is an option.');
  } else {
    recommendation = {
      action: 'upgrade',
      from: base.plan,
      plan: best.plan,
      priceCents: best.planPriceCents,
      monthlySavingCents: savingCents,
    };
    const withPacks = best.packs ? ` plus ${packsText(best.packs, catalog)}` : '';
    summary =
      `${head} (about ${demand} credits a month): upgrade to ${best.name} at ` +
      `${money(best.monthlyCents!, catalog)} a month${withPacks}; ${stayText}` +
      (savingCents !== null ? `, so upgrading saves ${money(savingCents, catalog)} a month.` : '.');
  }
  return { kind, summary, figures, recommendation } as Advice;
}

/** Each project's usual credits: the half-up average over the input's non-overrun cycles. */
function usualByProject(cycles: readonly CycleFigures[], all: readonly UsageCycle[]) {
  const usual = all.filter((c, i) => c.byProject !== undefined && cycles[i]!.overrun === 0);
  return {
    cycles: usual.length,
    of(project: string): number {
      const sum = usual.reduce((s, c) => s + (c.byProject?.[project] ?? 0), 0);
      return usual.length === 0 ? 0 : scaled(sum, usual.length, 1);
    },
  };
}

function spikeOf(
  cycle: UsageCycle,
  figures: CycleFigures,
  usual: ReturnType<typeof usualByProject>,
): SpikeFigures | null {
  if (cycle.byProject === undefined || usual.cycles === 0 || figures.overrun === 0) return null;
  let best: SpikeFigures | null = null;
  const projects = Object.keys(cycle.byProject).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const project of projects) {
    const projectCredits = cycle.byProject[project]!;
    const usualCredits = usual.of(project);
    const spikeCredits = projectCredits - usualCredits;
    if (spikeCredits * 10_000 < SPIKE_SHARE_BP * figures.overrun) continue;
    if (best !== null && spikeCredits <= best.spikeCredits) continue;
    best = {
      startsAt: cycle.startsAt,
      overrun: figures.overrun,
      project,
      projectCredits,
      usualCredits,
      usualCycles: usual.cycles,
      spikeCredits,
      shareBasisPoints: scaled(spikeCredits, figures.overrun, 10_000),
    };
  }
  return best;
}

/** The tier item for an account: one of the rules in the header, the first that applies. */
export function adviseTier(input: TierInput): Advice {
  const { catalog, cycles } = input;
  checkCycles(cycles);
  const members = whole(input.members ?? 1, 'members', 1);
  const planId = input.plan ?? cycles.at(-1)?.plan;
  if (planId === undefined) {
    return {
      kind: 'short-history',
      summary: `No closed cycle yet: advice on packs and plans needs ${TIER_WINDOW} cycles.`,
      figures: { rule: 'tier', cycles: 0, needed: TIER_WINDOW, plan: null },
      recommendation: null,
    };
  }
  const plan = planOf(catalog, planId);
  const all = cyclesFigures(cycles);
  const windowStart = Math.max(0, cycles.length - TIER_WINDOW);
  const window = all.slice(windowStart);
  const overruns = window.filter((c) => c.overrun > 0);
  const heavy = window.filter((c) => c.heavy);
  const base: TierFigures = {
    plan: planId,
    members,
    cycles: window,
    overrunCycles: overruns.length,
    heavyCycles: heavy.length,
  };
  const n = window.length;

  // a. Consistently 50% over or more (the brief's rule 3).
  if (heavy.length >= CONSISTENT_HEAVY_CYCLES) {
    return comparisonItem('consistent-overrun', catalog, base, heavy);
  }

  if (overruns.length > 0) {
    const largest = overruns.reduce((a, c) => (c.overrun > a.overrun ? c : a));
    // b. Every overrun explained by one project's spike (rule 2).
    const usual = usualByProject(all, cycles);
    const spikes = window.flatMap((f, i) =>
      f.overrun > 0 ? [spikeOf(cycles[windowStart + i]!, f, usual)] : [],
    );
    if (spikes.every((s) => s !== null)) {
      const recommendation = buyPacks(catalog, largest.overrun);
      const s = spikes.reduce((a, b) => (b!.spikeCredits > a!.spikeCredits ? b : a))!;
      return {
        kind: 'project-spike',
        summary:
          `The ${s.overrun}-credit overrun of the cycle from ${isoDate(s.startsAt)} came mostly ` +
          `from project ${s.project} (${s.spikeCredits} credits above its usual ${s.usualCredits}): ` +
          (recommendation
            ? `buy packs for such a spike, ${packsText(recommendation.packs, catalog)} for ${largest.overrun} credits, rather than change plan.`
            : `${noPacksText(largest.overrun)}; a spike is no reason to change plan.`),
        figures: { ...base, spikes: spikes as SpikeFigures[], coveredOverrun: largest.overrun },
        recommendation,
      };
    }
    // c. Frequent, not consistent: compare; packs unless a plan is cheaper (rule 1, refined).
    if (overruns.length >= 2) return comparisonItem('frequent-overrun', catalog, base, overruns);
    // d. Occasional (rule 1).
    const recommendation = buyPacks(catalog, largest.overrun);
    return {
      kind: 'occasional-overrun',
      summary:
        `Overran the ${plan.name} allocation in 1 of the last ${n} cycles, by ` +
        `${largest.overrun} credits: buy packs when needed, ` +
        (recommendation
          ? `${packsText(recommendation.packs, catalog)} covers ${largest.overrun} credits.`
          : `but ${noPacksText(largest.overrun)}.`),
      figures: { ...base, coveredOverrun: largest.overrun, coveredStartsAt: largest.startsAt },
      recommendation,
    };
  }

  if (n < TIER_WINDOW) {
    return {
      kind: 'short-history',
      summary: `No overrun in ${n} closed cycle${n === 1 ? '' : 's'}; a downgrade needs ${TIER_WINDOW} covered cycles.`,
      figures: { rule: 'tier', cycles: n, needed: TIER_WINDOW, plan: planId },
      recommendation: null,
    };
  }

  // e. Downgrade (rule 4) to the cheapest plan that covered every cycle and seats the members.
  const largestConsumed = Math.max(...window.map((c) => c.consumed));
  const covering = Object.entries(catalog.plans)
    .filter(([id, p]) => id !== planId && p.priceCents < plan.priceCents)
    .filter(([, p]) => p.creditsPerCycle >= largestConsumed)
    .sort(
      ([a, p], [b, q]) =>
        p.priceCents - q.priceCents || q.creditsPerCycle - p.creditsPerCycle || (a < b ? -1 : 1),
    );
  const fitting = covering.filter(([, p]) => seatsOf(p) >= members);
  const blockedBySeats = covering.filter(([, p]) => seatsOf(p) < members).map(([id]) => id);
  const target = fitting[0];
  if (target) {
    const [id, to] = target;
    const saving = plan.priceCents - to.priceCents;
    return {
      kind: 'downgrade',
      summary:
        `${to.name}'s ${to.creditsPerCycle} credits covered each of the last ${n} cycles ` +
        `(at most ${largestConsumed} used): downgrade from ${plan.name} and save ` +
        `${money(saving, catalog)} a month.`,
      figures: {
        ...base,
        largestConsumed,
        priceCents: to.priceCents,
        candidates: fitting.map(([c]) => c),
        blockedBySeats,
        monthlySavingCents: saving,
      },
      recommendation: {
        action: 'downgrade',
        from: planId,
        plan: id,
        priceCents: to.priceCents,
        monthlySavingCents: saving,
      },
    };
  }
  const seatsNote =
    blockedBySeats.length > 0
      ? ` (${blockedBySeats.join(', ')} would cover the usage but not ${members} members)`
      : '';
  return {
    kind: 'plan-fits',
    summary:
      `${plan.name} fits: no overrun in the last ${n} cycles (at most ${largestConsumed} of ` +
      `${plan.creditsPerCycle} credits used) and no cheaper plan fits${seatsNote}.`,
    figures: { ...base, creditsPerCycle: plan.creditsPerCycle, blockedBySeats },
    recommendation: null,
  };
}

// ---------------------------------------------------------------------------------------------
// The brief's rule 5: run-out forecast

/**
 * At the current cycle's pace (spentSoFarThisCycle over now - cycleStartsAt, exactly, as a
 * rational; over MIN_PACE_WINDOW_MS (a day) when less time has passed, so the first charges of a
 * cycle do not extrapolate to thousands a day), the available credits last
 * available x window / spent ms: they run out at
 * now + that, rounded down to the ms. Before the renewal: "run-out", N whole days (floor)
 * before it, with the cheapest packs for the shortfall (the spend projected to the renewal,
 * rounded up, minus what is available). Otherwise (including at pace 0 and a run-out exactly
 * at the renewal): "lasts-past-renewal" with the credits left at the renewal.
 */
export function forecastRunOut(catalog: AdviceCatalog, input: ForecastInput): Advice {
  const now = instant(input.now, 'now');
  const renewalAt = instant(input.renewalAt, 'renewalAt');
  const cycleStartsAt = instant(input.cycleStartsAt, 'cycleStartsAt');
  const available = whole(input.available, 'available');
  const spent = whole(input.spentSoFarThisCycle, 'spentSoFarThisCycle');
  if (!(cycleStartsAt <= now && now < renewalAt)) {
    bad('the forecast needs cycleStartsAt <= now < renewalAt', { cycleStartsAt, now, renewalAt });
  }
  const elapsed = now - cycleStartsAt;
  // Early in a cycle a few charges would extrapolate to an absurd pace: measure over a day at least.
  const window = Math.max(elapsed, MIN_PACE_WINDOW_MS);
  const toRenewal = renewalAt - now;
  // Exact: spent x toRenewal / window, rounded up.
  const projected =
    spent === 0
      ? 0
      : Number((BigInt(spent) * BigInt(toRenewal) + BigInt(window) - 1n) / BigInt(window));
  const runsOut = projected > available; // same as available x window / spent < toRenewal
  const runOutAt = runsOut
    ? now + Number((BigInt(available) * BigInt(window)) / BigInt(spent))
    : null;
  const msBeforeRenewal = runOutAt === null ? null : renewalAt - runOutAt;
  const figures: ForecastFigures = {
    now,
    available,
    renewalAt,
    spentSoFarThisCycle: spent,
    cycleStartsAt,
    elapsedMs: elapsed,
    paceWindowMs: window,
    paceCreditsPerDay: scaled(spent, window, DAY_MS),
    runOutAt,
    runOutDate: runOutAt === null ? null : isoDate(runOutAt),
    msBeforeRenewal,
    daysBeforeRenewal: msBeforeRenewal === null ? null : Math.floor(msBeforeRenewal / DAY_MS),
    projectedToRenewal: projected,
    shortfallAtRenewal: Math.max(0, projected - available),
    leftAtRenewal: Math.max(0, available - projected),
  };
  const pace = `${spent} credits spent since ${isoDate(cycleStartsAt)}, about ${figures.paceCreditsPerDay} a day`;
  if (runOutAt !== null) {
    const recommendation = buyPacks(catalog, figures.shortfallAtRenewal);
    return {
      kind: 'run-out',
      summary:
        `At the current pace (${pace}) the ${available} credits available run out on ` +
        `${figures.runOutDate}, ${figures.daysBeforeRenewal} days before the renewal on ` +
        `${isoDate(renewalAt)}; ` +
        (recommendation
          ? `${packsText(recommendation.packs, catalog)} covers the ${figures.shortfallAtRenewal} credits short.`
          : `${figures.shortfallAtRenewal} credits short, and ${noPacksText(figures.shortfallAtRenewal)}.`),
      figures,
      recommendation,
    };
  }
  return {
    kind: 'lasts-past-renewal',
    summary:
      `At the current pace (${pace}) the ${available} credits available last past the ` +
      `renewal on ${isoDate(renewalAt)}, with about ${figures.leftAtRenewal} left.`,
    figures,
    recommendation: null,
  };
}

// ---------------------------------------------------------------------------------------------
// The brief's rule 6: seasonal planning

/**
 * Over the last SEASON_WINDOW (12) cycles, at least SEASON_MIN_CYCLES (6): the median is the
 * lower median of consumption (an actual cycle's value); a peak consumes at least
 * ceil(1.25 x median) credits, and at least 1. Ahead of the peaks: buy packs early (they last
 * the catalog's expiresAfterMonths, 12 by default), the cheapest combination for the typical
 * peak overrun: the average overrun of the peaks that overran, rounded up. Quiet cycles
 * (consumed below the allocation) are where rollover banks, up to the plan's cap.
 * "seasonal-peaks" when there are peaks, "steady-usage" when none, "short-history" under 6.
 */
export function planSeasons(input: TierInput): Advice {
  const { catalog } = input;
  checkCycles(input.cycles);
  const cycles = input.cycles.slice(-SEASON_WINDOW);
  const planId = input.plan ?? cycles.at(-1)?.plan ?? null;
  const plan = planId === null ? null : planOf(catalog, planId);
  if (cycles.length < SEASON_MIN_CYCLES) {
    return {
      kind: 'short-history',
      summary: `Seasonal planning needs ${SEASON_MIN_CYCLES} closed cycles; there are ${cycles.length}.`,
      figures: { rule: 'seasonal', cycles: cycles.length, needed: SEASON_MIN_CYCLES, plan: planId },
      recommendation: null,
    };
  }
  const figures = cyclesFigures(cycles);
  const sorted = figures.map((c) => c.consumed).sort((a, b) => a - b);
  const median = sorted[(sorted.length - 1) >> 1]!;
  const threshold = Math.max(1, ceilDiv(PEAK_NUMERATOR * median, PEAK_DENOMINATOR));
  const peaks: SeasonPeak[] = figures
    .filter((c) => c.consumed >= threshold)
    .map((c) => ({
      startsAt: c.startsAt,
      month: new Date(c.startsAt).getUTCMonth() + 1,
      consumed: c.consumed,
      allocation: c.allocation,
      overrun: c.overrun,
      expectedAgainAt: addMonths(c.startsAt, 12),
    }));
  const overran = peaks.filter((p) => p.overrun > 0);
  const typical =
    overran.length === 0
      ? 0
      : ceilDiv(
          overran.reduce((s, p) => s + p.overrun, 0),
          overran.length,
        );
  const recommendation = buyPacks(catalog, typical);
  const quiet = figures.filter((c) => c.consumed < c.allocation);
  const season: SeasonFigures = {
    plan: planId,
    cycles: figures,
    medianCredits: median,
    peakThresholdCredits: threshold,
    peaks,
    overrunPeaks: overran.length,
    typicalPeakOverrun: typical,
    packsLastMonths: recommendation
      ? Math.min(
          ...recommendation.packs.lines.map((l) => packOf(catalog, l.pack).expiresAfterMonths),
        )
      : null,
    quietCycles: quiet.length,
    unusedCredits: quiet.reduce((s, c) => s + c.allocation - c.consumed, 0),
    rolloverCap: plan?.rolloverCap ?? null,
    rolloverCycles: plan?.rolloverCycles ?? null,
  };
  const bank =
    quiet.length === 0
      ? ''
      : ` Bank rollover in quiet cycles: ${season.unusedCredits} credits went unused in ` +
        `${quiet.length}` +
        (plan ? `, and ${plan.name} rolls over up to ${plan.rolloverCap}.` : '.');
  if (peaks.length === 0) {
    return {
      kind: 'steady-usage',
      summary:
        `No peak in the last ${cycles.length} cycles (none at ${threshold} credits or more, ` +
        `1.25 x the median ${median}).${bank}`,
      figures: season,
      recommendation: null,
    };
  }
  const months = peaks.map((p) => MONTHS[p.month - 1]!).join(', ');
  const ahead =
    typical === 0
      ? 'the peaks stayed within the allocation, no packs needed'
      : recommendation
        ? `ahead of each, buy ${packsText(recommendation.packs, catalog)} for the typical ` +
          `${typical}-credit overrun (packs last ${season.packsLastMonths} months, so buy early)`
        : `the typical overrun is ${typical} credits, but ${noPacksText(typical)}`;
  return {
    kind: 'seasonal-peaks',
    summary:
      `${peaks.length} peak cycle${peaks.length === 1 ? '' : 's'} in the last ${cycles.length} ` +
      `(${months}: ${threshold} credits or more, 1.25 x the median ${median}): ${ahead}.${bank}`,
    figures: season,
    recommendation,
  };
}

function packOf(catalog: AdviceCatalog, id: string): Pack {
  const pack = catalog.packs[id];
  assert(pack !== undefined, 'a recommended pack is in the catalog');
  return pack;
}

/** Every item for an account: the tier item, the seasonal item and, given one, the forecast. */
export function advise(input: AdviceInput): Advice[] {
  const items = [adviseTier(input), planSeasons(input)];
  if (input.forecast) items.push(forecastRunOut(input.catalog, input.forecast));
  return items;
}
