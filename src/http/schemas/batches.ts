import { Type } from '@sinclair/typebox';
import { BATCH_STATUSES, MAX_BATCH_ITEMS } from '../../core/batches.js';
import { HOLD_STATUSES, HOLD_TTL_MAX_MS, HOLD_TTL_MIN_MS, MAX_LABELS } from '../../core/holds.js';
import { QuoteItem } from './catalog.js';
import { Credits, Id, list, nullable, oneOf, ref, Replay, Time } from './common.js';
import { Attribution, AttributionInput, Hold } from './credits.js';

/** Request batches: a list of requests quoted, held all or nothing, resolved item by item. */

const Ref = Id('Your own name for the item (a prompt id, a file name); shown back, not unique.');

/** One request of a batch: a quote item, with your name for it and its own labels. */
export const BatchItemInput = Type.Object(
  {
    ...QuoteItem.properties,
    ref: Type.Optional(nullable(Ref)),
    labels: Type.Optional(
      Type.Record(Type.String(), Type.String({ maxLength: 256 }), {
        maxProperties: MAX_LABELS,
        description: "Labels of this item's hold, over the batch's labels.",
      }),
    ),
  },
  { additionalProperties: false },
);

const BatchItems = Type.Array(BatchItemInput, {
  minItems: 1,
  maxItems: MAX_BATCH_ITEMS,
  description: 'The requests, in order: items are numbered from 0.',
});

export const BatchQuoteRequest = Type.Object(
  { items: BatchItems },
  { additionalProperties: false },
);

const lineFields = {
  operation: Type.String(),
  params: Type.Record(Type.String(), Type.String(), {
    description: 'Every parameter, defaults filled in.',
  }),
  unit: Type.String(),
  unitCredits: Type.Integer(),
  count: Type.Integer(),
  credits: Type.Integer({ description: "The item's price." }),
};

export const BatchQuoteItem = Type.Object(
  {
    index: Type.Integer({ minimum: 0, description: 'The item, from 0.' }),
    ref: nullable(Type.String()),
    ...lineFields,
  },
  { $id: 'BatchQuoteItem' },
);

export const BatchQuote = Type.Object(
  {
    catalogVersion: Type.String(),
    credits: Type.Integer({ description: 'The total.' }),
    items: list(ref(BatchQuoteItem)),
  },
  { $id: 'BatchQuote', description: 'A list of requests priced under one catalog version.' },
);

export const HoldBatchRequest = Type.Object(
  {
    accountId: Id('The account to reserve credits from.'),
    items: BatchItems,
    ttlMs: Type.Optional(
      Type.Integer({
        minimum: HOLD_TTL_MIN_MS,
        maximum: HOLD_TTL_MAX_MS,
        description: 'Every item still held releases itself after this long (default 15 minutes).',
      }),
    ),
    attribution: Type.Optional(AttributionInput),
  },
  { additionalProperties: false },
);

const figures = {
  held: Type.Integer({ description: 'Credits still reserved.' }),
  captured: Type.Integer({ description: 'Credits taken.' }),
  released: Type.Integer({
    description: 'Credits returned by a release, or left over by a partial capture.',
  }),
  expired: Type.Integer({ description: 'Credits returned when a hold passed its ttl.' }),
};

export const BatchItem = Type.Object(
  {
    index: Type.Integer({ minimum: 0, description: 'The item, from 0.' }),
    ref: nullable(Type.String()),
    holdId: Type.String({ description: "The item's hold: capturing the item captures it." }),
    status: oneOf(HOLD_STATUSES),
    ...lineFields,
    ...figures,
    labels: Type.Record(Type.String(), Type.String()),
    resolvedAt: nullable(Time('When it was captured, released or expired.')),
  },
  { $id: 'BatchItem', description: 'credits = held + captured + released + expired.' },
);

export const Batch = Type.Object(
  {
    accountId: Type.String(),
    id: Type.String(),
    status: oneOf(BATCH_STATUSES, {
      description: 'held: every item held; partial: some resolved; settled: none held.',
    }),
    createdAt: Time('When the batch was held.'),
    expiresAt: Time('When the items still held release themselves.'),
    catalogVersion: Type.String(),
    attribution: ref(Attribution),
    credits: Type.Integer({ description: 'Every item, in total.' }),
    ...figures,
    counts: Type.Object(
      {
        held: Type.Integer(),
        captured: Type.Integer(),
        released: Type.Integer(),
        expired: Type.Integer(),
      },
      { description: 'Items by status.' },
    ),
    items: list(ref(BatchItem)),
  },
  {
    $id: 'Batch',
    description: 'A batch as it stands: credits = held + captured + released + expired.',
  },
);

export const BatchResult = Type.Object(
  { batch: ref(Batch), replay: Replay },
  { $id: 'BatchResult' },
);

export const BatchReleaseResult = Type.Object(
  {
    batch: ref(Batch),
    released: list(Type.Integer({ minimum: 0 }), {
      description: 'The items this release returned (those still held then).',
    }),
    releasedCredits: Type.Integer(),
    replay: Replay,
  },
  { $id: 'BatchReleaseResult' },
);

export const BatchItemResult = Type.Object(
  {
    batchId: Type.String(),
    index: Type.Integer({ minimum: 0 }),
    hold: ref(Hold),
    transactionId: Type.String(),
    capturedCredits: Type.Integer(),
    releasedCredits: Type.Integer(),
    replay: Replay,
  },
  { $id: 'BatchItemResult' },
);

export const BatchParams = Type.Object({ batchId: Id('The batch.') });

export const BatchItemParams = Type.Object({
  batchId: Id('The batch.'),
  index: Type.Integer({ minimum: 0, description: 'The item, from 0.' }),
});

export const BatchCaptureRequest = Type.Object(
  { credits: Type.Optional(Credits('Credits to take (default: all held); the rest returns.')) },
  { additionalProperties: false },
);

export const BatchReleaseRequest = Type.Object({}, { additionalProperties: false });
