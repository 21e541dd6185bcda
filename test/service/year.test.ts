import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ledger } from '../../src/ledger/ledger.js';
import { FakeClock } from '../../src/ledger/ports.js';
import { verify } from '../../src/ledger/verify.js';
import { ManualProvider } from '../../src/service/payments/manual/manual-provider.js';
import { PurchaseService } from '../../src/service/purchases.js';
import { defaultCatalog } from '../helpers.js';
import { BOTH_STORES } from '../pg-helpers.js';

const utc = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d);

interface Row {
  /** When the step happens (renewals run, then the action). */
  readonly at: number;
  readonly spend?: number;
  readonly action?: 'buy pack-200' | 'upgrade to business' | 'downgrade to pro';
  /** The balance after the step, by source. */
  readonly expect: readonly [available: number, allocation: number, rollover: number, pack: number];
  readonly why: string;
}

/*
 * A year (and a bit) of a Pro customer on the default catalog, worked out by hand. Pro: 300
 * credits a cycle, rollover cap 300, rollover credits expire 3 cycles after they roll over;
 * Business: 1000, cap 1000. The plan starts on 2028-01-31 (a leap year), so renewals fall on
 * Feb 29, Mar 31, Apr 30, ..., then Feb 28 2029 and back to Mar 31. Spending takes the grant
 * that expires first: the cycle's allocation, then rollover (oldest expiry first), then the pack.
 * R1, R2, ... name the rollover grants in the order they are made.
 */
const YEAR: readonly Row[] = [
  { at: utc(2028, 2, 10), spend: 100, expect: [200, 200, 0, 0], why: 'c0: 100 of 300' },
  {
    at: utc(2028, 2, 29),
    expect: [500, 300, 200, 0],
    why: 'leap day: 200 unused -> R1 (expires at cycle 4, May 31)',
  },
  { at: utc(2028, 3, 10), spend: 250, expect: [250, 50, 200, 0], why: 'c1: 250 of the allocation' },
  {
    at: utc(2028, 3, 31),
    expect: [550, 300, 250, 0],
    why: 'back on the 31st: 50 -> R2; R1 + R2 = 250 within the cap',
  },
  {
    at: utc(2028, 4, 30),
    expect: [600, 300, 300, 0],
    why: 'c2 spent nothing: 300 -> R3; the cap trims R1 (200) and R2 (50), oldest first',
  },
  {
    at: utc(2028, 5, 10),
    action: 'buy pack-200',
    expect: [800, 300, 300, 200],
    why: 'month 4: a pack of 200 for $59.99, expiring 2029-05-10',
  },
  {
    at: utc(2028, 5, 20),
    spend: 700,
    expect: [100, 0, 0, 100],
    why: 'c3: allocation 300, then R3 300, then 100 of the pack',
  },
  {
    at: utc(2028, 5, 31),
    expect: [400, 300, 0, 100],
    why: 'nothing unused, nothing rolls',
  },
  {
    at: utc(2028, 6, 14),
    action: 'upgrade to business',
    expect: [773, 673, 0, 100],
    why: 'upgrade with 16 of 30 days left: 700 x 16/30 = 373.3 -> 373 credits',
  },
  {
    at: utc(2028, 6, 20),
    spend: 500,
    expect: [273, 173, 0, 100],
    why: 'c4: 500 of the two allocation grants (both end Jun 30)',
  },
  {
    at: utc(2028, 6, 30),
    expect: [1273, 1000, 173, 100],
    why: 'Business: 173 -> R4 (cap 1000); allocation 1000',
  },
  {
    at: utc(2028, 7, 10),
    action: 'downgrade to pro',
    expect: [1273, 1000, 173, 100],
    why: 'a downgrade waits for the renewal',
  },
  { at: utc(2028, 7, 20), spend: 800, expect: [473, 200, 173, 100], why: 'c5: 800 of 1000' },
  {
    at: utc(2028, 7, 31),
    expect: [700, 300, 300, 100],
    why: "the cycle that starts is Pro's: 200 -> R5 within Pro's cap of 300 trims 73 of R4",
  },
  {
    at: utc(2028, 8, 31),
    expect: [700, 300, 300, 100],
    why: "c6 spent nothing: 300 -> R6; Pro's cap 300 trims R4 (100) and R5 (200)",
  },
  {
    at: utc(2028, 9, 10),
    spend: 400,
    expect: [300, 0, 200, 100],
    why: 'c7: allocation, 100 of R6',
  },
  {
    at: utc(2028, 9, 30),
    expect: [600, 300, 200, 100],
    why: 'nothing unused; R4 expires today, already empty',
  },
  {
    at: utc(2028, 10, 31),
    expect: [700, 300, 300, 100],
    why: 'c8 spent nothing: 300 -> R7; the cap trims R6 (200)',
  },
  {
    at: utc(2028, 11, 10),
    spend: 350,
    expect: [350, 0, 250, 100],
    why: 'c9: allocation, 50 of R7',
  },
  { at: utc(2028, 11, 30), expect: [650, 300, 250, 100], why: 'nothing unused' },
  { at: utc(2028, 12, 10), spend: 100, expect: [550, 200, 250, 100], why: 'c10: 100' },
  {
    at: utc(2028, 12, 31),
    expect: [700, 300, 300, 100],
    why: '200 -> R8 (expires Mar 31 2029); the cap trims 150 of R7, leaving 100',
  },
  {
    at: utc(2029, 1, 31),
    expect: [700, 300, 300, 100],
    why: 'R7 expires (100 to breakage); 300 -> R9; the cap trims R8 (200)',
  },
  {
    at: utc(2029, 2, 28),
    expect: [700, 300, 300, 100],
    why: 'Feb 28 (not a leap year): 300 -> R10, trims R9',
  },
  { at: utc(2029, 3, 31), expect: [700, 300, 300, 100], why: '300 -> R11, trims R10' },
  { at: utc(2029, 4, 30), expect: [700, 300, 300, 100], why: '300 -> R12, trims R11' },
  {
    at: utc(2029, 5, 10),
    expect: [600, 300, 300, 0],
    why: "the pack's last 100 expire 12 months after the purchase",
  },
];

