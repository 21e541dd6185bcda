import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { inspect } from 'node:util';
import Stripe from 'stripe';
import type { CheckoutRequest, PaymentEvent } from '../../src/service/payments/port.js';
import {
  DEFAULT_CANCEL_URL,
  DEFAULT_SUCCESS_URL,
  StripeProvider,
  type StripeProviderOptions,
} from '../../src/service/payments/stripe/stripe-provider.js';
import {
  startFakeStripe,
  stripeError,
  type FakeStripe,
  type RecordedRequest,
} from './fake-stripe.js';
import {
  checkoutRequest,
  paymentProviderContract,
  refundRequest,
  rejects,
  throwsCode,
} from './payment-provider-contract.js';

const SECRET_KEY = 'sk_test_amisi_never_leak_4242424242';
const WEBHOOK_SECRET = 'whsec_amisi_test_endpoint_secret';

let fake: FakeStripe;
before(async () => {
  fake = await startFakeStripe();
});
after(() => fake.close());
beforeEach(() => {
  fake.route = () => undefined;
});

function makeProvider(options: Partial<StripeProviderOptions> = {}): StripeProvider {
  return new StripeProvider({
    secretKey: SECRET_KEY,
    webhookSecret: WEBHOOK_SECRET,
    host: '127.0.0.1',
    port: fake.port,
    protocol: 'http',
    ...options,
  });
}

/** What a call returned and the requests it made (everything recorded meanwhile). */
async function withCalls<T>(
  run: () => Promise<T>,
): Promise<{ result: T; calls: RecordedRequest[] }> {
  const mark = fake.requests.length;
  const result = await run();
  return { result, calls: fake.requests.slice(mark) };
}

paymentProviderContract('stripe', () => ({
  provider: makeProvider(),
  externalCalls: () => fake.requests.length,
}));

