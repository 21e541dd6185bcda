import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  compareSpendOrder,
  GRANT_SOURCES,
  planDraws,
  splitCapture,
  type Grant,
  type GrantSource,
} from '../../src/core/grants.js';

const NOW = Date.UTC(2026, 5, 1);
const DAY = 86_400_000;

function grant(id: string, over: Partial<Grant> = {}): Grant {
  return {
    accountId: 'a',
    id,
    source: 'purchase',
    amount: 10,
    remaining: 10,
    startsAt: NOW - DAY,
    expiresAt: null,
    createdAt: NOW - DAY,
    ...over,
  };
}

describe('spend order', () => {
  const cases: [string, Grant[], string[]][] = [
    [
      'soonest expiry first, never-expiring last',
      [
        grant('never'),
        grant('late', { expiresAt: NOW + 30 * DAY }),
        grant('soon', { expiresAt: NOW + DAY }),
      ],
      ['soon', 'late', 'never'],
    ],
    [
      'same expiry: promotion, allocation, rollover, adjustment, purchase',
      (['purchase', 'adjustment', 'rollover', 'allocation', 'promotion'] as GrantSource[]).map(
        (source) => grant(source, { source, expiresAt: NOW + DAY }),
      ),
      ['promotion', 'allocation', 'rollover', 'adjustment', 'purchase'],
    ],
    [
      'same expiry and source: oldest first, then id',
      [
        grant('b', { createdAt: NOW - 2 * DAY }),
        grant('c', { createdAt: NOW - 3 * DAY }),
        grant('a', { createdAt: NOW - 2 * DAY }),
      ],
      ['c', 'a', 'b'],
    ],
  ];
  for (const [name, grants, expected] of cases) {
    it(name, () => {
      assert.deepEqual(
        [...grants].sort(compareSpendOrder).map((g) => g.id),
        expected,
      );
    });
  }

  it('is a total order: antisymmetric, transitive, and equal only for the same id', () => {
    const arbGrant = fc.record({
      id: fc.string({ minLength: 1, maxLength: 3 }),
      source: fc.constantFrom(...GRANT_SOURCES),
      expiresAt: fc.option(fc.integer({ min: 0, max: 5 }), { nil: null }),
      createdAt: fc.integer({ min: 0, max: 3 }),
    });
    fc.assert(
      fc.property(arbGrant, arbGrant, arbGrant, (x, y, z) => {
        const [a, b, c] = [grant(x.id, x), grant(y.id, y), grant(z.id, z)];
        assert.equal(Math.sign(compareSpendOrder(a, b)), -Math.sign(compareSpendOrder(b, a)));
        if (compareSpendOrder(a, b) === 0) assert.equal(a.id, b.id);
        if (compareSpendOrder(a, b) < 0 && compareSpendOrder(b, c) < 0)
          assert.ok(compareSpendOrder(a, c) < 0);
      }),
      { seed: 42, numRuns: 2000 },
    );
  });
});

describe('planDraws', () => {
  it('takes from the soonest-expiring grant first and spills over in order', () => {
    const plan = planDraws(
      [grant('never', { remaining: 10 }), grant('soon', { remaining: 3, expiresAt: NOW + DAY })],
      5,
      NOW,
    );
    assert.deepEqual(plan, {
      ok: true,
      draws: [
        { grantId: 'soon', credits: 3 },
        { grantId: 'never', credits: 2 },
      ],
    });
  });
  it('skips expired grants and grants that have not started', () => {
    const plan = planDraws(
      [
        grant('expired', { expiresAt: NOW }),
        grant('future', { startsAt: NOW + 1 }),
        grant('ok', { remaining: 4 }),
      ],
      5,
      NOW,
    );
    assert.deepEqual(plan, { ok: false, available: 4 });
  });
  it('property: draws sum to the request, never exceed a grant, or the request exceeds what is available', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            remaining: fc.integer({ min: 0, max: 50 }),
            exp: fc.option(fc.integer({ min: -2, max: 5 }), { nil: null }),
          }),
          { maxLength: 8 },
        ),
        fc.integer({ min: 1, max: 200 }),
        (specs, credits) => {
          const grants = specs.map((s, i) =>
            grant(`g${i}`, {
              amount: 50,
              remaining: s.remaining,
              expiresAt: s.exp === null ? null : NOW + s.exp * DAY,
            }),
          );
          const spendable = grants
            .filter((g) => g.expiresAt === null || g.expiresAt > NOW)
            .reduce((s, g) => s + g.remaining, 0);
          const plan = planDraws(grants, credits, NOW);
          if (!plan.ok) {
            assert.ok(spendable < credits);
            assert.equal(plan.available, spendable);
            return;
          }
          assert.equal(
            plan.draws.reduce((s, d) => s + d.credits, 0),
            credits,
          );
          for (const d of plan.draws) {
            const g = grants.find((x) => x.id === d.grantId)!;
            assert.ok(d.credits > 0 && d.credits <= g.remaining);
          }
          assert.equal(new Set(plan.draws.map((d) => d.grantId)).size, plan.draws.length);
        },
      ),
      { seed: 7, numRuns: 2000 },
    );
  });
});

describe('splitCapture', () => {
  it('consumes draws in order and returns the rest of each', () => {
    const split = splitCapture(
      [
        { grantId: 'a', credits: 3 },
        { grantId: 'b', credits: 4 },
      ],
      5,
    );
    assert.deepEqual(split, {
      consumed: [
        { grantId: 'a', credits: 3 },
        { grantId: 'b', credits: 2 },
      ],
      returned: [{ grantId: 'b', credits: 2 }],
    });
  });
  it('property: consumed + returned equals the hold, consumed equals the capture', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 6 }),
        fc.nat(),
        (amounts, seed) => {
          const draws = amounts.map((credits, i) => ({ grantId: `g${i}`, credits }));
          const held = amounts.reduce((s, a) => s + a, 0);
          const capture = seed % (held + 1);
          const { consumed, returned } = splitCapture(draws, capture);
          assert.equal(
            consumed.reduce((s, d) => s + d.credits, 0),
            capture,
          );
          assert.equal(
            returned.reduce((s, d) => s + d.credits, 0),
            held - capture,
          );
          for (const d of draws) {
            const c = consumed.find((x) => x.grantId === d.grantId)?.credits ?? 0;
            const r = returned.find((x) => x.grantId === d.grantId)?.credits ?? 0;
            assert.equal(c + r, d.credits);
          }
        },
      ),
      { seed: 11, numRuns: 2000 },
    );
  });
  it('refuses to capture more than held', () => {
    assert.throws(() => splitCapture([{ grantId: 'a', credits: 2 }], 3), /invariant/);
  });
});
