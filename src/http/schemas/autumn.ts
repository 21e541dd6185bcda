import { Type } from '@sinclair/typebox';
import { MAX_CREDITS } from '../../core/credits.js';
import { KEY } from '../../ledger/validate.js';
import { CheckBlock } from './check.js';
import { Id, list, nullable, oneOf, ref, Replay, Time } from './common.js';
import { ResolveResult } from './credits.js';

/**
 * Autumn-shaped bodies (useautumn's check, track, balances.finalize and customer read) for the
 * compatibility routes under /autumn/v1 (routes/autumn.ts, docs/autumn.md). Field names are
 * Autumn's (snake_case); what only Amisi knows is under `amisi`. Amounts are whole units, as
 * everywhere in Amisi: Autumn's fractional values are refused.
 */

/** The feature id that means plain credits; any other names an operation of the catalog. */
export const AUTUMN_CREDITS_FEATURE = 'credits';

/** Longest Autumn lock id accepted: the Amisi key made from it stays within 255 characters. */
export const AUTUMN_LOCK_ID_MAX = 200;

const Units = (description: string) =>
  Type.Integer({ minimum: 1, maximum: MAX_CREDITS, description });

const CustomerId = Id("Autumn's customer_id: the Amisi account.");
const FeatureId = Id(
  `"${AUTUMN_CREDITS_FEATURE}" for plain credits, or an operation of the active catalog (its default params), e.g. image.generate.`,
);
const EntityId = Id(
  "Autumn's entity (a seat): the organization member the spend is attributed to (budgets, audits).",
);
const LockId = Type.String({
  pattern: KEY.source,
  maxLength: AUTUMN_LOCK_ID_MAX,
  description: 'Your id for the lock (printable, no spaces); finalize names it.',
});

/** Autumn fields that Amisi accepts and ignores, so Autumn's SDK can send them. */
const Ignored = {
  customer_data: Type.Optional(
    Type.Unknown({ description: 'Ignored: accounts are made by the operator.' }),
  ),
  entity_data: Type.Optional(Type.Unknown({ description: 'Ignored.' })),
  properties: Type.Optional(Type.Unknown({ description: 'Ignored.' })),
};

export const AutumnLock = Type.Object(
  {
    enabled: Type.Literal(true),
    lock_id: LockId,
    expires_at: Type.Optional(
      Time('When the lock is released by itself (at most 24 hours from now; default 24 hours).'),
    ),
  },
  { additionalProperties: false },
);

export const AutumnCheckRequest = Type.Object(
  {
    customer_id: CustomerId,
    feature_id: FeatureId,
    entity_id: Type.Optional(EntityId),
    required_balance: Type.Optional(
      Units('Units of the feature (credits, or counts of the operation); default 1.'),
    ),
    send_event: Type.Optional(
      Type.Boolean({
        description:
          'Charge required_balance at once when allowed (needs an Idempotency-Key header).',
      }),
    ),
    lock: Type.Optional(AutumnLock),
    with_preview: Type.Optional(Type.Boolean({ description: 'Ignored: no preview is answered.' })),
    ...Ignored,
  },
  { additionalProperties: false },
);

export const AutumnTrackRequest = Type.Object(
  {
    customer_id: CustomerId,
    feature_id: Type.Optional(FeatureId),
    event_name: Type.Optional(Id('Taken as feature_id (give one of the two).')),
    entity_id: Type.Optional(EntityId),
    value: Type.Optional(Units('Units used (default 1). Negative values are not supported.')),
    idempotency_key: Type.Optional(
      Type.String({
        pattern: KEY.source,
        description: "The charge's idempotency key, if no Idempotency-Key header is sent.",
      }),
    ),
    timestamp: Type.Optional(Time("Ignored: the charge is recorded at its account's time.")),
    ...Ignored,
  },
  { additionalProperties: false },
);

export const AutumnFinalizeRequest = Type.Object(
  {
    lock_id: LockId,
    action: oneOf(['confirm', 'release'] as const, {
      description: 'confirm takes the lock (a capture), release returns it.',
    }),
    override_value: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_CREDITS,
        description:
          'confirm only: the units actually used, at most the lock (the rest returns; 0 releases).',
      }),
    ),
    customer_id: Type.Optional(
      Id(
        "Amisi addition: the lock's customer. Required with an operator key (locks are kept per account); an account key finalizes its own.",
      ),
    ),
    ...Ignored,
  },
  { additionalProperties: false },
);

export const AutumnCustomerParams = Type.Object({ customer_id: CustomerId });
export const AutumnCustomerQuery = Type.Object({
  expand: Type.Optional(Type.String({ maxLength: 500, description: 'Ignored.' })),
});

