import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BOTH_STORES } from '../pg-helpers.js';
import {
  createOrganization,
  ok,
  problem,
  startServer,
  type Reply,
  type TestServer,
} from './http-helpers.js';

/**
 * Request batches over HTTP, every answer checked against the server's own OpenAPI document:
 * quote, hold all or nothing, item by item, release the rest, status; an account key reaches
 * only its own batches (another account's looks exactly like an unknown one), and a member key
 * without usage.all only its own.
 */

const json = (b: unknown) => b as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const gen = (resolution: string, count = 1) => ({
  operation: 'image.generate',
  params: { resolution },
  count,
});

/** The problem body with an id replaced, to compare two answers that name different ids. */
const shape = (r: Reply, id: string) => JSON.stringify(r.body).replaceAll(id, '<id>');

for (const [name, open, skip] of BOTH_STORES) {
  describe(`HTTP batches: ${name}`, { skip }, () => {
    let s: TestServer;
    let ann: string;
    let bob: string;
    let annBatch = '';

    before(async () => {
      s = await startServer({ open });
      for (const id of ['ann', 'bob']) {
        ok(await s.call('POST', '/v1/accounts', { body: { id } }), 201);
        ok(
          await s.call('POST', '/v1/grants', {
            idem: `g-${id}`,
            body: { accountId: id, credits: 20, source: 'purchase' },
          }),
          201,
        );
      }
      ann = await s.keyFor('ann');
      bob = await s.keyFor('bob');
    });
    after(async () => s?.close());

    it('quotes a list: each item and the total; a bad item is named', async () => {
      const q = json(
        ok(
          await s.call('POST', '/v1/batches/quote', {
            key: ann,
            body: { items: [{ ...gen('720p', 4), ref: 'explore' }, gen('4k')] },
          }),
        ),
      );
      assert.equal(q.credits, 7);
      assert.deepEqual(
        q.items.map((i: Record<string, unknown>) => [i.index, i.ref, i.credits]),
        [
          [0, 'explore', 4],
          [1, null, 3],
        ],
      );
      const bad = problem(
        await s.call('POST', '/v1/batches/quote', {
          key: ann,
          body: { items: [gen('720p'), gen('16k')] },
        }),
        400,
        'invalid_parameter',
      );
      assert.equal(bad.item, 1);
    });

    it('holds all or nothing with one key; a replay answers the same batch', async () => {
      problem(
        await s.call('POST', '/v1/batches', { key: ann, body: { accountId: 'ann', items: [] } }),
        400,
        'invalid_argument',
      );
      const balance = async () =>
        (await s.call('GET', '/v1/accounts/ann/balance', { key: ann })).text.replace(
          /"asOf":\d+/,
          '',
        );
      const before = await balance();
      const tooMuch = problem(
        await s.call('POST', '/v1/batches', {
          key: ann,
          idem: 'b1',
          body: { accountId: 'ann', items: [gen('8k', 3), gen('8k', 3)] },
        }),
        402,
        'insufficient_credits',
      );
      assert.deepEqual([tooMuch.item, tooMuch.required, tooMuch.available], [1, 24, 20]);
      assert.equal(await balance(), before, 'nothing written');
      const body = {
        accountId: 'ann',
        items: [
          { ...gen('720p', 2), ref: 'a' },
          gen('1080p'),
          { ...gen('4k'), labels: { use: 'print' } },
        ],
        ttlMs: 600_000,
        attribution: { labels: { phase: 'explore' } },
      };
      const first = await s.call('POST', '/v1/batches', { key: ann, idem: 'b1', body });
      const made = json(ok(first, 201));
      assert.equal(made.replay, false);
      assert.equal(made.batch.status, 'held');
      assert.deepEqual([made.batch.credits, made.batch.held, made.batch.items.length], [7, 7, 3]);
      assert.deepEqual(made.batch.items[2].labels, { phase: 'explore', use: 'print' });
      annBatch = made.batch.id;
      const again = await s.call('POST', '/v1/batches', { key: ann, idem: 'b1', body });
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.deepEqual({ ...json(ok(again, 201)), replay: false }, made);
      problem(
        await s.call('POST', '/v1/batches', {
          key: ann,
          idem: 'b1',
          body: { ...body, items: [gen('720p')] },
        }),
        422,
        'idempotency_key_reused',
      );
      problem(await s.call('POST', '/v1/batches', { key: ann, body }), 400, 'invalid_argument');
      const b = json(ok(await s.call('GET', '/v1/accounts/ann/balance', { key: ann })));
      assert.deepEqual([b.available, b.held], [13, 7]);
    });

    it('captures and releases item by item, releases the rest; the status at every step', async () => {
      const item = (i: number, action: string) => `/v1/batches/${annBatch}/items/${i}/${action}`;
      const c0 = json(ok(await s.call('POST', item(0, 'capture'), { key: ann, idem: 'c0' })));
      assert.deepEqual([c0.batchId, c0.index, c0.capturedCredits], [annBatch, 0, 2]);
      const r1 = json(ok(await s.call('POST', item(1, 'release'), { key: ann, idem: 'r1' })));
      assert.equal(r1.releasedCredits, 2);
      problem(
        await s.call('POST', item(1, 'capture'), { key: ann, idem: 'c1' }),
        409,
        'hold_already_released',
      );
      problem(
        await s.call('POST', item(7, 'capture'), { key: ann, idem: 'c7' }),
        404,
        'unknown_batch_item',
      );
      problem(
        await s.call('POST', item(0, 'capture'), { key: ann, idem: 'c0b', body: { credits: 99 } }),
        409,
        'hold_already_captured',
      );
      const now = json(ok(await s.call('GET', `/v1/batches/${annBatch}`, { key: ann })));
      assert.equal(now.status, 'partial');
      assert.deepEqual(
        [now.credits, now.held, now.captured, now.released, now.expired],
        [7, 3, 2, 2, 0],
      );
      assert.deepEqual(now.counts, { held: 1, captured: 1, released: 1, expired: 0 });
      const rest = json(
        ok(await s.call('POST', `/v1/batches/${annBatch}/release`, { key: ann, idem: 'rest' })),
      );
      assert.deepEqual([rest.released, rest.releasedCredits], [[2], 3]);
      assert.equal(rest.batch.status, 'settled');
      const again = await s.call('POST', `/v1/batches/${annBatch}/release`, {
        key: ann,
        idem: 'rest',
      });
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.deepEqual({ ...json(ok(again)), replay: false }, rest);
      const b = json(ok(await s.call('GET', '/v1/accounts/ann/balance', { key: ann })));
      assert.deepEqual([b.available, b.held], [18, 0]);
    });

    it("another account's batch looks exactly like an unknown one, and stays as it was", async () => {
      const before = (await s.call('GET', `/v1/batches/${annBatch}`, { key: ann })).text;
      const attempts: [string, string, Record<string, unknown>][] = [
        ['GET', '', {}],
        ['POST', '/items/0/capture', { idem: 'x1' }],
        ['POST', '/items/2/release', { idem: 'x2' }],
        ['POST', '/items/9/capture', { idem: 'x3' }],
        ['POST', '/release', { idem: 'x4' }],
      ];
      for (const [method, suffix, o] of attempts) {
        const theirs = await s.call(method, `/v1/batches/${annBatch}${suffix}`, { key: bob, ...o });
        const unknown = await s.call(method, `/v1/batches/bat_nope${suffix}`, { key: bob, ...o });
        problem(theirs, 404, 'unknown_batch');
        problem(unknown, 404, 'unknown_batch');
        assert.equal(shape(theirs, annBatch), shape(unknown, 'bat_nope'), `${method} ${suffix}`);
      }
      assert.equal((await s.call('GET', `/v1/batches/${annBatch}`, { key: ann })).text, before);
      // Nor may bob hold a batch on ann's account; the operator sees every batch.
      problem(
        await s.call('POST', '/v1/batches', {
          key: bob,
          idem: 'steal',
          body: { accountId: 'ann', items: [gen('720p')] },
        }),
        404,
        'unknown_account',
      );
      ok(await s.call('GET', `/v1/batches/${annBatch}`));
      const readOnly = await s.keyFor('ann', true);
      ok(await s.call('GET', `/v1/batches/${annBatch}`, { key: readOnly }));
      problem(
        await s.call('POST', `/v1/batches/${annBatch}/release`, { key: readOnly, idem: 'ro' }),
        403,
        'forbidden',
      );
    });

    it('a member key spends as its member and reaches only its own batches', async () => {
      await createOrganization(s, {
        id: 'acme',
        name: 'Acme',
        owner: { id: 'olga' },
        plan: 'business',
        members: [
          ['mia', 'member'],
          ['max', 'member'],
        ],
      });
      const keyOf = async (id: string) =>
        json(ok(await s.call('POST', `/v1/accounts/acme/members/${id}/keys`, { body: {} }), 201))
          .key as string;
      const mia = await keyOf('mia');
      const max = await keyOf('max');
      const made = json(
        ok(
          await s.call('POST', '/v1/batches', {
            key: mia,
            idem: 'm1',
            body: { accountId: 'acme', items: [gen('720p'), gen('1080p')] },
          }),
          201,
        ),
      );
      assert.equal(made.batch.attribution.member, 'mia');
      const id = made.batch.id as string;
      ok(await s.call('GET', `/v1/batches/${id}`, { key: mia }));
      problem(await s.call('GET', `/v1/batches/${id}`, { key: max }), 404, 'unknown_batch');
      problem(
        await s.call('POST', `/v1/batches/${id}/release`, { key: max, idem: 'r' }),
        404,
        'unknown_batch',
      );
      problem(
        await s.call('POST', '/v1/batches', {
          key: max,
          idem: 'as-mia',
          body: { accountId: 'acme', items: [gen('720p')], attribution: { member: 'mia' } },
        }),
        403,
        'forbidden',
      );
      ok(await s.call('POST', `/v1/batches/${id}/items/1/capture`, { key: mia, idem: 'c' }));
      const rest = json(
        ok(await s.call('POST', `/v1/batches/${id}/release`, { key: mia, idem: 'r' })),
      );
      assert.deepEqual(rest.released, [0]);
    });
  });
}
