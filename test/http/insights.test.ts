import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defaultCatalog } from '../helpers.js';
import { BOTH_STORES } from '../pg-helpers.js';
import { ok, problem, startServer, type TestServer } from './http-helpers.js';

/**
 * Guidance, the phased planner and the cheapest packs through real HTTP, on each store. Every
 * response is checked against /openapi.json by the helper.
 */

const json = (b: unknown) => b as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

for (const [storeName, open, skip] of BOTH_STORES) {
  describe(`insights over HTTP on ${storeName}`, { skip }, () => {
    let s: TestServer;
    let accountKey = '';
    let readOnlyKey = '';
    before(async () => {
      s = await startServer({ open });
      ok(await s.call('POST', '/v1/accounts', { body: { id: 'ann' } }), 201);
      accountKey = await s.keyFor('ann');
      readOnlyKey = await s.keyFor('ann', true);
    });
    after(async () => s?.close());

    it('GET /v1/guide: every use, or one by id or alias; any account key may read it', async () => {
      const all = json(ok(await s.call('GET', '/v1/guide', { key: readOnlyKey })));
      assert.equal(all.operation, 'image.generate');
      assert.deepEqual(
        all.guidelines.map((g: { use: string; resolution: string; credits: number }) => [
          g.use,
          g.resolution,
          g.credits,
        ]),
        [
          ['thumbnail', '720p', 1],
          ['small-web', '720p', 1],
          ['web', '1080p', 2],
          ['social', '1080p', 2],
          ['header', '4k', 3],
          ['print', '4k', 3],
          ['large-format', '8k', 4],
          ['editing', '8k', 4],
        ],
      );
      const one = json(
        ok(await s.call('GET', '/v1/guide?use=social%20media', { key: accountKey })),
      );
      assert.deepEqual(
        one.guidelines.map((g: { use: string; credits: number }) => [g.use, g.credits]),
        [['social', 2]],
      );
      const bad = problem(await s.call('GET', '/v1/guide?use=moon'), 400, 'invalid_argument');
      assert.deepEqual(bad.allowed, [
        'thumbnail',
        'small-web',
        'web',
        'social',
        'header',
        'print',
        'large-format',
        'editing',
      ]);
      problem(await s.call('GET', '/v1/guide', { key: null }), 401, 'unauthorized');
    });

    it('POST /v1/plan-phases: the seed claim for 4K and 8K with the default ratios', async () => {
      const four = json(
        ok(
          await s.call('POST', '/v1/plan-phases', {
            key: accountKey,
            body: { finals: 10, resolution: '4k' },
          }),
        ),
      );
      assert.deepEqual(
        four.phases.map((p: { phase: string; images: number; credits: number }) => [
          p.phase,
          p.images,
          p.credits,
        ]),
        [
          ['explore', 60, 60],
          ['refine', 20, 40],
          ['finalize', 10, 30],
        ],
      );
      assert.deepEqual(
        [four.phasedCredits, four.allAtFinalCredits, four.savingCredits, four.savingBasisPoints],
        [130, 270, 140, 5185],
      );
      const eight = json(
        ok(await s.call('POST', '/v1/plan-phases', { body: { finals: 10, resolution: '8k' } })),
      );
      assert.deepEqual(
        [eight.phasedCredits, eight.allAtFinalCredits, eight.savingBasisPoints],
        [140, 360, 6111],
      );
      const given = json(
        ok(
          await s.call('POST', '/v1/plan-phases', {
            body: { finals: 2, resolution: '4k', explore: 10, refine: 0 },
          }),
        ),
      );
      // 10 + 0 + 6 = 16 against 12 x 3 = 36: saving 20 = 55.56%.
      assert.deepEqual([given.phasedCredits, given.savingBasisPoints], [16, 5556]);
    });

    it('POST /v1/plan-phases: bad bodies, unknown resolutions, read-only keys', async () => {
      for (const body of [
        {},
        { finals: 0, resolution: '4k' },
        { finals: '10', resolution: '4k' },
        { finals: 10, resolution: '4k', explore: -1 },
        { finals: 10, resolution: '4k', extra: 1 },
      ]) {
        problem(await s.call('POST', '/v1/plan-phases', { body }), 400, 'invalid_argument');
      }
      const p = problem(
        await s.call('POST', '/v1/plan-phases', { body: { finals: 1, resolution: '16k' } }),
        400,
        'invalid_parameter',
      );
      assert.deepEqual(p.allowed, ['720p', '1080p', '4k', '8k']);
      // A POST: read-only keys are refused, as on every POST.
      problem(
        await s.call('POST', '/v1/plan-phases', {
          key: readOnlyKey,
          body: { finals: 1, resolution: '4k' },
        }),
        403,
        'forbidden',
      );
    });

    it('GET /v1/packs/cheapest: exact, not greedy, with the arithmetic in numbers', async () => {
      const c = json(
        ok(await s.call('GET', '/v1/packs/cheapest?credits=70', { key: readOnlyKey })),
      );
      assert.deepEqual(
        c.lines.map((l: { pack: string; count: number; priceCents: number }) => [
          l.pack,
          l.count,
          l.priceCents,
        ]),
        [
          ['pack-20', 1, 999],
          ['pack-50', 1, 1999],
        ],
      );
      assert.deepEqual(
        [c.shortfall, c.credits, c.priceCents, c.surplus, c.packs, c.currency],
        [70, 70, 2998, 0, 2, 'usd'],
      );
      assert.equal(c.pricePerCreditMillicents, 42829);
      const sixty = json(ok(await s.call('GET', '/v1/packs/cheapest?credits=60')));
      assert.deepEqual([sixty.priceCents, sixty.lines.length], [2997, 1]);
      for (const q of ['', '?credits=0', '?credits=1.5', '?credits=x', '?credits=1000001']) {
        problem(await s.call('GET', `/v1/packs/cheapest${q}`), 400, 'invalid_argument');
      }
    });

    it('a catalog without 8K or packs: guidance says so, the others refuse', async () => {
      const body = defaultCatalog() as {
        version: string;
        packs: Record<string, unknown>;
        operations: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      };
      body.version = 'no-8k-no-packs';
      body.packs = {};
      const image = body.operations['image.generate'];
      image.params.resolution.values = ['720p', '1080p', '4k'];
      delete image.price.table['8k'];
      await s.ledger.loadCatalog(body);
      const g = json(ok(await s.call('GET', '/v1/guide?use=large-format')));
      assert.equal(g.catalogVersion, 'no-8k-no-packs');
      assert.deepEqual(
        g.guidelines.map((x: { resolution: string; credits: null; note: string }) => [
          x.resolution,
          x.credits,
          x.note,
        ]),
        [
          [
            '8k',
            null,
            'catalog no-8k-no-packs has no 8k price for image.generate (its resolutions: 720p, 1080p, 4k)',
          ],
        ],
      );
      problem(
        await s.call('POST', '/v1/plan-phases', { body: { finals: 1, resolution: '8k' } }),
        400,
        'invalid_parameter',
      );
      problem(await s.call('GET', '/v1/packs/cheapest?credits=5'), 400, 'unknown_pack');
    });
  });
}
