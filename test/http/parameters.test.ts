import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BOTH_STORES } from '../pg-helpers.js';
import { ok, problem, startServer, type TestServer } from './http-helpers.js';

/** Parameter values match the catalog ignoring case ("4K" is "4k") and are recorded its way. */

interface Line {
  params: Record<string, string>;
  credits: number;
}

for (const [storeName, open, skip] of BOTH_STORES) {
  describe(`parameter values over HTTP on ${storeName}`, { skip }, () => {
    let s: TestServer;
    before(async () => {
      s = await startServer({ open });
      ok(await s.call('POST', '/v1/accounts', { body: { id: 'ines' } }), 201);
      ok(
        await s.call('POST', '/v1/grants', {
          idem: 'g-1',
          body: { accountId: 'ines', credits: 20, source: 'promotion' },
        }),
        201,
      );
    });
    after(async () => s?.close());

    it('a quote of 4K prices the catalog 4k and answers its spelling', async () => {
      const reply = ok(
        await s.call('POST', '/v1/quotes', {
          body: { items: [{ operation: 'image.generate', params: { resolution: '4K' } }] },
        }),
      );
      const lines = reply.lines as Line[];
      assert.equal(reply.credits, 3);
      assert.deepEqual(lines[0]!.params, { resolution: '4k' });
      problem(
        await s.call('POST', '/v1/quotes', {
          body: { items: [{ operation: 'image.generate', params: { resolution: '16K' } }] },
        }),
        400,
        'invalid_parameter',
      );
    });

    it('a charge of 8K is recorded as 8k in the journal', async () => {
      const charged = ok(
        await s.call('POST', '/v1/charges', {
          idem: 'c-1',
          body: {
            accountId: 'ines',
            items: [{ operation: 'image.generate', params: { resolution: '8K' } }],
          },
        }),
        201,
      );
      assert.equal(charged.credits, 4);
      const history = JSON.stringify(
        ok(await s.call('GET', '/v1/accounts/ines/history?kind=charge')),
      );
      assert.match(history, /"resolution":"8k"/);
      // Only the value: ids are upper-case base32 and may well contain 8K.
      assert.doesNotMatch(history, /"resolution":"8K"/);
    });
  });
}
