import type Stripe from 'stripe';
import { AmisiError } from '../../../core/errors.js';
import type { PaymentEvent } from '../port.js';

/**
 * Stripe events (already verified) to our PaymentEvent. Pure: no I/O, no clock.
 *
 * The SDK types describe the API version the SDK pins (2026-10-28.endive), but a webhook body
 * is rendered in the API version of the webhook endpoint and constructEvent only JSON-parses
 * it. So every field we read is checked here, and amounts are asserted to be safe integers.
 *
 * An event that does not carry our metadata (accountId and purchaseId, or subscriptionId) was
 * not created by this system (another integration on the same Stripe account): it is not an
 * event for us, and parsing returns null rather than failing, so Stripe does not retry it.
 */
export function toPaymentEvent(event: Stripe.Event): PaymentEvent | null {
  switch (event.type) {
    // With a delayed payment method (bank debits) the session completes unpaid and
    // async_payment_succeeded follows once the money arrives; without it such a purchase would
    // never be credited.
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded':
      return fromSession(event.id, event.data.object);
    case 'invoice.paid':
      return fromInvoice(event.id, event.data.object);
    case 'charge.refunded':
      return fromCharge(event.id, event.data.object);
    default:
      return null;
  }
}

function fromSession(eventId: string, session: Stripe.Checkout.Session): PaymentEvent | null {
  // 'unpaid' (payment still pending) and 'no_payment_required' bring no money.
  if (session.payment_status !== 'paid') return null;
  const accountId = meta(session.metadata, 'accountId');
  const purchaseId = meta(session.metadata, 'purchaseId');
  if (accountId === null || purchaseId === null) return null;
  // A subscription's first payment is made by its first invoice, so the subscription is the
  // thing to refer to; a one-off payment is its PaymentIntent (what refunds name).
  const paymentRef =
    session.mode === 'subscription' ? refId(session.subscription) : refId(session.payment_intent);
  if (paymentRef === null) throw malformed(eventId, 'session without payment reference');
  // A one-off payment buys a pack, or an upgrade when its metadata says so.
  const kind =
    session.mode === 'subscription'
      ? 'subscription'
      : meta(session.metadata, 'kind') === 'upgrade'
        ? 'upgrade'
        : 'pack';
  const itemId = meta(session.metadata, 'itemId');
  if (kind !== 'pack' && itemId === null) throw malformed(eventId, 'plan id missing');
  return {
    type: 'checkout.completed',
    eventId,
    accountId,
    purchaseId,
    kind,
    itemId: itemId ?? '',
    paymentRef,
    amountCents: wholeNumber(eventId, 'amount_total', session.amount_total),
    currency: currency(eventId, session.currency),
  };
}

function fromInvoice(eventId: string, invoice: Stripe.Invoice): PaymentEvent | null {
  // Since API version 2025-03-31.basil the subscription's metadata snapshot is under
  // parent.subscription_details; before it, at the top level. The legacy place is read too so
  // that an endpoint pinned to an older version does not silently lose renewals.
  const legacy = (invoice as { subscription_details?: { metadata?: unknown } })
    .subscription_details;
  const metadata = invoice.parent?.subscription_details?.metadata ?? legacy?.metadata ?? null;
  const accountId = meta(metadata, 'accountId');
  const subscriptionId = meta(metadata, 'subscriptionId');
  if (accountId === null || subscriptionId === null) return null;
  return {
    type: 'invoice.paid',
    eventId,
    accountId,
    subscriptionId,
    invoiceRef: invoice.id,
    amountCents: wholeNumber(eventId, 'amount_paid', invoice.amount_paid),
    currency: currency(eventId, invoice.currency),
    periodStart: periodStartMs(eventId, invoice),
  };
}

function fromCharge(eventId: string, charge: Stripe.Charge): PaymentEvent | null {
  // Our metadata reaches the charge because checkout sets payment_intent_data.metadata and a
  // PaymentIntent's charges carry its metadata. The refund's own metadata stays on the Refund.
  const accountId = meta(charge.metadata, 'accountId');
  const purchaseId = meta(charge.metadata, 'purchaseId');
  if (accountId === null || purchaseId === null) return null;
  const paymentRef = refId(charge.payment_intent);
  if (paymentRef === null) throw malformed(eventId, 'charge without payment_intent');
  return {
    type: 'charge.refunded',
    eventId,
    accountId,
    purchaseId,
    paymentRef,
    amountRefundedCents: wholeNumber(eventId, 'amount_refunded', charge.amount_refunded),
    currency: currency(eventId, charge.currency),
  };
}

/**
 * The start of the service period the invoice pays for, in epoch milliseconds like every time
 * in this system. Not invoice.period_start: for a renewal that is the start of the period that
 * just ended (it bounds usage items). The subscription line's period is the one paid for.
 */
function periodStartMs(eventId: string, invoice: Stripe.Invoice): number {
  const lines = Array.isArray(invoice.lines?.data) ? invoice.lines.data : [];
  const line =
    lines.find(
      (l) =>
        l.parent?.type === 'subscription_item_details' &&
        l.parent.subscription_item_details?.proration === false,
    ) ?? lines[0];
  const seconds = line?.period?.start ?? invoice.period_end;
  return wholeNumber(eventId, 'period.start', seconds) * 1000;
}

function meta(metadata: unknown, key: string): string | null {
  if (typeof metadata !== 'object' || metadata === null) return null;
  const value: unknown = (metadata as Record<string, unknown>)[key];
  return typeof value === 'string' && value !== '' ? value : null;
}

/** An expandable field: the id, or the object that has it. */
export function refId(value: string | { id: string } | null | undefined): string | null {
  if (typeof value === 'string') return value === '' ? null : value;
  return typeof value?.id === 'string' ? value.id : null;
}

/** A non-negative safe integer (amounts in minor units, or seconds). */
function wholeNumber(eventId: string, field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw malformed(eventId, `${field} is not a non-negative integer`);
  }
  return value;
}

function currency(eventId: string, value: unknown): string {
  if (typeof value !== 'string' || !/^[a-z]{3}$/i.test(value)) {
    throw malformed(eventId, 'currency is not an ISO 4217 code');
  }
  return value.toLowerCase();
}

/** Signed by Stripe yet not the shape we rely on: the provider's fault, not the caller's. */
function malformed(eventId: string, why: string): AmisiError {
  return new AmisiError('payment_provider_error', `Stripe event ${eventId}: ${why}`, {
    provider: 'stripe',
    eventId,
  });
}
