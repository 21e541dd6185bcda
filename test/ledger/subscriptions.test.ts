import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ledger } from '../../src/ledger/ledger.js';
import { FakeClock } from '../../src/ledger/ports.js';
import { verify } from '../../src/ledger/verify.js';
import { defaultCatalog } from '../helpers.js';
import { BOTH_STORES } from '../pg-helpers.js';

const DAY = 86_400_000;
const utc = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d);

const stores = BOTH_STORES;

/** The sum of remaining credits by source, and the balance. */
async function snapshot(ledger: Ledger, accountId: string) {
  const b = await ledger.balance(accountId);
  const by: Record<string, number> = {};
  for (const g of b.grants) by[g.source] = (by[g.source] ?? 0) + g.remaining;
  return { available: b.available, allocation: by.allocation ?? 0, rollover: by.rollover ?? 0 };
}

for (const [name, open, skip] of stores) {
  describe(`subscriptions on ${name}`, { skip }, () => {
    it('cycles, rollover within the cap, trims, an upgrade and a downgrade: the hand-computed table', async () => {
      const { store, close } = await open();
      try {
        const clock = new FakeClock(utc(2027, 1, 31));
        const ledger = new Ledger({ store, clock });
        await ledger.loadCatalog(defaultCatalog());
        await ledger.createAccount({ accountId: 'pro' });
        await ledger.subscribe({ accountId: 'pro', key: 's', plan: 'pro' });
        const spend = (credits: number, key: string) =>
          ledger.charge({ accountId: 'pro', key, credits });
        const at = async (ms: number) => {
          clock.set(ms);
          await ledger.renew();
          const report = await verify(store);
          assert.ok(report.ok, JSON.stringify(report.violations));
          return snapshot(ledger, 'pro');
        };

        // Cycle 0 (Jan 31 - Feb 28): spend 200 of 300.
        await spend(200, 'c0');
        // Feb 28 (month-end clamp): 100 rolls over (R1, expires May 31); new allocation 300.
        assert.deepEqual(await at(utc(2027, 2, 28)), {
          available: 400,
          allocation: 300,
          rollover: 100,
        });
        const sub1 = await ledger.getSubscription('pro');
        assert.equal(sub1.nextRenewalAt, utc(2027, 3, 31), 'back on the 31st after February');
        // Cycle 1: spend 350: the allocation (expires first) then 50 of R1.
        await spend(350, 'c1');
        assert.deepEqual(await at(utc(2027, 3, 31)), {
          available: 350,
          allocation: 300,
          rollover: 50,
        });
        // Cycle 2: nothing spent. Apr 30: 300 rolls over; the cap of 300 trims the older R1 (50).
        assert.deepEqual(await at(utc(2027, 4, 30)), {
          available: 600,
          allocation: 300,
          rollover: 300,
        });
        // Cycle 3 (Apr 30 - May 31, 31 days): upgrade to Business on May 15 (16 days left):
        // credits 700 x 16/31 = 361.3 -> 361, price 3500 x 16/31 = 1806.5 -> 1806 (half up).
        clock.set(utc(2027, 5, 15));
        const up = await ledger.changePlan({ accountId: 'pro', key: 'up', plan: 'business' });
        assert.deepEqual([up.change, up.credits, up.chargeCents], ['upgrade', 361, 1806]);
        clock.set(utc(2027, 5, 20));
        await spend(100, 'c3');
        // May 31: unused allocation 200 + 361 rolls over under Business (cap 1000).
        assert.deepEqual(await at(utc(2027, 5, 31)), {
          available: 300 + 561 + 1000,
          allocation: 1000,
          rollover: 861,
        });
        // Cycle 4: downgrade to Starter (at the next renewal); nothing spent.
        clock.set(utc(2027, 6, 10));
        const down = await ledger.changePlan({ accountId: 'pro', key: 'down', plan: 'starter' });
        assert.equal(down.change, 'downgrade');
        assert.equal(
          (await snapshot(ledger, 'pro')).allocation,
          1000,
          'a downgrade changes nothing yet',
        );
        // Jun 30: the cycle that starts is Starter's, so Starter's cap of 50 bounds the rollover
        // kept into it: 50 of the 1000 roll over, 950 expire, the older 861 are trimmed.
        assert.deepEqual(await at(utc(2027, 6, 30)), {
          available: 150,
          allocation: 100,
          rollover: 50,
        });
        assert.equal((await ledger.getSubscription('pro')).plan, 'starter');
        const opened = await ledger.statement('pro');
        assert.deepEqual(
          [opened.period.from, opened.rolledOver, opened.lostToCap],
          [utc(2027, 6, 30), 50, 950 + 861],
          'the statement of the Starter cycle shows what its cap cost',
        );
        // Jul 31: under Starter's cap of 50: 50 rolls over, 50 expires, the older 50 are trimmed.
        assert.deepEqual(await at(utc(2027, 7, 31)), {
          available: 150,
          allocation: 100,
          rollover: 50,
        });
        const report = await verify(store);
        assert.deepEqual(
          [
            report.totals.granted,
            report.totals.consumed,
            report.totals.breakage,
            report.totals.available,
          ],
          [300 * 4 + 361 + 1000 + 100 + 100, 650, 50 + 861 + 950 + 100, 150],
        );
      } finally {
        await close();
      }
    });

    it('renewal after a 3-month outage grants and expires exactly what on-time renewals would', async () => {
      const { store, close } = await open();
      try {
        const clock = new FakeClock(utc(2027, 1, 31));
        const ledger = new Ledger({ store, clock });
        await ledger.loadCatalog(defaultCatalog());
        for (const id of ['ontime', 'late']) {
          await ledger.createAccount({ accountId: id });
          await ledger.subscribe({ accountId: id, key: 's', plan: 'starter' });
          await ledger.charge({ accountId: id, key: 'c', credits: 30 });
          await ledger.grant({
            accountId: id,
            key: 'p',
            credits: 20,
            source: 'purchase',
            expiresAt: utc(2027, 4, 15),
          });
        }
        for (const boundary of [utc(2027, 2, 28), utc(2027, 3, 31), utc(2027, 4, 30)]) {
          clock.set(boundary);
          await ledger.balance('ontime');
        }
        clock.set(utc(2027, 5, 10));
        const late = await ledger.balance('late');
        const ontime = await ledger.balance('ontime');
        const shape = (b: typeof late) =>
          b.grants.map((g) => [g.source, g.amount, g.remaining, g.expiresAt]).sort();
        assert.deepEqual(shape(late), shape(ontime));
        assert.equal(late.available, ontime.available);
        const totals = async (id: string) => {
          const audit = await store.accountAudit(id);
          return audit.sums.reduce<Record<string, number>>(
            (acc, s) => ({ ...acc, [s.book]: (acc[s.book] ?? 0) + s.credits }),
            {},
          );
        };
        assert.deepEqual(await totals('late'), await totals('ontime'));
        assert.equal((await ledger.getSubscription('late')).cycleIndex, 3);
        assert.ok((await verify(store)).ok);
      } finally {
        await close();
      }
    });

    it('cancel ends the plan at the cycle end and leaves purchased credits alone', async () => {
      const { store, close } = await open();
      try {
        const clock = new FakeClock(utc(2027, 3, 10));
        const ledger = new Ledger({ store, clock });
        await ledger.loadCatalog(defaultCatalog());
        await ledger.createAccount({ accountId: 'a' });
        await ledger.subscribe({ accountId: 'a', key: 's', plan: 'starter' });
        await ledger.grant({ accountId: 'a', key: 'p', credits: 20, source: 'purchase' });
        const c = await ledger.cancelPlan({ accountId: 'a', key: 'x' });
        assert.equal(c.subscription.cancelAt, utc(2027, 4, 10));
        assert.equal((await ledger.cancelPlan({ accountId: 'a', key: 'x' })).replay, true);
        clock.set(utc(2027, 4, 10) + DAY);
        const b = await ledger.balance('a');
        assert.deepEqual([b.available, b.grants.map((g) => g.source)], [20, ['purchase']]);
        assert.equal((await ledger.getSubscription('a')).status, 'ended');
        await assert.rejects(ledger.changePlan({ accountId: 'a', key: 'y', plan: 'pro' }), {
          code: 'no_subscription',
        });
        assert.ok((await verify(store)).ok);
      } finally {
        await close();
      }
    });
  });
}
