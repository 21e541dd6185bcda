import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Stripe from 'stripe';
import { Ledger } from '../../src/ledger/ledger.js';
import { FakeClock } from '../../src/ledger/ports.js';
import { verify } from '../../src/ledger/verify.js';
import { ManualProvider } from '../../src/service/payments/manual/manual-provider.js';
import { StripeProvider } from '../../src/service/payments/stripe/stripe-provider.js';
import { PurchaseService } from '../../src/service/purchases.js';
import { defaultCatalog } from '../helpers.js';
import { BOTH_STORES } from '../pg-helpers.js';
import { startFakeStripe, type FakeStripe } from './fake-stripe.js';

const SECRET = 'whsec_webhooks_test';
const signer = new Stripe('sk_test_signer');
const T0 = Date.UTC(2027, 3, 10);
const DAY = 86_400_000;

/** A Stripe event body and a valid signature header for it (the SDK's own test helper). */
function signed(id: string, type: string, object: object) {
  const payload = JSON.stringify({ id, object: 'event', type, data: { object } });
  return { payload, header: signer.webhooks.generateTestHeaderString({ payload, secret: SECRET }) };
}

let fake: FakeStripe;
before(async () => {
  fake = await startFakeStripe();
});
after(async () => {
  await fake.close();
});

function stripe() {
  return new StripeProvider({
    secretKey: 'sk_test_x',
    webhookSecret: SECRET,
    host: '127.0.0.1',
    port: fake.port,
    protocol: 'http',
    maxNetworkRetries: 0,
  });
}

