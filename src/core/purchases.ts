import { assert } from './errors.js';
import { prorate } from './proration.js';

export const PURCHASE_STATUSES = ['pending', 'paid', 'refunding', 'refunded'] as const;
export type PurchaseStatus = (typeof PURCHASE_STATUSES)[number];

/** A pack bought through a payment provider; the grant appears only once it is paid. */
export interface Purchase {
  readonly accountId: string;
  readonly id: string;
  readonly pack: string;
  readonly credits: number;
  readonly priceCents: number;
  readonly currency: string;
  readonly provider: string;
  readonly checkoutRef: string | null;
  readonly paymentRef: string | null;
  readonly status: PurchaseStatus;
  readonly grantId: string | null;
  readonly refundedCredits: number;
  readonly refundedCents: number;
  readonly refundRef: string | null;
  readonly createdAt: number;
  readonly paidAt: number | null;
  /** Who asked: the customer (or an operator for them), or the account's auto top-up rule. */
  readonly origin: 'customer' | 'autotopup';
}

/** A new pending purchase of a catalog pack, priced as the catalog says now. */
export function pendingPurchase(input: {
  readonly accountId: string;
  readonly id: string;
  readonly packId: string;
  readonly pack: { readonly credits: number; readonly priceCents: number };
  readonly currency: string;
  readonly provider: string;
  readonly origin: Purchase['origin'];
  readonly now: number;
}): Purchase {
  return {
    accountId: input.accountId,
    id: input.id,
    pack: input.packId,
    credits: input.pack.credits,
    priceCents: input.pack.priceCents,
    currency: input.currency,
    provider: input.provider,
    checkoutRef: null,
    paymentRef: null,
    status: 'pending',
    grantId: null,
    refundedCredits: 0,
    refundedCents: 0,
    refundRef: null,
    createdAt: input.now,
    paidAt: null,
    origin: input.origin,
  };
}

export interface RefundPlan {
  /** Unspent credits reclaimed (never spent or held ones). */
  readonly credits: number;
  readonly cents: number;
}

/**
 * A refund reclaims the purchase's unspent credits. The money is proportional to them
 * (price x unspent / credits, half up, as proration) unless the operator asks for a full
 * refund. Pure.
 */
export function planRefund(
  purchase: Purchase,
  unspent: number,
  full: boolean,
  /** Money the provider already refunded (a refund started in its dashboard): recorded as is. */
  providerCents?: number,
): RefundPlan {
  assert(purchase.status === 'paid', 'only paid purchases are refunded');
  assert(
    Number.isSafeInteger(unspent) && unspent >= 0 && unspent <= purchase.credits,
    'unspent within the purchase',
  );
  if (providerCents !== undefined) {
    assert(Number.isSafeInteger(providerCents) && providerCents >= 0, 'refunded cents >= 0');
    return { credits: unspent, cents: Math.min(providerCents, purchase.priceCents) };
  }
  const cents = full
    ? purchase.priceCents
    : prorate(purchase.priceCents, unspent, purchase.credits);
  return { credits: unspent, cents };
}
