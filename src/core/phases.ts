import type { Catalog } from './catalog.js';
import { AmisiError, assert, type ErrorCode } from './errors.js';
import {
  findResolution,
  imageResolutionPrices,
  missingResolution,
  type ResolutionPrice,
} from './guidance.js';

/**
 * The phased planner (the seed's "phased workflow"): explore many ideas at 720p, refine a
 * smaller batch at 1080p, and generate only the finals at the final resolution; against
 * generating every one of those images at the final resolution from the start.
 *
 * Default ratios, per final image: 6 explorations and 2 refinements. With the seed's prices
 * (720p 1, 1080p 2, 4K 3, 8K 4 credits), for each final image:
 *
 *   final 4K: phased 6x1 + 2x2 + 1x3 = 13, all 9 images at 4K = 9x3 = 27: saves 14 = 51.85%
 *   final 8K: phased 6x1 + 2x2 + 1x4 = 14, all 9 images at 8K = 9x4 = 36: saves 22 = 61.11%
 *
 * so the seed's "50-75% savings" holds for 4K and 8K finals. The ratios are a funnel that
 * thirds at each step (6 ideas, 2 kept for refinement, 1 final); one exploration fewer puts 4K
 * exactly on the edge (5 and 2: 12 against 24, 50%). No ratios can pass 75% at 8K: every
 * image costs at least 1 credit against 4, so the saving stays below 1 - 1/4 (below 1 - 1/3
 * at 4K). For 1080p finals the default plan saves 33.33% (12 against 18).
 *
 * No phase runs above the final resolution: for a 720p final, exploring at 720p and refining
 * at 1080p would cost more than doing it all at 720p, so a phase whose resolution costs more
 * than the final's runs at the final resolution instead (a 720p plan saves nothing, honestly).
 */

export const DEFAULT_EXPLORE_PER_FINAL = 6;
export const DEFAULT_REFINE_PER_FINAL = 2;
export const EXPLORE_RESOLUTION = '720p';
export const REFINE_RESOLUTION = '1080p';

/** Named limits: most final images per plan, most images in a phase given explicitly. */
export const MAX_FINAL_IMAGES = 100_000;
export const MAX_PHASE_IMAGES = 1_000_000;

export const PHASES = ['explore', 'refine', 'finalize'] as const;
export type Phase = (typeof PHASES)[number];

export interface PhaseRequest {
  readonly finals: number;
  readonly resolution: string;
  /** Images in the explore phase; default finals x DEFAULT_EXPLORE_PER_FINAL. */
  readonly explore?: number | undefined;
  /** Images in the refine phase; default finals x DEFAULT_REFINE_PER_FINAL. */
  readonly refine?: number | undefined;
}

export interface PhaseLine {
  readonly phase: Phase;
  readonly resolution: string;
  readonly unitCredits: number;
  readonly images: number;
  readonly credits: number;
  /** Whether the count was given or comes from the default ratio. */
  readonly source: 'given' | 'default';
}

export interface PhasePlan {
  readonly catalogVersion: string;
  readonly finals: number;
  /** The final resolution, as the catalog spells it. */
  readonly resolution: string;
  readonly phases: readonly PhaseLine[];
  /** Every image of every phase. */
  readonly images: number;
  readonly phasedCredits: number;
  /** Every image of every phase generated at the final resolution. */
  readonly allAtFinalCredits: number;
  readonly savingCredits: number;
  /** savingCredits / allAtFinalCredits in hundredths of a percent, rounded half up. */
  readonly savingBasisPoints: number;
}

function count(value: number | undefined, field: string, min: number, max: number) {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new AmisiError(
      'invalid_argument',
      `${field} must be a whole number from ${min} to ${max}, got ${String(value)}`,
      { field, value, min, max },
    );
  }
  return value;
}

function price(catalog: Catalog, prices: readonly ResolutionPrice[], r: string, phase: Phase) {
  const found = findResolution(prices, r);
  if (!found) {
    throw new AmisiError(
      'invalid_parameter',
      `${missingResolution(catalog, prices, r)}: the ${phase} phase needs it`,
      { parameter: 'resolution', value: r, allowed: prices.map((p) => p.resolution), phase },
    );
  }
  return found;
}

/** Half up without floats: round(10000 x part / whole) for 0 <= part <= whole, whole > 0. */
export function basisPoints(part: number, whole: number): number {
  assert(whole > 0 && part >= 0, 'a share of a positive whole');
  const x = 2 * 10_000 * part + whole;
  const d = 2 * whole;
  return (x - (x % d)) / d;
}

/** The phases, their credits, and the saving against all images at the final resolution. */
/** The problem codes of `planPhases`: image counts, resolutions, the catalog's image prices. */
export const PLAN_PHASES_PROBLEMS: readonly ErrorCode[] = [
  'invalid_argument',
  'invalid_parameter',
  'unknown_operation',
];

export function planPhases(catalog: Catalog, request: PhaseRequest): PhasePlan {
  const finals = count(request.finals, 'finals', 1, MAX_FINAL_IMAGES)!;
  const explore = count(request.explore, 'explore', 0, MAX_PHASE_IMAGES);
  const refine = count(request.refine, 'refine', 0, MAX_PHASE_IMAGES);
  const prices = imageResolutionPrices(catalog);
  const final = price(catalog, prices, request.resolution, 'finalize');
  // A phase never runs at a resolution that costs more than the final one.
  const atMost = (r: string, phase: Phase) => {
    const p = price(catalog, prices, r, phase);
    return p.credits > final.credits ? final : p;
  };
  const line = (phase: Phase, at: ResolutionPrice, images: number, given: boolean): PhaseLine => ({
    phase,
    resolution: at.resolution,
    unitCredits: at.credits,
    images,
    credits: images * at.credits,
    source: given ? 'given' : 'default',
  });
  const phases = [
    line(
      'explore',
      atMost(EXPLORE_RESOLUTION, 'explore'),
      explore ?? finals * DEFAULT_EXPLORE_PER_FINAL,
      explore !== undefined,
    ),
    line(
      'refine',
      atMost(REFINE_RESOLUTION, 'refine'),
      refine ?? finals * DEFAULT_REFINE_PER_FINAL,
      refine !== undefined,
    ),
    line('finalize', final, finals, true),
  ];
  const images = phases.reduce((sum, p) => sum + p.images, 0);
  const phasedCredits = phases.reduce((sum, p) => sum + p.credits, 0);
  const allAtFinalCredits = images * final.credits;
  const savingCredits = allAtFinalCredits - phasedCredits;
  assert(Number.isSafeInteger(allAtFinalCredits) && savingCredits >= 0, 'phases cost no more');
  return {
    catalogVersion: catalog.version,
    finals,
    resolution: final.resolution,
    phases,
    images,
    phasedCredits,
    allAtFinalCredits,
    savingCredits,
    savingBasisPoints: basisPoints(savingCredits, allAtFinalCredits),
  };
}
