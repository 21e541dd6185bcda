// The tier item of advice (the steps a to f of core/advice.ts's header): whether the plan fits
// the last cycles, or packs, an upgrade or a downgrade would serve the account better.
import type { Plan } from './catalog.js';
import { seatsOf } from './teams.js';
import {
  buyPacks,
  ceilDiv,
  checkCycles,
  cyclesFigures,
  isoDate,
  money,
  noPacksText,
  packsFor,
  packsText,
  planOf,
  scaled,
  whole,
} from './advice-figures.js';
import {
  CONSISTENT_HEAVY_CYCLES,
  SPIKE_SHARE_BP,
  TIER_WINDOW,
  type Advice,
  type AdviceCatalog,
  type ComparisonFigures,
  type CycleFigures,
  type PlanOption,
  type Recommendation,
  type SpikeFigures,
  type TierFigures,
  type TierInput,
  type UsageCycle,
} from './advice-types.js';

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
  return { kind, summary, figures, recommendation };
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

/** What the steps of the tier rules share: the account's plan, its cycles and the window. */
interface TierContext {
  readonly catalog: AdviceCatalog;
  readonly cycles: readonly UsageCycle[];
  readonly planId: string;
  readonly plan: Plan;
  readonly members: number;
  /** Every cycle's figures, and the window's: the last TIER_WINDOW of them. */
  readonly all: readonly CycleFigures[];
  readonly window: readonly CycleFigures[];
  readonly windowStart: number;
  readonly base: TierFigures;
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
  const context = { catalog, cycles, planId, plan, members, all, window, windowStart, base };

  // a. Consistently 50% over or more (the brief's rule 3).
  if (heavy.length >= CONSISTENT_HEAVY_CYCLES) {
    return comparisonItem('consistent-overrun', catalog, base, heavy);
  }
  if (overruns.length > 0) return overrunItem(context, overruns);
  const n = window.length;
  if (n < TIER_WINDOW) {
    return {
      kind: 'short-history',
      summary: `No overrun in ${n} closed cycle${n === 1 ? '' : 's'}; a downgrade needs ${TIER_WINDOW} covered cycles.`,
      figures: { rule: 'tier', cycles: n, needed: TIER_WINDOW, plan: planId },
      recommendation: null,
    };
  }
  return downgradeItem(context);
}

/** Steps b, c and d: the window has overruns, none or one of them heavy. */
function overrunItem(context: TierContext, overruns: readonly CycleFigures[]): Advice {
  const { catalog, cycles, plan, all, window, windowStart, base } = context;
  const largest = overruns.reduce((a, c) => (c.overrun > a.overrun ? c : a));
  // b. Every overrun explained by one project's spike (rule 2).
  const usual = usualByProject(all, cycles);
  const spikes = window.flatMap((f, i) =>
    f.overrun > 0 ? [spikeOf(cycles[windowStart + i]!, f, usual)] : [],
  );
  if (spikes.every((s) => s !== null)) {
    const recommendation = buyPacks(catalog, largest.overrun);
    const s = spikes.reduce((a, b) => (b.spikeCredits > a.spikeCredits ? b : a));
    return {
      kind: 'project-spike',
      summary:
        `The ${s.overrun}-credit overrun of the cycle from ${isoDate(s.startsAt)} came mostly ` +
        `from project ${s.project} (${s.spikeCredits} credits above its usual ${s.usualCredits}): ` +
        (recommendation
          ? `buy packs for such a spike, ${packsText(recommendation.packs, catalog)} for ${largest.overrun} credits, rather than change plan.`
          : `${noPacksText(largest.overrun)}; a spike is no reason to change plan.`),
      figures: { ...base, spikes, coveredOverrun: largest.overrun },
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
      `Overran the ${plan.name} allocation in 1 of the last ${window.length} cycles, by ` +
      `${largest.overrun} credits: buy packs when needed, ` +
      (recommendation
        ? `${packsText(recommendation.packs, catalog)} covers ${largest.overrun} credits.`
        : `but ${noPacksText(largest.overrun)}.`),
    figures: { ...base, coveredOverrun: largest.overrun, coveredStartsAt: largest.startsAt },
    recommendation,
  };
}

/** Steps e and f: no overrun in a full window; downgrade when a cheaper plan covered it. */
function downgradeItem(context: TierContext): Advice {
  const { catalog, planId, plan, members, window, base } = context;
  const n = window.length;
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
  // f. The plan fits.
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
