import { Type } from '@sinclair/typebox';
import { CatalogSchema } from '../../core/catalog.js';
import { MAX_QUOTE_ITEMS } from '../../core/quote.js';
import { Cents, Id, list, ref, Time } from './common.js';

/** The catalog's own schema (core/catalog.ts), as a component. */
export const Catalog = Type.Object(CatalogSchema.properties, {
  $id: 'Catalog',
  additionalProperties: false,
  description: 'Operations with their pricing rules, plans and packs (catalog/default.json).',
});

export const CatalogVersion = Type.Object(
  {
    version: Type.String(),
    digest: Type.String({ description: 'SHA-256 of the canonical catalog body.' }),
    loadedAt: Time('When this version was loaded.'),
    activatedAt: Time('When this version was last made active.'),
    body: ref(Catalog),
  },
  { $id: 'CatalogVersion' },
);

export const Pack = Type.Object(
  {
    id: Type.String(),
    credits: Type.Integer(),
    priceCents: Cents('Price in minor units of the catalog currency.'),
    expiresAfterMonths: Type.Integer(),
  },
  { $id: 'Pack' },
);

export const PackList = Type.Object(
  {
    catalogVersion: Type.String(),
    currency: Type.String(),
    provider: Type.String({
      description:
        "The payment provider packs are bought through: 'stripe' (the buyer is sent to Stripe Checkout to pay) or 'manual' (an operator confirms the payment).",
    }),
    packs: list(ref(Pack)),
  },
  { $id: 'PackList' },
);

export const Plan = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    priceCents: Cents('Price per cycle in minor units of the catalog currency.'),
    creditsPerCycle: Type.Integer(),
    rolloverCap: Type.Integer(),
    rolloverCycles: Type.Integer(),
    seats: Type.Integer(),
    teamAccess: Type.Boolean(),
  },
  { $id: 'Plan' },
);

export const PlanList = Type.Object(
  {
    catalogVersion: Type.String(),
    currency: Type.String(),
    plans: list(ref(Plan)),
  },
  { $id: 'PlanList' },
);

export const QuoteLine = Type.Object(
  {
    operation: Type.String(),
    params: Type.Record(Type.String(), Type.String(), {
      description: 'Every parameter, defaults filled in.',
    }),
    unit: Type.String(),
    unitCredits: Type.Integer(),
    count: Type.Integer(),
    credits: Type.Integer(),
  },
  { $id: 'QuoteLine' },
);

export const Quote = Type.Object(
  {
    catalogVersion: Type.String(),
    credits: Type.Integer({ description: 'The total.' }),
    lines: list(ref(QuoteLine)),
  },
  { $id: 'Quote', description: 'The price of a request under one catalog version.' },
);

/** One priced item of a quote, hold or charge (inlined in request bodies). */
export const QuoteItem = Type.Object(
  {
    operation: Id('An operation of the active catalog, e.g. image.generate.'),
    params: Type.Optional(
      Type.Record(Type.String(), Type.String(), {
        description: 'Parameters of the operation, e.g. {"resolution": "4k"}.',
      }),
    ),
    count: Type.Optional(Type.Integer({ minimum: 1, description: 'Units (default 1).' })),
  },
  { additionalProperties: false },
);

export const QuoteItems = Type.Array(QuoteItem, { minItems: 1, maxItems: MAX_QUOTE_ITEMS });

export const QuoteRequest = Type.Object({ items: QuoteItems }, { additionalProperties: false });
