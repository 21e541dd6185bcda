import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { DASHBOARD_CSP, DASHBOARD_DIR } from '../../src/http/dashboard.js';
import { tempDir } from '../helpers.js';
import { ok, problem, startServer, type TestServer } from './http-helpers.js';

/**
 * What the dashboard needs from the server: who a key is (/v1/me), the operator's account
 * search, the plan change preview, and the dashboard's own files with their fallback, while
 * the API keeps answering JSON problems.
 */

const json = (b: unknown) => b as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const { dir, cleanup } = tempDir('amisi-dashboard-');
after(cleanup);

const SCRIPT = 'console.log("the dashboard");\n'.repeat(20);

/** A stand-in build: index.html and one hashed asset with its brotli and gzip copies. */
function fakeBuild(): string {
  const root = join(dir, 'web');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>Amisi dashboard</title>');
  writeFileSync(join(root, 'assets', 'app-abc123.js'), SCRIPT);
  writeFileSync(join(root, 'assets', 'app-abc123.js.br'), brotliCompressSync(SCRIPT));
  writeFileSync(join(root, 'assets', 'app-abc123.js.gz'), gzipSync(SCRIPT));
  return root;
}

/** The bytes as sent (fetch would decompress them) with the headers, asking for `encoding`. */
function raw(url: string, encoding: string) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>(
    (resolve, reject) => {
      get(url, { headers: { 'accept-encoding': encoding } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
        res.on('error', reject);
      }).on('error', reject);
    },
  );
}

/** Asks for `path` as brotli, as gzip and plain: each arrives so, with the long cache. */
async function assertCompressed(url: string, original: Buffer) {
  const cases = [
    ['br, gzip', 'br', brotliDecompressSync],
    ['gzip', 'gzip', gunzipSync],
    ['identity', undefined, (b: Buffer) => b],
  ] as const;
  for (const [accept, encoding, decode] of cases) {
    const res = await raw(url, accept);
    assert.equal(res.status, 200, accept);
    assert.equal(res.headers['content-encoding'], encoding, accept);
    assert.match(String(res.headers['content-type']), /javascript/, accept);
    assert.match(String(res.headers['vary']), /accept-encoding/i, accept);
    assert.match(String(res.headers['cache-control']), /max-age=31536000.*immutable/, accept);
    assert.equal(res.headers['content-security-policy'], DASHBOARD_CSP, accept);
    assert.ok(decode(res.body).equals(original), `${accept}: the same script`);
    if (encoding !== undefined)
      assert.ok(res.body.length < original.length, `${accept} is smaller`);
  }
}

