// The words of advice (core/advice.ts): the thresholds of its rules, its inputs, and each item
// with the figures its summary was computed from. Only types and constants, so that the rule
// files (advice-tier.ts, advice.ts) and the helpers they share can all import it.
import type { Catalog } from './catalog.js';
import type { PackCombination } from './packs.js';

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

/** The shortest time the run-out pace is measured over: a day. */
export const MIN_PACE_WINDOW_MS = 86_400_000;

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
