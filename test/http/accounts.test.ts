import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BOTH_STORES } from '../pg-helpers.js';
import { ok, problem, startServer, type TestServer } from './http-helpers.js';

const json = (b: unknown) => b as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** An account's plan is its subscription's: one truth for create, get, list, plan and advice. */
for (const [storeName, open, skip] of BOTH_STORES) {
  describe(`accounts and their plan on ${storeName}`, { skip }, () => {
    let s: TestServer;
    before(async () => {
      s = await startServer({ open });
    });
    after(async () => s?.close());

    const plans = async () =>
      Object.fromEntries(
        json(ok(await s.call('GET', '/v1/accounts'))).accounts.map(
          (a: { id: string; plan: string | null }) => [a.id, a.plan],
        ),
      );

    it('POST /v1/accounts with plan subscribes the account: its credits, its subscription, its advice', async () => {
      const made = json(
        ok(await s.call('POST', '/v1/accounts', { body: { id: 'pia', plan: 'pro' } }), 201),
      );
      assert.equal(made.replay, false);
      assert.equal(made.account.plan, 'pro');
      assert.deepEqual(
        [made.subscription.change, made.subscription.credits, made.subscription.subscription.plan],
        ['subscribe', 300, 'pro'],
      );
      const sub = json(ok(await s.call('GET', '/v1/accounts/pia/subscription')));
      assert.deepEqual([sub.plan, sub.status], ['pro', 'active']);
      assert.equal(json(ok(await s.call('GET', '/v1/accounts/pia/balance'))).available, 300);
      assert.equal(json(ok(await s.call('GET', '/v1/accounts/pia'))).plan, 'pro');
      assert.equal(json(ok(await s.call('GET', '/v1/accounts/pia/advice'))).plan, 'pro');
    });

    it('the same request again is a replay; another plan or a taken account changes nothing', async () => {
      const again = await s.call('POST', '/v1/accounts', { body: { id: 'pia', plan: 'pro' } });
      ok(again, 201);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.equal(json(again.body).replay, true);
      assert.equal(json(again.body).subscription.replay, true);
      problem(
        await s.call('POST', '/v1/accounts', { body: { id: 'pia', plan: 'starter' } }),
        422,
        'idempotency_key_reused',
      );
      problem(
        await s.call('POST', '/v1/accounts', {
          idem: 'other',
          body: { id: 'pia', plan: 'starter' },
        }),
        409,
        'account_exists',
      );
      // An account that was there before is never subscribed by create: not on a second run
      // after its key is forgotten either (here: created without a plan, no key recorded).
      ok(await s.call('POST', '/v1/accounts', { body: { id: 'old' } }), 201);
      problem(
        await s.call('POST', '/v1/accounts', { body: { id: 'old', plan: 'pro' } }),
        409,
        'account_exists',
      );
      problem(await s.call('GET', '/v1/accounts/old/subscription'), 404, 'no_subscription');
      problem(
        await s.call('POST', '/v1/accounts', { body: { id: 'zed', plan: 'platinum' } }),
        400,
        'invalid_parameter',
      );
      problem(await s.call('GET', '/v1/accounts/zed'), 404, 'unknown_account');
      // Without a plan the same id is the same account.
      assert.equal(
        json(ok(await s.call('POST', '/v1/accounts', { body: { id: 'pia' } }), 201)).replay,
        true,
      );
      assert.equal(json(ok(await s.call('GET', '/v1/accounts/pia/balance'))).available, 300);
      assert.equal(json(ok(await s.call('GET', '/v1/accounts/pia/subscription'))).plan, 'pro');
    });

    it('lists show the subscription plan: subscribed later, created on a plan, none, ended', async () => {
      ok(await s.call('POST', '/v1/accounts', { body: { id: 'sam' } }), 201);
      ok(await s.call('POST', '/v1/accounts', { body: { id: 'ned' } }), 201);
      assert.equal(
        json(ok(await s.call('POST', '/v1/accounts', { body: { id: 'sam' } }), 201)).account.plan,
        null,
      );
      ok(
        await s.call('POST', '/v1/accounts/sam/subscription', {
          idem: 'sub-sam',
          body: { plan: 'starter' },
        }),
        201,
      );
      assert.deepEqual(await plans(), { ned: null, old: null, pia: 'pro', sam: 'starter' });
      assert.equal(
        json(ok(await s.call('GET', '/v1/accounts?search=sa'))).accounts[0].plan,
        'starter',
      );
      assert.equal(json(ok(await s.call('GET', '/v1/accounts/sam'))).plan, 'starter');
      // An account key may not create accounts (it would create credits).
      problem(
        await s.call('POST', '/v1/accounts', {
          key: await s.keyFor('sam'),
          body: { id: 'sly', plan: 'pro' },
        }),
        403,
        'forbidden',
      );
    });

    it('with an Idempotency-Key the subscription is made by that key', async () => {
      const made = json(
        ok(
          await s.call('POST', '/v1/accounts', {
            idem: 'onboard-kim',
            body: { id: 'kim', plan: 'starter' },
          }),
          201,
        ),
      );
      const history = json(ok(await s.call('GET', '/v1/accounts/kim/history')));
      assert.deepEqual(
        history.transactions.map((t: { idempotencyKey: string }) => t.idempotencyKey),
        ['onboard-kim'],
      );
      assert.equal(made.subscription.transactionId, history.transactions[0].id);
    });
  });
}