describe('the dashboard API', () => {
  let s: TestServer;
  let aliceKey: string;
  let memberKey: string;
  before(async () => {
    s = await startServer({ dashboardDir: fakeBuild() });
    ok(await s.call('POST', '/v1/accounts', { body: { id: 'alice' } }), 201);
    ok(await s.call('POST', '/v1/accounts', { body: { id: 'bob' } }), 201);
    ok(
      await s.call('POST', '/v1/orgs', {
        body: { id: 'acme', name: 'Acme Studio', owner: { id: 'olga' } },
      }),
      201,
    );
    aliceKey = await s.keyFor('alice');
    memberKey = (await s.keys.create({ scope: { accountId: 'acme', memberId: 'olga' } })).key;
  });
  after(() => s.close());

  it('/v1/me names the key: operator, account, member with its role', async () => {
    assert.deepEqual(
      { ...json(ok(await s.call('GET', '/v1/me'))), keyId: 'k' },
      {
        keyId: 'k',
        scope: 'operator',
        accountId: null,
        memberId: null,
        role: null,
        readOnly: false,
        expiresAt: null,
      },
    );
    const alice = json(ok(await s.call('GET', '/v1/me', { key: aliceKey })));
    assert.equal(alice.scope, 'account');
    assert.equal(alice.accountId, 'alice', 'its own account, never another');
    assert.equal(alice.role, null);
    const olga = json(ok(await s.call('GET', '/v1/me', { key: memberKey })));
    assert.deepEqual(
      [olga.scope, olga.accountId, olga.memberId, olga.role],
      ['member', 'acme', 'olga', 'owner'],
    );
    const readOnly = json(ok(await s.call('GET', '/v1/me', { key: await s.keyFor('bob', true) })));
    assert.deepEqual([readOnly.accountId, readOnly.readOnly], ['bob', true]);
    problem(await s.call('GET', '/v1/me', { key: null }), 401, 'unauthorized');
    problem(await s.call('GET', '/v1/me', { key: 'amk_nope' }), 401, 'unauthorized');
  });

  it('searches accounts by id or name for operators only, with validated input', async () => {
    const ids = async (query: string) =>
      (json(ok(await s.call('GET', `/v1/accounts?${query}`))).accounts as { id: string }[]).map(
        (a) => a.id,
      );
    assert.deepEqual(await ids('search=ALI'), ['alice']);
    assert.deepEqual(await ids('search=studio'), ['acme'], 'by name');
    assert.deepEqual(await ids('search=b'), ['bob']);
    const page = json(ok(await s.call('GET', '/v1/accounts?search=a&limit=1')));
    assert.deepEqual([page.accounts[0].id, page.nextCursor], ['acme', 'acme']);
    assert.deepEqual(await ids('search=a&cursor=acme'), ['alice']);
    problem(await s.call('GET', '/v1/accounts?search='), 400, 'invalid_argument');
    problem(await s.call('GET', `/v1/accounts?search=${'x'.repeat(101)}`), 400, 'invalid_argument');
    problem(await s.call('GET', '/v1/accounts?search=a', { key: aliceKey }), 403, 'forbidden');
  });

  it('previews a plan change without changing anything; another account looks unknown', async () => {
    problem(
      await s.call('GET', '/v1/accounts/alice/subscription/preview?plan=pro', { key: aliceKey }),
      404,
      'no_subscription',
    );
    ok(
      await s.call('POST', '/v1/accounts/alice/subscription', {
        idem: 'sub-alice',
        body: { plan: 'starter' },
      }),
      201,
    );
    const grants = async () => json(ok(await s.call('GET', '/v1/accounts/alice/balance'))).grants;
    const before = await grants();
    const up = json(
      ok(
        await s.call('GET', '/v1/accounts/alice/subscription/preview?plan=pro', { key: aliceKey }),
      ),
    );
    assert.equal(up.change, 'upgrade');
    assert.equal(up.from, 'starter');
    assert.equal(up.currency, 'usd');
    // Right after subscribing almost the whole cycle remains: nearly the full difference.
    assert.ok(up.chargeCents > 1400 && up.chargeCents <= 1500, `charge ${up.chargeCents}`);
    assert.ok(up.credits > 190 && up.credits <= 200, `credits ${up.credits}`);
    const down = json(
      ok(
        await s.call('GET', '/v1/accounts/alice/subscription/preview?plan=free', { key: aliceKey }),
      ),
    );
    const sub = json(ok(await s.call('GET', '/v1/accounts/alice/subscription')));
    assert.deepEqual([down.change, down.chargeCents, down.credits], ['downgrade', 0, 0]);
    assert.equal(down.effectiveAt, sub.nextRenewalAt);
    const same = json(
      ok(await s.call('GET', '/v1/accounts/alice/subscription/preview?plan=starter')),
    );
    assert.equal(same.change, 'unchanged');
    assert.deepEqual(await grants(), before);
    assert.equal(json(ok(await s.call('GET', '/v1/accounts/alice/subscription'))).plan, 'starter');
    problem(
      await s.call('GET', '/v1/accounts/alice/subscription/preview?plan=gold'),
      400,
      'invalid_parameter',
    );
    problem(
      await s.call('GET', '/v1/accounts/alice/subscription/preview?plan=pro', {
        key: await s.keyFor('bob'),
      }),
      404,
      'unknown_account',
    );
  });

  it('serves the dashboard at / and page paths, assets with a long cache, API 404s as problems', async () => {
    for (const path of ['/', '/overview', '/accounts/alice/history?kind=charge']) {
      const res = await fetch(`${s.url}${path}`);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      assert.equal(res.headers.get('cache-control'), 'no-cache');
      assert.equal(res.headers.get('content-security-policy'), DASHBOARD_CSP);
      assert.match(await res.text(), /Amisi dashboard/);
    }
    const asset = await fetch(`${s.url}/assets/app-abc123.js`);
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('cache-control') ?? '', /max-age=31536000.*immutable/);
    assert.equal(asset.headers.get('content-security-policy'), DASHBOARD_CSP);
    assert.equal((await fetch(`${s.url}/assets/missing.js`)).status, 404);
    await assertCompressed(`${s.url}/assets/app-abc123.js`, Buffer.from(SCRIPT));
    problem(await s.call('GET', '/v1/nope'), 404, 'not_found');
    problem(await s.call('GET', '/v1'), 404, 'not_found');
    problem(await s.call('POST', '/overview', { body: {} }), 404, 'not_found');
    const docs = await fetch(`${s.url}/docs/nope`);
    assert.equal(docs.status, 404);
  });
});

describe('the built dashboard (dist/web)', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
  });
  after(() => s.close());

  it('sends its script brotli- or gzip-compressed as asked, with the long cache', async () => {
    const html = readFileSync(join(DASHBOARD_DIR, 'index.html'), 'utf8');
    const script = /src="\/assets\/([^"]+\.js)"/.exec(html)?.[1];
    assert.ok(script, 'index.html names its script');
    await assertCompressed(
      `${s.url}/assets/${script}`,
      readFileSync(join(DASHBOARD_DIR, 'assets', script)),
    );
  });
});

describe('the dashboard without a build', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ dashboardDir: join(dir, 'not-built') });
  });
  after(() => s.close());

  it('answers / with 503 saying how to build it, and the API keeps working', async () => {
    const res = await fetch(`${s.url}/`);
    assert.equal(res.status, 503);
    assert.match(await res.text(), /npm run build/);
    ok(await s.call('GET', '/v1/catalog/packs'));
    problem(await s.call('GET', '/v1/nope'), 404, 'not_found');
  });
});
