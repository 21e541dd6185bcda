import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addMonths } from '../../src/core/cycles.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { FakeClock } from '../../src/ledger/ports.js';
import { defaultCatalog } from '../helpers.js';
import { BOTH_STORES } from '../pg-helpers.js';
import { clean, refusal } from './refusals.js';

const T0 = Date.UTC(2027, 0, 10, 12);
const DAY = 86_400_000;

for (const [name, open, skip] of BOTH_STORES) {
  describe(`test clocks on ${name}`, { skip }, () => {
    it('an advance renews, rolls over and expires for the clock’s accounts only, in order, at clock time', async () => {
      const { store, close } = await open();
      try {
        const clock = new FakeClock(T0);
        const ledger = new Ledger({ store, clock });
        await ledger.loadCatalog(defaultCatalog());
        const made = await ledger.createClock({ id: 'sim', name: 'a year of Starter' });
        assert.deepEqual([made.clock.now, made.replay], [T0, false]);
        assert.equal(
          (await ledger.createClock({ id: 'sim', name: 'a year of Starter' })).replay,
          true,
        );

        await ledger.createAccount({ accountId: 'sim-ann', plan: 'starter', testClockId: 'sim' });
        await ledger.createAccount({ accountId: 'real-bo', plan: 'starter' });
        const realHold = await ledger.hold({ accountId: 'real-bo', key: 'h', credits: 5 });

        // 30 credits used in the first cycle, then three months pass on the clock.
        await ledger.charge({ accountId: 'sim-ann', key: 'c1', credits: 30 });
        const to = addMonths(T0, 3);
        let progress = 0;
        const advanced = await ledger.advanceClock({
          id: 'sim',
          to,
          onProgress: () => (progress += 1),
        });
        assert.equal(advanced.now, to);
        assert.equal(advanced.steps, Math.ceil((to - T0) / DAY));
        assert.equal(progress, advanced.steps);
        assert.deepEqual(advanced.accounts, ['sim-ann']);

        // Three renewals, each dated at its boundary on the clock.
        const renewals = (
          await ledger.history({ accountId: 'sim-ann', kinds: ['renewal'] })
        ).transactions.map((t) => t.createdAt);
        assert.deepEqual(renewals.reverse(), [T0, addMonths(T0, 1), addMonths(T0, 2), to]);

        // A charge now carries the clock's time; the real account has not moved.
        const charge = await ledger.charge({ accountId: 'sim-ann', key: 'c2', credits: 1 });
        assert.equal(charge.createdAt, to);
        assert.equal((await ledger.getHold(realHold.hold.id)).status, 'held');
        assert.equal(
          (await ledger.history({ accountId: 'real-bo', kinds: ['renewal'] })).transactions.length,
          1,
        );
        // Starter: 100 a cycle, rollover capped: the balance is what the reference cycles say.
        const balance = await ledger.balance('sim-ann');
        assert.ok(balance.available > 100, `rolled over: ${balance.available}`);
        await clean(store);
      } finally {
        await close();
      }
    });

    it('bad input: backwards, too far, an unknown clock, a start in the past; the same time again changes nothing', async () => {
      const { store, close } = await open();
      try {
        const clock = new FakeClock(T0);
        const ledger = new Ledger({ store, clock });
        await ledger.loadCatalog(defaultCatalog());
        await ledger.createClock({ id: 'c1', startsAt: T0 + 10 * DAY });
        const back = await refusal(ledger.advanceClock({ id: 'c1', to: T0 + 5 * DAY }));
        assert.equal(back.code, 'invalid_argument');
        assert.match(back.message, /only moves forward/);
        const far = await refusal(ledger.advanceClock({ id: 'c1', to: T0 + 800 * DAY }));
        assert.equal(far.code, 'invalid_argument');
        const same = await ledger.advanceClock({ id: 'c1', to: T0 + 10 * DAY });
        assert.equal(same.steps, 0);
        const unknown = await refusal(ledger.advanceClock({ id: 'nope', to: T0 + DAY }));
        assert.equal(unknown.code, 'unknown_test_clock');
        const noClock = await refusal(
          ledger.createAccount({ accountId: 'x', testClockId: 'nope' }),
        );
        assert.equal(noClock.code, 'unknown_test_clock');
        const past = await refusal(ledger.createClock({ id: 'c2', startsAt: T0 - DAY }));
        assert.equal(past.code, 'invalid_argument');
        const exists = await refusal(ledger.createClock({ id: 'c1', startsAt: T0 + DAY }));
        assert.equal(exists.code, 'test_clock_exists');
        // An account made on a clock is on that clock: the same id in real time is another.
        await ledger.createAccount({ accountId: 'on-c1', testClockId: 'c1' });
        const other = await refusal(ledger.createAccount({ accountId: 'on-c1' }));
        assert.equal(other.code, 'account_exists');
        assert.equal((await ledger.getAccount('on-c1')).testClockId, 'c1');
        await clean(store);
      } finally {
        await close();
      }
    });

    it('hold ttls and grant expiries pass on the clock; real time never runs ahead of it', async () => {
      const { store, close } = await open();
      try {
        const clock = new FakeClock(T0);
        const ledger = new Ledger({ store, clock });
        await ledger.loadCatalog(defaultCatalog());
        await ledger.createClock({ id: 'k' });
        await ledger.createAccount({ accountId: 'k-a', testClockId: 'k' });
        await ledger.grant({
          accountId: 'k-a',
          key: 'g',
          credits: 10,
          source: 'promotion',
          expiresAt: T0 + 3 * DAY,
        });
        const { hold } = await ledger.hold({ accountId: 'k-a', key: 'h', credits: 4, ttlMs: DAY });
        await ledger.advanceClock({ id: 'k', to: T0 + 2 * DAY });
        assert.equal((await ledger.getHold(hold.id)).status, 'expired');
        assert.equal((await ledger.balance('k-a')).available, 10);
        await ledger.advanceClock({ id: 'k', to: T0 + 4 * DAY });
        assert.equal((await ledger.balance('k-a')).available, 0);
        // Left alone, a clock moves with real time once real time passes it.
        clock.advance(10 * DAY);
        assert.equal((await ledger.getClock('k')).now, T0 + 10 * DAY);
        await clean(store);
      } finally {
        await close();
      }
    });
  });
}
