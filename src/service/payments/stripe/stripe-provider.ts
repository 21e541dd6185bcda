import Stripe from 'stripe';
import { AmisiError } from '../../../core/errors.js';
import type {
  Checkout,
  CheckoutRequest,
  PaymentEvent,
  PaymentProvider,
  Refund,
  RefundRequest,
  SubscriptionChangeRequest,
} from '../port.js';
import { checkCheckoutRequest, checkRefundRequest } from '../validate.js';
import { refId, toPaymentEvent } from './stripe-events.js';

export interface StripeProviderOptions {
  /** The secret API key (sk_...). Never copied into errors or logs. */
  readonly secretKey: string;
  /** The webhook endpoint's signing secret (whsec_...). */
  readonly webhookSecret: string;
  /** How old a webhook signature may be, in seconds; default 300 (Stripe's own default). */
  readonly webhookToleranceSeconds?: number;
  /** Where Checkout sends the customer when a request names no URL. */
  readonly successUrl?: string;
  readonly cancelUrl?: string;
  /** SDK connection overrides, so tests can point the SDK at a local server. */
  readonly host?: string;
  readonly port?: number;
  readonly protocol?: 'http' | 'https';
  /** Retries of failed API calls (same idempotency key); default 2, the SDK's default. */
  readonly maxNetworkRetries?: number;
}

export const DEFAULT_WEBHOOK_TOLERANCE_SECONDS = 300;
export const DEFAULT_SUCCESS_URL =
  'http://localhost:3000/billing/success?session_id={CHECKOUT_SESSION_ID}';
export const DEFAULT_CANCEL_URL = 'http://localhost:3000/billing/cancel';
/** Bounds the SDK's retries (STYLE.md: retries always bounded). */
const MAX_NETWORK_RETRIES = 5;

/**
 * Payments through Stripe: a hosted Checkout Session per purchase, refunds of a PaymentIntent,
 * and signed webhooks. Every API call carries an idempotency key derived from our ids, so a
 * retry (ours or the SDK's) never charges or refunds twice.
 */
export class StripeProvider implements PaymentProvider {
  readonly name = 'stripe';
  /** A live secret or restricted key (sk_live_, rk_live_) moves real money. */
  readonly live: boolean;
  // Private fields, so that logging the provider never prints the SDK client or the secrets.
  readonly #stripe: Stripe;
  readonly #secrets: readonly string[];
  readonly #webhookSecret: string;
  readonly #toleranceSeconds: number;
  readonly #successUrl: string;
  readonly #cancelUrl: string;

  constructor(options: StripeProviderOptions) {
    checkOptions(options);
    this.live = /^(sk|rk)_live_/.test(options.secretKey);
    const config: Stripe.StripeConfig = {
      maxNetworkRetries: options.maxNetworkRetries ?? 2,
      appInfo: { name: 'amisi-credits' },
    };
    if (options.host !== undefined) config.host = options.host;
    if (options.port !== undefined) config.port = options.port;
    if (options.protocol !== undefined) config.protocol = options.protocol;
    this.#stripe = new Stripe(options.secretKey, config);
    this.#secrets = [options.secretKey, options.webhookSecret];
    this.#webhookSecret = options.webhookSecret;
    this.#toleranceSeconds = options.webhookToleranceSeconds ?? DEFAULT_WEBHOOK_TOLERANCE_SECONDS;
    this.#successUrl = options.successUrl ?? DEFAULT_SUCCESS_URL;
    this.#cancelUrl = options.cancelUrl ?? DEFAULT_CANCEL_URL;
  }

  async createCheckout(request: CheckoutRequest): Promise<Checkout> {
    checkCheckoutRequest(request);
    const params = checkoutParams(request, this.#successUrl, this.#cancelUrl);
    // One purchase, one session: a retry after a lost answer gets the same session back.
    const options = { idempotencyKey: `checkout:${request.purchaseId}` };
    const session = await this.#call('checkout.sessions.create', () =>
      this.#stripe.checkout.sessions.create(params, options),
    );
    return { provider: this.name, providerRef: session.id, url: session.url };
  }

