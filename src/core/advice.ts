import type { Pack, Plan } from './catalog.js';
import { addMonths } from './cycles.js';
import { assert } from './errors.js';
import {
  bad,
  buyPacks,
  ceilDiv,
  checkCycles,
  cyclesFigures,
  instant,
  isoDate,
  noPacksText,
  packsText,
  planOf,
  scaled,
  whole,
} from './advice-figures.js';
import { adviseTier } from './advice-tier.js';
import {
  MIN_PACE_WINDOW_MS,
  PEAK_DENOMINATOR,
  PEAK_NUMERATOR,
  SEASON_MIN_CYCLES,
  SEASON_WINDOW,
  type Advice,
  type AdviceCatalog,
  type AdviceInput,
  type BuyPacks,
  type CycleFigures,
  type ForecastFigures,
  type ForecastInput,
  type SeasonFigures,
  type SeasonPeak,
  type TierInput,
} from './advice-types.js';

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
 * The file holds the rules 5 and 6 and `advise`; the tier steps a to f are in advice-tier.ts,
 * the words (thresholds, inputs, items) in advice-types.ts and the arithmetic and phrases the
 * rules share in advice-figures.ts.
 */

export * from './advice-types.js';
export { adviseTier };
export { headlineAdvice } from './advice-headline.js';

const DAY_MS = 86_400_000;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

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
  const { season, recommendation } = seasonFigures(catalog, planId, plan, cyclesFigures(cycles));
  const { peaks, medianCredits: median, peakThresholdCredits: threshold } = season;
  const typical = season.typicalPeakOverrun;
  const bank =
    season.quietCycles === 0
      ? ''
      : ` Bank rollover in quiet cycles: ${season.unusedCredits} credits went unused in ` +
        `${season.quietCycles}` +
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

/** The figures of seasonal planning over the window's cycles, and the packs for a peak. */
function seasonFigures(
  catalog: AdviceCatalog,
  planId: string | null,
  plan: Plan | null,
  figures: CycleFigures[],
): { season: SeasonFigures; recommendation: BuyPacks | null } {
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
  return { season, recommendation };
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
