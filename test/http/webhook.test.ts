import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Stripe from 'stripe';
import { StripeProvider } from '../../src/service/payments/stripe/stripe-provider.js';
import { startFakeStripe, type FakeStripe } from '../service/fake-stripe.js';
import { ok, problem, startServer, type TestServer } from './http-helpers.js';

/** Stripe's webhook over HTTP, signed by the real SDK's test helper, checked on the raw bytes. */

const SECRET = 'whsec_http_webhook_test';
const signer = new Stripe('sk_test_signer');
const json = (b: unknown) => b as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function sign(payload: string, timestamp?: number): string {
  return signer.webhooks.generateTestHeaderString({
    payload,
    secret: SECRET,
    ...(timestamp === undefined ? {} : { timestamp }),
  });
}

describe('POST /v1/payments/stripe/webhook', () => {
  let fake: FakeStripe;
  let s: TestServer;
  let purchaseId: string;
  let payload: string;

  before(async () => {
    fake = await startFakeStripe();
    const payments = new StripeProvider({
      secretKey: 'sk_test_http',
      webhookSecret: SECRET,
      host: '127.0.0.1',
      port: fake.port,
      protocol: 'http',
      maxNetworkRetries: 0,
    });
    s = await startServer({ payments });
    ok(await s.call('POST', '/v1/accounts', { body: { id: 'ann' } }), 201);
    const bought = json(
      ok(
        await s.call('POST', '/v1/purchases', {
          idem: 'buy',
          body: { accountId: 'ann', pack: 'pack-50' },
        }),
        201,
      ),
    );
    assert.match(bought.checkoutUrl, /^https:\/\/checkout\.stripe\.com\//);
    purchaseId = bought.purchase.id;
    const session = fake.requests.find((r) => r.path === '/v1/checkout/sessions')!;
    // Pretty-printed on purpose: only the raw bytes carry a valid signature.
    payload = JSON.stringify(
      {
        id: 'evt_http_1',
        object: 'event',
        type: 'checkout.session.completed',
        data: {
          object: {
            id: 'cs_test_1',
            object: 'checkout.session',
            mode: 'payment',
            payment_status: 'paid',
            payment_intent: 'pi_http_1',
            amount_total: 1999,
            currency: 'usd',
            metadata: {
              accountId: session.form['metadata[accountId]'],
              purchaseId: session.form['metadata[purchaseId]'],
              kind: 'pack',
              itemId: 'pack-50',
            },
          },
        },
      },
      null,
      2,
    );
  });
  after(async () => {
    await s?.close();
    await fake?.close();
  });

  const post = (body: string, signature?: string) =>
    s.call('POST', '/v1/payments/stripe/webhook', {
      key: null,
      raw: body,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        ...(signature === undefined ? {} : { 'stripe-signature': signature }),
      },
    });

  it('a forged, tampered, stale or missing signature is refused and grants nothing', async () => {
    problem(await post(payload), 400, 'webhook_signature_invalid');
    problem(
      await post(payload, sign(payload).replace(/v1=\w+/, 'v1=00ff')),
      400,
      'webhook_signature_invalid',
    );
    const reserialized = JSON.stringify(JSON.parse(payload));
    problem(await post(reserialized, sign(payload)), 400, 'webhook_signature_invalid');
    const stale = Math.floor(Date.now() / 1000) - 3600;
    problem(await post(payload, sign(payload, stale)), 400, 'webhook_signature_invalid');
    assert.equal(json(ok(await s.call('GET', '/v1/accounts/ann/balance'))).available, 0);
    assert.equal(json(ok(await s.call('GET', `/v1/purchases/${purchaseId}`))).status, 'pending');
  });

  it('signed bytes that are not JSON, or not an event, are 400 invalid_argument', async () => {
    for (const body of ['{"id": "evt_1", "type":', 'not json', 'null', '[]', '{"id":"evt_2"}']) {
      const p = problem(await post(body, sign(body)), 400, 'invalid_argument');
      assert.equal(p.field, 'body', body);
      assert.equal(p.reason, 'not_an_event', body);
    }
    assert.equal(json(ok(await s.call('GET', `/v1/purchases/${purchaseId}`))).status, 'pending');
  });

  it('a signed event grants the pack once, however often it is delivered', async () => {
    const first = json(ok(await post(payload, sign(payload))));
    assert.deepEqual(first, { received: true, result: 'granted' });
    const again = json(ok(await post(payload, sign(payload))));
    assert.equal(again.result, 'already processed');
    assert.equal(json(ok(await s.call('GET', '/v1/accounts/ann/balance'))).available, 50);
    assert.equal(json(ok(await s.call('GET', `/v1/purchases/${purchaseId}`))).status, 'paid');
  });

  it('a Stripe purchase is not confirmed by hand; it is refunded through Stripe', async () => {
    problem(await s.call('POST', `/v1/purchases/${purchaseId}/confirm`), 400, 'invalid_argument');
    const refund = json(
      ok(await s.call('POST', `/v1/purchases/${purchaseId}/refund`, { idem: 'r' })),
    );
    assert.equal(refund.purchase.status, 'refunded');
    assert.ok(
      fake.requests.some(
        (r) => r.path === '/v1/refunds' && r.idempotencyKey === `refund:${purchaseId}`,
      ),
    );
  });

  it('subscribing with Stripe answers 202 with a checkout; the plan starts when it is paid', async () => {
    const r = await s.call('POST', '/v1/accounts/ann/subscription', {
      idem: 'sub',
      body: { plan: 'pro' },
    });
    assert.equal(r.status, 202);
    assert.match(String(r.body.checkoutUrl), /^https:\/\/checkout\.stripe\.com\//);
    problem(await s.call('GET', '/v1/accounts/ann/subscription'), 404, 'no_subscription');
  });

  it('events that are not ours are acknowledged and ignored', async () => {
    const other = JSON.stringify({
      id: 'evt_other',
      object: 'event',
      type: 'customer.created',
      data: { object: {} },
    });
    assert.equal(json(ok(await post(other, sign(other)))).result, 'ignored');
  });
});