  /**
   * Expires an open Checkout Session (a cancelled purchase), so that it can no longer be paid.
   * A session already complete or expired is left as it is: a completed one's event grants the
   * purchase all the same (src/ledger/purchases/commands.ts, confirmPayment).
   */
  async expireCheckout(checkoutRef: string, idempotencyKey: string): Promise<void> {
    const session = await this.#call('checkout.sessions.retrieve', () =>
      this.#stripe.checkout.sessions.retrieve(checkoutRef),
    );
    if (session.status !== 'open') return;
    await this.#call('checkout.sessions.expire', () =>
      this.#stripe.checkout.sessions.expire(checkoutRef, {}, { idempotencyKey }),
    );
  }

  async refund(request: RefundRequest): Promise<Refund> {
    checkRefundRequest(request);
    const params: Stripe.RefundCreateParams = {
      payment_intent: request.paymentRef,
      amount: request.amountCents,
      metadata: { accountId: request.accountId, purchaseId: request.purchaseId },
    };
    const refund = await this.#call('refunds.create', () =>
      this.#stripe.refunds.create(params, { idempotencyKey: request.idempotencyKey }),
    );
    return { providerRef: refund.id };
  }

  /**
   * Passes a plan change on to the Stripe subscription. The recurring price moves without
   * Stripe's own proration (proration_behavior 'none'), and an upgrade's difference is charged
   * as an invoice item of exactly the amount the ledger computed, invoiced and paid at once, so
   * the money and the credits follow one rounding. Every call carries a key derived from the
   * plan change's key: a retry after a failure repeats nothing that already happened.
   */
  async changeSubscription(request: SubscriptionChangeRequest): Promise<void> {
    const key = (step: string) => ({ idempotencyKey: `${request.idempotencyKey}:${step}` });
    const id = request.providerRef;
    if (request.change === 'cancel' || request.plan === null) {
      await this.#call('subscriptions.update', () =>
        this.#stripe.subscriptions.update(id, { cancel_at_period_end: true }, key('cancel')),
      );
      return;
    }
    const plan = request.plan;
    const sub = await this.#call('subscriptions.retrieve', () =>
      this.#stripe.subscriptions.retrieve(id),
    );
    const item = sub.items.data[0];
    const customer = refId(sub.customer);
    const product = item ? refId(item.price.product) : null;
    if (!item || !customer || !product) {
      throw new AmisiError('payment_provider_error', `Stripe subscription ${id} has no price`, {
        provider: this.name,
        providerRef: id,
      });
    }
    await this.#call('subscriptions.update', () =>
      this.#stripe.subscriptions.update(
        id,
        {
          items: [
            {
              id: item.id,
              price_data: {
                currency: request.currency,
                product,
                unit_amount: plan.priceCents,
                recurring: { interval: 'month' },
              },
            },
          ],
          proration_behavior: 'none',
          metadata: { plan: plan.id },
        },
        key('price'),
      ),
    );
    if (request.change !== 'upgrade' || request.chargeCents === 0) return;
    await this.#chargeUpgrade(request, customer, plan.name);
  }

  /**
   * An upgrade's prorated difference: one invoice item of exactly the ledger's amount, invoiced
   * and paid at once, each step keyed from the plan change's key like the price change.
   */
  async #chargeUpgrade(
    request: SubscriptionChangeRequest,
    customer: string,
    planName: string,
  ): Promise<void> {
    const key = (step: string) => ({ idempotencyKey: `${request.idempotencyKey}:${step}` });
    const id = request.providerRef;
    await this.#call('invoiceItems.create', () =>
      this.#stripe.invoiceItems.create(
        {
          customer,
          subscription: id,
          amount: request.chargeCents,
          currency: request.currency,
          description: `Upgrade to ${planName} for the rest of the cycle`,
          metadata: { accountId: request.accountId },
        },
        key('item'),
      ),
    );
    const invoice = await this.#call('invoices.create', () =>
      this.#stripe.invoices.create(
        {
          customer,
          subscription: id,
          pending_invoice_items_behavior: 'include',
          auto_advance: true,
        },
        key('invoice'),
      ),
    );
    if (invoice.id) {
      const invoiceId = invoice.id;
      await this.#call('invoices.pay', () => this.#stripe.invoices.pay(invoiceId, {}, key('pay')));
    }
  }

  parseWebhook(rawBody: string | Buffer, signature: string | undefined): PaymentEvent | null {
    if (signature === undefined || signature === '') {
      throw signatureInvalid('the Stripe-Signature header is missing');
    }
    let event: Stripe.Event;
    try {
      event = this.#stripe.webhooks.constructEvent(
        rawBody,
        signature,
        this.#webhookSecret,
        this.#toleranceSeconds,
      );
    } catch (e) {
      if (e instanceof Stripe.errors.StripeSignatureVerificationError) {
        // The SDK's message runs on with advice; its first line says what failed.
        throw signatureInvalid(this.#redact(e.message.split('\n')[0] ?? ''));
      }
      // The SDK parses the body after checking its signature: signed bytes that are not JSON.
      if (e instanceof SyntaxError) throw notAnEvent('the webhook body is not valid JSON');
      throw e;
    }
    if (!isEventShaped(event)) {
      throw notAnEvent('the webhook body is not a Stripe event (id, type and data.object)');
    }
    return toPaymentEvent(event);
  }

  /** Runs one SDK call; a Stripe error becomes an AmisiError, anything else is a bug. */
  async #call<T>(operation: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      if (!(e instanceof Stripe.errors.StripeError)) throw e;
      throw this.#providerError(operation, e);
    }
  }

  #providerError(operation: string, e: InstanceType<typeof Stripe.errors.StripeError>) {
    const data: Record<string, unknown> = { provider: this.name, operation };
    const fields = {
      stripeType: e.rawType ?? e.type,
      stripeCode: e.code,
      declineCode: e.decline_code,
      param: e.param,
      statusCode: e.statusCode,
      requestId: e.requestId,
    };
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) data[key] = value;
    const message = `Stripe ${operation} failed: ${this.#redact(e.message)}`;
    // Stripe refuses a reused key with different parameters; retrying it can never succeed,
    // which is exactly our idempotency_key_reused.
    const code =
      e instanceof Stripe.errors.StripeIdempotencyError
        ? 'idempotency_key_reused'
        : 'payment_provider_error';
    return new AmisiError(code, message, data);
  }

  /** Stripe masks keys in its messages; this makes sure, whatever the message. */
  #redact(text: string): string {
    let out = text;
    for (const secret of this.#secrets) out = out.split(secret).join('[redacted]');
    return out;
  }
}

