import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Advice } from '../../src/core/advice.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { FakeClock } from '../../src/ledger/ports.js';
import { verify } from '../../src/ledger/verify.js';
import { ManualProvider } from '../../src/service/payments/manual/manual-provider.js';
import { PurchaseService } from '../../src/service/purchases.js';
import { defaultCatalog } from '../helpers.js';
import { BOTH_STORES } from '../pg-helpers.js';

/*
 * The three personas, each played for a year on a fake clock through the ledger (plans,
 * renewals, packs bought and paid with the manual provider, charges), then asked for advice on
 * 2028-01-16, halfway through their 13th cycle. Default catalog: Starter 100 credits for $9.99
 * (rollover cap 50), Pro 300 for $24.99, Business 1000 for $59.99; packs 20 for $9.99, 50 for
 * $19.99, 100 for $34.99, 200 for $59.99. Every plan starts 2027-01-01, so cycle n is month n+1
 * of 2027 and renews on the 1st.
 */

const utc = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d);
const DAY = 86_400_000;
const ASKED_AT = utc(2028, 1, 16);

interface Persona {
  readonly plan: string;
  /** Credits spent on the 10th of each month of 2027 (index 0 = January). */
  readonly monthly: readonly number[];
  /** Packs bought before spending, each month. */
  readonly packs?: readonly string[];
  /** Spent on 2028-01-10, in the current cycle, for the forecast. */
  readonly january: number;
}

async function play(ledger: Ledger, clock: FakeClock, id: string, p: Persona): Promise<void> {
  const purchases = new PurchaseService(ledger, new ManualProvider());
  clock.set(utc(2027, 1, 1));
  await ledger.createAccount({ accountId: id });
  await ledger.subscribe({ accountId: id, key: 'start', plan: p.plan });
  const spend = async (at: number, credits: number, step: string) => {
    clock.set(at);
    await ledger.renew();
    for (const [i, pack] of (p.packs ?? []).entries()) {
      const { purchase } = await purchases.buy({ accountId: id, pack, key: `${step}-${i}` });
      await purchases.confirm(purchase.id);
    }
    await ledger.charge({ accountId: id, key: step, credits });
  };
  for (const [month, credits] of p.monthly.entries()) {
    await spend(utc(2027, month + 1, 10), credits, `m${month}`);
  }
  clock.set(utc(2028, 1, 10));
  await ledger.renew();
  await ledger.charge({ accountId: id, key: 'jan', credits: p.january });
  clock.set(ASKED_AT);
}

function only<K extends Advice['kind']>(items: readonly Advice[], kind: K) {
  const found = items.filter((a): a is Extract<Advice, { kind: K }> => a.kind === kind);
  assert.equal(found.length, 1, `one ${kind} item in ${items.map((a) => a.kind).join(', ')}`);
  return found[0]!;
}