describe('StripeProvider.createCheckout', () => {
  it('a pack is a payment-mode session with price_data, our metadata and a purchase key', async () => {
    const provider = makeProvider();
    const request: CheckoutRequest = { ...checkoutRequest, purchaseId: 'pur-pack-1' };
    const { result: checkout, calls } = await withCalls(() => provider.createCheckout(request));
    assert.equal(calls.length, 1);
    const [call] = calls;
    assert.equal(call?.method, 'POST');
    assert.equal(call?.path, '/v1/checkout/sessions');
    assert.equal(call?.idempotencyKey, 'checkout:pur-pack-1');
    assert.equal(call?.authorization, `Bearer ${SECRET_KEY}`);
    assert.deepEqual(call?.form, {
      mode: 'payment',
      'line_items[0][quantity]': '1',
      'line_items[0][price_data][currency]': 'usd',
      'line_items[0][price_data][unit_amount]': '1999',
      'line_items[0][price_data][product_data][name]': '50 credits',
      client_reference_id: 'acct-1',
      'metadata[accountId]': 'acct-1',
      'metadata[purchaseId]': 'pur-pack-1',
      'metadata[kind]': 'pack',
      'metadata[itemId]': 'pack-50',
      'payment_intent_data[metadata][accountId]': 'acct-1',
      'payment_intent_data[metadata][purchaseId]': 'pur-pack-1',
      'payment_intent_data[metadata][kind]': 'pack',
      'payment_intent_data[metadata][itemId]': 'pack-50',
      success_url: DEFAULT_SUCCESS_URL,
      cancel_url: DEFAULT_CANCEL_URL,
    });
    const sessionId = `cs_test_${String(fake.requests.length).padStart(4, '0')}`;
    assert.deepEqual(checkout, {
      provider: 'stripe',
      providerRef: sessionId,
      url: `https://checkout.stripe.com/c/pay/${sessionId}`,
    });
  });

  it('a subscription is a subscription-mode session, monthly, with metadata on the subscription', async () => {
    const provider = makeProvider({ successUrl: 'https://app.example/ok' });
    const request: CheckoutRequest = {
      ...checkoutRequest,
      kind: 'subscription',
      purchaseId: 'sub-pro-1',
      itemId: 'pro',
      description: 'Pro plan',
      amountCents: 2499,
      cancelUrl: 'https://app.example/plans',
    };
    const {
      calls: [call],
    } = await withCalls(() => provider.createCheckout(request));
    assert.equal(call?.idempotencyKey, 'checkout:sub-pro-1');
    const form = call?.form ?? {};
    assert.equal(form['mode'], 'subscription');
    assert.equal(form['line_items[0][price_data][recurring][interval]'], 'month');
    assert.equal(form['line_items[0][price_data][unit_amount]'], '2499');
    assert.equal(form['line_items[0][price_data][product_data][name]'], 'Pro plan');
    assert.equal(form['metadata[kind]'], 'subscription');
    assert.equal(form['subscription_data[metadata][accountId]'], 'acct-1');
    assert.equal(form['subscription_data[metadata][subscriptionId]'], 'sub-pro-1');
    assert.equal(form['subscription_data[metadata][itemId]'], 'pro');
    assert.equal(form['success_url'], 'https://app.example/ok', 'the provider default');
    assert.equal(form['cancel_url'], 'https://app.example/plans', "the request's own URL");
    const paymentIntentKeys = Object.keys(form).filter((k) => k.startsWith('payment_intent_data'));
    assert.deepEqual(
      paymentIntentKeys,
      [],
      'Stripe refuses payment_intent_data in subscription mode',
    );
  });

  it('a 402 card_error becomes payment_provider_error with the Stripe type and codes, no retry', async () => {
    fake.route = () =>
      stripeError(402, {
        type: 'card_error',
        code: 'card_declined',
        decline_code: 'insufficient_funds',
        message: 'Your card has insufficient funds.',
      });
    const provider = makeProvider();
    const { result: error, calls } = await withCalls(() =>
      rejects(
        provider.createCheckout({ ...checkoutRequest, purchaseId: 'pur-declined' }),
        'payment_provider_error',
      ),
    );
    assert.equal(calls.length, 1, 'a card error is final: the SDK does not retry it');
    const { requestId, ...data } = error.data;
    assert.match(String(requestId), /^req_fake_/, "Stripe's request id, for support");
    assert.deepEqual(data, {
      provider: 'stripe',
      operation: 'checkout.sessions.create',
      stripeType: 'card_error',
      stripeCode: 'card_declined',
      declineCode: 'insufficient_funds',
      statusCode: 402,
    });
  });

  it('an error never carries the secret key, even when Stripe echoes it', async () => {
    fake.route = () =>
      stripeError(401, {
        type: 'invalid_request_error',
        message: `Invalid API Key provided: ${SECRET_KEY}`,
      });
    const provider = makeProvider();
    const error = await rejects(
      provider.createCheckout({ ...checkoutRequest, purchaseId: 'pur-badkey' }),
      'payment_provider_error',
    );
    assert.equal(error.data['statusCode'], 401);
    assert.ok(!error.message.includes(SECRET_KEY), error.message);
    assert.ok(!JSON.stringify(error.data).includes(SECRET_KEY));
    assert.ok(!inspect(error, { depth: 10 }).includes(SECRET_KEY));
    assert.ok(!inspect(provider, { depth: 10 }).includes(SECRET_KEY), 'nor does the provider');
  });

  it('a 503 is retried by the SDK with the same idempotency key: one session', async () => {
    let failed = false;
    fake.route = () => {
      if (failed) return undefined;
      failed = true;
      return stripeError(503, { type: 'api_error', message: 'Try again later.' });
    };
    const provider = makeProvider();
    const { result: checkout, calls } = await withCalls(() =>
      provider.createCheckout({ ...checkoutRequest, purchaseId: 'pur-flaky' }),
    );
    assert.equal(calls.length, 2);
    assert.deepEqual(
      calls.map((c) => c.idempotencyKey),
      ['checkout:pur-flaky', 'checkout:pur-flaky'],
    );
    assert.equal(checkout.providerRef, `cs_test_${String(fake.requests.length).padStart(4, '0')}`);
  });

  it('a 500 that Stripe says not to retry is payment_provider_error (api_error)', async () => {
    fake.route = () =>
      stripeError(
        500,
        { type: 'api_error', message: 'Something went wrong on our end.' },
        { 'stripe-should-retry': 'false' },
      );
    const error = await rejects(
      makeProvider().createCheckout({ ...checkoutRequest, purchaseId: 'pur-500' }),
      'payment_provider_error',
    );
    assert.equal(error.data['stripeType'], 'api_error');
    assert.equal(error.data['statusCode'], 500);
  });

  it('the same purchase id with other content is idempotency_key_reused', async () => {
    const provider = makeProvider();
    await provider.createCheckout({ ...checkoutRequest, purchaseId: 'pur-reused' });
    const error = await rejects(
      provider.createCheckout({ ...checkoutRequest, purchaseId: 'pur-reused', amountCents: 1 }),
      'idempotency_key_reused',
    );
    assert.equal(error.data['stripeType'], 'idempotency_error');
  });

  it('an unreachable API is payment_provider_error (connection)', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const provider = makeProvider({ port, maxNetworkRetries: 0 });
    const error = await rejects(provider.createCheckout(checkoutRequest), 'payment_provider_error');
    assert.equal(error.data['stripeType'], 'StripeConnectionError');
  });
});

