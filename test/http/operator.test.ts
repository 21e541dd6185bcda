import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BOTH_STORES } from '../pg-helpers.js';
import { ok, problem, startServer, type TestServer } from './http-helpers.js';

const json = (b: unknown) => b as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * The operator's reads and keys for the dashboard: the account list with balances, plan status
 * and last activity (GET /v1/account-summaries), and account keys (POST .../keys).
 */
for (const [storeName, open, skip] of BOTH_STORES) {
  describe(`operator account summaries and account keys on ${storeName}`, { skip }, () => {
    let s: TestServer;
    before(async () => {
      s = await startServer({ open });
      ok(await s.call('POST', '/v1/accounts', { body: { id: 'ava', plan: 'pro' } }), 201);
      ok(await s.call('POST', '/v1/accounts', { body: { id: 'bo' } }), 201);
      ok(await s.call('POST', '/v1/accounts', { body: { id: 'cy', plan: 'starter' } }), 201);
      ok(
        await s.call('POST', '/v1/orgs', {
          body: { id: 'dune', name: 'Dune Works', owner: { id: 'dora' } },
        }),
        201,
      );
      ok(
        await s.call('POST', '/v1/grants', {
          idem: 'g-bo',
          body: { accountId: 'bo', credits: 12, source: 'promotion' },
        }),
        201,
      );
      ok(
        await s.call('POST', '/v1/holds', {
          idem: 'h-ava',
          body: { accountId: 'ava', credits: 5 },
        }),
        201,
      );
      ok(await s.call('POST', '/v1/accounts/cy/subscription/cancel', { idem: 'cancel-cy' }));
    });
    after(async () => s?.close());

    it('lists each account with its balance, plan status and last activity, in id order', async () => {
      const page = json(ok(await s.call('GET', '/v1/account-summaries')));
      assert.equal(page.nextCursor, null);
      const rows = Object.fromEntries(
        page.summaries.map((r: Record<string, any>) => [r.account.id, r]), // eslint-disable-line @typescript-eslint/no-explicit-any
      );
      assert.deepEqual(Object.keys(rows), ['ava', 'bo', 'cy', 'dune']);
      const balance = json(ok(await s.call('GET', '/v1/accounts/ava/balance')));
      assert.deepEqual(
        [rows.ava.available, rows.ava.held, rows.ava.debt, rows.ava.status, rows.ava.account.plan],
        [balance.available, 5, 0, 'active', 'pro'],
      );
      assert.deepEqual([rows.bo.available, rows.bo.status, rows.bo.endsAt], [12, 'no_plan', null]);
      const sub = json(ok(await s.call('GET', '/v1/accounts/cy/subscription')));
      assert.deepEqual([rows.cy.status, rows.cy.endsAt], ['ending', sub.cancelAt]);
      assert.equal(rows.dune.account.name, 'Dune Works');
      const newest = json(ok(await s.call('GET', '/v1/accounts/bo/history?limit=1')))
        .transactions[0];
      assert.equal(rows.bo.lastActivityAt, newest.createdAt);
      assert.equal(rows.dune.lastActivityAt, null, 'nothing in its journal yet');
    });

    it('pages by cursor and searches by id or name', async () => {
      const first = json(ok(await s.call('GET', '/v1/account-summaries?limit=2')));
      assert.deepEqual(
        first.summaries.map((r: { account: { id: string } }) => r.account.id),
        ['ava', 'bo'],
      );
      assert.equal(first.nextCursor, 'bo');
      const second = json(ok(await s.call('GET', '/v1/account-summaries?limit=2&cursor=bo')));
      assert.deepEqual(
        second.summaries.map((r: { account: { id: string } }) => r.account.id),
        ['cy', 'dune'],
      );
      const found = json(ok(await s.call('GET', '/v1/account-summaries?search=WORKS')));
      assert.deepEqual(
        found.summaries.map((r: { account: { id: string } }) => r.account.id),
        ['dune'],
      );
      problem(await s.call('GET', '/v1/account-summaries?limit=101'), 400, 'invalid_argument');
      problem(await s.call('GET', '/v1/account-summaries?limit=0'), 400, 'invalid_argument');
    });

    it('makes account keys that reach their account only; account keys may not', async () => {
      const made = json(
        ok(
          await s.call('POST', '/v1/accounts/bo/keys', {
            body: { name: 'support', readOnly: true },
          }),
          201,
        ),
      );
      assert.deepEqual([made.accountId, made.readOnly, made.name], ['bo', true, 'support']);
      assert.match(made.key, /^amk_/);
      const me = json(ok(await s.call('GET', '/v1/me', { key: made.key })));
      assert.deepEqual([me.scope, me.accountId, me.readOnly], ['account', 'bo', true]);
      problem(await s.call('GET', '/v1/accounts/ava', { key: made.key }), 404, 'unknown_account');
      problem(
        await s.call('POST', '/v1/charges', {
          key: made.key,
          idem: 'ro',
          body: { accountId: 'bo', credits: 1 },
        }),
        403,
        'forbidden',
      );
      const writer = json(ok(await s.call('POST', '/v1/accounts/bo/keys', { body: {} }), 201));
      assert.equal(writer.readOnly, false);
      assert.notEqual(writer.key, made.key, 'each call makes a new key');

      problem(
        await s.call('POST', '/v1/accounts/ghost/keys', { body: {} }),
        404,
        'unknown_account',
      );
      problem(
        await s.call('POST', '/v1/accounts/bo/keys', { body: { name: '' } }),
        400,
        'invalid_argument',
      );
      problem(
        await s.call('POST', '/v1/accounts/bo/keys', { body: { scope: 'operator' } }),
        400,
        'invalid_argument',
      );
      const bo = await s.keyFor('bo');
      problem(
        await s.call('POST', '/v1/accounts/bo/keys', { key: bo, body: {} }),
        403,
        'forbidden',
      );
      problem(await s.call('GET', '/v1/account-summaries', { key: bo }), 403, 'forbidden');
    });
  });
}
