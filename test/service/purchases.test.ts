import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Stripe from 'stripe';
import { Ledger } from '../../src/ledger/ledger.js';
import { FakeClock } from '../../src/ledger/ports.js';
import type { Store } from '../../src/ledger/store.js';
import { verify } from '../../src/ledger/verify.js';
import { ManualProvider } from '../../src/service/payments/manual/manual-provider.js';
import { StripeProvider } from '../../src/service/payments/stripe/stripe-provider.js';
import { PurchaseService } from '../../src/service/purchases.js';
import { defaultCatalog } from '../helpers.js';
import { BOTH_STORES } from '../pg-helpers.js';

const stores = BOTH_STORES;

const T0 = Date.UTC(2027, 3, 10);

async function setup(store: Store) {
  const clock = new FakeClock(T0);
  const ledger = new Ledger({ store, clock });
  await ledger.loadCatalog(defaultCatalog());
  await ledger.createAccount({ accountId: 'ann' });
  return { ledger, clock };
}

for (const [name, open, skip] of stores) {
  describe(`packs, payments and refunds on ${name}`, { skip }, () => {
    it('a pack is granted only when paid, exactly once, expiring 12 months later', async () => {
      const { store, close } = await open();
      try {
        const { ledger } = await setup(store);
        const service = new PurchaseService(ledger, new ManualProvider());
        const bought = await service.buy({ accountId: 'ann', pack: 'pack-20', key: 'b1' });
        assert.deepEqual(
          [
            bought.purchase.status,
            bought.purchase.credits,
            bought.purchase.priceCents,
            bought.purchase.currency,
          ],
          ['pending', 20, 999, 'usd'],
        );
        assert.equal((await ledger.balance('ann')).available, 0, 'nothing before the payment');
        const again = await service.buy({ accountId: 'ann', pack: 'pack-20', key: 'b1' });
        assert.equal(again.purchase.id, bought.purchase.id);
        assert.equal(again.replay, true);
        const paid = await service.confirm(bought.purchase.id);
        assert.equal(paid.purchase.status, 'paid');
        const twice = await service.confirm(bought.purchase.id);
        assert.equal(twice.replay, true);
        const b = await ledger.balance('ann');
        assert.equal(b.available, 20);
        assert.deepEqual(
          b.grants.map((g) => [g.source, g.amount, g.expiresAt]),
          [['purchase', 20, Date.UTC(2028, 3, 10)]],
        );
        await assert.rejects(service.buy({ accountId: 'ann', pack: 'pack-7', key: 'b2' }), {
          code: 'unknown_pack',
        });
        assert.ok((await verify(store)).ok);
      } finally {
        await close();
      }
    });

    it('a refund reclaims only the unspent credits and pays back their share of the price', async () => {
      const { store, close } = await open();
      try {
        const { ledger } = await setup(store);
        const service = new PurchaseService(ledger, new ManualProvider());
        const { purchase } = await service.buy({ accountId: 'ann', pack: 'pack-20', key: 'b1' });
        await service.confirm(purchase.id);
        await ledger.charge({ accountId: 'ann', key: 'c', credits: 5 });
        const r = await service.refund({ purchaseId: purchase.id, key: 'r1' });
        // 15 of 20 unspent: 999 x 15 / 20 = 749.25 -> 749 cents.
        assert.deepEqual(
          [r.purchase.status, r.purchase.refundedCredits, r.purchase.refundedCents],
          ['refunded', 15, 749],
        );
        assert.equal((await ledger.balance('ann')).available, 0);
        await assert.rejects(service.refund({ purchaseId: purchase.id, key: 'r2' }), {
          code: 'purchase_not_refundable',
        });
        assert.equal((await service.refund({ purchaseId: purchase.id, key: 'r1' })).replay, true);
        const report = await verify(store);
        assert.ok(report.ok, JSON.stringify(report.violations));
        assert.deepEqual(
          [report.totals.granted, report.totals.consumed, report.totals.refunded],
          [20, 5, 15],
        );
        // The operator may refund the whole price instead.
        const second = await service.buy({ accountId: 'ann', pack: 'pack-50', key: 'b2' });
        await service.confirm(second.purchase.id);
        await ledger.charge({ accountId: 'ann', key: 'c2', credits: 10 });
        const full = await service.refund({
          purchaseId: second.purchase.id,
          key: 'r3',
          full: true,
        });
        assert.deepEqual([full.purchase.refundedCredits, full.purchase.refundedCents], [40, 1999]);
      } finally {
        await close();
      }
    });

    it('a Stripe webhook delivered twice grants once; a forged signature changes nothing', async () => {
      const { store, close } = await open();
      try {
        const { ledger } = await setup(store);
        const secret = 'whsec_test_secret';
        const provider = new StripeProvider({
          secretKey: 'sk_test_x',
          webhookSecret: secret,
          port: 9,
          host: '127.0.0.1',
          protocol: 'http',
        });
        const service = new PurchaseService(ledger, new ManualProvider());
        const { purchase } = await service.buy({ accountId: 'ann', pack: 'pack-50', key: 'b1' });
        const stripeService = new PurchaseService(ledger, provider);
        const payload = JSON.stringify({
          id: 'evt_1',
          object: 'event',
          type: 'checkout.session.completed',
          data: {
            object: {
              id: 'cs_1',
              object: 'checkout.session',
              payment_status: 'paid',
              mode: 'payment',
              payment_intent: 'pi_1',
              amount_total: 1999,
              currency: 'usd',
              client_reference_id: 'ann',
              metadata: {
                accountId: 'ann',
                purchaseId: purchase.id,
                kind: 'pack',
                itemId: 'pack-50',
              },
            },
          },
        });
        const header = new Stripe('sk_test_x').webhooks.generateTestHeaderString({
          payload,
          secret,
        });
        assert.equal(await stripeService.handleWebhook(payload, header), 'granted');
        assert.equal(await stripeService.handleWebhook(payload, header), 'already processed');
        assert.equal((await ledger.balance('ann')).available, 50);
        const forged = new Stripe('sk_test_x').webhooks.generateTestHeaderString({
          payload,
          secret: 'whsec_other',
        });
        await assert.rejects(stripeService.handleWebhook(payload, forged), {
          code: 'webhook_signature_invalid',
        });
        const stale = new Stripe('sk_test_x').webhooks.generateTestHeaderString({
          payload,
          secret,
          timestamp: Math.floor(Date.now() / 1000) - 3600,
        });
        await assert.rejects(stripeService.handleWebhook(payload, stale), {
          code: 'webhook_signature_invalid',
        });
        assert.equal((await ledger.balance('ann')).available, 50);
        assert.ok((await verify(store)).ok);
      } finally {
        await close();
      }
    });
  });
}
