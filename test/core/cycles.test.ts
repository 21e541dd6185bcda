import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { addMonths, cycleAt, cycleStart } from '../../src/core/cycles.js';
import { prorate, splitByWeight } from '../../src/core/proration.js';
import { planRollover } from '../../src/core/rollover.js';
import type { Plan } from '../../src/core/catalog.js';
import { planRenewal, type Subscription } from '../../src/core/subscriptions.js';

const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);

describe('cycles: anchored on the start date, clamped to month ends', () => {
  it('a plan started on Jan 31 renews Feb 28, Mar 31, Apr 30 (non-leap year)', () => {
    const anchor = Date.UTC(2027, 0, 31, 9, 30);
    assert.deepEqual(
      [1, 2, 3, 4, 12].map((n) => iso(cycleStart(anchor, n))),
      ['2027-02-28', '2027-03-31', '2027-04-30', '2027-05-31', '2028-01-31'],
    );
    assert.equal(new Date(cycleStart(anchor, 1)).getUTCHours(), 9, 'keeps the time of day');
  });
  it('and on Feb 29 in a leap year', () => {
    assert.equal(iso(addMonths(Date.UTC(2028, 0, 31), 1)), '2028-02-29');
  });
  it('cycleAt finds the cycle containing a time, boundaries belonging to the new cycle', () => {
    const anchor = Date.UTC(2027, 0, 31);
    const feb28 = cycleStart(anchor, 1);
    assert.equal(cycleAt(anchor, feb28 - 1).index, 0);
    assert.equal(cycleAt(anchor, feb28).index, 1);
    assert.equal(cycleAt(anchor, Date.UTC(2027, 11, 31)).index, 11);
  });
  it('property: boundaries increase and every time falls in exactly its cycle', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2090, 0, 1) }),
        fc.integer({ min: 0, max: 400 * 86_400_000 }),
        (anchor, offset) => {
          const c = cycleAt(anchor, anchor + offset);
          assert.ok(c.startsAt <= anchor + offset && anchor + offset < c.endsAt);
          assert.ok(cycleStart(anchor, c.index + 1) > cycleStart(anchor, c.index));
        },
      ),
      { seed: 3, numRuns: 2000 },
    );
  });
});

describe('proration: half up, integers only', () => {
  const cases: [number, number, number, number][] = [
    [1500, 15, 30, 750],
    [1500, 1, 30, 50],
    [1, 1, 2, 1],
    [3, 1, 2, 2],
    [3499, 0, 31, 0],
    [3499, 31, 31, 3499],
    [700, 10, 28, 250],
  ];
  for (const [amount, rem, len, want] of cases) {
    it(`${amount} x ${rem}/${len} = ${want}`, () => assert.equal(prorate(amount, rem, len), want));
  }
  it('splitByWeight: parts sum to the total (largest remainder)', () => {
    assert.deepEqual(splitByWeight(10, [1, 1, 1]), [4, 3, 3]);
    fc.assert(
      fc.property(
        fc.nat(10_000),
        fc.array(fc.nat(1000), { minLength: 1, maxLength: 8 }),
        (total, w) => {
          if (w.every((x) => x === 0)) return;
          const parts = splitByWeight(total, w);
          assert.equal(
            parts.reduce((s, p) => s + p, 0),
            total,
          );
        },
      ),
      { seed: 5 },
    );
  });
});

describe('rollover: within the cap, oldest trimmed first', () => {
  it('rolls everything when there is room', () => {
    assert.deepEqual(planRollover(120, [], 300), { rolled: 120, expired: 0, trims: [] });
  });
  it('keeps the newest credits: trims the oldest rollover grants to make room', () => {
    const plan = planRollover(
      200,
      [
        { grantId: 'r2', remaining: 100, createdAt: 2 },
        { grantId: 'r1', remaining: 80, createdAt: 1 },
      ],
      300,
    );
    assert.deepEqual(plan, { rolled: 200, expired: 0, trims: [{ grantId: 'r1', credits: 80 }] });
  });
  it('expires what exceeds the cap on its own', () => {
    assert.deepEqual(planRollover(70, [], 50), { rolled: 50, expired: 20, trims: [] });
    assert.deepEqual(planRollover(5, [], 0), { rolled: 0, expired: 5, trims: [] });
  });
  it('property: the balance after never exceeds the cap and nothing is created', () => {
    fc.assert(
      fc.property(
        fc.nat(2000),
        fc.array(fc.nat(500), { maxLength: 4 }),
        fc.nat(1500),
        (unused, olds, cap) => {
          const existing = olds.map((remaining, i) => ({
            grantId: `r${i}`,
            remaining,
            createdAt: i,
          }));
          const held = olds.reduce((s, x) => s + x, 0);
          if (held > cap) return; // the cap held at the previous renewal
          const p = planRollover(unused, existing, cap);
          const trimmed = p.trims.reduce((s, t) => s + t.credits, 0);
          assert.equal(p.rolled + p.expired, unused);
          assert.ok(held - trimmed + p.rolled <= cap);
        },
      ),
      { seed: 9 },
    );
  });
});

