/**
 * The Payments port: how the credit system asks a payment provider for money and learns that
 * money arrived or went back. Adapters: manual/ (an operator confirms; the default) and
 * stripe/ (Checkout Sessions, refunds, signed webhooks). Amounts are integer minor units.
 */

export interface CheckoutRequest {
  readonly accountId: string;
  /** Our purchase id; the provider echoes it back in its events (metadata). */
  readonly purchaseId: string;
  /** A pack, a plan's first payment, or a customer's upgrade (a one-off payment). */
  readonly kind: 'pack' | 'subscription' | 'upgrade';
  /** Pack or plan id from the catalog, for the provider's line item. */
  readonly itemId: string;
  readonly description: string;
  readonly amountCents: number;
  readonly currency: string;
  /**
   * A purchase of several packs: one line item each (quantity and unit price), summing to
   * amountCents. Missing: one line of amountCents named by the description.
   */
  readonly lines?: readonly CheckoutLine[];
  readonly successUrl?: string;
  readonly cancelUrl?: string;
}

export interface CheckoutLine {
  readonly description: string;
  readonly quantity: number;
  readonly unitAmountCents: number;
}

export interface Checkout {
  readonly provider: string;
  /** The provider's id for this checkout (Stripe: the Checkout Session id). */
  readonly providerRef: string;
  /** Where to send the customer to pay; null when an operator confirms by hand. */
  readonly url: string | null;
}

export interface RefundRequest {
  readonly accountId: string;
  readonly purchaseId: string;
  /** The provider's id of the payment being refunded (Stripe: the PaymentIntent id). */
  readonly paymentRef: string;
  readonly amountCents: number;
  readonly currency: string;
  /** Makes the provider call idempotent (Stripe: Idempotency-Key). */
  readonly idempotencyKey: string;
}

export interface Refund {
  readonly providerRef: string;
}

/** A plan change to pass on to the provider's subscription. */
export interface SubscriptionChangeRequest {
  readonly accountId: string;
  /** The provider's subscription (Stripe: sub_...). */
  readonly providerRef: string;
  readonly change: 'upgrade' | 'downgrade' | 'cancel';
  /** The new plan (null for a cancel): its id, name and monthly price from the catalog. */
  readonly plan: { readonly id: string; readonly name: string; readonly priceCents: number } | null;
  /** An upgrade's prorated price difference for the rest of the cycle, charged now. */
  readonly chargeCents: number;
  readonly currency: string;
  /** Derived from the plan change's idempotency key: a retry never charges twice. */
  readonly idempotencyKey: string;
}

/** What a provider tells us, normalized. Unknown event types are not events (parse returns null). */
export type PaymentEvent =
  | {
      readonly type: 'checkout.completed';
      readonly eventId: string;
      readonly accountId: string;
      /** Our id of what was paid for: a pack purchase, the checkout that starts a plan, an upgrade. */
      readonly purchaseId: string;
      readonly kind: 'pack' | 'subscription' | 'upgrade';
      /** The pack or plan id from the catalog. */
      readonly itemId: string;
      readonly paymentRef: string;
      readonly amountCents: number;
      readonly currency: string;
    }
  | {
      readonly type: 'invoice.paid';
      readonly eventId: string;
      readonly accountId: string;
      /** Our subscription id, from the provider's subscription metadata. */
      readonly subscriptionId: string;
      readonly invoiceRef: string;
      readonly amountCents: number;
      readonly currency: string;
      readonly periodStart: number;
    }
  | {
      readonly type: 'charge.refunded';
      readonly eventId: string;
      readonly accountId: string;
      readonly purchaseId: string;
      readonly paymentRef: string;
      /** Total refunded so far on this payment, in minor units. */
      readonly amountRefundedCents: number;
      readonly currency: string;
    };

export interface PaymentProvider {
  readonly name: string;
  /**
   * Takes real money (a live key): accounts on a test clock are never paid through it
   * (`live_payment_on_test_clock`). Missing: false.
   */
  readonly live?: boolean;
  createCheckout(request: CheckoutRequest): Promise<Checkout>;
  refund(request: RefundRequest): Promise<Refund>;
  /**
   * Passes a plan change on to a subscription billed by the provider: an upgrade charges its
   * prorated difference now (the amount the ledger computed, so both agree to the cent) and
   * moves the recurring price; a downgrade moves the price from the next cycle; a cancel ends
   * it at the period's end. Providers without subscriptions leave it out.
   */
  changeSubscription?(request: SubscriptionChangeRequest): Promise<void>;
  /**
   * Closes a checkout that is still open, so that it can no longer be paid (a cancelled
   * purchase). One that was already paid or closed is left as it is. Providers whose
   * checkouts cannot be paid by the customer (manual) leave it out.
   */
  expireCheckout?(checkoutRef: string, idempotencyKey: string): Promise<void>;
  /**
   * Verifies a webhook's signature over the raw body and returns the event, or null for event
   * types we do not act on. A bad, forged or stale signature throws AmisiError
   * 'webhook_signature_invalid' and nothing else happens.
   */
  parseWebhook(rawBody: string | Buffer, signature: string | undefined): PaymentEvent | null;
}
