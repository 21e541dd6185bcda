import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addMonths } from '../../src/core/cycles.js';
import { FakeClock } from '../../src/ledger/ports.js';
import { BOTH_STORES } from '../pg-helpers.js';
import { ok, startServer, type TestServer } from './http-helpers.js';
import { currentSubscription, history } from '../../src/ledger/reads.js';

/**
 * Every read of an account's state settles what is due first (README: renewal "on any
 * access"), with no job running: a renewal past its date, grants past their expiry, holds past
 * their ttl. A read with nothing due writes nothing.
 */

const json = (b: unknown) => b as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const NOW = Date.UTC(2027, 2, 10, 12, 0, 0);

for (const [storeName, open, skip] of BOTH_STORES) {
  describe(`reads settle what is due, on ${storeName}`, { skip }, () => {
    let s: TestServer;
    const clock = new FakeClock(NOW);
    before(async () => {
      s = await startServer({ open, clock });
    });
    after(async () => s?.close());

    /** Pro started one cycle ago less 5 s, a downgrade to Starter queued; then 10 s pass. */
    async function dueDowngrade(id: string): Promise<number> {
      clock.set(NOW);
      ok(await s.call('POST', '/v1/accounts', { body: { id } }), 201);
      const start = addMonths(NOW, -1) + 5_000;
      await s.ledger.subscribe({ accountId: id, key: `sub-${id}`, plan: 'pro', startsAt: start });
      const down = ok(
        await s.call('POST', `/v1/accounts/${id}/subscription/change`, {
          body: { plan: 'starter' },
          idem: `down-${id}`,
        }),
      );
      assert.equal(json(down).change, 'downgrade');
      clock.set(NOW + 10_000);
      return addMonths(start, 1);
    }

    it('GET subscription answers the renewed plan, not the pending one and a past date', async () => {
      const boundary = await dueDowngrade('ann');
      const sub = json(ok(await s.call('GET', '/v1/accounts/ann/subscription')));
      assert.deepEqual(
        [sub.plan, sub.pendingPlan, sub.cycleIndex, sub.nextRenewalAt],
        ['starter', null, 1, addMonths(boundary, 1)],
      );
      assert.ok(sub.nextRenewalAt > clock.now(), 'the next renewal is ahead');
      const balance = json(ok(await s.call('GET', '/v1/accounts/ann/balance')));
      const sources = balance.grants.map((g: { source: string; amount: number }) => [
        g.source,
        g.amount,
      ]);
      assert.deepEqual(sources.sort(), [
        ['allocation', 100],
        ['rollover', 50],
      ]);
    });

    it('GET account settles the account before answering', async () => {
      await dueDowngrade('bea');
      const account = json(ok(await s.call('GET', '/v1/accounts/bea')));
      assert.equal(account.plan, 'starter', 'the account shows the plan now in force');
      // Read straight from the store: no other read of the ledger ran in between.
      const stored = await currentSubscription(s.store, 'bea');
      assert.deepEqual(
        [stored?.plan, stored?.pendingPlan, stored?.cycleIndex],
        ['starter', null, 1],
      );
    });

    it('GET /v1/accounts shows the plan in force of an account whose renewal is due', async () => {
      await dueDowngrade('lia');
      const list = json(ok(await s.call('GET', '/v1/accounts?search=lia')));
      assert.deepEqual(
        list.accounts.map((a: { id: string; plan: string | null }) => [a.id, a.plan]),
        [['lia', 'starter']],
      );
      const stored = await currentSubscription(s.store, 'lia');
      assert.deepEqual([stored?.plan, stored?.cycleIndex], ['starter', 1]);
    });

    it('GET organization shows one plan, the one in force after the renewal', async () => {
      clock.set(NOW);
      ok(
        await s.call('POST', '/v1/orgs', {
          body: { id: 'dev', name: 'Dev', owner: { id: 'olga' } },
        }),
        201,
      );
      const start = addMonths(NOW, -1) + 5_000;
      await s.ledger.subscribe({
        accountId: 'dev',
        key: 'sub-dev',
        plan: 'business',
        startsAt: start,
      });
      const down = ok(
        await s.call('POST', '/v1/accounts/dev/subscription/change', {
          body: { plan: 'pro' },
          idem: 'down-dev',
        }),
      );
      assert.equal(json(down).change, 'downgrade');
      clock.set(NOW + 10_000);
      const org = json(ok(await s.call('GET', '/v1/accounts/dev/organization')));
      assert.deepEqual([org.account.plan, org.plan, org.seats], ['pro', 'pro', 3]);
    });

    it('a hold past its ttl reads as expired; a read with nothing due writes nothing', async () => {
      clock.set(NOW);
      ok(await s.call('POST', '/v1/accounts', { body: { id: 'cid' } }), 201);
      ok(
        await s.call('POST', '/v1/grants', {
          body: { accountId: 'cid', credits: 50, source: 'promotion' },
          idem: 'g',
        }),
        201,
      );
      const hold = json(
        ok(
          await s.call('POST', '/v1/holds', {
            body: { accountId: 'cid', credits: 20, ttlMs: 60_000 },
            idem: 'h',
          }),
          201,
        ),
      );
      clock.set(NOW + 61_000);
      const read = json(ok(await s.call('GET', `/v1/holds/${hold.hold.id}`)));
      assert.equal(read.status, 'expired');
      const before = await history(s.store, { accountId: 'cid', limit: 100 });
      for (const path of ['', '/balance', '/history', '/statement']) {
        ok(await s.call('GET', `/v1/accounts/cid${path}`));
      }
      const afterReads = await history(s.store, { accountId: 'cid', limit: 100 });
      assert.equal(afterReads.length, before.length, 'nothing was due: nothing written');
    });
  });
}
