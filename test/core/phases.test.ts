import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseCatalog, type Catalog } from '../../src/core/catalog.js';
import { AmisiError } from '../../src/core/errors.js';
import {
  basisPoints,
  DEFAULT_EXPLORE_PER_FINAL,
  DEFAULT_REFINE_PER_FINAL,
  planPhases,
  type PhasePlan,
} from '../../src/core/phases.js';
import { defaultCatalog } from '../helpers.js';

const catalog = parseCatalog(defaultCatalog());

/** [phase, resolution, images, credits] per phase. */
function phases(plan: PhasePlan) {
  return plan.phases.map((p) => [p.phase, p.resolution, p.images, p.credits]);
}

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

describe('phased planner: the seed claim of 50-75% from the default ratios', () => {
  it('default ratios are 6 explorations and 2 refinements per final image', () => {
    assert.deepEqual([DEFAULT_EXPLORE_PER_FINAL, DEFAULT_REFINE_PER_FINAL], [6, 2]);
  });

  it('10 finals at 4K: 60 x 1 + 20 x 2 + 10 x 3 = 130 against 90 x 3 = 270, saving 140 (51.85%)', () => {
    const plan = planPhases(catalog, { finals: 10, resolution: '4k' });
    assert.deepEqual(phases(plan), [
      ['explore', '720p', 60, 60],
      ['refine', '1080p', 20, 40],
      ['finalize', '4k', 10, 30],
    ]);
    assert.deepEqual(
      [plan.images, plan.phasedCredits, plan.allAtFinalCredits, plan.savingCredits],
      [90, 130, 270, 140],
    );
    // 140 / 270 = 0.518518... = 5185 basis points.
    assert.equal(plan.savingBasisPoints, 5185);
    assert.ok(plan.savingBasisPoints >= 5000 && plan.savingBasisPoints <= 7500);
    assert.deepEqual(
      plan.phases.map((p) => p.source),
      ['default', 'default', 'given'],
    );
  });

  it('10 finals at 8K: 60 + 40 + 40 = 140 against 90 x 4 = 360, saving 220 (61.11%)', () => {
    const plan = planPhases(catalog, { finals: 10, resolution: '8k' });
    assert.deepEqual(phases(plan), [
      ['explore', '720p', 60, 60],
      ['refine', '1080p', 20, 40],
      ['finalize', '8k', 10, 40],
    ]);
    assert.deepEqual(
      [plan.phasedCredits, plan.allAtFinalCredits, plan.savingCredits, plan.savingBasisPoints],
      [140, 360, 220, 6111],
    );
  });

  it('the default ratios keep 4K and 8K within 50-75% for any number of finals', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }),
        fc.constantFrom('4k', '8k', '4K', '8K'),
        (finals, resolution) => {
          const bp = planPhases(catalog, { finals, resolution }).savingBasisPoints;
          assert.equal(bp, resolution.toLowerCase() === '4k' ? 5185 : 6111);
        },
      ),
    );
  });

  it('lower finals: 1080p saves 33.33%; 720p saves nothing (no phase runs above the final)', () => {
    const hd = planPhases(catalog, { finals: 1, resolution: '1080p' });
    assert.deepEqual(
      [hd.phasedCredits, hd.allAtFinalCredits, hd.savingBasisPoints],
      [6 + 4 + 2, 9 * 2, 3333],
    );
    const sd = planPhases(catalog, { finals: 3, resolution: '720p' });
    assert.deepEqual(phases(sd), [
      ['explore', '720p', 18, 18],
      ['refine', '720p', 6, 6],
      ['finalize', '720p', 3, 3],
    ]);
    assert.deepEqual([sd.phasedCredits, sd.allAtFinalCredits, sd.savingCredits], [27, 27, 0]);
    assert.equal(sd.savingBasisPoints, 0);
  });
});

describe('phased planner: counts given, prices from the catalog, errors', () => {
  it('explicit counts replace the ratios, one at a time or both; zero skips a phase', () => {
    const plan = planPhases(catalog, { finals: 4, resolution: '4k', explore: 40 });
    assert.deepEqual(phases(plan), [
      ['explore', '720p', 40, 40],
      ['refine', '1080p', 8, 16],
      ['finalize', '4k', 4, 12],
    ]);
    assert.deepEqual(
      plan.phases.map((p) => p.source),
      ['given', 'default', 'given'],
    );
    // 68 credits against 52 x 3 = 156: saving 88 = 56.41%.
    assert.deepEqual(
      [plan.phasedCredits, plan.allAtFinalCredits, plan.savingBasisPoints],
      [68, 156, 5641],
    );
    const direct = planPhases(catalog, { finals: 5, resolution: '8k', explore: 0, refine: 0 });
    assert.deepEqual(
      [direct.phasedCredits, direct.allAtFinalCredits, direct.savingCredits],
      [20, 20, 0],
    );
  });

  it('prices come from the catalog: a dearer 8K changes the plan', () => {
    const c = withImagePrices({ '720p': 1, '1080p': 2, '4k': 3, '8k': 10 });
    const plan = planPhases(c, { finals: 1, resolution: '8k' });
    // 6 + 4 + 10 = 20 against 9 x 10 = 90: saving 70 = 77.78%.
    assert.deepEqual(
      [plan.phasedCredits, plan.allAtFinalCredits, plan.savingBasisPoints],
      [20, 90, 7778],
    );
  });

  it('a catalog without 720p says so', () => {
    const c = withImagePrices({ '1080p': 2, '4k': 3 });
    assert.throws(
      () => planPhases(c, { finals: 1, resolution: '4k' }),
      (e: unknown) =>
        e instanceof AmisiError &&
        e.code === 'invalid_parameter' &&
        /has no 720p price for image\.generate \(its resolutions: 1080p, 4k\): the explore phase needs it/.test(
          e.message,
        ),
    );
  });

  it('an unknown final resolution lists the allowed ones', () => {
    assert.throws(
      () => planPhases(catalog, { finals: 1, resolution: '16k' }),
      (e: unknown) =>
        e instanceof AmisiError &&
        e.code === 'invalid_parameter' &&
        JSON.stringify(e.data.allowed) === JSON.stringify(['720p', '1080p', '4k', '8k']),
    );
  });

  it('counts out of range are invalid_argument', () => {
    const bad: [string, Parameters<typeof planPhases>[1]][] = [
      ['finals', { finals: 0, resolution: '4k' }],
      ['finals', { finals: 1.5, resolution: '4k' }],
      ['finals', { finals: 100_001, resolution: '4k' }],
      ['explore', { finals: 1, resolution: '4k', explore: -1 }],
      ['refine', { finals: 1, resolution: '4k', refine: 1_000_001 }],
    ];
    for (const [field, request] of bad) {
      assert.throws(
        () => planPhases(catalog, request),
        (e: unknown) =>
          e instanceof AmisiError && e.code === 'invalid_argument' && e.data.field === field,
        JSON.stringify(request),
      );
    }
  });

  it('basis points round half up with integers only', () => {
    assert.equal(basisPoints(1, 3), 3333);
    assert.equal(basisPoints(2, 3), 6667);
    assert.equal(basisPoints(1, 20_000), 1); // 0.5 -> 1
    assert.equal(basisPoints(0, 7), 0);
    assert.equal(basisPoints(7, 7), 10_000);
  });
});