for (const [name, open, skip] of BOTH_STORES) {
  describe(`advice for three personas over a year, on ${name}`, { skip }, () => {
    it('an occasional overrun on Starter: the cheapest packs, not a plan change', async () => {
      const { store, close } = await open();
      try {
        const clock = new FakeClock(utc(2027, 1, 1));
        const ledger = new Ledger({ store, clock });
        await ledger.loadCatalog(defaultCatalog());
        // 80 a month (20 rolls over each month, up to the cap of 50), and 130 in November:
        // the 100 allocation plus 30 of the banked rollover.
        const monthly = [80, 80, 80, 80, 80, 80, 80, 80, 80, 80, 130, 80];
        await play(ledger, clock, 'occasional', { plan: 'starter', monthly, january: 40 });

        const a = await ledger.advice('occasional');
        assert.equal(a.plan, 'starter');
        assert.equal(a.cycles.length, 12);
        assert.deepEqual(
          a.cycles.map((c) => [c.startsAt, c.plan, c.allocation, c.consumed, c.purchased]),
          monthly.map((credits, m) => [utc(2027, m + 1, 1), 'starter', 100, credits, 0]),
        );
        assert.deepEqual(
          a.advice.map((x) => x.kind),
          ['occasional-overrun', 'seasonal-peaks', 'lasts-past-renewal'],
        );

        // The window is Oct, Nov, Dec: one overrun of 30 in November. The cheapest packs for 30
        // credits are 2 x pack-20 ($19.98), a cent under one pack-50 ($19.99).
        const tier = only(a.advice, 'occasional-overrun');
        assert.deepEqual(
          [tier.figures.overrunCycles, tier.figures.heavyCycles, tier.figures.coveredOverrun],
          [1, 0, 30],
        );
        assert.equal(tier.figures.coveredStartsAt, utc(2027, 11, 1));
        assert.ok(tier.recommendation?.action === 'buy-packs');
        assert.deepEqual(
          [
            tier.recommendation.credits,
            tier.recommendation.priceCents,
            tier.recommendation.packs.lines.map((l) => [l.pack, l.count]),
          ],
          [30, 1998, [['pack-20', 2]]],
        );
        assert.match(tier.summary, /2 x pack-20 for 19\.98 USD/i);

        // Seasons: median 80, a peak is 100 or more (ceil(1.25 x 80)): November, 30 over.
        const season = only(a.advice, 'seasonal-peaks');
        assert.deepEqual(
          [
            season.figures.medianCredits,
            season.figures.peakThresholdCredits,
            season.figures.peaks.map((p) => [p.month, p.consumed, p.overrun]),
            season.figures.typicalPeakOverrun,
          ],
          [80, 100, [[11, 130, 30]], 30],
        );

        // January 2028: 100 allocation + 40 rollover, 40 spent in 15 days: 100 left;
        // 40 x 16 / 15 = 42.7 -> 43 more by the renewal on Feb 1: 57 left then.
        const f = only(a.advice, 'lasts-past-renewal');
        assert.deepEqual(
          [
            f.figures.available,
            f.figures.spentSoFarThisCycle,
            f.figures.projectedToRenewal,
            f.figures.leftAtRenewal,
            f.figures.renewalAt,
          ],
          [100, 40, 43, 57, utc(2028, 2, 1)],
        );
        assert.ok((await verify(store)).ok);
      } finally {
        await close();
      }
    });

    it('a consistent +60% on Starter: upgrade to Pro, saving $14.97 a month', async () => {
      const { store, close } = await open();
      try {
        const clock = new FakeClock(utc(2027, 1, 1));
        const ledger = new Ledger({ store, clock });
        await ledger.loadCatalog(defaultCatalog());
        // 160 a month on a 100-credit plan: 3 x pack-20 ($29.97) bought every month.
        const monthly = Array.from({ length: 12 }, () => 160);
        await play(ledger, clock, 'heavy', {
          plan: 'starter',
          monthly,
          packs: ['pack-20', 'pack-20', 'pack-20'],
          january: 80,
        });

        const a = await ledger.advice('heavy');
        assert.deepEqual(
          a.cycles.map((c) => [c.allocation, c.consumed, c.purchased]),
          monthly.map(() => [100, 160, 60]),
        );
        assert.deepEqual(
          a.advice.map((x) => x.kind),
          ['consistent-overrun', 'steady-usage', 'run-out'],
        );
        const tier = only(a.advice, 'consistent-overrun');
        assert.deepEqual(
          [tier.figures.heavyCycles, tier.figures.demandCredits, tier.figures.cheapest],
          [3, 160, 'pro'],
        );
        // Side by side per month: staying $9.99 + 3 x pack-20 $29.97 = $39.96; Pro $24.99 with
        // 300 credits; Business $59.99.
        assert.deepEqual(
          tier.figures.options.map((o) => [o.plan, o.current, o.shortfall, o.monthlyCents]),
          [
            ['starter', true, 60, 3996],
            ['pro', false, 0, 2499],
            ['business', false, 0, 5999],
          ],
        );
        assert.deepEqual(tier.recommendation, {
          action: 'upgrade',
          from: 'starter',
          plan: 'pro',
          priceCents: 2499,
          monthlySavingCents: 1497,
        });

        // January 2028: 100 allocation, 80 spent in 15 days: 20 left run out 3.75 days later,
        // on Jan 19, 12 days before the renewal. 80 x 16 / 15 = 85.3 -> 86 more are needed by
        // then: 66 short, and pack-50 + pack-20 ($29.98) is the cheapest cover.
        const f = only(a.advice, 'run-out');
        assert.deepEqual(
          [
            f.figures.available,
            f.figures.runOutAt,
            f.figures.runOutDate,
            f.figures.daysBeforeRenewal,
            f.figures.projectedToRenewal,
            f.figures.shortfallAtRenewal,
          ],
          [20, ASKED_AT + 3 * DAY + 18 * 3_600_000, '2028-01-19', 12, 86, 66],
        );
        assert.ok(f.recommendation?.action === 'buy-packs');
        assert.deepEqual(
          [f.recommendation.priceCents, f.recommendation.packs.lines.map((l) => [l.pack, l.count])],
          [
            2998,
            [
              ['pack-20', 1],
              ['pack-50', 1],
            ],
          ],
        );
        assert.deepEqual((await ledger.forecast('heavy')).forecast, f);

        // The audit of December shows the same tier fit as a finding.
        const audit = await ledger.audit('heavy', { cycle: 11 });
        const fit = audit.findings.find((x) => x.kind === 'tier_fit');
        assert.ok(fit, 'a tier_fit finding');
        assert.equal(fit.credits, 60 * 3, 'the overruns of the window');
        assert.equal(fit.data.monthlySavingCents, 1497);
        assert.ok((await verify(store)).ok);
      } finally {
        await close();
      }
    });

    it('a light user on Pro: downgrade to Starter, saving $15.00 a month', async () => {
      const { store, close } = await open();
      try {
        const clock = new FakeClock(utc(2027, 1, 1));
        const ledger = new Ledger({ store, clock });
        await ledger.loadCatalog(defaultCatalog());
        const monthly = [90, 60, 80, 70, 95, 85, 60, 75, 90, 80, 70, 85];
        await play(ledger, clock, 'light', { plan: 'pro', monthly, january: 30 });

        const a = await ledger.advice('light');
        assert.deepEqual(
          a.cycles.map((c) => [c.plan, c.allocation, c.consumed]),
          monthly.map((credits) => ['pro', 300, credits]),
        );
        const tier = only(a.advice, 'downgrade');
        // Oct 80, Nov 70, Dec 85: Starter's 100 covered each; Free's 10 did not.
        assert.deepEqual(
          [tier.figures.largestConsumed, tier.figures.candidates, tier.figures.monthlySavingCents],
          [85, ['starter'], 1500],
        );
        assert.deepEqual(tier.recommendation, {
          action: 'downgrade',
          from: 'pro',
          plan: 'starter',
          priceCents: 999,
          monthlySavingCents: 1500,
        });
        const audit = await ledger.audit('light', { cycle: 11 });
        const fit = audit.findings.find((x) => x.kind === 'tier_fit');
        assert.equal(fit?.credits, 220 + 230 + 215, 'the allocation the window left unused');
        assert.equal(fit?.data.monthlySavingCents, 1500);
      } finally {
        await close();
      }
    });

    it('an account without a plan gets the forecast only; a range audit has no tier fit', async () => {
      const { store, close } = await open();
      try {
        const clock = new FakeClock(utc(2027, 3, 1));
        const ledger = new Ledger({ store, clock });
        await ledger.loadCatalog(defaultCatalog());
        await ledger.createAccount({ accountId: 'payg' });
        await ledger.grant({ accountId: 'payg', key: 'g', credits: 100, source: 'purchase' });
        clock.set(utc(2027, 3, 11));
        await ledger.charge({ accountId: 'payg', key: 'c', credits: 50 });
        clock.set(utc(2027, 3, 21));
        const a = await ledger.advice('payg');
        assert.deepEqual(
          [a.plan, a.cycles, a.advice.map((x) => x.kind)],
          [null, [], ['lasts-past-renewal']],
        );
        // 50 in 20 days; 50 x 11 / 20 = 27.5 -> 28 more by the end of March: 22 left then.
        const f = only(a.advice, 'lasts-past-renewal');
        assert.deepEqual(
          [f.figures.renewalAt, f.figures.projectedToRenewal, f.figures.leftAtRenewal],
          [utc(2027, 4, 1), 28, 22],
        );
        const audit = await ledger.audit('payg', { from: utc(2027, 3, 1), to: utc(2027, 3, 21) });
        assert.deepEqual(
          audit.findings.map((x) => x.kind),
          [],
        );
      } finally {
        await close();
      }
    });
  });
}
