import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseCatalog } from '../../src/core/catalog.js';
import { AmisiError } from '../../src/core/errors.js';
import {
  cheapestPacks,
  MAX_SHORTFALL_CREDITS,
  type PackCombination,
  type PackOffer,
} from '../../src/core/packs.js';
import { defaultCatalog } from '../helpers.js';

const catalog = parseCatalog(defaultCatalog());

/** The combination as [pack, count] pairs and the total in cents. */
function shape(c: PackCombination): [[string, number][], number] {
  return [c.lines.map((l) => [l.pack, l.count]), c.priceCents];
}

describe('cheapest packs with the seed packs (20 $9.99, 50 $19.99, 100 $34.99, 200 $59.99)', () => {
  // Worked by hand: every combination that covers N without a removable pack, cheapest first.
  const cases: [number, [string, number][], number, string][] = [
    [1, [['pack-20', 1]], 999, 'one small pack'],
    [20, [['pack-20', 1]], 999, 'exactly one pack-20'],
    [21, [['pack-20', 2]], 1998, '2 x pack-20 (19.98) beats pack-50 (19.99)'],
    [41, [['pack-50', 1]], 1999, 'pack-50 (19.99) beats 3 x pack-20 (29.97)'],
    [60, [['pack-20', 3]], 2997, '3 x pack-20 (29.97) beats pack-20 + pack-50 (29.98), pack-100'],
    [
      70,
      [
        ['pack-20', 1],
        ['pack-50', 1],
      ],
      2998,
      'pack-20 + pack-50 (29.98) beats 4 x pack-20 (39.96) and pack-100 (34.99)',
    ],
    [80, [['pack-100', 1]], 3499, 'pack-100 (34.99) beats 4 x pack-20 (39.96)'],
    [100, [['pack-100', 1]], 3499, 'pack-100 (34.99) beats 2 x pack-50 (39.98)'],
    [
      101,
      [
        ['pack-20', 1],
        ['pack-100', 1],
      ],
      4498,
      'pack-20 + pack-100 (44.98) beats pack-200 (59.99)',
    ],
    [
      150,
      [
        ['pack-50', 1],
        ['pack-100', 1],
      ],
      5498,
      'pack-50 + pack-100 (54.98) beats pack-200 (59.99)',
    ],
    [160, [['pack-200', 1]], 5999, 'pack-200 (59.99) beats pack-20 + pack-50 + pack-100 (64.97)'],
    [
      201,
      [
        ['pack-20', 1],
        ['pack-200', 1],
      ],
      6998,
      'pack-20 + pack-200 (69.98)',
    ],
  ];
  for (const [n, lines, cents, why] of cases) {
    it(`${n} credits: ${why}`, () => {
      const c = cheapestPacks(catalog.packs, n);
      assert.deepEqual(shape(c), [lines, cents]);
      assert.equal(c.shortfall, n);
      assert.equal(c.surplus, c.credits - n);
      assert.equal(
        c.packs,
        lines.reduce((s, [, k]) => s + k, 0),
      );
    });
  }

  it('totals, surplus and price per credit for 70 credits', () => {
    const c = cheapestPacks(catalog.packs, 70);
    assert.deepEqual(
      c.lines.map((l) => [l.pack, l.unitCredits, l.unitPriceCents, l.count, l.credits]),
      [
        ['pack-20', 20, 999, 1, 20],
        ['pack-50', 50, 1999, 1, 50],
      ],
    );
    assert.deepEqual([c.credits, c.priceCents, c.surplus, c.packs], [70, 2998, 0, 2]);
    // 2998 / 70 = 42.8285... cents per credit = 42829 millicents (half up).
    assert.equal(c.pricePerCreditMillicents, 42829);
  });

  it('not greedy: the best rate (pack-200) or the largest fitting pack first both cost more', () => {
    // Greedy by rate buys a pack-200 for 60 credits (59.99); largest-first buys 50 + 20 (29.98).
    assert.equal(cheapestPacks(catalog.packs, 60).priceCents, 2997);
  });

  it('the largest shortfall: 100,000 credits is 500 x pack-200', () => {
    assert.equal(MAX_SHORTFALL_CREDITS, 100_000);
    const c = cheapestPacks(catalog.packs, MAX_SHORTFALL_CREDITS);
    assert.deepEqual(shape(c), [[['pack-200', 500]], 500 * 5999]);
    assert.equal(c.surplus, 0);
  });
});

describe('cheapest packs: tie-breaks and errors', () => {
  it('equal price: the most credits', () => {
    const c = cheapestPacks(
      { x: { credits: 10, priceCents: 100 }, y: { credits: 12, priceCents: 100 } },
      5,
    );
    assert.deepEqual(shape(c), [[['y', 1]], 100]);
  });
  it('equal price and credits: the fewest packs', () => {
    const packs = { p: { credits: 10, priceCents: 100 }, q: { credits: 20, priceCents: 200 } };
    assert.deepEqual(shape(cheapestPacks(packs, 20)), [[['q', 1]], 200]);
    // 25: 3 x p or p + q, both 300 for 30 credits.
    assert.deepEqual(shape(cheapestPacks(packs, 25)), [
      [
        ['p', 1],
        ['q', 1],
      ],
      300,
    ]);
    // 35: 4 x p, 2 x p + q or 2 x q, all 400 for 40 credits.
    assert.deepEqual(shape(cheapestPacks(packs, 35)), [[['q', 2]], 400]);
  });
  it('equal price, credits and packs: pack ids (code-unit order)', () => {
    const twins = { b: { credits: 10, priceCents: 500 }, a: { credits: 10, priceCents: 500 } };
    assert.deepEqual(shape(cheapestPacks(twins, 10)), [[['a', 1]], 500]);
    assert.deepEqual(shape(cheapestPacks(twins, 15)), [[['a', 2]], 1000]);
    // "B" sorts before "a" in code units, whatever the locale says.
    const cased = { a: { credits: 10, priceCents: 500 }, B: { credits: 10, priceCents: 500 } };
    assert.deepEqual(shape(cheapestPacks(cased, 10)), [[['B', 1]], 500]);
  });

  it('a shortfall that is not a whole number from 1 to 1,000,000 is invalid_credits', () => {
    for (const n of [0, -1, 1.5, Number.NaN, MAX_SHORTFALL_CREDITS + 1]) {
      assert.throws(
        () => cheapestPacks(catalog.packs, n),
        (e: unknown) => e instanceof AmisiError && e.code === 'invalid_credits',
        String(n),
      );
    }
  });
  it('a catalog without packs is unknown_pack', () => {
    assert.throws(
      () => cheapestPacks({}, 10),
      (e: unknown) => e instanceof AmisiError && e.code === 'unknown_pack',
    );
  });
});

