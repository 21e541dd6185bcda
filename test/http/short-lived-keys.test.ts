import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeClock } from '../../src/ledger/ports.js';
import { serveConfig } from '../../src/http/config.js';
import { AmisiError } from '../../src/core/errors.js';
import { BOTH_STORES } from '../pg-helpers.js';
import { createOrganization, ok, problem, startServer, type TestServer } from './http-helpers.js';

const json = (b: unknown) => b as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Short-lived keys (ttlSeconds on account and member keys): what a platform's backend mints
 * for a customer's browser, such as the embedded components. And CORS for those pages.
 */
for (const [storeName, open, skip] of BOTH_STORES) {
  describe(`short-lived keys on ${storeName}`, { skip }, () => {
    let s: TestServer;
    const clock = new FakeClock(Date.UTC(2026, 11, 1, 9));
    before(async () => {
      s = await startServer({ open, clock });
      ok(await s.call('POST', '/v1/accounts', { body: { id: 'ann', plan: 'starter' } }), 201);
      await createOrganization(s, {
        id: 'acme',
        name: 'Acme',
        owner: { id: 'olga' },
        plan: 'business',
        members: [['mia', 'member']],
      });
    });
    after(() => s?.close());

    it('an account key with ttlSeconds works until then, and not a moment after', async () => {
      const made = json(
        ok(
          await s.call('POST', '/v1/accounts/ann/keys', {
            body: { ttlSeconds: 900, readOnly: true, name: 'embed' },
          }),
          201,
        ),
      );
      assert.equal(made.expiresAt, clock.now() + 900_000);
      const me = json(ok(await s.call('GET', '/v1/me', { key: made.key })));
      assert.deepEqual(
        { scope: me.scope, accountId: me.accountId, readOnly: me.readOnly, at: me.expiresAt },
        { scope: 'account', accountId: 'ann', readOnly: true, at: made.expiresAt },
      );
      const lasting = await s.keyFor('ann');
      clock.advance(899_999);
      ok(await s.call('GET', '/v1/accounts/ann/balance', { key: made.key }));
      clock.advance(1);
      problem(
        await s.call('GET', '/v1/accounts/ann/balance', { key: made.key }),
        401,
        'unauthorized',
      );
      // A key made without one is not touched by time.
      assert.equal(json(ok(await s.call('GET', '/v1/me', { key: lasting }))).expiresAt, null);
      const listed = (await s.keys.list()).find((k) => k.id === made.keyId);
      assert.equal(listed?.expiresAt, made.expiresAt);
    });

    it('a member key with ttlSeconds acts as the member until it ends', async () => {
      const made = json(
        ok(
          await s.call('POST', '/v1/accounts/acme/members/mia/keys', { body: { ttlSeconds: 60 } }),
          201,
        ),
      );
      assert.equal(made.expiresAt, clock.now() + 60_000);
      const me = json(ok(await s.call('GET', '/v1/me', { key: made.key })));
      assert.deepEqual([me.scope, me.memberId, me.role], ['member', 'mia', 'member']);
      clock.advance(60_000);
      problem(await s.call('GET', '/v1/me', { key: made.key }), 401, 'unauthorized');
    });

    it('refuses a lifetime out of range or not whole, and makes no key', async () => {
      const before = (await s.keys.list()).length;
      for (const ttlSeconds of [59, 2_592_001, 90.5, '600', -60, 0]) {
        const r = problem(
          await s.call('POST', '/v1/accounts/ann/keys', { body: { ttlSeconds } }),
          400,
          'invalid_argument',
        );
        assert.equal(json(r).field, 'ttlSeconds', JSON.stringify(ttlSeconds));
      }
      problem(
        await s.call('POST', '/v1/accounts/acme/members/mia/keys', { body: { ttlSeconds: 30 } }),
        400,
        'invalid_argument',
      );
      assert.equal((await s.keys.list()).length, before);
      // The service checks the same range for library and CLI callers.
      await assert.rejects(
        s.keys.create({ scope: { accountId: 'ann' }, ttlSeconds: 2_592_001 }),
        (e: unknown) => e instanceof AmisiError && e.code === 'invalid_argument',
      );
      assert.equal((await s.keys.list()).length, before);
    });
  });
}

describe('CORS for the pages that call the API from a browser', () => {
  let s: TestServer;
  let plain: TestServer;
  const origin = 'http://127.0.0.1:4321';
  before(async () => {
    s = await startServer({ corsOrigins: [origin] });
    plain = await startServer();
  });
  after(async () => {
    await s?.close();
    await plain?.close();
  });

  const preflight = (server: TestServer, from: string) =>
    fetch(`${server.url}/v1/purchases`, {
      method: 'OPTIONS',
      headers: {
        origin: from,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type, idempotency-key',
      },
    });

  it('answers a listed origin’s preflight without a key, and its calls with the header', async () => {
    const r = await preflight(s, origin);
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('access-control-allow-origin'), origin);
    assert.match(r.headers.get('access-control-allow-headers') ?? '', /idempotency-key/);
    assert.match(r.headers.get('access-control-allow-methods') ?? '', /POST/);
    const me = await fetch(`${s.url}/v1/me`, {
      headers: { origin, authorization: `Bearer ${s.operatorKey}` },
    });
    assert.equal(me.status, 200);
    assert.equal(me.headers.get('access-control-allow-origin'), origin);
    assert.match(me.headers.get('access-control-expose-headers') ?? '', /idempotent-replayed/);
  });

  it('gives another origin, and a server without origins, no allow header', async () => {
    for (const r of [await preflight(s, 'http://127.0.0.1:9'), await preflight(plain, origin)]) {
      assert.equal(r.headers.get('access-control-allow-origin'), null);
    }
    const me = await fetch(`${plain.url}/v1/me`, {
      headers: { origin, authorization: `Bearer ${plain.operatorKey}` },
    });
    assert.equal(me.headers.get('access-control-allow-origin'), null);
  });

  it('reads AMISI_CORS_ORIGINS as origins or *, and refuses anything else by name', () => {
    const origins = (value: string) => serveConfig({}, { AMISI_CORS_ORIGINS: value }).corsOrigins;
    assert.deepEqual(origins('https://app.example.com, http://localhost:3000'), [
      'https://app.example.com',
      'http://localhost:3000',
    ]);
    assert.deepEqual(origins('*'), ['*']);
    assert.deepEqual(origins(''), []);
    for (const bad of [
      'app.example.com',
      'https://app.example.com/',
      'ftp://x.org',
      'https://a,',
    ]) {
      assert.throws(
        () => origins(bad),
        (e: unknown) =>
          e instanceof AmisiError &&
          e.code === 'invalid_argument' &&
          /AMISI_CORS_ORIGINS/.test(e.message),
        bad,
      );
    }
  });
});
