import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCatalog, type Catalog } from '../../src/core/catalog.js';
import { AmisiError } from '../../src/core/errors.js';
import {
  findUse,
  guideline,
  guidelines,
  imageResolutionPrices,
  INTENDED_USES,
} from '../../src/core/guidance.js';
import { defaultCatalog } from '../helpers.js';

const catalog = parseCatalog(defaultCatalog());

interface ImageOp {
  params: { resolution: { values: string[]; default?: string } };
  price: { table: Record<string, number> };
}

/** A copy of the default catalog with image.generate priced by `table`. */
function withImagePrices(table: Record<string, number>): Catalog {
  const body = defaultCatalog() as { operations: Record<string, ImageOp> };
  const op = body.operations['image.generate']!;
  op.params.resolution = { values: Object.keys(table), default: Object.keys(table)[0]! };
  op.price.table = table;
  return parseCatalog(body);
}

describe('resolution guidance: the seed table, priced by the catalog', () => {
  it('every use in the seed order, with its resolution and credits per image', () => {
    assert.deepEqual(
      guidelines(catalog).map((g) => [g.use, g.resolution, g.credits, g.note]),
      [
        ['thumbnail', '720p', 1, null],
        ['small-web', '720p', 1, null],
        ['web', '1080p', 2, null],
        ['social', '1080p', 2, null],
        ['header', '4k', 3, null],
        ['print', '4k', 3, null],
        ['large-format', '8k', 4, null],
        ['editing', '8k', 4, null],
      ],
    );
  });

  const aliases: [string, string][] = [
    ['thumbnails', 'thumbnail'],
    ['Small Web', 'small-web'],
    ['small_web', 'small-web'],
    ['website', 'web'],
    ['social media', 'social'],
    ['SOCIAL-MEDIA', 'social'],
    ['headers', 'header'],
    ['hero', 'header'],
    ['print materials', 'print'],
    ['large format print', 'large-format'],
    ['poster', 'large-format'],
    ['detailed editing', 'editing'],
    ['  editing ', 'editing'],
  ];
  for (const [text, use] of aliases) {
    it(`"${text}" is ${use}`, () => assert.equal(guideline(catalog, text).use, use));
  }

  it('ids and aliases are unique, lower-case and hyphenated', () => {
    const names = INTENDED_USES.flatMap((u) => [u.use, ...u.aliases]);
    assert.equal(new Set(names).size, names.length);
    for (const n of names) assert.match(n, /^[a-z0-9]+(-[a-z0-9]+)*$/);
    for (const u of INTENDED_USES) assert.equal(findUse(u.use), u);
  });

  it('an unknown use is invalid_argument listing the allowed ids', () => {
    assert.throws(
      () => guideline(catalog, 'billboard-on-the-moon'),
      (e: unknown) =>
        e instanceof AmisiError &&
        e.code === 'invalid_argument' &&
        e.data.field === 'use' &&
        JSON.stringify(e.data.allowed) === JSON.stringify(INTENDED_USES.map((u) => u.use)) &&
        e.message.includes(
          'thumbnail, small-web, web, social, header, print, large-format, editing',
        ),
    );
  });

  it('credits come from the active catalog, not from the seed', () => {
    const c = withImagePrices({ '720p': 2, '1080p': 5, '4K': 7, '8k': 11 });
    assert.deepEqual(
      guidelines(c).map((g) => [g.use, g.resolution, g.credits]),
      [
        ['thumbnail', '720p', 2],
        ['small-web', '720p', 2],
        ['web', '1080p', 5],
        ['social', '1080p', 5],
        // The catalog's own spelling of the resolution.
        ['header', '4K', 7],
        ['print', '4K', 7],
        ['large-format', '8k', 11],
        ['editing', '8k', 11],
      ],
    );
  });

  it('a catalog without the resolution says so on the rows that need it', () => {
    const c = withImagePrices({ '720p': 1, '1080p': 2, '4k': 3 });
    const g = guideline(c, 'large-format');
    assert.equal(g.resolution, '8k');
    assert.equal(g.credits, null);
    assert.equal(
      g.note,
      `catalog ${c.version} has no 8k price for image.generate (its resolutions: 720p, 1080p, 4k)`,
    );
    assert.equal(guideline(c, 'print').note, null);
  });

  it('a catalog without image.generate is unknown_operation', () => {
    const body = defaultCatalog() as { operations: Record<string, unknown> };
    delete body.operations['image.generate'];
    const c = parseCatalog(body);
    assert.throws(
      () => guidelines(c),
      (e: unknown) => e instanceof AmisiError && e.code === 'unknown_operation',
    );
  });

  it('image prices in the catalog order', () => {
    assert.deepEqual(imageResolutionPrices(catalog), [
      { resolution: '720p', credits: 1 },
      { resolution: '1080p', credits: 2 },
      { resolution: '4k', credits: 3 },
      { resolution: '8k', credits: 4 },
    ]);
  });
});