for (const [name, open, skip] of BOTH_STORES) {
  describe(`Stripe webhooks on ${name}`, { skip }, () => {
    it('a subscription checkout starts the plan once it is paid, once however often delivered', async () => {
      const { store, close } = await open();
      try {
        const clock = new FakeClock(T0);
        const ledger = new Ledger({ store, clock });
        await ledger.loadCatalog(defaultCatalog());
        await ledger.createAccount({ accountId: 'ann' });
        const service = new PurchaseService(ledger, stripe());
        const started = await service.subscribe({ accountId: 'ann', plan: 'pro', key: 'k1' });
        assert.equal(started.started, false);
        assert.match(started.checkoutUrl ?? '', /^https?:/);
        const call = fake.requests.at(-1)!;
        assert.equal(call.form['mode'], 'subscription');
        assert.equal(call.form['line_items[0][price_data][unit_amount]'], '2499');
        const purchaseId = call.form['metadata[purchaseId]']!;
        await assert.rejects(ledger.getSubscription('ann'), { code: 'no_subscription' });

        const event = signed('evt_sub_1', 'checkout.session.completed', {
          id: 'cs_sub_1',
          object: 'checkout.session',
          mode: 'subscription',
          payment_status: 'paid',
          subscription: 'sub_Stripe1',
          payment_intent: null,
          amount_total: 2499,
          currency: 'usd',
          metadata: { accountId: 'ann', purchaseId, kind: 'subscription', itemId: 'pro' },
        });
        assert.equal(await service.handleWebhook(event.payload, event.header), 'subscribed');
        assert.equal(await service.handleWebhook(event.payload, event.header), 'already processed');
        assert.equal((await ledger.getSubscription('ann')).plan, 'pro');
        assert.equal((await ledger.balance('ann')).available, 300);

        // The renewal invoice a month later: the renewal runs on our clock; the event once.
        clock.set(Date.UTC(2027, 4, 10));
        const invoice = signed('evt_inv_1', 'invoice.paid', {
          id: 'in_1',
          object: 'invoice',
          amount_paid: 2499,
          currency: 'usd',
          period_end: Date.UTC(2027, 4, 10) / 1000,
          parent: {
            type: 'subscription_details',
            subscription_details: {
              metadata: { accountId: 'ann', subscriptionId: purchaseId },
            },
          },
          lines: { data: [] },
        });
        assert.equal(
          await service.handleWebhook(invoice.payload, invoice.header),
          'invoice recorded',
        );
        assert.equal(
          await service.handleWebhook(invoice.payload, invoice.header),
          'already processed',
        );
        const sub = await ledger.getSubscription('ann');
        assert.equal(sub.cycleIndex, 1, 'renewed once');
        assert.equal((await ledger.balance('ann')).available, 600, '300 rolled over, 300 new');
        assert.ok((await verify(store)).ok);
      } finally {
        await close();
      }
    });

    it('plan changes of a Stripe-billed plan reach Stripe: the upgrade charged to the cent, once', async () => {
      const { store, close } = await open();
      try {
        const clock = new FakeClock(Date.UTC(2027, 3, 1));
        const ledger = new Ledger({ store, clock });
        await ledger.loadCatalog(defaultCatalog());
        await ledger.createAccount({ accountId: 'cy' });
        const service = new PurchaseService(ledger, stripe());
        const started = signed('evt_cy_1', 'checkout.session.completed', {
          id: 'cs_cy',
          object: 'checkout.session',
          mode: 'subscription',
          payment_status: 'paid',
          subscription: 'sub_Cy',
          payment_intent: null,
          amount_total: 2499,
          currency: 'usd',
          metadata: { accountId: 'cy', purchaseId: 'plan_cy', kind: 'subscription', itemId: 'pro' },
        });
        assert.equal(await service.handleWebhook(started.payload, started.header), 'subscribed');
        assert.equal((await ledger.getSubscription('cy')).providerRef, 'sub_Cy');
        fake.route = (r) => {
          if (r.method === 'GET' && r.path === '/v1/subscriptions/sub_Cy') {
            return {
              status: 200,
              body: {
                id: 'sub_Cy',
                object: 'subscription',
                customer: 'cus_Cy',
                items: {
                  object: 'list',
                  data: [
                    {
                      id: 'si_Cy',
                      object: 'subscription_item',
                      price: { id: 'price_1', product: 'prod_Cy' },
                    },
                  ],
                },
              },
            };
          }
          if (r.method === 'POST' && r.path === '/v1/subscriptions/sub_Cy') {
            return { status: 200, body: { id: 'sub_Cy', object: 'subscription' } };
          }
          if (r.path === '/v1/invoiceitems') {
            return { status: 200, body: { id: 'ii_1', object: 'invoiceitem' } };
          }
          if (r.path === '/v1/invoices')
            return { status: 200, body: { id: 'in_up', object: 'invoice' } };
          if (r.path === '/v1/invoices/in_up/pay') {
            return { status: 200, body: { id: 'in_up', object: 'invoice', status: 'paid' } };
          }
          return undefined;
        };
        const from = fake.requests.length;
        // April has 30 days; on the 16th, 15 are left: 3500 x 15/30 = 1750 cents.
        clock.set(Date.UTC(2027, 3, 16));
        const up = await service.changePlan({ accountId: 'cy', key: 'up-1', plan: 'business' });
        assert.deepEqual([up.change, up.chargeCents, up.credits], ['upgrade', 1750, 350]);
        const calls = fake.requests.slice(from);
        assert.deepEqual(
          calls.map((c) => `${c.method} ${c.path}`),
          [
            'GET /v1/subscriptions/sub_Cy',
            'POST /v1/subscriptions/sub_Cy',
            'POST /v1/invoiceitems',
            'POST /v1/invoices',
            'POST /v1/invoices/in_up/pay',
          ],
        );
        const [, price, item] = calls;
        assert.equal(price!.form['items[0][price_data][unit_amount]'], '5999');
        assert.equal(price!.form['items[0][price_data][product]'], 'prod_Cy');
        assert.equal(price!.form['proration_behavior'], 'none');
        assert.equal(item!.form['amount'], '1750', "the ledger's amount, to the cent");
        // The same request again: the ledger replays, Stripe answers the same keys' results.
        const again = await service.changePlan({ accountId: 'cy', key: 'up-1', plan: 'business' });
        assert.equal(again.replay, true);
        const retried = fake.requests.slice(from + calls.length).filter((c) => c.method === 'POST');
        assert.deepEqual(
          retried.map((c) => c.idempotencyKey),
          calls.filter((c) => c.method === 'POST').map((c) => c.idempotencyKey),
          'the same idempotency keys: Stripe charges once',
        );
        // A downgrade moves the price from the next cycle; a cancel ends it at the period end.
        const mark = fake.requests.length;
        await service.changePlan({ accountId: 'cy', key: 'down-1', plan: 'starter' });
        await service.changePlan({ accountId: 'cy', key: 'cancel-1', plan: null });
        const later = fake.requests.slice(mark).filter((c) => c.method === 'POST');
        assert.equal(later[0]!.form['items[0][price_data][unit_amount]'], '999');
        assert.equal(later[1]!.form['cancel_at_period_end'], 'true');
        assert.equal(later.length, 2, 'no charge for a downgrade or a cancel');
        assert.ok((await verify(store)).ok);
      } finally {
        fake.route = () => undefined;
        await close();
      }
    });

    it("a customer's upgrade is a Checkout payment: the plan and its credits arrive with it, once, and Stripe's price moves without a second charge", async () => {
      const { store, close } = await open();
      try {
        const clock = new FakeClock(Date.UTC(2027, 3, 1));
        const ledger = new Ledger({ store, clock });
        await ledger.loadCatalog(defaultCatalog());
        await ledger.createAccount({ accountId: 'di' });
        const service = new PurchaseService(ledger, stripe());
        const started = signed('evt_di_1', 'checkout.session.completed', {
          id: 'cs_di',
          object: 'checkout.session',
          mode: 'subscription',
          payment_status: 'paid',
          subscription: 'sub_Di',
          payment_intent: null,
          amount_total: 999,
          currency: 'usd',
          metadata: {
            accountId: 'di',
            purchaseId: 'plan_di',
            kind: 'subscription',
            itemId: 'starter',
          },
        });
        assert.equal(await service.handleWebhook(started.payload, started.header), 'subscribed');
        const before = (await ledger.balance('di')).available;
        // April has 30 days; on the 16th, 15 are left: (2499 - 999) x 15/30 = 750 cents.
        clock.set(Date.UTC(2027, 3, 16));
        const mark = fake.requests.length;
        const asked = await service.changePlanAsCustomer({
          accountId: 'di',
          key: 'up',
          plan: 'pro',
        });
        assert.equal(asked.paid, false);
        if (asked.paid) return;
        assert.deepEqual(
          [asked.upgrade.status, asked.upgrade.priceCents, asked.upgrade.credits],
          ['pending', 750, 100],
        );
        assert.match(asked.checkoutUrl ?? '', /^https?:/);
        const checkout = fake.requests[mark]!;
        assert.equal(checkout.path, '/v1/checkout/sessions');
        assert.equal(checkout.form['mode'], 'payment');
        assert.equal(checkout.form['metadata[kind]'], 'upgrade');
        assert.equal(checkout.form['line_items[0][price_data][unit_amount]'], '750');
        // Nothing changes before the payment; asking again answers the same checkout.
        assert.equal((await ledger.getSubscription('di')).plan, 'starter');
        assert.equal((await ledger.balance('di')).available, before);
        const again = await service.changePlanAsCustomer({
          accountId: 'di',
          key: 'up',
          plan: 'pro',
        });
        assert.equal(!again.paid && again.upgrade.id, asked.upgrade.id);
        assert.equal(!again.paid && again.replay, true);

        fake.route = (r) => {
          if (r.method === 'GET' && r.path === '/v1/subscriptions/sub_Di') {
            return {
              status: 200,
              body: {
                id: 'sub_Di',
                object: 'subscription',
                customer: 'cus_Di',
                items: {
                  object: 'list',
                  data: [
                    {
                      id: 'si_Di',
                      object: 'subscription_item',
                      price: { id: 'price_1', product: 'prod_Di' },
                    },
                  ],
                },
              },
            };
          }
          if (r.method === 'POST' && r.path === '/v1/subscriptions/sub_Di') {
            return { status: 200, body: { id: 'sub_Di', object: 'subscription' } };
          }
          return undefined;
        };
        const paid = signed('evt_di_up', 'checkout.session.completed', {
          id: 'cs_di_up',
          object: 'checkout.session',
          mode: 'payment',
          payment_status: 'paid',
          subscription: null,
          payment_intent: 'pi_di_up',
          amount_total: 750,
          currency: 'usd',
          metadata: {
            accountId: 'di',
            purchaseId: asked.upgrade.id,
            kind: 'upgrade',
            itemId: 'pro',
          },
        });
        const paidMark = fake.requests.length;
        assert.equal(await service.handleWebhook(paid.payload, paid.header), 'upgraded');
        assert.equal(await service.handleWebhook(paid.payload, paid.header), 'already processed');
        assert.equal((await ledger.getSubscription('di')).plan, 'pro');
        assert.equal((await ledger.balance('di')).available, before + 100, 'granted once');
        const [upgrade] = await ledger.listUpgrades('di');
        assert.deepEqual([upgrade!.status, upgrade!.paymentRef], ['paid', 'pi_di_up']);
        const posts = fake.requests.slice(paidMark).filter((c) => c.method === 'POST');
        assert.ok(posts.length >= 1, "Stripe's recurring price moves to the new plan");
        assert.equal(posts[0]!.form['items[0][price_data][unit_amount]'], '2499');
        assert.ok(
          posts.every((c) => !c.path.startsWith('/v1/invoice')),
          'no second charge: the difference was paid by the checkout',
        );
        assert.equal(
          new Set(posts.map((c) => c.idempotencyKey)).size,
          1,
          'the redelivery retried the price move under the same key',
        );
        assert.ok((await verify(store)).ok);
      } finally {
        fake.route = () => undefined;
        await close();
      }
    });

    it('a combination is one Checkout Session with a line item per pack, granted once when paid', async () => {
      const { store, close } = await open();
      try {
        const ledger = new Ledger({ store, clock: new FakeClock(T0) });
        await ledger.loadCatalog(defaultCatalog());
        await ledger.createAccount({ accountId: 'cat' });
        const service = new PurchaseService(ledger, stripe());
        const packs = [
          { pack: 'pack-50', count: 2 },
          { pack: 'pack-20', count: 1 },
        ];
        const bought = await service.buy({ accountId: 'cat', packs, key: 'combo' });
        const call = fake.requests.at(-1)!;
        assert.equal(call.path, '/v1/checkout/sessions');
        assert.deepEqual(
          [0, 1, 2].map((i) => [
            call.form[`line_items[${i}][quantity]`],
            call.form[`line_items[${i}][price_data][unit_amount]`],
            call.form[`line_items[${i}][price_data][product_data][name]`],
          ]),
          [
            ['2', '1999', '50 credits (pack-50)'],
            ['1', '999', '20 credits (pack-20)'],
            [undefined, undefined, undefined],
          ],
        );
        const p = bought.purchase;
        assert.deepEqual([p.credits, p.priceCents], [120, 4997]);
        assert.equal(fake.sessions.get(p.checkoutRef!)?.['amount_total'], 4997);
        // A retry of the buy answers the same purchase and the same session.
        const again = await service.buy({ accountId: 'cat', packs, key: 'combo' });
        assert.deepEqual([again.purchase.id, again.replay], [p.id, true]);

        const paid = signed('evt_combo_1', 'checkout.session.completed', {
          id: p.checkoutRef,
          object: 'checkout.session',
          mode: 'payment',
          payment_status: 'paid',
          payment_intent: 'pi_combo',
          amount_total: 4997,
          currency: 'usd',
          metadata: { accountId: 'cat', purchaseId: p.id, kind: 'pack', itemId: p.pack },
        });
        assert.equal(await service.handleWebhook(paid.payload, paid.header), 'granted');
        assert.equal(await service.handleWebhook(paid.payload, paid.header), 'already processed');
        assert.equal((await ledger.balance('cat')).available, 120, 'every line, once');
        assert.equal((await ledger.getPurchase(p.id)).status, 'paid');
        assert.ok((await verify(store)).ok);
      } finally {
        await close();
      }
    });

    it('cancelling expires the open Checkout Session; a payment that arrives anyway is granted, never lost', async () => {
      const { store, close } = await open();
      try {
        const ledger = new Ledger({ store, clock: new FakeClock(T0) });
        await ledger.loadCatalog(defaultCatalog());
        await ledger.createAccount({ accountId: 'dan' });
        const service = new PurchaseService(ledger, stripe());
        // Cancelled while open: Stripe expires the session; cancelling again asks nothing more.
        const open1 = (await service.buy({ accountId: 'dan', pack: 'pack-20', key: 'c1' }))
          .purchase;
        const cancelled = await service.cancel(open1.id);
        assert.deepEqual([cancelled.purchase.status, cancelled.replay], ['cancelled', false]);
        const expire = fake.requests.at(-1)!;
        assert.deepEqual(
          [expire.method, expire.path, expire.idempotencyKey],
          ['POST', `/v1/checkout/sessions/${open1.checkoutRef}/expire`, `expire:${open1.id}`],
        );
        assert.equal(fake.sessions.get(open1.checkoutRef!)?.['status'], 'expired');
        const seen = fake.requests.length;
        assert.equal((await service.cancel(open1.id)).replay, true);
        assert.deepEqual(
          fake.requests.slice(seen).map((r) => `${r.method} ${r.path}`),
          [`GET /v1/checkout/sessions/${open1.checkoutRef}`],
          'an expired session is only looked at',
        );

        // Paid at Stripe a moment before the cancel: the session is complete, so nothing is
        // expired, and the event that follows grants the credits (the money arrived).
        const racing = (await service.buy({ accountId: 'dan', pack: 'pack-50', key: 'c2' }))
          .purchase;
        fake.sessions.get(racing.checkoutRef!)!['status'] = 'complete';
        const before = fake.requests.length;
        assert.equal((await service.cancel(racing.id)).purchase.status, 'cancelled');
        assert.ok(!fake.requests.slice(before).some((r) => r.path.endsWith('/expire')));
        assert.equal((await ledger.balance('dan')).available, 0, 'cancelling moves no credits');
        const late = signed('evt_late_1', 'checkout.session.completed', {
          id: racing.checkoutRef,
          object: 'checkout.session',
          mode: 'payment',
          payment_status: 'paid',
          payment_intent: 'pi_late',
          amount_total: 1999,
          currency: 'usd',
          metadata: { accountId: 'dan', purchaseId: racing.id, kind: 'pack', itemId: 'pack-50' },
        });
        assert.equal(await service.handleWebhook(late.payload, late.header), 'granted');
        assert.equal(await service.handleWebhook(late.payload, late.header), 'already processed');
        const p = await ledger.getPurchase(racing.id);
        assert.deepEqual([p.status, p.paymentRef], ['paid', 'pi_late']);
        assert.equal(typeof p.cancelledAt, 'number', 'the cancel stays on record');
        assert.equal((await ledger.balance('dan')).available, 50);
        await assert.rejects(service.cancel(racing.id), { code: 'purchase_not_pending' });
        assert.ok((await verify(store)).ok);
      } finally {
        await close();
      }
    });

    it('a refund made in the dashboard reclaims the unspent credits once; forged changes nothing', async () => {
      const { store, close } = await open();
      try {
        const ledger = new Ledger({ store, clock: new FakeClock(T0) });
        await ledger.loadCatalog(defaultCatalog());
        await ledger.createAccount({ accountId: 'ann' });
        const manual = new PurchaseService(ledger, new ManualProvider());
        const { purchase } = await manual.buy({ accountId: 'ann', pack: 'pack-50', key: 'b' });
        await manual.confirm(purchase.id, 'pi_dash');
        await ledger.charge({ accountId: 'ann', key: 'spend', credits: 10 });
        const service = new PurchaseService(ledger, stripe());
        const refund = signed('evt_ref_1', 'charge.refunded', {
          id: 'ch_1',
          object: 'charge',
          payment_intent: 'pi_dash',
          amount_refunded: 1999,
          currency: 'usd',
          metadata: { accountId: 'ann', purchaseId: purchase.id },
        });
        const forged = signer.webhooks.generateTestHeaderString({
          payload: refund.payload,
          secret: 'whsec_someone_else',
        });
        await assert.rejects(service.handleWebhook(refund.payload, forged), {
          code: 'webhook_signature_invalid',
        });
        assert.equal((await ledger.balance('ann')).available, 40, 'nothing reclaimed yet');
        assert.equal(await service.handleWebhook(refund.payload, refund.header), 'refunded');
        assert.equal(
          await service.handleWebhook(refund.payload, refund.header),
          'already processed',
        );
        const p = await ledger.getPurchase(purchase.id);
        assert.deepEqual(
          [p.status, p.refundedCredits, p.refundedCents],
          ['refunded', 40, 1999],
          'the 10 spent stay spent; the money is what Stripe refunded',
        );
        assert.equal((await ledger.balance('ann')).available, 0);
        const report = await verify(store);
        assert.ok(report.ok, JSON.stringify(report.violations));
        assert.equal(report.totals.refunded, 40);
      } finally {
        await close();
      }
    });
  });
}

describe('renewal invoice with nothing due', () => {
  it('records the event and changes no balance', async () => {
    const [, open] = BOTH_STORES[0]!;
    const { store, close } = await open();
    try {
      const clock = new FakeClock(T0);
      const ledger = new Ledger({ store, clock });
      await ledger.loadCatalog(defaultCatalog());
      await ledger.createAccount({ accountId: 'ann' });
      await ledger.subscribe({ accountId: 'ann', key: 's', plan: 'starter' });
      clock.set(T0 + 3 * DAY);
      const r = await ledger.applyPaidInvoice({ accountId: 'ann', eventId: 'evt_x' });
      assert.deepEqual(r, { replay: false, cycleIndex: 0 });
      assert.deepEqual(await ledger.applyPaidInvoice({ accountId: 'ann', eventId: 'evt_x' }), {
        replay: true,
        cycleIndex: 0,
      });
      assert.equal((await ledger.balance('ann')).available, 100);
    } finally {
      await close();
    }
  });
});