function checkoutParams(
  request: CheckoutRequest,
  successUrl: string,
  cancelUrl: string,
): Stripe.Checkout.SessionCreateParams {
  const metadata = {
    accountId: request.accountId,
    purchaseId: request.purchaseId,
    kind: request.kind,
    itemId: request.itemId,
  };
  const subscription = request.kind === 'subscription';
  // A purchase of several packs: a line item per pack, so Checkout and the receipt show each.
  const lines = request.lines ?? [
    { description: request.description, quantity: 1, unitAmountCents: request.amountCents },
  ];
  const common = {
    line_items: lines.map((line) => ({
      quantity: line.quantity,
      price_data: {
        currency: request.currency,
        unit_amount: line.unitAmountCents,
        product_data: { name: line.description },
        ...(subscription ? { recurring: { interval: 'month' as const } } : {}),
      },
    })),
    client_reference_id: request.accountId,
    metadata,
    success_url: request.successUrl ?? successUrl,
    cancel_url: request.cancelUrl ?? cancelUrl,
  };
  if (subscription) {
    // Invoices carry a snapshot of the subscription's metadata (not the session's), so the
    // ids go there too. The purchase that starts a subscription names it: subscriptionId.
    return {
      ...common,
      mode: 'subscription',
      subscription_data: { metadata: { ...metadata, subscriptionId: request.purchaseId } },
    };
  }
  // Session metadata stays on the session; the PaymentIntent (and so its charge, which
  // charge.refunded carries) gets the ids only through payment_intent_data.
  return { ...common, mode: 'payment', payment_intent_data: { metadata } };
}

function checkOptions(options: StripeProviderOptions): void {
  const bad = (field: string, rule: string) =>
    new AmisiError('invalid_argument', `Stripe provider: ${rule}`, { field });
  if (typeof options.secretKey !== 'string' || options.secretKey.trim() === '') {
    throw bad('secretKey', 'secretKey is required');
  }
  if (typeof options.webhookSecret !== 'string' || options.webhookSecret.trim() === '') {
    throw bad('webhookSecret', 'webhookSecret is required');
  }
  const tolerance = options.webhookToleranceSeconds;
  // The SDK reads a tolerance of 0 as "do not check the timestamp", which would accept
  // replayed webhooks forever; only a positive number of seconds is allowed.
  if (tolerance !== undefined && !(Number.isSafeInteger(tolerance) && tolerance > 0)) {
    throw bad('webhookToleranceSeconds', 'webhookToleranceSeconds is a whole number above 0');
  }
  const retries = options.maxNetworkRetries;
  if (retries !== undefined && !(Number.isSafeInteger(retries) && retries >= 0)) {
    throw bad('maxNetworkRetries', 'maxNetworkRetries is a whole number from 0');
  }
  if (retries !== undefined && retries > MAX_NETWORK_RETRIES) {
    throw bad('maxNetworkRetries', `maxNetworkRetries is at most ${MAX_NETWORK_RETRIES}`);
  }
}

function signatureInvalid(why: string): AmisiError {
  return new AmisiError('webhook_signature_invalid', `Stripe webhook refused: ${why}`, {
    provider: 'stripe',
  });
}

/** A signed body that is not an event: a client error (400), never retried into success. */
function notAnEvent(message: string): AmisiError {
  return new AmisiError('invalid_argument', message, { field: 'body', reason: 'not_an_event' });
}

/** The fields every event has, checked before anything reads them. */
function isEventShaped(event: unknown): event is Stripe.Event {
  if (typeof event !== 'object' || event === null) return false;
  const e = event as { id?: unknown; type?: unknown; data?: { object?: unknown } | null };
  return (
    typeof e.id === 'string' &&
    typeof e.type === 'string' &&
    typeof e.data === 'object' &&
    e.data !== null &&
    typeof e.data.object === 'object' &&
    e.data.object !== null
  );
}
