import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  createClient,
  isAmisiApiError,
  isAmisiNetworkError,
  type AmisiClient,
} from '../../src/client/index.js';
import { backoffMs, MAX_BACKOFF_MS, parseRetryAfter } from '../../src/client/retry.js';
import {
  rejection,
  startProxy,
  startSdkServer,
  type Proxy,
  type SdkServer,
  type Step,
} from './client-helpers.js';

/**
 * Retries through a proxy that fails chosen requests: a retry reuses the call's
 * Idempotency-Key, so the credits move once however many attempts it took.
 */

const busy = (status = 503): Step => ({
  status,
  headers: {
    'content-type': 'application/problem+json',
    'retry-after': '0',
  },
  body: JSON.stringify({
    type: 'urn:amisi:error:store_busy',
    title: 'Store busy',
    status,
    detail: 'the database is locked',
    code: 'store_busy',
    retryable: true,
  }),
});

describe('retries reuse the Idempotency-Key and charge once', () => {
  let sdk: SdkServer;
  const proxies: Proxy[] = [];
  let account = 0;

  before(async () => {
    sdk = await startSdkServer();
  });
  after(async () => {
    for (const p of proxies) await p.close();
    await sdk?.close();
  });

  /** A fresh account with 100 credits, and a client that reaches the server through a proxy. */
  async function setUp(plan: readonly Step[], retries?: number) {
    const id = `retry-${++account}`;
    const direct = sdk.client();
    await direct.accounts.create({ id });
    await direct.grants.create({ accountId: id, credits: 100, source: 'promotion' });
    const proxy = await startProxy(sdk.s.url, plan);
    proxies.push(proxy);
    let attempts = 0;
    const client = createClient({
      baseUrl: proxy.url,
      apiKey: sdk.s.operatorKey,
      ...(retries === undefined ? {} : { retries }),
      fetch: (input, init) => {
        attempts++;
        return fetch(input, init);
      },
    });
    return { id, proxy, client, direct, attempts: () => attempts };
  }

  async function charges(direct: AmisiClient, id: string) {
    return (await direct.history.list(id, { kind: ['charge'] })).transactions;
  }

  it('a 503 store_busy, then success: one charge, the same key twice', async () => {
    const { id, proxy, client, direct, attempts } = await setUp([busy()]);
    const r = await client.charges.create({ accountId: id, credits: 7 });
    assert.equal(r.replay, false, 'the first attempt never reached the server');
    assert.equal(attempts(), 2);
    const [first, second] = proxy.requests;
    assert.ok(first?.idempotencyKey);
    assert.equal(second?.idempotencyKey, first.idempotencyKey);
    assert.equal((await charges(direct, id)).length, 1);
    assert.equal((await direct.balance.get(id)).available, 93);
  });

  it('a connection dropped after the server charged: the retry is a replay, charged once', async () => {
    const { id, proxy, client, direct } = await setUp(['drop-after-forward']);
    const r = await client.charges.create({ accountId: id, credits: 7 });
    assert.equal(r.replay, true, 'the server had applied the first attempt');
    assert.equal(proxy.requests.length, 2);
    assert.equal(proxy.requests[1]!.idempotencyKey, proxy.requests[0]!.idempotencyKey);
    const journal = await charges(direct, id);
    assert.deepEqual(
      journal.map((t) => [t.idempotencyKey, t.id]),
      [[proxy.requests[0]!.idempotencyKey, r.transactionId]],
    );
    assert.equal((await direct.balance.get(id)).available, 93);
  });

  it("the caller's key is used on every attempt; holds and captures retry the same way", async () => {
    const { id, proxy, client, direct } = await setUp([
      'drop-before-forward',
      'forward',
      'drop-after-forward',
    ]);
    const h = await client.holds.create(
      { accountId: id, credits: 10 },
      { idempotencyKey: 'job-9' },
    );
    const c = await client.holds.capture(
      h.hold.id,
      { credits: 4 },
      { idempotencyKey: 'job-9-done' },
    );
    assert.deepEqual([c.replay, c.capturedCredits], [true, 4]);
    assert.deepEqual(
      proxy.requests.map((r) => r.idempotencyKey),
      ['job-9', 'job-9', 'job-9-done', 'job-9-done'],
    );
    assert.equal((await direct.balance.get(id)).available, 96);
  });

  it('429 is retried after Retry-After; a gateway 502 without a problem is retried', async () => {
    const limited: Step = {
      status: 429,
      headers: { 'retry-after': '1', 'content-type': 'application/problem+json' },
      body: JSON.stringify({
        code: 'rate_limited',
        retryable: true,
        status: 429,
        title: 'Rate limited',
        detail: 'slow down',
        type: 'urn:amisi:error:rate_limited',
      }),
    };
    const { id, proxy, client, direct } = await setUp([
      limited,
      { status: 502, body: 'Bad Gateway' },
    ]);
    const started = Date.now();
    const r = await client.charges.create({ accountId: id, credits: 1 });
    assert.ok(Date.now() - started >= 1000, 'waited at least the Retry-After second');
    assert.equal(r.replay, false);
    assert.equal(new Set(proxy.requests.map((q) => q.idempotencyKey)).size, 1);
    assert.equal(proxy.requests.length, 3);
    assert.equal((await charges(direct, id)).length, 1);
  });

  it('input errors are never retried', async () => {
    const { id, proxy, client } = await setUp([]);
    const e = await rejection(() => client.charges.create({ accountId: id, credits: 1000 }));
    assert.ok(isAmisiApiError(e, 'insufficient_credits'));
    assert.equal(proxy.requests.length, 1);
  });

  it('retries are bounded: the last error is thrown with the key to retry with later', async () => {
    const { id, proxy, client, direct } = await setUp([busy(), busy(), busy()]);
    const e = await rejection(() => client.charges.create({ accountId: id, credits: 1 }));
    assert.ok(isAmisiApiError(e, 'store_busy'), String(e));
    assert.equal(e.retryable, true);
    assert.equal(proxy.requests.length, 3, 'the first attempt and 2 retries');
    // The same logical call, retried later with the key the error carries, charges once.
    const later = await client.charges.create(
      { accountId: id, credits: 1 },
      { idempotencyKey: e.idempotencyKey! },
    );
    assert.equal(later.replay, false);
    assert.equal((await charges(direct, id)).length, 1);
  });

  it('no answer at all: AmisiNetworkError with the attempts and the key', async () => {
    const { id, client } = await setUp(['drop-before-forward', 'drop-before-forward'], 1);
    const e = await rejection(() =>
      client.charges.create({ accountId: id, credits: 1 }, { idempotencyKey: 'lost-1' }),
    );
    assert.ok(isAmisiNetworkError(e), String(e));
    assert.deepEqual([e.attempts, e.idempotencyKey], [2, 'lost-1']);
  });

  it('retries: 0 sends once', async () => {
    const { id, proxy, client } = await setUp([busy()], 0);
    assert.ok(
      isAmisiApiError(
        await rejection(() => client.charges.create({ accountId: id, credits: 1 })),
        'store_busy',
      ),
    );
    assert.equal(proxy.requests.length, 1);
  });

  it('a timed-out attempt is retried with the same key; a cancelled call is not', async () => {
    const { id, proxy, client } = await setUp([]);
    const slow = createClient({
      baseUrl: proxy.url,
      apiKey: sdk.s.operatorKey,
      timeoutMs: 50,
      retries: 1,
      fetch: async (input, init) => {
        await new Promise((r) => setTimeout(r, 200));
        return fetch(input, init);
      },
    });
    const e = await rejection(() => slow.charges.create({ accountId: id, credits: 1 }));
    assert.ok(isAmisiNetworkError(e), String(e));
    assert.equal(e.attempts, 2);
    const controller = new AbortController();
    controller.abort(new Error('the user closed the page'));
    const aborted = await rejection(() =>
      client.charges.create({ accountId: id, credits: 1 }, { signal: controller.signal }),
    );
    assert.equal((aborted as Error).message, 'the user closed the page');
  });

  it("readiness: a 503 report is an answer; a closing server's 503 is retried, then thrown", async () => {
    const json = { 'content-type': 'application/json' };
    const report = { ready: false, checks: { store: 'unreachable', catalog: 'unknown' } };
    const closing =
      '{"error":"Service Unavailable","message":"Service Unavailable","statusCode":503}';
    const { proxy, client } = await setUp([
      { status: 503, headers: json, body: JSON.stringify(report) },
      { status: 503, headers: json, body: closing },
      { status: 503, headers: json, body: closing },
      { status: 503, headers: json, body: closing },
    ]);
    assert.deepEqual(await client.operations.readiness(), report);
    const e = await rejection(() => client.operations.readiness());
    assert.ok(isAmisiApiError(e, 'internal'), String(e));
    assert.deepEqual([e.status, e.retryable], [503, true]);
    assert.equal(proxy.requests.length, 4);
  });

  it('a caller key that is not a valid header value is refused before sending', async () => {
    const { id, proxy, client } = await setUp([]);
    await assert.rejects(
      client.charges.create({ accountId: id, credits: 1 }, { idempotencyKey: 'has space' }),
      RangeError,
    );
    assert.equal(proxy.requests.length, 0);
  });
});

describe('backoff and Retry-After', () => {
  it('backoff doubles from 200 ms with jitter in the upper half, capped', () => {
    assert.equal(
      backoffMs(0, () => 0),
      100,
    );
    assert.equal(
      backoffMs(0, () => 1),
      200,
    );
    assert.equal(
      backoffMs(3, () => 0),
      800,
    );
    assert.equal(
      backoffMs(30, () => 1),
      MAX_BACKOFF_MS,
    );
  });
  it('Retry-After as seconds or an HTTP date', () => {
    assert.equal(parseRetryAfter('3'), 3000);
    assert.equal(parseRetryAfter(null), null);
    assert.equal(parseRetryAfter('soon'), null);
    const now = Date.parse('2026-11-29T12:00:00Z');
    assert.equal(parseRetryAfter('Sun, 29 Nov 2026 12:00:05 GMT', now), 5000);
    assert.equal(parseRetryAfter('Sun, 29 Nov 2026 11:00:00 GMT', now), 0);
  });
});
