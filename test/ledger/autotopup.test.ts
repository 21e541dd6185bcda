import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ledger } from '../../src/ledger/ledger.js';
import { FakeClock } from '../../src/ledger/ports.js';
import { verify } from '../../src/ledger/verify.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { ManualProvider } from '../../src/service/payments/manual/manual-provider.js';
import { PurchaseService } from '../../src/service/purchases.js';
import { defaultCatalog } from '../helpers.js';
import { BOTH_STORES, freshPostgresStore, postgresSkip } from '../pg-helpers.js';

const utc = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d);

async function setup(ledger: Ledger, credits: number) {
  await ledger.loadCatalog(defaultCatalog());
  await ledger.createAccount({ accountId: 'ann' });
  await ledger.grant({ accountId: 'ann', key: 'g', credits, source: 'promotion' });
}

const autoTopupsOf = async (ledger: Ledger) =>
  (await ledger.listPurchases('ann')).filter((p) => p.origin === 'autotopup');

for (const [name, open, skip] of BOTH_STORES) {
  describe(`auto top-up on ${name}`, { skip }, () => {
    it('a concurrent burst of charges below the threshold buys one pack', async () => {
      const { store, close } = await open();
      try {
        const clock = new FakeClock(utc(2027, 3, 10));
        const ledger = new Ledger({ store, clock });
        const service = new PurchaseService(ledger, new ManualProvider());
        await setup(ledger, 100);
        await service.setAutoTopup({
          accountId: 'ann',
          pack: 'pack-50',
          thresholdCredits: 50,
          maxPerPeriod: 3,
        });
        // 60 one-credit charges at once: the balance crosses 50 once, in the middle of them.
        await Promise.all(
          Array.from({ length: 60 }, (_, i) =>
            ledger.charge({ accountId: 'ann', key: `c${i}`, credits: 1 }),
          ),
        );
        let bought = await autoTopupsOf(ledger);
        assert.equal(bought.length, 1);
        assert.deepEqual([bought[0]!.pack, bought[0]!.status], ['pack-50', 'pending']);
        const rule = await ledger.getAutoTopup('ann');
        assert.deepEqual([rule?.armed, rule?.firedInPeriod], [false, 1]);

        // The scheduler's job asks the provider for a checkout; the operator confirms it.
        assert.equal(await service.checkoutAutoTopups(), 1);
        assert.equal(await service.checkoutAutoTopups(), 0, 'one checkout per purchase');
        await service.confirm(bought[0]!.id);
        assert.equal((await ledger.balance('ann')).available, 90);
        // The grant brought the balance back above the threshold: armed again.
        assert.equal((await ledger.getAutoTopup('ann'))?.armed, true);

        // Two more crossings fire (cap 3 a month); a fourth does not.
        for (let round = 1; round <= 3; round++) {
          await ledger.charge({ accountId: 'ann', key: `r${round}`, credits: 51 });
          const pending = (await autoTopupsOf(ledger)).filter((p) => p.status === 'pending');
          if (round < 3) {
            assert.equal(pending.length, 1, `round ${round} fired`);
            await service.checkoutAutoTopups();
            await service.confirm(pending[0]!.id);
          } else {
            assert.equal(pending.length, 0, 'the cap of 3 a month holds');
          }
        }
        bought = await autoTopupsOf(ledger);
        assert.equal(bought.length, 3);
        // Next month, the first change below the threshold fires again.
        clock.set(utc(2027, 4, 1));
        await ledger.charge({ accountId: 'ann', key: 'april', credits: 1 });
        assert.equal((await autoTopupsOf(ledger)).length, 4);
        assert.ok((await verify(store)).ok);
      } finally {
        await close();
      }
    });

    it('setting a rule below the threshold buys at once; bad rules are refused, nothing set', async () => {
      const { store, close } = await open();
      try {
        const ledger = new Ledger({ store, clock: new FakeClock(utc(2027, 3, 10)) });
        const service = new PurchaseService(ledger, new ManualProvider());
        await setup(ledger, 10);
        const base = { accountId: 'ann', pack: 'pack-20', thresholdCredits: 50, maxPerPeriod: 1 };
        await assert.rejects(service.setAutoTopup({ ...base, pack: 'pack-7' }), {
          code: 'unknown_pack',
        });
        await assert.rejects(service.setAutoTopup({ ...base, thresholdCredits: 0 }), {
          code: 'invalid_credits',
        });
        await assert.rejects(service.setAutoTopup({ ...base, maxPerPeriod: 0 }), {
          code: 'invalid_argument',
        });
        await assert.rejects(service.setAutoTopup({ ...base, period: 'year' }), {
          code: 'invalid_argument',
        });
        assert.equal(await ledger.getAutoTopup('ann'), null);
        assert.equal((await autoTopupsOf(ledger)).length, 0);
        const rule = await service.setAutoTopup(base);
        assert.equal(rule.period, 'month');
        assert.equal((await autoTopupsOf(ledger)).length, 1, 'already below: bought at once');
        // Setting it again (same period) keeps the count: editing cannot beat the cap.
        const again = await service.setAutoTopup(base);
        assert.equal(again.firedInPeriod, 1);
        assert.equal(await ledger.clearAutoTopup('ann'), true);
        assert.equal(await ledger.clearAutoTopup('ann'), false);
        await ledger.charge({ accountId: 'ann', key: 'c', credits: 5 });
        assert.equal((await autoTopupsOf(ledger)).length, 1, 'no rule, no purchase');
      } finally {
        await close();
      }
    });
  });
}

describe(
  'auto top-up across two processes on one PostgreSQL database',
  { skip: postgresSkip },
  () => {
    it('two ledgers charging the same account at once buy one pack', async () => {
      const first = await freshPostgresStore();
      const second = new PostgresStore({ url: first.url });
      try {
        const clock = new FakeClock(utc(2027, 3, 10));
        const a = new Ledger({ store: first.store, clock });
        const b = new Ledger({ store: second, clock });
        await setup(a, 100);
        await new PurchaseService(a, new ManualProvider()).setAutoTopup({
          accountId: 'ann',
          pack: 'pack-50',
          thresholdCredits: 50,
          maxPerPeriod: 5,
        });
        await Promise.all(
          Array.from({ length: 80 }, (_, i) =>
            (i % 2 === 0 ? a : b).charge({ accountId: 'ann', key: `c${i}`, credits: 1 }),
          ),
        );
        assert.equal((await autoTopupsOf(a)).length, 1);
        assert.ok((await verify(first.store)).ok);
      } finally {
        await second.close();
        await first.close();
      }
    });
  },
);
