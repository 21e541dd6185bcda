import { adviseTier, type Advice, type CycleFigures, type UsageCycle } from './advice.js';
import type { Catalog } from './catalog.js';
import {
  findResolution,
  findUse,
  IMAGE_OPERATION,
  imageResolutionPrices,
  type ResolutionPrice,
} from './guidance.js';
import type { Outcome } from './outcomes.js';
import type { FlowRow } from './rollups.js';
import type { Period } from './reports.js';

/**
 * The findings of an audit (core/reports.ts builds the rest of it): what the rollups and the
 * outcomes of a period say could be done better, each with its credits, the credits a change
 * would save, and the advice. Pure, like the reports.
 */

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

export function flowSum(rows: readonly FlowRow[], flow: FlowRow['flow'], key?: string): number {
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
// The tier-fit finding

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
