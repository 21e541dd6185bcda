import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ok, problem, startServer, type TestServer } from './http-helpers.js';

/**
 * A member's history is its own holds, resolutions and charges, in full pages: the server reads
 * on past the other members' rows, so a page is short only at the end of the journal.
 */

const json = (b: unknown) => b as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("a member's history over HTTP", () => {
  let s: TestServer;
  let miaKey: string;
  before(async () => {
    s = await startServer();
    ok(
      await s.call('POST', '/v1/orgs', {
        body: { id: 'acme', name: 'Acme', owner: { id: 'olga' } },
      }),
      201,
    );
    ok(
      await s.call('POST', '/v1/accounts/acme/subscription', { idem: 's', body: { plan: 'pro' } }),
      201,
    );
    for (const member of ['mia', 'max']) {
      ok(
        await s.call('PUT', `/v1/accounts/acme/members/${member}`, { body: { role: 'member' } }),
        201,
      );
    }
    // Mia's 5 charges among 30 of Max's: 6 of his, then one of hers, five times.
    for (let i = 0; i < 35; i++) {
      const member = i % 7 === 6 ? 'mia' : 'max';
      ok(
        await s.call('POST', '/v1/charges', {
          idem: `c-${i}`,
          body: { accountId: 'acme', credits: 1 + (i % 3), attribution: { member } },
        }),
        201,
      );
    }
    miaKey = (await s.keys.create({ scope: { accountId: 'acme', memberId: 'mia' } })).key;
  });
  after(() => s?.close());

  it('answers full pages of its own rows, and the cursor walks to the end', async () => {
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const query: string = `limit=2${cursor === null ? '' : `&cursor=${cursor}`}`;
      const page = json(
        ok(await s.call('GET', `/v1/accounts/acme/history?${query}`, { key: miaKey })),
      );
      for (const t of page.transactions) assert.equal(t.detail.attribution.member, 'mia');
      pages.push(page.transactions.map((t: { id: string }) => t.id));
      cursor = page.nextCursor;
    } while (cursor !== null && pages.length < 10);
    assert.deepEqual(
      pages.map((p) => p.length),
      [2, 2, 1],
    );
    const all = json(ok(await s.call('GET', '/v1/accounts/acme/history?limit=500')));
    const hers = all.transactions
      .filter((t: any) => t.detail.attribution?.member === 'mia') // eslint-disable-line @typescript-eslint/no-explicit-any
      .map((t: { id: string }) => t.id);
    assert.deepEqual(pages.flat(), hers, 'every one of hers, newest first, none twice');
  });

  it('an exact page answers no cursor when nothing follows, and bad input is a 400', async () => {
    const page = json(
      ok(await s.call('GET', '/v1/accounts/acme/history?limit=5', { key: miaKey })),
    );
    assert.equal(page.transactions.length, 5);
    assert.equal(page.nextCursor, null);
    const kinds = json(
      ok(await s.call('GET', '/v1/accounts/acme/history?kind=grant', { key: miaKey })),
    );
    assert.deepEqual(kinds.transactions, [], 'a grant names no member');
    problem(
      await s.call('GET', '/v1/accounts/acme/history?limit=0', { key: miaKey }),
      400,
      'invalid_argument',
    );
    problem(
      await s.call('GET', '/v1/accounts/acme/history?cursor=%20', { key: miaKey }),
      400,
      'invalid_argument',
    );
  });
});