describe('StripeProvider.refund', () => {
  it('refunds the PaymentIntent: amount, metadata and the caller’s idempotency key', async () => {
    const provider = makeProvider();
    const { result: refund, calls } = await withCalls(() =>
      provider.refund({ ...refundRequest, idempotencyKey: 'refund:pur-1:a' }),
    );
    assert.equal(calls.length, 1);
    const [call] = calls;
    assert.equal(call?.path, '/v1/refunds');
    assert.equal(call?.idempotencyKey, 'refund:pur-1:a');
    assert.deepEqual(call?.form, {
      payment_intent: 'pi_test_1',
      amount: '500',
      'metadata[accountId]': 'acct-1',
      'metadata[purchaseId]': 'pur-1',
    });
    assert.match(refund.providerRef, /^re_test_/);
  });

  it('a refused refund is payment_provider_error with the Stripe code', async () => {
    fake.route = () =>
      stripeError(400, {
        type: 'invalid_request_error',
        code: 'charge_already_refunded',
        message: 'Charge ch_1 has already been refunded.',
      });
    const error = await rejects(
      makeProvider().refund({ ...refundRequest, idempotencyKey: 'refund:pur-1:b' }),
      'payment_provider_error',
    );
    assert.equal(error.data['operation'], 'refunds.create');
    assert.equal(error.data['stripeType'], 'invalid_request_error');
    assert.equal(error.data['stripeCode'], 'charge_already_refunded');
  });
});

describe('StripeProvider options', () => {
  const cases: [string, Partial<StripeProviderOptions>][] = [
    ['no secret key', { secretKey: '' }],
    ['no webhook secret', { webhookSecret: ' ' }],
    ['a tolerance of 0 (the SDK would skip the timestamp check)', { webhookToleranceSeconds: 0 }],
    ['a negative tolerance', { webhookToleranceSeconds: -5 }],
    ['a fractional tolerance', { webhookToleranceSeconds: 1.5 }],
    ['unbounded retries', { maxNetworkRetries: 1000 }],
  ];
  for (const [label, options] of cases) {
    it(`refuses ${label}`, () => {
      throwsCode(() => makeProvider(options), 'invalid_argument');
    });
  }
});

// ---- webhooks ----

const nowSeconds = () => Math.floor(Date.now() / 1000);

function sign(payload: string, options: { secret?: string; timestamp?: number } = {}): string {
  return Stripe.webhooks.generateTestHeaderString({
    payload,
    secret: options.secret ?? WEBHOOK_SECRET,
    timestamp: options.timestamp ?? nowSeconds(),
  });
}

function stripeEvent(id: string, type: string, object: object): string {
  return JSON.stringify(
    {
      id,
      object: 'event',
      api_version: Stripe.API_VERSION,
      created: nowSeconds(),
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
      data: { object },
    },
    null,
    2,
  );
}

const ours = { accountId: 'acct-1', purchaseId: 'pur-1', kind: 'pack', itemId: 'pack-50' };

function session(fields: object = {}): object {
  return {
    id: 'cs_test_a1',
    object: 'checkout.session',
    mode: 'payment',
    status: 'complete',
    payment_status: 'paid',
    amount_subtotal: 1999,
    amount_total: 1999,
    currency: 'usd',
    client_reference_id: 'acct-1',
    customer: 'cus_1',
    invoice: null,
    metadata: ours,
    payment_intent: 'pi_3Pay',
    subscription: null,
    url: null,
    ...fields,
  };
}

