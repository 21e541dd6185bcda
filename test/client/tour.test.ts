import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isAmisiApiError, type AmisiClient } from '../../src/client/index.js';
import { rejection, startSdkServer, type SdkServer } from './client-helpers.js';

/**
 * README.md's five-minute tour, driven end to end through the SDK against a real server, with
 * the numbers the README shows. Each step names the CLI command it stands for.
 */

const image = (resolution: string, count = 1) => ({
  operation: 'image.generate',
  params: { resolution },
  count,
});

describe('the README tour through the SDK', () => {
  let sdk: SdkServer;
  let client: AmisiClient;
  before(async () => {
    sdk = await startSdkServer();
    client = sdk.client();
  });
  after(async () => {
    await sdk?.close();
    assert.deepEqual(sdk?.specViolations ?? [], []);
  });

  it('catalog show and quote image.generate --resolution 4k --count 2: 6 credits', async () => {
    const catalog = await client.catalog.get();
    assert.equal(catalog.version, 'default-2026-11');
    assert.ok(catalog.body.operations['image.generate']);
    const quote = await client.quotes.create({ items: [image('4k', 2)] });
    assert.deepEqual(quote, {
      catalogVersion: 'default-2026-11',
      credits: 6,
      lines: [
        {
          operation: 'image.generate',
          params: { resolution: '4k' },
          unit: quote.lines[0]!.unit,
          unitCredits: 3,
          count: 2,
          credits: 6,
        },
      ],
    });
  });

  it('hold, capture, release, a replayed charge, balance 311, history, verify', async () => {
    // accounts create alice --plan pro: on plan pro now, with its 300 credits for this cycle.
    const alice = await client.accounts.create({ id: 'alice', plan: 'pro' });
    assert.deepEqual([alice.account.id, alice.account.plan], ['alice', 'pro']);
    assert.deepEqual([alice.subscription?.change, alice.subscription?.credits], ['subscribe', 300]);
    const expiresAt = alice.subscription!.subscription.nextRenewalAt;
    assert.equal((await client.subscriptions.get('alice')).plan, 'pro');
    await client.grants.create(
      { accountId: 'alice', credits: 20, source: 'purchase' },
      { idempotencyKey: 'pack-1' },
    );

    // hold alice image.generate --resolution 8k --count 3 --key job-42 --member bob --project launch
    const held = await client.holds.create(
      {
        accountId: 'alice',
        items: [image('8k', 3)],
        attribution: { member: 'bob', project: 'launch' },
      },
      { idempotencyKey: 'job-42' },
    );
    assert.deepEqual([held.hold.status, held.hold.credits], ['held', 12]);
    assert.equal(held.hold.attribution.member, 'bob');
    assert.equal((await client.balance.get('alice')).held, 12);

    // The job made 2 of 3 images: capture 8, the other 4 return to alice.
    const done = await client.holds.capture(
      held.hold.id,
      { credits: 8 },
      { idempotencyKey: 'job-42-done' },
    );
    assert.deepEqual([done.capturedCredits, done.releasedCredits], [8, 4]);
    assert.equal(done.hold.status, 'captured');

    // Or, if it failed: release (a second job, so the first stays captured).
    const failed = await client.holds.create(
      { accountId: 'alice', items: [image('1080p')] },
      { idempotencyKey: 'job-43' },
    );
    const released = await client.holds.release(failed.hold.id, {
      idempotencyKey: 'job-43-failed',
    });
    assert.deepEqual([released.capturedCredits, released.releasedCredits], [0, 2]);
    assert.equal((await client.holds.get(failed.hold.id)).status, 'released');

    // A charge is a hold captured at once. The same key twice never charges twice.
    const thumb = { accountId: 'alice', items: [image('720p')] };
    const first = await client.charges.create(thumb, { idempotencyKey: 'thumb-7' });
    const again = await client.charges.create(thumb, { idempotencyKey: 'thumb-7' });
    assert.deepEqual([first.credits, first.replay], [1, false]);
    assert.deepEqual([again.replay, again.transactionId], [true, first.transactionId]);

    const balance = await client.balance.get('alice');
    assert.deepEqual([balance.available, balance.held], [311, 0]);
    assert.deepEqual(balance.nextExpiry, { at: expiresAt, credits: 291 });

    const charges = await client.history.list('alice', { kind: ['charge'] });
    assert.deepEqual(
      charges.transactions.map((t) => [t.kind, t.idempotencyKey]),
      [['charge', 'thumb-7']],
    );
    const report = await client.operations.verify();
    assert.equal(report.ok, true);
    assert.deepEqual(report.violations, []);
  });

  it('charge alice --credits 1000: insufficient_credits, needs 1000 and has 311', async () => {
    const e = await rejection(() =>
      client.charges.create({ accountId: 'alice', credits: 1000 }, { idempotencyKey: 'big' }),
    );
    assert.ok(isAmisiApiError(e, 'insufficient_credits'), String(e));
    assert.equal(e.status, 402);
    assert.equal(e.detail, 'account alice needs 1000 credits and has 311 available');
    assert.deepEqual([e.data.required, e.data.available], [1000, 311]);
  });

  it('plans and packs: subscribe, upgrade, downgrade, plan show', async () => {
    await client.accounts.create({ id: 'carol' });
    const sub = await client.subscriptions.subscribe(
      'carol',
      { plan: 'pro' },
      { idempotencyKey: 'sub-carol' },
    );
    assert.ok('subscription' in sub, 'the manual provider starts the plan at once');
    assert.deepEqual([sub.change, sub.credits, sub.subscription.plan], ['subscribe', 300, 'pro']);

    // Upgrade at once: (1000 - 300) credits and ($59.99 - $24.99) for the rest of the cycle,
    // which is all of it a moment after subscribing (prorated half up).
    const up = await client.subscriptions.change(
      'carol',
      { plan: 'business' },
      { idempotencyKey: 'up-1' },
    );
    assert.ok('change' in up, "an operator's upgrade applies at once");
    assert.deepEqual(
      [up.change, up.credits, up.chargeCents, up.currency],
      ['upgrade', 700, 3500, 'usd'],
    );
    const down = await client.subscriptions.change(
      'carol',
      { plan: 'starter' },
      { idempotencyKey: 'down-1' },
    );
    assert.ok('change' in down);
    assert.deepEqual([down.change, down.credits, down.chargeCents], ['downgrade', 0, 0]);
    const shown = await client.subscriptions.get('carol');
    assert.deepEqual(
      [shown.plan, shown.pendingPlan, shown.status],
      ['business', 'starter', 'active'],
    );
    assert.equal((await client.balance.get('carol')).available, 1000);
  });

  it('packs (20 for $9.99 ... 200 for $59.99), buy, payments confirm, refund', async () => {
    const packs = await client.catalog.packs();
    assert.deepEqual(
      packs.packs.map((p) => [p.id, p.credits, p.priceCents]),
      [
        ['pack-20', 20, 999],
        ['pack-50', 50, 1999],
        ['pack-100', 100, 3499],
        ['pack-200', 200, 5999],
      ],
    );
    const bought = await client.purchases.buy(
      { accountId: 'carol', pack: 'pack-50' },
      { idempotencyKey: 'buy-1' },
    );
    assert.deepEqual(
      [bought.purchase.status, bought.purchase.priceCents, bought.checkoutUrl],
      ['pending', 1999, null],
    );
    assert.equal((await client.balance.get('carol')).available, 1000, 'nothing before payment');

    const paid = await client.purchases.confirm(bought.purchase.id);
    assert.equal(paid.purchase.status, 'paid');
    assert.equal((await client.purchases.confirm(bought.purchase.id)).replay, true);
    assert.equal((await client.balance.get('carol')).available, 1050);

    // Purchased credits are spent last, so all 50 are unspent: all of the price comes back.
    const refunded = await client.purchases.refund(
      bought.purchase.id,
      {},
      { idempotencyKey: 'refund-1' },
    );
    assert.deepEqual(
      [
        refunded.purchase.status,
        refunded.purchase.refundedCredits,
        refunded.purchase.refundedCents,
      ],
      ['refunded', 50, 1999],
    );
    assert.equal((await client.balance.get('carol')).available, 1000);
    assert.equal((await client.operations.verify()).ok, true);
  });
});
