import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { catalogProblems, parseCatalog } from '../../src/core/catalog.js';
import { parseCredits } from '../../src/core/credits.js';
import { AmisiError, errorTable } from '../../src/core/errors.js';
import { formatMoney } from '../../src/core/money.js';
import { defaultCatalog } from '../helpers.js';

describe('the default catalog', () => {
  const c = parseCatalog(defaultCatalog());
  it('is valid and frozen', () => {
    assert.deepEqual(catalogProblems(defaultCatalog()), []);
    assert.ok(Object.isFrozen(c.operations['image.generate']!.price.table));
  });
  it("has the seed's packs and PRODUCT.md's plans", () => {
    assert.deepEqual(
      Object.values(c.packs).map((p) => [p.credits, p.priceCents]),
      [
        [20, 999],
        [50, 1999],
        [100, 3499],
        [200, 5999],
      ],
    );
    assert.deepEqual(
      Object.entries(c.plans).map(([id, p]) => [
        id,
        p.priceCents,
        p.creditsPerCycle,
        p.rolloverCap,
        p.seats,
        p.teamAccess,
      ]),
      [
        ['free', 0, 10, 0, 1, false],
        ['starter', 999, 100, 50, 1, false],
        ['pro', 2499, 300, 300, 3, true],
        ['business', 5999, 1000, 1000, 10, true],
      ],
    );
    for (const p of Object.values(c.packs)) assert.equal(p.expiresAfterMonths, 12);
  });
  it('labels every operation but image.generate as an example', () => {
    for (const [id, op] of Object.entries(c.operations)) {
      assert.equal(op.example === true, id !== 'image.generate', id);
    }
  });
});

describe('catalog problems name the path and the reason', () => {
  const base = () =>
    structuredClone(defaultCatalog()) as Record<string, unknown> & {
      operations: Record<string, Record<string, unknown>>;
    };
  const cases: [string, (c: ReturnType<typeof base>) => void, string][] = [
    [
      'a fractional price',
      (c) => ((c.operations['image.edit']!.price as { flat: number }).flat = 1.5),
      '/operations/image.edit/price/flat',
    ],
    [
      'a negative count limit',
      (c) => (c.operations['image.edit']!.maxCount = -1),
      '/operations/image.edit/maxCount',
    ],
    [
      'an unknown field',
      (c) => (c.operations['image.edit']!.colour = 'red'),
      '/operations/image.edit/colour',
    ],
    ['a missing version', (c) => delete c.version, '/version'],
    [
      'a price by an unknown parameter',
      (c) => ((c.operations['image.upscale']!.price as { by: string }).by = 'size'),
      '/operations/image.upscale/price/by',
    ],
  ];
  for (const [name, mutate, path] of cases) {
    it(name, () => {
      const c = base();
      mutate(c);
      const problems = catalogProblems(c);
      assert.ok(
        problems.some((p) => p.path === path && p.reason.length > 0),
        JSON.stringify(problems),
      );
      assert.throws(
        () => parseCatalog(c),
        (e: unknown) => e instanceof AmisiError && e.code === 'catalog_invalid',
      );
    });
  }
});

describe('numbers are integers', () => {
  it('parseCredits takes whole positive numbers only', () => {
    assert.equal(parseCredits('12'), 12);
    for (const bad of ['1.5', '1e3', '-2', '0x10', '', ' 1', '0', '99999999999999999999']) {
      assert.throws(
        () => parseCredits(bad),
        (e: unknown) => e instanceof AmisiError && e.code === 'invalid_credits',
        bad,
      );
    }
  });
  it('formatMoney never goes through floats', () => {
    assert.equal(formatMoney(999, 'usd'), '9.99 USD');
    assert.equal(formatMoney(5, 'eur'), '0.05 EUR');
    assert.equal(formatMoney(-12345, 'usd'), '-123.45 USD');
  });
});

describe('the error table', () => {
  it('gives every code a status, an exit code other than 0, and a hint', () => {
    for (const [code, info] of Object.entries(errorTable)) {
      assert.ok(info.status >= 400 && info.status < 600, code);
      assert.ok(info.exit > 0, code);
      assert.ok(info.hint.length > 0, code);
    }
  });
});