/** Negative when a is better, by the documented order: price, more credits, fewer packs, ids. */
function better(a: Brute, b: Brute): number {
  if (a.price !== b.price) return a.price - b.price;
  if (a.credits !== b.credits) return b.credits - a.credits;
  if (a.ids.length !== b.ids.length) return a.ids.length - b.ids.length;
  for (let i = 0; i < a.ids.length; i++) {
    if (a.ids[i] !== b.ids[i]) return a.ids[i]! < b.ids[i]! ? -1 : 1;
  }
  return 0;
}

interface Brute {
  readonly price: number;
  readonly credits: number;
  /** Every pack bought, sorted by id (code units). */
  readonly ids: readonly string[];
}

/**
 * Every count vector with count_i from 0 to ceil(N / credits_i), except that once the packs
 * chosen so far cover N the later counts stay 0: with prices of at least 1 cent, a vector
 * that still covers N without one of its packs is dearer than that vector, so it is never
 * among the cheapest (not even on a tie of price).
 */
function bruteForce(packs: Record<string, PackOffer>, n: number): Brute {
  const entries = Object.entries(packs);
  let best: Brute | null = null;
  const counts = entries.map(() => 0);
  const visit = (i: number, credits: number) => {
    if (i === entries.length || credits >= n) {
      if (credits < n) return;
      const price = entries.reduce((s, [, p], j) => s + counts[j]! * p.priceCents, 0);
      if (best !== null && price > best.price) return;
      const ids = entries.flatMap(([id], j) => Array<string>(counts[j]!).fill(id));
      ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const found = { price, credits, ids };
      if (best === null || better(found, best) < 0) best = found;
      return;
    }
    const [, p] = entries[i]!;
    for (let k = 0; k <= Math.ceil(n / p.credits); k++) {
      counts[i] = k;
      visit(i + 1, credits + k * p.credits);
    }
    counts[i] = 0;
  };
  visit(0, 0);
  assert.ok(best);
  return best;
}

const arbPacks = fc
  .uniqueArray(
    fc.record({
      id: fc.stringMatching(/^[a-z][a-z0-9-]{0,5}$/),
      credits: fc.integer({ min: 1, max: 60 }),
      priceCents: fc.integer({ min: 1, max: 5000 }),
    }),
    { minLength: 2, maxLength: 4, selector: (p) => p.id },
  )
  .map((list) => Object.fromEntries(list.map(({ id, ...p }) => [id, p])));

describe('cheapest packs: property against brute force', () => {
  it('same cost as every count vector, covers N, and the same answer on every tie-break', () => {
    fc.assert(
      fc.property(arbPacks, fc.integer({ min: 1, max: 150 }), (packs, n) => {
        const c = cheapestPacks(packs, n);
        const brute = bruteForce(packs, n);
        assert.equal(c.priceCents, brute.price);
        assert.ok(c.credits >= n, 'covers the shortfall');
        assert.equal(c.surplus, c.credits - n);
        assert.equal(
          c.lines.reduce((s, l) => s + l.priceCents, 0),
          c.priceCents,
        );
        assert.equal(
          c.lines.reduce((s, l) => s + l.credits, 0),
          c.credits,
        );
        assert.equal(
          c.lines.reduce((s, l) => s + l.count, 0),
          c.packs,
        );
        for (const l of c.lines) {
          assert.equal(l.priceCents, l.count * packs[l.pack]!.priceCents);
          assert.equal(l.credits, l.count * packs[l.pack]!.credits);
        }
        const ids = c.lines
          .flatMap((l) => Array<string>(l.count).fill(l.pack))
          .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        assert.deepEqual({ credits: c.credits, ids }, { credits: brute.credits, ids: brute.ids });
      }),
      { numRuns: 300 },
    );
  });

  it('same cost as a covering-DP for larger shortfalls (up to 3000)', () => {
    fc.assert(
      fc.property(arbPacks, fc.integer({ min: 1, max: 3000 }), (packs, n) => {
        // cover[t]: the cheapest price of at least t credits, by another recurrence.
        const offers = Object.values(packs);
        const cover = [0];
        for (let t = 1; t <= n; t++) {
          cover[t] = Math.min(
            ...offers.map((p) => cover[Math.max(0, t - p.credits)]! + p.priceCents),
          );
        }
        assert.equal(cheapestPacks(packs, n).priceCents, cover[n]);
      }),
      { numRuns: 100 },
    );
  });
});
