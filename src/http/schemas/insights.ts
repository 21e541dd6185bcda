import { Type } from '@sinclair/typebox';
import { MAX_SHORTFALL_CREDITS } from '../../core/packs.js';
import { MAX_FINAL_IMAGES, MAX_PHASE_IMAGES, PHASES } from '../../core/phases.js';
import { Cents, list, nullable, oneOf, ref } from './common.js';

/** Insights that need only the catalog: resolution guidance, the phased planner, pack advice. */

export const Guideline = Type.Object(
  {
    use: Type.String({ description: 'Stable id of the intended use, e.g. thumbnail, print.' }),
    description: Type.String(),
    aliases: list(Type.String(), { description: 'Other names accepted for this use.' }),
    resolution: Type.String({ description: 'The resolution the seed recommends for this use.' }),
    credits: nullable(
      Type.Integer({ minimum: 1, description: 'Credits per image at that resolution.' }),
    ),
    note: nullable(
      Type.String({ description: 'Why credits is null: the catalog has no such resolution.' }),
    ),
  },
  { $id: 'Guideline' },
);

export const GuideList = Type.Object(
  {
    catalogVersion: Type.String(),
    operation: Type.String({ description: 'The operation that prices images.' }),
    guidelines: list(ref(Guideline)),
  },
  {
    $id: 'GuideList',
    description: 'Resolution by intended use, priced by the active catalog.',
  },
);

export const GuideQuery = Type.Object({
  use: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'One intended use (id or alias); every use when absent.',
    }),
  ),
});

const phaseCount = (description: string) =>
  Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_PHASE_IMAGES, description }));

export const PhasePlanRequest = Type.Object(
  {
    finals: Type.Integer({
      minimum: 1,
      maximum: MAX_FINAL_IMAGES,
      description: 'Final images wanted.',
    }),
    resolution: Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'Final resolution, e.g. 4k.',
    }),
    explore: phaseCount('Images explored at 720p (default 6 per final).'),
    refine: phaseCount('Images refined at 1080p (default 2 per final).'),
  },
  { additionalProperties: false },
);

export const PhaseLine = Type.Object(
  {
    phase: oneOf(PHASES),
    resolution: Type.String(),
    unitCredits: Type.Integer(),
    images: Type.Integer(),
    credits: Type.Integer(),
    source: oneOf(['given', 'default'] as const, {
      description: 'Whether the count was given or comes from the default ratio.',
    }),
  },
  { $id: 'PhaseLine' },
);

export const PhasePlan = Type.Object(
  {
    catalogVersion: Type.String(),
    finals: Type.Integer(),
    resolution: Type.String({ description: 'The final resolution.' }),
    phases: list(ref(PhaseLine)),
    images: Type.Integer({ description: 'Every image of every phase.' }),
    phasedCredits: Type.Integer(),
    allAtFinalCredits: Type.Integer({
      description: 'Every image of every phase at the final resolution.',
    }),
    savingCredits: Type.Integer(),
    savingBasisPoints: Type.Integer({
      description: 'The saving in hundredths of a percent (5185 is 51.85%), rounded half up.',
    }),
  },
  {
    $id: 'PhasePlan',
    description: 'Explore at 720p, refine at 1080p, finalize at the final resolution.',
  },
);

export const CheapestPacksQuery = Type.Object({
  credits: Type.Integer({
    minimum: 1,
    maximum: MAX_SHORTFALL_CREDITS,
    description: 'The shortfall: credits to cover.',
  }),
});

export const PackLine = Type.Object(
  {
    pack: Type.String(),
    unitCredits: Type.Integer(),
    unitPriceCents: Cents('Price of one pack in minor units.'),
    count: Type.Integer(),
    credits: Type.Integer(),
    priceCents: Cents('count x unitPriceCents.'),
  },
  { $id: 'PackLine' },
);

export const PackCombination = Type.Object(
  {
    catalogVersion: Type.String(),
    currency: Type.String(),
    shortfall: Type.Integer(),
    lines: list(ref(PackLine)),
    packs: Type.Integer({ description: 'Packs in all.' }),
    credits: Type.Integer(),
    priceCents: Cents('The total, in minor units of the catalog currency.'),
    surplus: Type.Integer({ description: 'Credits beyond the shortfall.' }),
    pricePerCreditMillicents: Type.Integer({
      description: 'Total price per credit in thousandths of a minor unit, rounded half up.',
    }),
  },
  {
    $id: 'PackCombination',
    description:
      'The cheapest packs covering the shortfall (exact, not greedy); among equal prices the most credits, then the fewest packs, then pack ids.',
  },
);
