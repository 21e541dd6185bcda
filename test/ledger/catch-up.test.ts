import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cycleStart } from '../../src/core/cycles.js';
import type { Statement } from '../../src/core/reports.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { FakeClock } from '../../src/ledger/ports.js';
import { verify } from '../../src/ledger/verify.js';
import { defaultCatalog } from '../helpers.js';
import { BOTH_STORES } from '../pg-helpers.js';

/**
 * Catch-up renewals (a plan started cycles ago, or renewals missed during downtime) carry the
 * time of the boundary each settles, so every cycle's statement shows its own allocation,
 * rollover and expiry, and verify and a rollup rebuild agree with them.
 */

const ANCHOR = Date.UTC(2027, 0, 10, 9, 30);
const NOW = Date.UTC(2027, 5, 15, 12, 0);

/** The figures of a statement that tell its cycle apart. */
const figures = (s: Statement) => ({
  opening: s.opening,
  granted: s.granted.credits,
  rolledOver: s.rolledOver,
  lostToCap: s.lostToCap,
  expired: s.expired.credits,
  closing: s.closing,
});

// Pro: 300 a cycle, cap 300. Cycle 0 grants 300; cycle 1 rolls the 300 over and grants 300;
// from cycle 2 on the new rollover trims the older one (300 lost to the cap each time).
const EXPECTED = [
  { opening: 0, granted: 300, rolledOver: 0, lostToCap: 0, expired: 0, closing: 300 },
  { opening: 300, granted: 300, rolledOver: 300, lostToCap: 0, expired: 0, closing: 600 },
  ...[2, 3, 4, 5].map(() => ({
    opening: 600,
    granted: 300,
    rolledOver: 300,
    lostToCap: 300,
    expired: 300,
    closing: 600,
  })),
];

for (const [name, open, skip] of BOTH_STORES) {
  describe(`catch-up renewals land in their own cycles, on ${name}`, { skip }, () => {
    it('a plan started 5 cycles back: each statement of cycles 0..5 is its own', async () => {
      const { store, close } = await open();
      try {
        const clock = new FakeClock(NOW);
        const ledger = new Ledger({ store, clock });
        await ledger.loadCatalog(defaultCatalog());
        await ledger.createAccount({ accountId: 'cat' });
        await ledger.subscribe({ accountId: 'cat', key: 's', plan: 'pro', startsAt: ANCHOR });
        const sub = await ledger.getSubscription('cat');
        assert.equal(sub.cycleIndex, 5);
        const statements = async () => {
          const out = [];
          for (let cycle = 0; cycle <= 5; cycle += 1) {
            const s = await ledger.statement('cat', { cycle });
            assert.equal(s.period.from, cycleStart(ANCHOR, cycle));
            out.push(figures(s));
          }
          return out;
        };
        assert.deepEqual(await statements(), EXPECTED);

        // Each renewal is dated at its boundary; the history reads newest first by time.
        const { transactions } = await ledger.history({ accountId: 'cat', limit: 100 });
        const renewals = transactions.filter((t) => t.kind === 'renewal').reverse();
        assert.deepEqual(
          renewals.map((t) => t.createdAt),
          [0, 1, 2, 3, 4, 5].map((n) => cycleStart(ANCHOR, n)),
        );
        const times = transactions.map((t) => t.createdAt);
        assert.deepEqual(
          times,
          [...times].sort((a, b) => b - a),
          'history: newest first',
        );
        const grants = await store.find(
          'grants',
          { accountId: 'cat' },
          { order: ['createdAt desc', 'id desc'] },
        );
        for (const g of grants)
          assert.equal(g.createdAt, g.startsAt, `grant ${g.id} starts when made`);

        const report = await verify(store);
        assert.deepEqual(report.violations, []);
        await ledger.rebuildRollups('cat');
        assert.deepEqual(await statements(), EXPECTED, 'a rebuild gives the same statements');
        assert.deepEqual((await verify(store)).violations, []);
      } finally {
        await close();
      }
    });

    it('downtime: renewals and expiries caught up later are dated when they were due', async () => {
      const { store, close } = await open();
      try {
        const clock = new FakeClock(ANCHOR);
        const ledger = new Ledger({ store, clock });
        await ledger.loadCatalog(defaultCatalog());
        await ledger.createAccount({ accountId: 'dan' });
        await ledger.subscribe({ accountId: 'dan', key: 's', plan: 'starter' });
        // A promotion that expires inside cycle 1, and a hold whose ttl ends in cycle 0.
        const promoEnds = cycleStart(ANCHOR, 1) + 5 * 86_400_000;
        await ledger.grant({
          accountId: 'dan',
          key: 'p',
          credits: 40,
          source: 'promotion',
          expiresAt: promoEnds,
        });
        await ledger.charge({ accountId: 'dan', key: 'c', credits: 70 });
        const hold = await ledger.hold({ accountId: 'dan', key: 'h', credits: 20, ttlMs: 60_000 });
        // Nothing runs for three cycles.
        clock.set(cycleStart(ANCHOR, 3) + 3600_000);
        const s1 = await ledger.statement('dan', { cycle: 1 });
        const byKind = async (kind: string) =>
          (await ledger.history({ accountId: 'dan', kinds: [kind], limit: 50 })).transactions
            .map((t) => t.createdAt)
            .reverse();
        assert.deepEqual(await byKind('hold_expiry'), [hold.hold.expiresAt]);
        assert.equal((await ledger.getHold(hold.hold.id)).resolvedAt, hold.hold.expiresAt);
        assert.deepEqual(await byKind('grant_expiry'), [promoEnds]);
        assert.deepEqual(
          await byKind('renewal'),
          [0, 1, 2, 3].map((n) => cycleStart(ANCHOR, n)),
        );
        // Cycle 0: 100 + 40 granted, 70 spent from the allocation (it expires first), the hold's
        // 20 back in it before the boundary. Cycle 1: the 30 left roll over (Starter's cap is
        // 50), a new 100, and the promotion's 40 expire in it, when they were due.
        const s0 = await ledger.statement('dan', { cycle: 0 });
        assert.deepEqual(
          [s0.granted.credits, s0.spent.credits, s0.expired.credits, s0.closing],
          [140, 70, 0, 70],
        );
        assert.deepEqual(
          [s1.opening, s1.granted.credits, s1.rolledOver, s1.expired.credits, s1.closing],
          [70, 100, 30, 40, 130],
        );
        assert.deepEqual((await verify(store)).violations, []);
      } finally {
        await close();
      }
    });
  });
}
