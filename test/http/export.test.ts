import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Ledger } from '../../src/ledger/ledger.js';
import { CSV_HEADER, openHistoryExport, type ExportQuery } from '../../src/service/export.js';
import { BOTH_STORES } from '../pg-helpers.js';
import { ok, problem, startServer, type TestServer } from './http-helpers.js';

/**
 * GET /v1/accounts/{id}/export.csv on each store: the same bytes as the service, the filters,
 * the download headers, and who may read it. Every answer is checked against /openapi.json
 * by the helper (the 200 as text/csv).
 */

async function serviceText(ledger: Ledger, query: ExportQuery): Promise<string> {
  const csv = await openHistoryExport(ledger, query);
  let text = '';
  for await (const chunk of csv.chunks) text += chunk;
  return text;
}

const path = (account: string, query = '') => `/v1/accounts/${account}/export.csv${query}`;

for (const [storeName, open, skip] of BOTH_STORES) {
  describe(`CSV export over HTTP on ${storeName}`, { skip }, () => {
    let s: TestServer;
    let annKey = '';
    let bobKey = '';
    let readOnlyKey = '';
    let firstAt = 0;
    let lastAt = 0;

    before(async () => {
      s = await startServer({ open });
      const { ledger } = s;
      for (const id of ['ann', 'bob'])
        ok(await s.call('POST', '/v1/accounts', { body: { id } }), 201);
      await ledger.grant({
        accountId: 'ann',
        key: 'g0',
        credits: 2000,
        source: 'promotion',
        reason: '=1+1, "quoted"\r\nnext line',
      });
      await ledger.grant({ accountId: 'bob', key: 'b0', credits: 10, source: 'promotion' });
      // More than two pages of the service's default 500, all through one response.
      for (let batch = 0; batch < 6; batch++) {
        await Promise.all(
          Array.from({ length: 200 }, (_, i) =>
            ledger.charge({
              accountId: 'ann',
              key: `-c${batch}-${i}`,
              items: [{ operation: 'image.generate', params: { resolution: '720p' } }],
              attribution: { project: 'web', labels: { note: 'a,"b"' } },
            }),
          ),
        );
      }
      const page = await ledger.history({ accountId: 'ann', limit: 500 });
      lastAt = page.transactions[0]!.createdAt;
      const oldest = await ledger.history({ accountId: 'ann', kinds: ['grant'], limit: 1 });
      firstAt = oldest.transactions[0]!.createdAt;
      annKey = await s.keyFor('ann');
      bobKey = await s.keyFor('bob');
      readOnlyKey = await s.keyFor('ann', true);
    });
    after(async () => s?.close());

    it('streams the same bytes as the service, as a CSV download', async () => {
      const r = await s.call('GET', path('ann'));
      assert.equal(r.status, 200, r.text);
      assert.equal(r.contentType, 'text/csv; charset=utf-8');
      assert.equal(r.headers.get('content-disposition'), 'attachment; filename="ann-history.csv"');
      assert.equal(r.headers.get('cache-control'), 'no-store');
      const expected = await serviceText(s.ledger, { accountId: 'ann' });
      assert.equal(r.text, expected);
      assert.ok(r.text.startsWith(CSV_HEADER));
      assert.equal(
        r.text.split('\r\n').length - 1,
        1 + 1 + 1200 + 1,
        'header, grant, 1200 charges, \\r\\n of the quoted reason',
      );
      assert.match(r.text, /"promotion grant: =1\+1, ""quoted""\r\nnext line"/);
      assert.match(r.text, /,'-c5-199,/, 'the key is guarded');
    });

    it('HEAD answers the headers without reading the journal', async () => {
      const ledger = s.ledger;
      const history = ledger.history.bind(ledger);
      let calls = 0;
      ledger.history = async (query) => {
        calls++;
        return history(query);
      };
      try {
        const res = await fetch(`${s.url}${path('ann')}`, {
          method: 'HEAD',
          headers: { authorization: `Bearer ${s.operatorKey}` },
        });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('content-type'), 'text/csv; charset=utf-8');
        assert.equal(await res.text(), '');
        assert.equal(calls, 1, 'the first page only (it checks the filters)');
        const ghost = await fetch(`${s.url}${path('ghost')}`, {
          method: 'HEAD',
          headers: { authorization: `Bearer ${s.operatorKey}` },
        });
        assert.equal(ghost.status, 404);
      } finally {
        ledger.history = history;
      }
    });

    it('filters by kind, since (inclusive) and until (exclusive), as the service does', async () => {
      const grantsOnly = await s.call('GET', path('ann', '?kind=grant'));
      assert.equal(grantsOnly.status, 200);
      assert.equal(
        grantsOnly.text,
        await serviceText(s.ledger, { accountId: 'ann', kinds: ['grant'] }),
      );
      const both = await s.call('GET', path('ann', '?kind=grant&kind=charge'));
      assert.equal(both.text, await serviceText(s.ledger, { accountId: 'ann' }));
      const window = `?since=${firstAt}&until=${lastAt}`;
      const timed = await s.call('GET', path('ann', window));
      assert.equal(
        timed.text,
        await serviceText(s.ledger, { accountId: 'ann', since: firstAt, until: lastAt }),
      );
      assert.ok(timed.text.includes('promotion grant'), 'since is inclusive');
      const none = await s.call('GET', path('ann', `?since=${lastAt + 1}`));
      assert.equal(none.text, CSV_HEADER);
    });

    it("an account key reads its own account's export; another account's is unknown", async () => {
      const own = await s.call('GET', path('ann'), { key: annKey });
      assert.equal(own.status, 200);
      assert.equal(own.text, await serviceText(s.ledger, { accountId: 'ann' }));
      assert.equal((await s.call('GET', path('ann'), { key: readOnlyKey })).status, 200);
      const foreign = problem(
        await s.call('GET', path('ann'), { key: bobKey }),
        404,
        'unknown_account',
      );
      const missing = problem(
        await s.call('GET', path('nobody'), { key: bobKey }),
        404,
        'unknown_account',
      );
      assert.deepEqual(
        Object.keys(foreign).sort(),
        Object.keys(missing).sort(),
        'a foreign account looks exactly like a missing one',
      );
      problem(await s.call('GET', path('nobody')), 404, 'unknown_account');
      const bob = await s.call('GET', path('bob'), { key: bobKey });
      assert.equal(bob.status, 200);
      assert.ok(!bob.text.includes('=1+1'), "nothing of ann's in bob's export");
      assert.equal(bob.text.split('\r\n').length - 1, 2);
      problem(await s.call('GET', path('ann'), { key: null }), 401, 'unauthorized');
    });

    it('bad filters are problems before any byte', async () => {
      problem(await s.call('GET', path('ann', '?kind=gift')), 400, 'invalid_argument');
      problem(await s.call('GET', path('ann', '?since=-5')), 400, 'invalid_argument');
      problem(await s.call('GET', path('ann', '?until=soon')), 400, 'invalid_argument');
    });

    it('a failure after the first bytes cuts the body short instead of ending it', async () => {
      const ledger = s.ledger;
      const history = ledger.history.bind(ledger);
      let calls = 0;
      ledger.history = async (query) => {
        if (++calls > 1) throw new Error('the store went away');
        return history(query);
      };
      try {
        const res = await fetch(`${s.url}${path('ann')}`, {
          headers: { authorization: `Bearer ${s.operatorKey}` },
        });
        assert.equal(res.status, 200, 'the first page was read before the answer started');
        await assert.rejects(res.text(), 'the body never completes');
      } finally {
        ledger.history = history;
      }
      const logged = s.logs.find(
        (l) => (l.err as { message?: string } | undefined)?.message === 'the store went away',
      );
      assert.ok(logged, 'the failure is logged');
      assert.equal(logged.msg, 'response terminated with an error with headers already sent');
    });

    it('member keys need a role that sees every member’s usage', async () => {
      const { ledger } = s;
      await ledger.createOrganization({ accountId: 'acme', name: 'Acme', owner: { id: 'olga' } });
      await ledger.subscribe({ accountId: 'acme', key: 'sub', plan: 'business' });
      await ledger.setMember({ accountId: 'acme', memberId: 'adam', role: 'admin' });
      await ledger.setMember({ accountId: 'acme', memberId: 'mia', role: 'member' });
      const keyOf = async (memberId: string) =>
        (await s.keys.create({ scope: { accountId: 'acme', memberId } })).key;
      const admin = await s.call('GET', path('acme'), { key: await keyOf('adam') });
      assert.equal(admin.status, 200);
      assert.equal(admin.text, await serviceText(ledger, { accountId: 'acme' }));
      problem(await s.call('GET', path('acme'), { key: await keyOf('mia') }), 403, 'forbidden');
    });
  });
}
