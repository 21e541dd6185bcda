import assert from 'node:assert/strict';
import type { AmisiError } from '../../src/core/errors.js';
import { describe, it } from 'node:test';
import { Ledger } from '../../src/ledger/ledger.js';
import { FakeClock } from '../../src/ledger/ports.js';
import { defaultCatalog } from '../helpers.js';
import { BOTH_STORES } from '../pg-helpers.js';
import { clean, refusal } from './refusals.js';

const T0 = Date.UTC(2027, 2, 10);
const DAY = 86_400_000;

/** The default catalog with an overdraft on the Starter plan. */
function catalogWithPlanOverdraft(limit: number) {
  const catalog = structuredClone(defaultCatalog()) as {
    version: string;
    plans: Record<string, Record<string, unknown>>;
  };
  catalog.version = `${catalog.version}-overdraft`;
  catalog.plans.starter!.overdraft = { limit, mode: 'hard' };
  return catalog;
}

for (const [name, open, skip] of BOTH_STORES) {
  describe(`overdraft on ${name}`, { skip }, () => {
    it('charges and holds draw past zero up to a hard limit; the next grant repays the debt first', async () => {
      const { store, close } = await open();
      try {
        const clock = new FakeClock(T0);
        const ledger = new Ledger({ store, clock });
        await ledger.loadCatalog(defaultCatalog());
        await ledger.createAccount({ accountId: 'ann' });
        await ledger.grant({ accountId: 'ann', key: 'g1', credits: 20, source: 'promotion' });

        // No limit: the same as ever, nothing below zero.
        const none = await refusal(ledger.charge({ accountId: 'ann', key: 'c0', credits: 30 }));
        assert.equal(none.code, 'insufficient_credits');
        assert.equal((await ledger.balance('ann')).overdraft.limit, 0);

        const set = await ledger.setOverdraft({ accountId: 'ann', limit: 50 });
        assert.deepEqual(set, {
          limit: 50,
          mode: 'hard',
          from: 'account',
          debt: 0,
          held: 0,
          remaining: 50,
        });

        // 30 with 20 available: 10 owed, the balance 10 below zero.
        await ledger.charge({ accountId: 'ann', key: 'c1', credits: 30 });
        let balance = await ledger.balance('ann');
        assert.equal(balance.available, -10);
        assert.deepEqual([balance.overdraft.debt, balance.overdraft.remaining], [10, 40]);

        // A hold takes 30 more past zero; 15 more is past the limit, refused, nothing changes.
        const hold = await ledger.hold({ accountId: 'ann', key: 'h1', credits: 30 });
        balance = await ledger.balance('ann');
        assert.deepEqual(
          [balance.held, balance.overdraft.held, balance.overdraft.remaining],
          [30, 30, 10],
        );
        const past = await refusal(ledger.charge({ accountId: 'ann', key: 'c2', credits: 15 }));
        assert.equal(past.code, 'overdraft_limit_reached');
        assert.deepEqual((past.data as { overdraft: unknown }).overdraft, {
          limit: 50,
          debt: 10,
          held: 30,
          remaining: 10,
        });
        assert.deepEqual(await ledger.balance('ann'), balance, 'a refusal changes nothing');

        // Capturing 20 of the 30 turns 20 into debt; the other 10 go back to the overdraft.
        await ledger.capture({ holdId: hold.hold.id, key: 'cap1', credits: 20 });
        balance = await ledger.balance('ann');
        assert.deepEqual(
          [balance.available, balance.held, balance.overdraft.debt, balance.overdraft.held],
          [-30, 0, 30, 0],
        );

        // Lowering the limit below what is owed is refused and changes nothing.
        const below = await refusal(ledger.setOverdraft({ accountId: 'ann', limit: 20 }));
        assert.equal(below.code, 'overdraft_below_used');
        assert.deepEqual(below.data, { limit: 20, debt: 30, held: 0 });
        assert.equal((await ledger.balance('ann')).overdraft.limit, 50);

        // A pack of 100: 30 repay the debt first (in the journal), 70 remain spendable.
        await ledger.grant({ accountId: 'ann', key: 'g2', credits: 100, source: 'purchase' });
        balance = await ledger.balance('ann');
        assert.deepEqual([balance.available, balance.overdraft.debt], [70, 0]);
        assert.equal(balance.grants.find((g) => g.source === 'purchase')?.remaining, 70);
        const page = await ledger.history({ accountId: 'ann', kinds: ['repayment'] });
        assert.equal(page.transactions.length, 1);
        assert.deepEqual(
          page.transactions[0]!.detail,
          { credits: 30, debt: 0 },
          'nothing owed after',
        );

        // Back to no limit of its own (no plan: none) now that nothing is owed.
        const back = await ledger.setOverdraft({ accountId: 'ann', limit: null });
        assert.deepEqual([back.limit, back.from], [0, 'none']);
        await clean(store);
      } finally {
        await close();
      }
    });

    it('a release or a hold past its ttl gives back what it held past zero', async () => {
      const { store, close } = await open();
      try {
        const clock = new FakeClock(T0);
        const ledger = new Ledger({ store, clock });
        await ledger.loadCatalog(defaultCatalog());
        await ledger.createAccount({ accountId: 'bo' });
        await ledger.grant({ accountId: 'bo', key: 'g', credits: 5, source: 'promotion' });
        await ledger.setOverdraft({ accountId: 'bo', limit: 20 });
        const a = await ledger.hold({ accountId: 'bo', key: 'a', credits: 15 });
        const b = await ledger.hold({ accountId: 'bo', key: 'b', credits: 10, ttlMs: 60_000 });
        assert.equal((await ledger.balance('bo')).overdraft.held, 20);
        await ledger.release({ holdId: a.hold.id, key: 'ra' });
        assert.equal((await ledger.balance('bo')).overdraft.held, 10);
        clock.advance(120_000);
        const balance = await ledger.balance('bo');
        assert.deepEqual(
          [balance.available, balance.held, balance.overdraft.held, balance.overdraft.debt],
          [5, 0, 0, 0],
        );
        assert.equal((await ledger.getHold(b.hold.id)).status, 'expired');
        await clean(store);
      } finally {
        await close();
      }
    });

    it('a soft limit lets a spend pass it; a plan limit applies to its accounts and the renewal repays', async () => {
      const { store, close } = await open();
      try {
        const clock = new FakeClock(T0);
        const ledger = new Ledger({ store, clock });
        await ledger.loadCatalog(catalogWithPlanOverdraft(40));
        await ledger.createAccount({ accountId: 'cy', plan: 'starter' });
        assert.deepEqual(
          [
            (await ledger.balance('cy')).overdraft.limit,
            (await ledger.balance('cy')).overdraft.from,
          ],
          [40, 'plan'],
        );
        await ledger.charge({ accountId: 'cy', key: 'c1', credits: 130 });
        const past = await refusal(ledger.charge({ accountId: 'cy', key: 'c2', credits: 11 }));
        assert.equal(past.code, 'overdraft_limit_reached');

        await ledger.registerWebhook({
          url: 'http://127.0.0.1:9/hooks',
          secret: 'whsec_overdraft_test',
          key: 'hook-od',
          eventTypes: ['overdraft.limit_passed'],
          accountId: 'cy',
        });
        await ledger.setOverdraft({ accountId: 'cy', limit: 40, mode: 'soft' });
        await ledger.charge({ accountId: 'cy', key: 'c2', credits: 11 });
        // Past the soft limit once: one alert; further spends past it alert no more.
        await ledger.charge({ accountId: 'cy', key: 'c2b', credits: 1 });
        const deliveries = await ledger.listDeliveries({ accountId: 'cy', limit: 10 });
        const events = await Promise.all(
          deliveries.map((d) => ledger.webhookEvent('cy', d.eventId)),
        );
        assert.deepEqual(
          events.map((e) => [e?.type, e?.data]),
          [['overdraft.limit_passed', { limit: 40, debt: 41, held: 0, over: 1 }]],
        );
        let balance = await ledger.balance('cy');
        assert.deepEqual([balance.available, balance.overdraft.debt], [-42, 42]);
        assert.deepEqual([balance.overdraft.mode, balance.overdraft.remaining], ['soft', 0]);

        // The renewal's allocation (100) pays the 42 owed first.
        clock.advance(31 * DAY);
        balance = await ledger.balance('cy');
        assert.deepEqual([balance.available, balance.overdraft.debt], [58, 0]);
        await clean(store);
      } finally {
        await close();
      }
    });

    it('many holds at once never pass a hard limit', async () => {
      const { store, close } = await open();
      try {
        const ledger = new Ledger({ store, clock: new FakeClock(T0) });
        await ledger.loadCatalog(defaultCatalog());
        await ledger.createAccount({ accountId: 'dee' });
        await ledger.grant({ accountId: 'dee', key: 'g', credits: 10, source: 'promotion' });
        await ledger.setOverdraft({ accountId: 'dee', limit: 25 });
        const results = await Promise.allSettled(
          Array.from({ length: 60 }, (_, i) =>
            i % 2 === 0
              ? ledger.hold({ accountId: 'dee', key: `h${i}`, credits: 1 })
              : ledger.charge({ accountId: 'dee', key: `c${i}`, credits: 1 }),
          ),
        );
        const ok = results.filter((r) => r.status === 'fulfilled').length;
        assert.equal(ok, 35, '10 credits and 25 past zero');
        for (const r of results) {
          if (r.status === 'rejected') {
            assert.equal((r.reason as AmisiError).code, 'overdraft_limit_reached');
          }
        }
        const balance = await ledger.balance('dee');
        assert.equal(balance.overdraft.debt + balance.overdraft.held, 25);
        assert.equal(balance.overdraft.remaining, 0);
        await clean(store);
      } finally {
        await close();
      }
    });

    it('bad input is refused with a stable code and changes nothing', async () => {
      const { store, close } = await open();
      try {
        const ledger = new Ledger({ store, clock: new FakeClock(T0) });
        await ledger.loadCatalog(defaultCatalog());
        await ledger.createAccount({ accountId: 'eve' });
        const cases: [unknown, string][] = [
          [{ accountId: 'eve', limit: -1 }, 'invalid_credits'],
          [{ accountId: 'eve', limit: 1.5 }, 'invalid_credits'],
          [{ accountId: 'eve', limit: '10' }, 'invalid_credits'],
          [{ accountId: 'eve', limit: 10, mode: 'loose' }, 'invalid_argument'],
          [{ accountId: 'nobody', limit: 10 }, 'unknown_account'],
        ];
        for (const [input, code] of cases) {
          const r = await refusal(
            ledger.setOverdraft(input as Parameters<Ledger['setOverdraft']>[0]),
          );
          assert.equal(r.code, code, JSON.stringify(input));
        }
        assert.equal((await ledger.balance('eve')).overdraft.from, 'none');
        // 0 is a limit of its own (none past zero, whatever the plan says).
        assert.equal((await ledger.setOverdraft({ accountId: 'eve', limit: 0 })).from, 'account');
      } finally {
        await close();
      }
    });
    it('the statement shows what went past zero, what was repaid and what is owed at the end', async () => {
      const { store, close } = await open();
      try {
        const clock = new FakeClock(T0);
        const ledger = new Ledger({ store, clock });
        await ledger.loadCatalog(defaultCatalog());
        await ledger.createAccount({ accountId: 'st' });
        await ledger.grant({ accountId: 'st', key: 'g1', credits: 10, source: 'promotion' });
        await ledger.setOverdraft({ accountId: 'st', limit: 30 });
        await ledger.charge({ accountId: 'st', key: 'c1', credits: 25 });
        clock.advance(DAY);
        await ledger.grant({ accountId: 'st', key: 'g2', credits: 6, source: 'promotion' });
        const s = await ledger.statement('st', { from: T0, to: clock.now() + 1 });
        assert.deepEqual(s.overdraft, { overdrawn: 15, repaid: 6, owedAtClose: 9 });
        assert.equal(s.closing, -9);
        assert.equal((await ledger.balance('st')).overdraft.debt, 9);
      } finally {
        await close();
      }
    });
    it('the sweep repays a debt from credits that became spendable, before they can expire', async () => {
      const { store, close } = await open();
      try {
        const clock = new FakeClock(T0);
        const ledger = new Ledger({ store, clock });
        await ledger.loadCatalog(defaultCatalog());
        await ledger.createAccount({ accountId: 'sw' });
        await ledger.setOverdraft({ accountId: 'sw', limit: 10 });
        await ledger.charge({ accountId: 'sw', key: 'c', credits: 5 });
        // 8 credits spendable from +60 s to +120 s; nothing reads the account meanwhile.
        await ledger.grant({
          accountId: 'sw',
          key: 'g',
          credits: 8,
          source: 'promotion',
          startsAt: T0 + 60_000,
          expiresAt: T0 + 120_000,
        });
        clock.advance(90_000);
        assert.equal(await ledger.sweep(), 1);
        assert.equal(await ledger.sweep(), 0, 'nothing due twice');
        clock.advance(60_000);
        const balance = await ledger.balance('sw');
        assert.deepEqual([balance.overdraft.debt, balance.available], [0, 0]);
        const s = await ledger.statement('sw', { from: T0, to: clock.now() + 1 });
        assert.deepEqual([s.overdraft.repaid, s.expired.credits], [5, 3]);
        await clean(store);
      } finally {
        await close();
      }
    });
  });
}
