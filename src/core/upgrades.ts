import type { PlanChange, Subscription } from './subscriptions.js';

export const UPGRADE_STATUSES = ['pending', 'paid', 'cancelled'] as const;
export type UpgradeStatus = (typeof UPGRADE_STATUSES)[number];

/**
 * An upgrade a customer asked for and has not paid yet (or has): the prorated price and credits
 * quoted when it was asked, paid through the payment provider. Its credits are granted and the
 * plan changed when the payment arrives, exactly once; until then nothing changes. An operator's
 * upgrade needs none of this (it takes effect at once and is billed by the operator or on the
 * provider's subscription).
 */
export interface PlanUpgrade {
  readonly accountId: string;
  readonly id: string;
  /** The subscription it upgrades, and the plan it was on when quoted. */
  readonly subscriptionId: string;
  readonly fromPlan: string;
  readonly plan: string;
  /** The quote: the prorated allocation difference and price difference for the rest of the cycle. */
  readonly credits: number;
  readonly priceCents: number;
  readonly currency: string;
  /** The end of the cycle it was quoted for: the credits expire then. */
  readonly cycleEndsAt: number;
  readonly provider: string;
  readonly checkoutRef: string | null;
  readonly paymentRef: string | null;
  readonly status: UpgradeStatus;
  /** The plan change that applied it (once paid). */
  readonly transactionId: string | null;
  readonly createdAt: number;
  readonly paidAt: number | null;
  readonly cancelledAt: number | null;
}

/** A new pending upgrade, quoted from `change` (planChange's upgrade). Pure. */
export function pendingUpgrade(input: {
  readonly id: string;
  readonly sub: Subscription;
  readonly plan: string;
  readonly change: PlanChange;
  readonly currency: string;
  readonly provider: string;
  readonly now: number;
}): PlanUpgrade {
  return {
    accountId: input.sub.accountId,
    id: input.id,
    subscriptionId: input.sub.id,
    fromPlan: input.sub.plan,
    plan: input.plan,
    credits: input.change.credits,
    priceCents: input.change.chargeCents,
    currency: input.currency,
    cycleEndsAt: input.change.cycleEndsAt,
    provider: input.provider,
    checkoutRef: null,
    paymentRef: null,
    status: 'pending',
    transactionId: null,
    createdAt: input.now,
    paidAt: null,
    cancelledAt: null,
  };
}
