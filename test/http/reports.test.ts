import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BOTH_STORES } from '../pg-helpers.js';
import { ok, problem, startServer, type TestServer } from './http-helpers.js';

/**
 * Statements, audits and outcomes through real HTTP, on each store: scopes (another account's
 * looks unknown; a member needs usage.all to read reports and records outcomes of its own
 * charges only). Every response is checked against /openapi.json by the helper.
 */

const json = (b: unknown) => b as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

for (const [storeName, open, skip] of BOTH_STORES) {
  describe(`reports over HTTP on ${storeName}`, { skip }, () => {
    let s: TestServer;
    let ownerKey = '';
    let memberKey = '';
    let readOnlyKey = '';
    let otherKey = '';
    let olgaCharge = '';
    let maxCharge = '';
    let grantTx = '';
    before(async () => {
      s = await startServer({ open });
      const { ledger, keys } = s;
      await ledger.createOrganization({ accountId: 'acme', name: 'Acme', owner: { id: 'olga' } });
      await ledger.subscribe({ accountId: 'acme', key: 'sub', plan: 'pro' });
      await ledger.setMember({ accountId: 'acme', memberId: 'max', role: 'member' });
      await ledger.createAccount({ accountId: 'bob' });
      grantTx = (
        await ledger.grant({
          accountId: 'acme',
          key: 'promo',
          credits: 10,
          source: 'promotion',
          expiresAt: null,
        })
      ).transactionId;
      const image = (resolution: string) => [
        { operation: 'image.generate', params: { resolution } },
      ];
      olgaCharge = (
        await ledger.charge({
          accountId: 'acme',
          key: 'c1',
          items: image('8k'),
          attribution: { member: 'olga', project: null },
        })
      ).transactionId;
      maxCharge = (
        await ledger.charge({
          accountId: 'acme',
          key: 'c2',
          items: image('4k'),
          attribution: { member: 'max', project: null },
        })
      ).transactionId;
      ownerKey = (await keys.create({ scope: { accountId: 'acme', memberId: 'olga' } })).key;
      memberKey = (await keys.create({ scope: { accountId: 'acme', memberId: 'max' } })).key;
      readOnlyKey = await s.keyFor('acme', true);
      otherKey = await s.keyFor('bob');
    });
    after(async () => s?.close());

    it('GET statement: the current cycle, a cycle by index, or a range', async () => {
      const st = json(ok(await s.call('GET', '/v1/accounts/acme/statement', { key: ownerKey })));
      assert.deepEqual(
        [
          st.period.basis,
          st.period.cycle,
          st.opening,
          st.granted.credits,
          st.spent.credits,
          st.closing,
        ],
        ['cycle', 0, 0, 310, 7, 303],
      );
      assert.deepEqual(st.granted.bySource, [
        { source: 'allocation', credits: 300 },
        { source: 'promotion', credits: 10 },
      ]);
      const byIndex = json(
        ok(await s.call('GET', '/v1/accounts/acme/statement?cycle=0', { key: readOnlyKey })),
      );
      assert.deepEqual(byIndex, st);
      const range = json(ok(await s.call('GET', '/v1/accounts/acme/statement?from=0&until=1000')));
      assert.deepEqual([range.period.basis, range.closing], ['range', 0]);
      problem(
        await s.call('GET', '/v1/accounts/acme/statement?cycle=0&from=0&until=5'),
        400,
        'invalid_argument',
      );
      problem(await s.call('GET', '/v1/accounts/acme/statement?from=5'), 400, 'invalid_argument');
      problem(await s.call('GET', '/v1/accounts/nobody/statement'), 404, 'unknown_account');
    });

    it('GET audit: usage by member and resolution, findings from outcomes', async () => {
      ok(
        await s.call('POST', '/v1/outcomes', {
          key: ownerKey,
          body: {
            accountId: 'acme',
            transactionId: olgaCharge,
            outcome: 'discarded',
            labels: { concept: 'owl' },
          },
        }),
      );
      const a = json(ok(await s.call('GET', '/v1/accounts/acme/audit', { key: ownerKey })));
      assert.equal(a.usage.credits, 7);
      assert.deepEqual(
        a.usage.byMember.map((l: { key: string; credits: number }) => [l.key, l.credits]),
        [
          ['olga', 4],
          ['max', 3],
        ],
      );
      assert.deepEqual(
        a.usage.byResolution.map((l: { key: string; units: number }) => [l.key, l.units]),
        [
          ['8k', 1],
          ['4k', 1],
        ],
      );
      assert.deepEqual(
        a.findings.map((f: { kind: string; credits: number; savingCredits: number }) => [
          f.kind,
          f.credits,
          f.savingCredits,
        ]),
        [['high_resolution_exploration', 4, 3]],
      );
      assert.equal(a.outcomes, 1);
    });

    it('GET advice and forecast: no closed cycle yet, the run-out at the current pace', async () => {
      const a = json(ok(await s.call('GET', '/v1/accounts/acme/advice', { key: readOnlyKey })));
      assert.deepEqual(
        [a.accountId, a.plan, a.members, a.cycles, a.advice.map((x: { kind: string }) => x.kind)],
        ['acme', 'pro', 2, [], ['short-history', 'short-history', 'lasts-past-renewal']],
      );
      // The headline: the forecast, never "needs N cycles".
      assert.deepEqual(a.headline, a.advice[2]);
      const f = json(ok(await s.call('GET', '/v1/accounts/acme/forecast', { key: ownerKey })));
      assert.equal(f.forecast.kind, 'lasts-past-renewal');
      // 310 granted, 7 spent (an 8K and a 4K image), measured over a day at least.
      assert.deepEqual(
        [f.forecast.figures.available, f.forecast.figures.spentSoFarThisCycle],
        [303, 7],
      );
      problem(
        await s.call('GET', '/v1/accounts/nobody/advice', { key: s.operatorKey }),
        404,
        'unknown_account',
      );
    });

    it('scopes: another account looks unknown; a member reads no reports', async () => {
      problem(
        await s.call('GET', '/v1/accounts/acme/statement', { key: otherKey }),
        404,
        'unknown_account',
      );
      problem(
        await s.call('GET', '/v1/accounts/acme/audit', { key: otherKey }),
        404,
        'unknown_account',
      );
      problem(
        await s.call('GET', '/v1/accounts/acme/statement', { key: memberKey }),
        403,
        'forbidden',
      );
      problem(await s.call('GET', '/v1/accounts/acme/audit', { key: memberKey }), 403, 'forbidden');
      for (const report of ['advice', 'forecast']) {
        const path = `/v1/accounts/acme/${report}`;
        problem(await s.call('GET', path, { key: otherKey }), 404, 'unknown_account');
        problem(await s.call('GET', path, { key: memberKey }), 403, 'forbidden');
      }
      problem(
        await s.call('POST', '/v1/outcomes', {
          key: otherKey,
          body: { accountId: 'acme', transactionId: maxCharge, outcome: 'kept' },
        }),
        404,
        'unknown_account',
      );
      problem(
        await s.call('POST', '/v1/outcomes', {
          key: readOnlyKey,
          body: { accountId: 'acme', transactionId: maxCharge, outcome: 'kept' },
        }),
        403,
        'forbidden',
      );
    });

    it('POST outcomes: once, then a replay; a member records its own only; bad ones refused', async () => {
      const body = {
        accountId: 'acme',
        transactionId: maxCharge,
        outcome: 'kept',
        labels: { use: 'print' },
      };
      const first = await s.call('POST', '/v1/outcomes', { key: memberKey, body });
      const r = json(ok(first));
      assert.deepEqual(
        [r.replay, r.outcome.credits, r.outcome.resolution, r.outcome.member],
        [false, 3, '4k', 'max'],
      );
      const again = await s.call('POST', '/v1/outcomes', { key: memberKey, body });
      assert.equal(json(ok(again)).replay, true);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      problem(
        await s.call('POST', '/v1/outcomes', {
          key: memberKey,
          body: { ...body, transactionId: olgaCharge },
        }),
        404,
        'unknown_transaction',
      );
      problem(
        await s.call('POST', '/v1/outcomes', { body: { ...body, transactionId: grantTx } }),
        409,
        'not_a_charge',
      );
      problem(
        await s.call('POST', '/v1/outcomes', { body: { ...body, transactionId: 'txn_none' } }),
        404,
        'unknown_transaction',
      );
      problem(
        await s.call('POST', '/v1/outcomes', { body: { ...body, outcome: 'maybe' } }),
        400,
        'invalid_argument',
      );
      problem(
        await s.call('POST', '/v1/outcomes', { body: { ...body, extra: 1 } }),
        400,
        'invalid_argument',
      );
    });
  });
}
