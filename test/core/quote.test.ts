import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCatalog } from '../../src/core/catalog.js';
import { AmisiError } from '../../src/core/errors.js';
import { quote } from '../../src/core/quote.js';
import { defaultCatalog } from '../helpers.js';

const catalog = parseCatalog(defaultCatalog());

describe('quote: the seed prices', () => {
  const table: [string, number][] = [
    ['720p', 1],
    ['1080p', 2],
    ['4k', 3],
    ['8k', 4],
  ];
  for (const [resolution, perImage] of table) {
    it(`image.generate at ${resolution} costs ${perImage} per image`, () => {
      const q = quote(catalog, [{ operation: 'image.generate', params: { resolution }, count: 3 }]);
      assert.equal(q.credits, perImage * 3);
      assert.equal(q.lines[0]?.unitCredits, perImage);
      assert.equal(q.lines[0]?.count, 3);
      assert.equal(q.catalogVersion, catalog.version);
    });
  }

  it('4k x 2 is 6 credits, one line per item', () => {
    const q = quote(catalog, [
      { operation: 'image.generate', params: { resolution: '4k' }, count: 2 },
      { operation: 'image.edit' },
    ]);
    assert.equal(q.credits, 7);
    assert.deepEqual(
      q.lines.map((l) => [l.operation, l.unitCredits, l.count, l.credits]),
      [
        ['image.generate', 3, 2, 6],
        ['image.edit', 1, 1, 1],
      ],
    );
  });

  it('unknown operations and values name what is allowed', () => {
    assert.throws(
      () => quote(catalog, [{ operation: 'video.generate' }]),
      (e: unknown) =>
        e instanceof AmisiError && e.code === 'unknown_operation' && Array.isArray(e.data.allowed),
    );
    assert.throws(
      () => quote(catalog, [{ operation: 'image.generate', params: { resolution: '16k' } }]),
      (e: unknown) =>
        e instanceof AmisiError &&
        e.code === 'invalid_parameter' &&
        JSON.stringify(e.data.allowed) === JSON.stringify(['720p', '1080p', '4k', '8k']),
    );
    for (const count of [0, -1, 1.5, 101]) {
      assert.throws(
        () => quote(catalog, [{ operation: 'image.generate', count }]),
        (e: unknown) => e instanceof AmisiError && e.code === 'invalid_parameter',
      );
    }
  });
});