const Reset = nullable(
  Type.Object({
    interval: Type.Literal('month'),
    resets_at: nullable(Type.Integer()),
  }),
);

export const AutumnBalanceBreakdown = Type.Object(
  {
    id: Type.String({ description: 'The Amisi grant.' }),
    plan_id: nullable(Type.String()),
    source: Type.String({ description: "Amisi addition: the grant's source." }),
    included_grant: Type.Integer({
      description: 'Credits of a plan, rollover, trial or promotion.',
    }),
    prepaid_grant: Type.Integer({ description: 'Credits of a purchased pack.' }),
    remaining: Type.Integer({ description: 'What is left to spend (held credits excluded).' }),
    usage: Type.Integer(),
    unlimited: Type.Boolean(),
    reset: Reset,
    price: Type.Null(),
    expires_at: nullable(Type.Integer()),
  },
  { $id: 'AutumnBalanceBreakdown' },
);

export const AutumnBalance = Type.Object(
  {
    feature_id: Type.String({ description: `Always "${AUTUMN_CREDITS_FEATURE}".` }),
    unlimited: Type.Boolean(),
    granted: Type.Integer({ description: 'Credits of the grants still open.' }),
    remaining: Type.Integer({ description: 'Available credits (what locks hold is taken off).' }),
    usage: Type.Integer({ description: 'granted - remaining.' }),
    overage_allowed: Type.Boolean({ description: 'Whether an overdraft limit is in force.' }),
    max_purchase: Type.Null(),
    next_reset_at: nullable(Type.Integer({ description: "The plan's next renewal." })),
    reset: Reset,
    breakdown: list(ref(AutumnBalanceBreakdown)),
  },
  { $id: 'AutumnBalance', description: "A customer's credits in Autumn's balance shape." },
);

export const AutumnCheckResult = Type.Object(
  {
    allowed: Type.Boolean(),
    customer_id: Type.String(),
    entity_id: nullable(Type.String()),
    required_balance: Type.Integer(),
    balance: ref(AutumnBalance),
    amisi: Type.Object({
      credits: Type.Integer({ description: 'The price in credits.' }),
      blocked_by: nullable(ref(CheckBlock)),
      available_after: Type.Integer(),
      hold_id: nullable(Type.String({ description: 'With lock: the hold the lock is.' })),
      transaction_id: nullable(Type.String()),
      replay: Replay,
    }),
  },
  { $id: 'AutumnCheckResult' },
);

export const AutumnTrackResult = Type.Object(
  {
    customer_id: Type.String(),
    entity_id: nullable(Type.String()),
    feature_id: Type.String(),
    value: Type.Integer(),
    balance: ref(AutumnBalance),
    amisi: Type.Object({
      credits: Type.Integer({ description: 'The credits charged.' }),
      transaction_id: Type.String(),
      replay: Replay,
    }),
  },
  { $id: 'AutumnTrackResult' },
);

export const AutumnFinalizeResult = Type.Object(
  { success: Type.Literal(true), amisi: ref(ResolveResult) },
  { $id: 'AutumnFinalizeResult' },
);

export const AutumnSubscription = Type.Object(
  {
    id: Type.String(),
    plan_id: Type.String(),
    auto_enable: Type.Boolean(),
    add_on: Type.Boolean(),
    status: oneOf(['active', 'scheduled'] as const),
    past_due: Type.Boolean(),
    canceled_at: nullable(Type.Integer({ description: 'When a canceled plan ends.' })),
    expires_at: nullable(Type.Integer()),
    trial_ends_at: Type.Null(),
    started_at: Type.Integer(),
    current_period_start: nullable(Type.Integer()),
    current_period_end: nullable(Type.Integer()),
    quantity: Type.Integer(),
    scope: Type.Literal('customer'),
  },
  { $id: 'AutumnSubscription' },
);

export const AutumnCustomer = Type.Object(
  {
    id: Type.String(),
    name: nullable(Type.String()),
    email: Type.Null(),
    created_at: Type.Integer(),
    fingerprint: Type.Null(),
    stripe_id: Type.Null(),
    env: oneOf(['sandbox', 'live'] as const, { description: 'sandbox: on a test clock.' }),
    metadata: Type.Object({}),
    subscriptions: list(ref(AutumnSubscription)),
    purchases: Type.Array(Type.Unknown(), {
      maxItems: 0,
      description: 'Always empty: packs are grants (balances).',
    }),
    balances: Type.Object({ [AUTUMN_CREDITS_FEATURE]: ref(AutumnBalance) }),
  },
  { $id: 'AutumnCustomer' },
);