// A renewal: invoice.period_* bound the usage of the month that ended; the line is the new month.
const MAR_1 = Date.UTC(2027, 2, 1) / 1000;
const APR_1 = Date.UTC(2027, 3, 1) / 1000;
const FEB_1 = Date.UTC(2027, 1, 1) / 1000;

function invoice(fields: object = {}): object {
  const subscriptionMeta = { ...ours, kind: 'subscription', subscriptionId: 'sub-pro-1' };
  return {
    id: 'in_1Renew',
    object: 'invoice',
    amount_due: 2499,
    amount_paid: 2499,
    amount_remaining: 0,
    billing_reason: 'subscription_cycle',
    currency: 'usd',
    customer: 'cus_1',
    metadata: {},
    status: 'paid',
    period_start: FEB_1,
    period_end: MAR_1,
    parent: {
      type: 'subscription_details',
      quote_details: null,
      subscription_details: { metadata: subscriptionMeta, subscription: 'sub_1Stripe' },
    },
    lines: {
      object: 'list',
      has_more: false,
      url: '/v1/invoices/in_1Renew/lines',
      data: [
        {
          id: 'il_1',
          object: 'line_item',
          amount: 2499,
          currency: 'usd',
          metadata: {},
          period: { start: MAR_1, end: APR_1 },
          parent: {
            type: 'subscription_item_details',
            invoice_item_details: null,
            subscription_item_details: {
              invoice_item: null,
              proration: false,
              proration_details: { credited_items: null },
              subscription: 'sub_1Stripe',
              subscription_item: 'si_1',
            },
          },
        },
      ],
    },
    ...fields,
  };
}

function charge(fields: object = {}): object {
  return {
    id: 'ch_3Pay',
    object: 'charge',
    amount: 1999,
    amount_captured: 1999,
    amount_refunded: 500,
    captured: true,
    currency: 'usd',
    metadata: ours,
    paid: true,
    payment_intent: 'pi_3Pay',
    refunded: false,
    status: 'succeeded',
    ...fields,
  };
}

function parse(provider: StripeProvider, body: string): PaymentEvent | null {
  return provider.parseWebhook(body, sign(body));
}

describe('StripeProvider.parseWebhook: events', () => {
  const provider = makeProviderLazy();

  it('checkout.session.completed (paid) is checkout.completed with the PaymentIntent', () => {
    const body = stripeEvent('evt_1', 'checkout.session.completed', session());
    assert.deepEqual(parse(provider(), body), {
      type: 'checkout.completed',
      eventId: 'evt_1',
      accountId: 'acct-1',
      purchaseId: 'pur-1',
      kind: 'pack',
      itemId: 'pack-50',
      paymentRef: 'pi_3Pay',
      amountCents: 1999,
      currency: 'usd',
    });
  });

  it('a subscription session refers to the subscription', () => {
    const body = stripeEvent(
      'evt_2',
      'checkout.session.completed',
      session({ mode: 'subscription', payment_intent: null, subscription: 'sub_1Stripe' }),
    );
    assert.equal((parse(provider(), body) as { paymentRef: string }).paymentRef, 'sub_1Stripe');
  });

  it('an unpaid session (delayed payment) is null; async_payment_succeeded is the payment', () => {
    const unpaid = stripeEvent(
      'evt_3',
      'checkout.session.completed',
      session({ payment_status: 'unpaid' }),
    );
    assert.equal(parse(provider(), unpaid), null);
    const later = stripeEvent('evt_4', 'checkout.session.async_payment_succeeded', session());
    assert.equal(parse(provider(), later)?.type, 'checkout.completed');
  });

  it('a session without our metadata is not ours: null', () => {
    const body = stripeEvent('evt_5', 'checkout.session.completed', session({ metadata: {} }));
    assert.equal(parse(provider(), body), null);
  });

  it('invoice.paid reads parent.subscription_details.metadata and the line period', () => {
    const body = stripeEvent('evt_6', 'invoice.paid', invoice());
    assert.deepEqual(parse(provider(), body), {
      type: 'invoice.paid',
      eventId: 'evt_6',
      accountId: 'acct-1',
      subscriptionId: 'sub-pro-1',
      invoiceRef: 'in_1Renew',
      amountCents: 2499,
      currency: 'usd',
      periodStart: MAR_1 * 1000,
    });
  });

  it('invoice.paid from an endpoint on a pre-2025-03-31 API version (top-level details)', () => {
    const legacy = invoice({
      parent: undefined,
      subscription: 'sub_1Stripe',
      subscription_details: { metadata: { accountId: 'acct-1', subscriptionId: 'sub-pro-1' } },
    });
    const event = parse(provider(), stripeEvent('evt_7', 'invoice.paid', legacy));
    assert.equal((event as { subscriptionId: string }).subscriptionId, 'sub-pro-1');
  });

  it('an invoice that is not from our subscription is null', () => {
    const body = stripeEvent('evt_8', 'invoice.paid', invoice({ parent: null }));
    assert.equal(parse(provider(), body), null);
  });

  it('charge.refunded is charge.refunded with the total refunded so far', () => {
    const body = stripeEvent('evt_9', 'charge.refunded', charge());
    assert.deepEqual(parse(provider(), body), {
      type: 'charge.refunded',
      eventId: 'evt_9',
      accountId: 'acct-1',
      purchaseId: 'pur-1',
      paymentRef: 'pi_3Pay',
      amountRefundedCents: 500,
      currency: 'usd',
    });
  });

  it('an event type we do not act on is null', () => {
    for (const type of ['customer.created', 'payment_intent.succeeded', 'invoice.payment_failed']) {
      assert.equal(parse(provider(), stripeEvent('evt_10', type, { id: 'x' })), null);
    }
  });

  it('a Buffer body parses like a string', () => {
    const body = stripeEvent('evt_11', 'charge.refunded', charge());
    const event = provider().parseWebhook(Buffer.from(body, 'utf8'), sign(body));
    assert.equal(event?.type, 'charge.refunded');
  });

  it('a signed event with a broken amount is payment_provider_error, not a guess', () => {
    const body = stripeEvent('evt_12', 'charge.refunded', charge({ amount_refunded: 5.5 }));
    throwsCode(() => parse(provider(), body), 'payment_provider_error');
  });
});

