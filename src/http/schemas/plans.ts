import { Type } from '@sinclair/typebox';
import { UPGRADE_STATUSES } from '../../core/upgrades.js';
import { Cents, Id, list, nullable, oneOf, ref, Replay, Time } from './common.js';

/** Subscriptions: a plan with an anchored monthly cycle. */

export const Subscription = Type.Object(
  {
    accountId: Type.String(),
    id: Type.String(),
    plan: Type.String(),
    pendingPlan: nullable(Type.String({ description: 'A downgrade waiting for the renewal.' })),
    anchorAt: Time('The start every cycle is counted from.'),
    cycleIndex: Type.Integer(),
    nextRenewalAt: Time('The next renewal.'),
    status: oneOf(['active', 'ended'] as const),
    cancelAt: nullable(Time('When a cancelled plan ends.')),
    allocationGrantId: nullable(Type.String()),
    providerRef: nullable(
      Type.String({
        description:
          "The payment provider's subscription (Stripe: sub_...), when the plan is billed there.",
      }),
    ),
    createdAt: Time('When the subscription was made.'),
  },
  { $id: 'Subscription' },
);

export const SubscriptionResult = Type.Object(
  {
    subscription: ref(Subscription),
    transactionId: Type.String(),
    chargeCents: Cents('Upgrade: the prorated price difference due now.'),
    currency: Type.String(),
    credits: Type.Integer({ description: 'Credits granted now.' }),
    change: oneOf(['subscribe', 'upgrade', 'downgrade', 'cancel', 'unchanged'] as const),
    replay: Replay,
  },
  { $id: 'SubscriptionResult' },
);

export const SubscribeRequest = Type.Object(
  {
    plan: Id('A plan of the active catalog.'),
    startsAt: Type.Optional(Time('When the first cycle starts (default now): the anchor.')),
  },
  { additionalProperties: false },
);

export const ChangePlanRequest = Type.Object(
  {
    plan: Id(
      'The new plan: a dearer one applies at once (for an account key: once paid), a cheaper one at the renewal; the current plan undoes a queued downgrade or cancellation.',
    ),
  },
  { additionalProperties: false },
);

export const CancelRequest = Type.Object({}, { additionalProperties: false });

/** Subscribing with a provider that takes the money first (HTTP 202). */
export const SubscriptionCheckout = Type.Object(
  {
    checkoutUrl: nullable(
      Type.String({
        description: 'Where the customer pays; the plan starts when the payment completes.',
      }),
    ),
  },
  { $id: 'SubscriptionCheckout' },
);

export const PlanPreviewQuery = Type.Object({
  plan: Id('The plan to compare with the current one.'),
});

export const PlanChangePreview = Type.Object(
  {
    accountId: Type.String(),
    from: Type.String({ description: 'The current plan.' }),
    plan: Type.String(),
    change: oneOf(['upgrade', 'downgrade', 'unchanged'] as const),
    chargeCents: Cents('Upgrade: the prorated price difference due now.'),
    credits: Type.Integer({ description: 'Upgrade: the prorated credits granted now.' }),
    currency: Type.String(),
    effectiveAt: Time('Now for an upgrade; the next renewal for a downgrade.'),
  },
  {
    $id: 'PlanChangePreview',
    description: 'What a plan change would do now; nothing is changed.',
  },
);

/** An upgrade a customer asked for, paid through the payment provider (core/upgrades.ts). */
export const PlanUpgrade = Type.Object(
  {
    accountId: Type.String(),
    id: Type.String(),
    subscriptionId: Type.String(),
    fromPlan: Type.String({ description: 'The plan it was quoted from.' }),
    plan: Type.String({ description: 'The plan it upgrades to.' }),
    credits: Type.Integer({ description: 'The prorated credits granted when it is paid.' }),
    priceCents: Cents('The prorated price difference to pay.'),
    currency: Type.String(),
    cycleEndsAt: Time('The end of the cycle it was quoted for.'),
    provider: Type.String(),
    checkoutRef: nullable(Type.String()),
    paymentRef: nullable(Type.String()),
    status: oneOf(UPGRADE_STATUSES),
    transactionId: nullable(
      Type.String({ description: 'The plan change that applied it, once paid.' }),
    ),
    createdAt: Time('When it was asked for.'),
    paidAt: nullable(Time('When its payment arrived.')),
    cancelledAt: nullable(Time('When it was cancelled.')),
  },
  { $id: 'PlanUpgrade' },
);

/** An account key's upgrade waits for its payment (HTTP 202). */
export const PlanUpgradeCheckout = Type.Object(
  {
    upgrade: ref(PlanUpgrade),
    checkoutUrl: nullable(
      Type.String({
        description:
          'Where the customer pays (Stripe Checkout); null with the manual provider, where an operator confirms.',
      }),
    ),
    replay: Replay,
  },
  { $id: 'PlanUpgradeCheckout' },
);

export const PlanUpgradeResult = Type.Object(
  {
    upgrade: ref(PlanUpgrade),
    subscription: nullable(ref(Subscription)),
    transactionId: nullable(Type.String({ description: 'The plan change that applied it.' })),
    replay: Replay,
  },
  { $id: 'PlanUpgradeResult' },
);

export const PlanUpgradeList = Type.Object(
  { upgrades: list(ref(PlanUpgrade)) },
  { $id: 'PlanUpgradeList' },
);

export const UpgradeParams = Type.Object({ upgradeId: Id('The upgrade.') });
