import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ledger } from '../../src/ledger/ledger.js';
import { FakeClock } from '../../src/ledger/ports.js';
import { ManualProvider } from '../../src/service/payments/manual/manual-provider.js';
import { PurchaseService } from '../../src/service/purchases.js';
import { Scheduler, type SchedulerReport } from '../../src/service/scheduler.js';
import { defaultCatalog } from '../helpers.js';
import { freshSqliteStore } from '../pg-helpers.js';

const T0 = Date.UTC(2027, 0, 15);

describe('the scheduler of long-running processes', () => {
  it('renews what is due, sweeps, starts auto top-up checkouts; a second run finds nothing', async () => {
    const { store, close } = await freshSqliteStore();
    try {
      const clock = new FakeClock(T0);
      const ledger = new Ledger({ store, clock });
      const purchases = new PurchaseService(ledger, new ManualProvider());
      await ledger.loadCatalog(defaultCatalog());
      for (const id of ['a', 'b']) {
        await ledger.createAccount({ accountId: id });
        await ledger.subscribe({ accountId: id, key: 's', plan: 'starter' });
      }
      await ledger.grant({
        accountId: 'a',
        key: 'promo',
        credits: 5,
        source: 'promotion',
        expiresAt: T0 + 86_400_000,
      });
      await purchases.setAutoTopup({
        accountId: 'b',
        pack: 'pack-20',
        thresholdCredits: 150,
        maxPerPeriod: 1,
      });
      const reports: SchedulerReport[] = [];
      const errors: string[] = [];
      const scheduler = new Scheduler(ledger, purchases, {
        onRun: (r) => reports.push(r),
        onError: (job) => errors.push(job),
      });
      clock.set(Date.UTC(2027, 2, 20));
      await scheduler.runOnce();
      await scheduler.runOnce();
      assert.deepEqual(errors, []);
      assert.equal(reports[0]!.renewed, 2);
      assert.equal(reports[0]!.autoTopups, 1, 'the rule fired when it was set; one checkout');
      // Two months on, the idempotency keys of the set-up (2 subscribes, 1 grant) are past 24 h.
      assert.equal(reports[0]!.purgedKeys, 3);
      assert.deepEqual(
        [reports[1]!.renewed, reports[1]!.settled, reports[1]!.autoTopups],
        [0, 0, 0],
      );
      assert.equal((await ledger.getSubscription('a')).cycleIndex, 2);
      await scheduler.stop();
    } finally {
      await close();
    }
  });

  it('a failing job is reported and the others still run', async () => {
    const { store, close } = await freshSqliteStore();
    try {
      const ledger = new Ledger({ store, clock: new FakeClock(T0) });
      const errors: string[] = [];
      const reports: SchedulerReport[] = [];
      // No catalog loaded: the auto top-up job has nothing to do, renewals nothing due; a
      // closed provider makes the purchase job throw.
      const broken = {
        checkoutAutoTopups: () => Promise.reject(new Error('provider down')),
      } as unknown as PurchaseService;
      const scheduler = new Scheduler(ledger, broken, {
        onError: (job) => errors.push(job),
        onRun: (r) => reports.push(r),
      });
      await scheduler.runOnce();
      assert.deepEqual(errors, ['autotopup']);
      assert.equal(reports.length, 1);
    } finally {
      await close();
    }
  });
});