/** Breakage, by event: trims 250 + 73 + 300 + 200 + 150 + 200 + 300 + 300 + 300, R7 100, pack 100. */
const BREAKAGE = 250 + 73 + 300 + 200 + 150 + 200 + 300 + 300 + 300 + 100 + 100;
/** Issued: Pro 300 x 5 (Jan-May 2028), the upgrade's 373, Business 1000, Pro 300 x 10, pack 200. */
const GRANTED = 300 * 5 + 373 + 1000 + 300 * 10 + 200;
const CONSUMED = 100 + 250 + 700 + 500 + 800 + 400 + 350 + 100;

async function bySource(ledger: Ledger, accountId: string) {
  const b = await ledger.balance(accountId);
  const sum = (source: string) =>
    b.grants.filter((g) => g.source === source).reduce((s, g) => s + g.remaining, 0);
  return [b.available, sum('allocation'), sum('rollover'), sum('purchase')] as const;
}

for (const [name, open, skip] of BOTH_STORES) {
  describe(`a year of a Pro customer on ${name}`, { skip }, () => {
    it('matches the table worked out by hand; verify is clean after every step', async () => {
      const { store, close } = await open();
      try {
        const clock = new FakeClock(utc(2028, 1, 31));
        const ledger = new Ledger({ store, clock });
        const purchases = new PurchaseService(ledger, new ManualProvider());
        await ledger.loadCatalog(defaultCatalog());
        await ledger.createAccount({ accountId: 'pro' });
        await ledger.subscribe({ accountId: 'pro', key: 'start', plan: 'pro' });
        let step = 0;
        for (const row of YEAR) {
          step += 1;
          clock.set(row.at);
          await ledger.renew();
          if (row.spend !== undefined) {
            await ledger.charge({ accountId: 'pro', key: `spend-${step}`, credits: row.spend });
          }
          if (row.action === 'buy pack-200') {
            const { purchase } = await purchases.buy({
              accountId: 'pro',
              pack: 'pack-200',
              key: 'pack',
            });
            assert.deepEqual([purchase.priceCents, purchase.currency], [5999, 'usd']);
            const paid = await purchases.confirm(purchase.id);
            const grant = (await ledger.balance('pro')).grants.find(
              (g) => g.id === paid.purchase.grantId,
            );
            assert.equal(grant?.expiresAt, utc(2029, 5, 10), 'pack credits last 12 months');
          } else if (row.action === 'upgrade to business') {
            const up = await ledger.changePlan({ accountId: 'pro', key: 'up', plan: 'business' });
            // 3500 cents difference x 16/30 = 1866.7 -> 1867 (half up, like the credits).
            assert.deepEqual([up.change, up.credits, up.chargeCents], ['upgrade', 373, 1867]);
          } else if (row.action === 'downgrade to pro') {
            const down = await ledger.changePlan({ accountId: 'pro', key: 'down', plan: 'pro' });
            assert.equal(down.change, 'downgrade');
          }
          assert.deepEqual(
            await bySource(ledger, 'pro'),
            row.expect,
            `${new Date(row.at).toISOString().slice(0, 10)}: ${row.why}`,
          );
          const report = await verify(store);
          assert.ok(report.ok, `step ${step}: ${JSON.stringify(report.violations)}`);
        }
        const sub = await ledger.getSubscription('pro');
        assert.deepEqual([sub.plan, sub.nextRenewalAt], ['pro', utc(2029, 5, 31)]);
        const report = await verify(store);
        assert.deepEqual(
          [
            report.totals.granted,
            report.totals.consumed,
            report.totals.breakage,
            report.totals.available,
          ],
          [GRANTED, CONSUMED, BREAKAGE, 600],
        );
        assert.equal(GRANTED, CONSUMED + BREAKAGE + 600, 'the hand totals conserve credits');
      } finally {
        await close();
      }
    });
  });
}