describe('StripeProvider.parseWebhook: signatures', () => {
  const provider = makeProviderLazy();
  const body = stripeEvent('evt_sig', 'charge.refunded', charge());

  it('a signature made with another secret is webhook_signature_invalid', () => {
    const forged = sign(body, { secret: 'whsec_someone_else' });
    throwsCode(() => provider().parseWebhook(body, forged), 'webhook_signature_invalid');
  });

  it('a body changed after signing is webhook_signature_invalid', () => {
    const signature = sign(body);
    const tampered = body.replace('"amount_refunded": 500', '"amount_refunded": 1999');
    assert.notEqual(tampered, body);
    throwsCode(() => provider().parseWebhook(tampered, signature), 'webhook_signature_invalid');
  });

  it('a missing or empty header is webhook_signature_invalid', () => {
    throwsCode(() => provider().parseWebhook(body, undefined), 'webhook_signature_invalid');
    throwsCode(() => provider().parseWebhook(body, ''), 'webhook_signature_invalid');
  });

  it('a header without a v1 signature or timestamp is webhook_signature_invalid', () => {
    const t = nowSeconds();
    for (const header of [`t=${t}`, 'v1=abc', 'garbage', `t=${t},v0=abc`]) {
      throwsCode(() => provider().parseWebhook(body, header), 'webhook_signature_invalid');
    }
  });

  it('a timestamp older than the tolerance is webhook_signature_invalid', () => {
    const stale = sign(body, { timestamp: nowSeconds() - 301 });
    throwsCode(() => provider().parseWebhook(body, stale), 'webhook_signature_invalid');
    const recent = sign(body, { timestamp: nowSeconds() - 200 });
    assert.equal(provider().parseWebhook(body, recent)?.type, 'charge.refunded');
  });

  it('the tolerance is configurable', () => {
    const strict = makeProvider({ webhookToleranceSeconds: 60 });
    const twoMinutesOld = sign(body, { timestamp: nowSeconds() - 120 });
    throwsCode(() => strict.parseWebhook(body, twoMinutesOld), 'webhook_signature_invalid');
  });
});

/** The fake server starts in a hook, so providers for describe-level use are made lazily. */
function makeProviderLazy(): () => StripeProvider {
  let made: StripeProvider | undefined;
  return () => (made ??= makeProvider());
}