describe('renewal: the cycle that starts sets the rules of what is kept into it', () => {
  const plan = (creditsPerCycle: number, rolloverCap: number, rolloverCycles: number): Plan => ({
    name: 'p',
    priceCents: creditsPerCycle * 10,
    creditsPerCycle,
    rolloverCap,
    rolloverCycles,
    seats: 1,
    teamAccess: false,
  });
  const plans = { starter: plan(100, 50, 3), pro: plan(300, 300, 3), slow: plan(100, 50, 1) };
  const anchor = Date.UTC(2027, 0, 10);
  const sub = (over: Partial<Subscription>): Subscription => ({
    accountId: 'a',
    id: 's',
    plan: 'pro',
    pendingPlan: null,
    anchorAt: anchor,
    cycleIndex: 0,
    nextRenewalAt: cycleStart(anchor, 1),
    status: 'active',
    cancelAt: null,
    allocationGrantId: null,
    createdAt: anchor,
    providerRef: null,
    ...over,
  });
  const cases: {
    name: string;
    sub: Partial<Subscription>;
    unused: number;
    rollovers?: { grantId: string; remaining: number; createdAt: number }[];
    want: { rolled: number; expired: number; trimmed: number; allocation: number; plan: string };
    rolloverCycles?: number;
  }[] = [
    {
      name: 'Pro renews as Pro: Pro cap 300',
      sub: {},
      unused: 300,
      want: { rolled: 300, expired: 0, trimmed: 0, allocation: 300, plan: 'pro' },
    },
    {
      name: 'Pro -> Starter at renewal: Starter cap 50, 250 lost to the cap',
      sub: { pendingPlan: 'starter' },
      unused: 300,
      want: { rolled: 50, expired: 250, trimmed: 0, allocation: 100, plan: 'starter' },
    },
    {
      name: 'Pro -> Starter with Pro rollover held: trimmed to Starter cap',
      sub: { pendingPlan: 'starter', cycleIndex: 1, nextRenewalAt: cycleStart(anchor, 2) },
      unused: 40,
      rollovers: [{ grantId: 'r0', remaining: 200, createdAt: 1 }],
      want: { rolled: 40, expired: 0, trimmed: 190, allocation: 100, plan: 'starter' },
    },
    {
      name: 'the next plan sets how long the rolled credits last',
      sub: { plan: 'starter', pendingPlan: 'slow' },
      unused: 30,
      want: { rolled: 30, expired: 0, trimmed: 0, allocation: 100, plan: 'slow' },
      rolloverCycles: 1,
    },
    {
      name: 'a cancel ends the plan: nothing rolls over',
      sub: { cancelAt: cycleStart(anchor, 1) },
      unused: 120,
      want: { rolled: 0, expired: 120, trimmed: 0, allocation: 0, plan: 'pro' },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const s = sub(c.sub);
      const r = planRenewal(s, plans, c.unused, c.rollovers ?? []);
      assert.deepEqual(
        {
          rolled: r.rollover.rolled,
          expired: r.rollover.expired,
          trimmed: r.rollover.trims.reduce((sum, t) => sum + t.credits, 0),
          allocation: r.allocation,
          plan: r.plan,
        },
        c.want,
      );
      assert.equal(
        r.rolloverExpiresAt,
        cycleStart(anchor, s.cycleIndex + 1 + (c.rolloverCycles ?? 3)),
      );
    });
  }
});
