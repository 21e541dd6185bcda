import { assert } from './errors.js';
import type { PackLine } from './packs.js';
import { prorate } from './proration.js';

/**
 * pending: waiting for its payment; paid: granted; refunding/refunded: a refund started or
 * done; cancelled: the customer no longer wants it (a payment that still arrives for it is
 * granted all the same: money paid buys what it was paid for).
 */
export const PURCHASE_STATUSES = ['pending', 'paid', 'refunding', 'refunded', 'cancelled'] as const;
export type PurchaseStatus = (typeof PURCHASE_STATUSES)[number];

/** How many lines (distinct packs) one purchase may have, and how many of one pack. */
export const MAX_PURCHASE_LINES = 10;
export const MAX_PACKS_PER_LINE = 100;

/**
 * One or more packs bought through a payment provider in one payment; the grant (one, of every
 * line's credits) appears only once it is paid.
 */
export interface Purchase {
  readonly accountId: string;
  readonly id: string;
  /**
   * The pack of a one-pack purchase; a combination names its lines, e.g. "pack-50x2+pack-20"
   * (`lines` has them one by one).
   */
  readonly pack: string;
  /** What is bought, one line per pack: count, unit and line totals. */
  readonly lines: readonly PackLine[];
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
  /** When the customer cancelled it while it was pending. */
  readonly cancelledAt: number | null;
  /** Who asked: the customer (or an operator for them), or the account's auto top-up rule. */
  readonly origin: 'customer' | 'autotopup';
}

/** The lines of a purchase from (pack, count) pairs priced by the catalog's packs. Pure. */
export function purchaseLines(
  wanted: readonly { readonly pack: string; readonly count: number }[],
  priceOf: (pack: string) => { readonly credits: number; readonly priceCents: number },
): PackLine[] {
  return wanted.map(({ pack, count }) => {
    const unit = priceOf(pack);
    assert(Number.isSafeInteger(count) && count >= 1, 'a line buys at least one pack');
    return {
      pack,
      unitCredits: unit.credits,
      unitPriceCents: unit.priceCents,
      count,
      credits: unit.credits * count,
      priceCents: unit.priceCents * count,
    };
  });
}

/** The purchase's name for its lines: the pack itself, or "pack-50x2+pack-20" for several. */
export function linesName(lines: readonly PackLine[]): string {
  const [only] = lines;
  if (lines.length === 1 && only && only.count === 1) return only.pack;
  return lines.map((l) => (l.count === 1 ? l.pack : `${l.pack}x${l.count}`)).join('+');
}

/** A new pending purchase of catalog packs, priced as the catalog says now. */
export function pendingPurchase(input: {
  readonly accountId: string;
  readonly id: string;
  readonly lines: readonly PackLine[];
  readonly currency: string;
  readonly provider: string;
  readonly origin: Purchase['origin'];
  readonly now: number;
}): Purchase {
  assert(input.lines.length >= 1, 'a purchase has a line');
  const credits = input.lines.reduce((sum, l) => sum + l.credits, 0);
  const priceCents = input.lines.reduce((sum, l) => sum + l.priceCents, 0);
  assert(Number.isSafeInteger(credits) && Number.isSafeInteger(priceCents), 'totals are integers');
  return {
    accountId: input.accountId,
    id: input.id,
    pack: linesName(input.lines),
    lines: input.lines,
    credits,
    priceCents,
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
    cancelledAt: null,
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
