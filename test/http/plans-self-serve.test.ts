import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeClock } from '../../src/ledger/ports.js';
import { verify } from '../../src/ledger/verify.js';
import { BOTH_STORES } from '../pg-helpers.js';
import { ok, problem, startServer, type Reply, type TestServer } from './http-helpers.js';

/** The answer's JSON body, after its status is checked. */
const ok$ = (r: Reply, status = 200) => ok(r, status) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Self-serve plan changes over HTTP with the manual provider: an account key's upgrade waits
 * for its payment (an operator confirms it) and grants its quoted credits exactly once; a
 * downgrade and a cancellation are queued for the renewal and undone by changing back to the
 * current plan; no credits ever arrive without a payment.
 */

const APRIL_1 = Date.UTC(2027, 3, 1);
const APRIL_16 = Date.UTC(2027, 3, 16);

for (const [storeName, open, skip] of BOTH_STORES) {
  describe(`self-serve plan changes on ${storeName}`, { skip }, () => {
    let s: TestServer;
    let clock: FakeClock;
    let key: string;
    const available = async (id: string) => (await s.ledger.balance(id)).available;
    const change = (account: string, plan: string, idem: string, k = key) =>
      s.call('POST', `/v1/accounts/${account}/subscription/change`, {
        idem,
        key: k,
        body: { plan },
      });

    before(async () => {
      clock = new FakeClock(APRIL_1);
      s = await startServer({ open, clock });
      for (const id of ['ann', 'bob']) {
        ok$(await s.call('POST', '/v1/accounts', { body: { id, plan: 'starter' } }), 201);
      }
      key = await s.keyFor('ann');
      // April has 30 days; on the 16th, 15 are left: starter to pro is 1500 x 15/30 = 750
      // cents and 200 x 15/30 = 100 credits.
      clock.set(APRIL_16);
    });
    after(async () => s?.close());

    it("an account key's upgrade is a pending upgrade: nothing changes until it is paid, then exactly once", async () => {
      const before = await available('ann');
      const asked = change('ann', 'pro', 'up-1');
      const pending = ok$(await asked, 202);
      assert.equal(pending.checkoutUrl, null, 'the manual provider: an operator confirms');
      assert.deepEqual(
        [pending.upgrade.status, pending.upgrade.fromPlan, pending.upgrade.plan],
        ['pending', 'starter', 'pro'],
      );
      assert.deepEqual([pending.upgrade.priceCents, pending.upgrade.credits], [750, 100]);
      assert.equal(pending.replay, false);
      assert.equal((await s.ledger.getSubscription('ann')).plan, 'starter');
      assert.equal(await available('ann'), before, 'no credits without payment');

      const again = await change('ann', 'pro', 'up-1');
      assert.equal(ok$(again, 202).upgrade.id, pending.upgrade.id);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      const listed = ok$(await s.call('GET', '/v1/accounts/ann/subscription/upgrades', { key }));
      assert.deepEqual(
        listed.upgrades.map((u: { id: string }) => u.id),
        [pending.upgrade.id],
      );

      // Only an operator confirms a manual payment.
      const confirm = `/v1/plan-upgrades/${pending.upgrade.id}/confirm`;
      problem(await s.call('POST', confirm, { key, body: {} }), 403, 'forbidden');
      const paid = ok$(await s.call('POST', confirm, { body: { paymentRef: 'bank-77' } }));
      assert.deepEqual(
        [paid.upgrade.status, paid.upgrade.paymentRef, paid.subscription.plan, paid.replay],
        ['paid', 'bank-77', 'pro', false],
      );
      assert.equal(await available('ann'), before + 100);
      const twice = await s.call('POST', confirm, { body: {} });
      assert.equal(ok$(twice).replay, true);
      assert.equal(ok$(twice).transactionId, paid.transactionId);
      assert.equal(await available('ann'), before + 100, 'confirmed twice, granted once');
      problem(
        await s.call('POST', `/v1/plan-upgrades/${pending.upgrade.id}/cancel`, { key }),
        409,
        'upgrade_already_paid',
      );
      // The same key after the upgrade took effect still answers the same upgrade.
      assert.equal(ok$(await change('ann', 'pro', 'up-1'), 202).upgrade.status, 'paid');
      const history = ok$(await s.call('GET', '/v1/accounts/ann/history', { key }));
      assert.ok(
        history.transactions.some((t: { id: string }) => t.id === paid.transactionId),
        'the plan change is in the history',
      );
    });

    it('a downgrade and a cancellation wait for the renewal and are undone by the current plan', async () => {
      const before = await available('ann');
      const down = ok$(await change('ann', 'starter', 'down-1'));
      assert.deepEqual(
        [down.change, down.subscription.plan, down.subscription.pendingPlan],
        ['downgrade', 'pro', 'starter'],
      );
      const undo = ok$(await change('ann', 'pro', 'undo-1'));
      assert.deepEqual([undo.change, undo.subscription.pendingPlan], ['unchanged', null]);
      const cancel = ok$(
        await s.call('POST', '/v1/accounts/ann/subscription/cancel', { idem: 'c-1', key }),
      );
      assert.equal(cancel.subscription.cancelAt, cancel.subscription.nextRenewalAt);
      const resumed = ok$(await change('ann', 'pro', 'undo-2'));
      assert.deepEqual([resumed.change, resumed.subscription.cancelAt], ['unchanged', null]);
      assert.equal(await available('ann'), before, 'no credits move');
    });

    it('a pending upgrade can be cancelled, a new one replaces it, and bad ids change nothing', async () => {
      const bobKey = await s.keyFor('bob');
      const first = ok$(await change('bob', 'pro', 'b-1', bobKey), 202).upgrade;
      const second = ok$(await change('bob', 'business', 'b-2', bobKey), 202).upgrade;
      const listed = ok$(
        await s.call('GET', '/v1/accounts/bob/subscription/upgrades', { key: bobKey }),
      ).upgrades as { id: string; status: string }[];
      assert.deepEqual(
        listed.map((u) => [u.id, u.status]),
        [
          [second.id, 'pending'],
          [first.id, 'cancelled'],
        ],
      );
      const cancelled = ok$(
        await s.call('POST', `/v1/plan-upgrades/${second.id}/cancel`, { key: bobKey }),
      );
      assert.deepEqual([cancelled.upgrade.status, cancelled.replay], ['cancelled', false]);
      const again = ok$(
        await s.call('POST', `/v1/plan-upgrades/${second.id}/cancel`, { key: bobKey }),
      );
      assert.equal(again.replay, true);
      // Another account's upgrade looks exactly like an unknown one.
      const ghost = 'upg_01AAAAAAAAAAAAAAAAAAAAAAAA';
      problem(
        await s.call('POST', `/v1/plan-upgrades/${second.id}/cancel`, { key }),
        404,
        'unknown_upgrade',
      );
      problem(
        await s.call('POST', `/v1/plan-upgrades/${ghost}/cancel`, { key }),
        404,
        'unknown_upgrade',
      );
      problem(
        await s.call('POST', `/v1/plan-upgrades/${ghost}/confirm`, { body: {} }),
        404,
        'unknown_upgrade',
      );
      problem(await change('bob', 'platinum', 'b-3', bobKey), 400, 'invalid_parameter');
      problem(
        await s.call('POST', '/v1/accounts/bob/subscription/change', {
          key: bobKey,
          body: { plan: 'pro' },
        }),
        400,
        'invalid_argument',
      );
      assert.equal((await s.ledger.getSubscription('bob')).plan, 'starter');
      assert.ok((await verify(s.store)).ok);
    });

    it("an operator's change still applies at once", async () => {
      const before = await available('bob');
      const up = ok$(await change('bob', 'pro', 'op-1', s.operatorKey));
      assert.deepEqual([up.change, up.credits, up.chargeCents], ['upgrade', 100, 750]);
      assert.equal(await available('bob'), before + 100);
    });
  });
}
