import { Type } from '@sinclair/typebox';
import { HOLD_TTL_MAX_MS, HOLD_TTL_MIN_MS } from '../../core/holds.js';
import { BLOCK_REASON_NAMES, CHECK_BLOCKS } from '../../ledger/ledger.js';
import { Quote, QuoteItems } from './catalog.js';
import { Credits, Id, nullable, oneOf, ref, Replay } from './common.js';
import { AttributionInput, Hold } from './credits.js';

/** POST /v1/check: may this request run now (and, with hold, reserve it at once). */

export const CheckRequest = Type.Object(
  {
    accountId: Id('The account that would pay.'),
    credits: Type.Optional(Credits()),
    items: Type.Optional(QuoteItems),
    attribution: Type.Optional(AttributionInput),
    hold: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          'Reserve at once when allowed: the answer carries the hold (needs an Idempotency-Key; the same key and body as POST /v1/holds are one request).',
      }),
    ),
    ttlMs: Type.Optional(
      Type.Integer({
        minimum: HOLD_TTL_MIN_MS,
        maximum: HOLD_TTL_MAX_MS,
        description: 'With hold only: released by itself after this long (default 15 minutes).',
      }),
    ),
  },
  {
    additionalProperties: false,
    description: 'Give either credits (a plain amount) or items (priced by the active catalog).',
  },
);

export const CheckBlock = Type.Object(
  {
    reason: oneOf(BLOCK_REASON_NAMES, {
      description:
        "What blocks it: the credits, a hard budget, the plan's seats or team access, the overdraft limit.",
    }),
    code: oneOf(CHECK_BLOCKS, {
      description: 'The problem code POST /v1/holds would refuse the same request with.',
    }),
    message: Type.String({ description: "The refusal's detail, for people." }),
    data: Type.Record(Type.String(), Type.Unknown(), {
      description: "The refusal's figures (required, available, budget, overdraft, ...).",
    }),
  },
  { $id: 'CheckBlock' },
);

export const CheckResult = Type.Object(
  {
    accountId: Type.String(),
    allowed: Type.Boolean({ description: 'Whether the request may run now.' }),
    credits: Type.Integer({ description: 'Its price.' }),
    quote: nullable(ref(Quote)),
    blockedBy: nullable(ref(CheckBlock)),
    available: Type.Integer({ description: 'Available credits now, before the request.' }),
    availableAfter: Type.Integer({
      description:
        'Available credits once it is reserved (available - credits): below zero by what it takes of the overdraft, or, blocked, what is missing. On a replay both are as of now.',
    }),
    hold: nullable(ref(Hold)),
    transactionId: nullable(Type.String({ description: "The hold's journal transaction." })),
    replay: Replay,
  },
  { $id: 'CheckResult' },
);
