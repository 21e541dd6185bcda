import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AmisiApiError,
  createClient,
  isAmisiApiError,
  type AmisiClient,
} from '../../src/client/index.js';
import { collect, rejection, startSdkServer, type SdkServer } from './client-helpers.js';

/** Every SDK method against a real server, its typed errors, and cursor pagination. */

describe('the SDK against a real server', () => {
  let sdk: SdkServer;
  let client: AmisiClient;
  before(async () => {
    sdk = await startSdkServer();
    client = sdk.client();
    for (const id of ['acc-a', 'acc-b', 'acc-c', 'acc-d', 'acc-e']) {
      await client.accounts.create({ id });
    }
  });
  after(async () => {
    await sdk?.close();
    assert.deepEqual(sdk?.specViolations ?? [], []);
  });

  it('accounts: create is idempotent by id; get; list in pages; all()', async () => {
    const again = await client.accounts.create({ id: 'acc-a' });
    assert.equal(again.replay, true);
    assert.equal((await client.accounts.get('acc-a')).id, 'acc-a');
    const first = await client.accounts.list({ limit: 2 });
    assert.deepEqual(
      first.accounts.map((a) => a.id),
      ['acc-a', 'acc-b'],
    );
    const pages = await collect(client.accounts.pages({ limit: 2 }));
    assert.deepEqual(
      pages.map((p) => p.accounts.length),
      [2, 2, 1],
    );
    const ids = (await collect(client.accounts.all({ limit: 2 }))).map((a) => a.id);
    assert.deepEqual(ids, ['acc-a', 'acc-b', 'acc-c', 'acc-d', 'acc-e']);
  });

  it('catalog: get, packs, plans', async () => {
    const catalog = await client.catalog.get();
    assert.deepEqual(catalog.body.operations['image.generate']?.price, {
      by: 'resolution',
      table: { '720p': 1, '1080p': 2, '4k': 3, '8k': 4 },
    });
    assert.equal((await client.catalog.packs()).currency, 'usd');
    const plans = await client.catalog.plans();
    assert.deepEqual(plans.plans.map((p) => [p.id, p.creditsPerCycle]).sort(), [
      ['business', 1000],
      ['free', 10],
      ['pro', 300],
      ['starter', 100],
    ]);
  });

  it('grants, holds, charges, balance: a key per call, reused only by retries', async () => {
    const g = await client.grants.create({ accountId: 'acc-b', credits: 50, source: 'promotion' });
    assert.equal(g.grant.remaining, 50);
    const h1 = await client.holds.create({ accountId: 'acc-b', credits: 5 });
    const h2 = await client.holds.create({ accountId: 'acc-b', credits: 5 });
    assert.notEqual(h1.hold.id, h2.hold.id, 'two calls are two holds');
    const all = await client.holds.capture(h1.hold.id);
    assert.deepEqual([all.capturedCredits, all.releasedCredits], [5, 0]);
    await client.holds.release(h2.hold.id);
    const c = await client.charges.create({ accountId: 'acc-b', credits: 3 });
    assert.equal(c.credits, 3);
    assert.equal((await client.balance.get('acc-b')).available, 42);
    const keys = sdk.sent.filter((r) => r.method === 'POST').map((r) => r.idempotencyKey);
    const keyed = keys.filter((k) => k !== null);
    assert.equal(new Set(keyed).size, keyed.length, 'every logical call had its own key');
    assert.ok(
      keyed.every((k) => /^[0-9a-f-]{36}$/.test(k)),
      'random UUIDs',
    );
  });

  it('history: one page, every page, every transaction (newest first)', async () => {
    for (let i = 0; i < 7; i++) {
      await client.grants.create({ accountId: 'acc-c', credits: 1, source: 'adjustment' });
    }
    const page = await client.history.list('acc-c', { limit: 3 });
    assert.equal(page.transactions.length, 3);
    assert.notEqual(page.nextCursor, null);
    const pages = await collect(client.history.pages('acc-c', { limit: 3 }));
    assert.deepEqual(
      pages.map((p) => p.transactions.length),
      [3, 3, 1],
    );
    const all = await collect(client.history.all('acc-c', { limit: 3, kind: ['grant'] }));
    assert.equal(all.length, 7);
    assert.deepEqual(
      all.map((t) => t.id),
      pages.flatMap((p) => p.transactions.map((t) => t.id)),
    );
    const times = all.map((t) => t.createdAt);
    assert.deepEqual(
      times,
      [...times].sort((a, b) => b - a),
    );
    // Starting from a cursor continues from there.
    const rest = await collect(client.history.all('acc-c', { limit: 3, cursor: page.nextCursor! }));
    assert.equal(rest.length, 4);
  });

  it('subscriptions: subscribe, get, change, cancel', async () => {
    const startsAt = Date.parse('2026-11-01T00:00:00Z');
    const sub = await client.subscriptions.subscribe('acc-d', { plan: 'starter', startsAt });
    assert.ok('subscription' in sub);
    assert.equal(sub.subscription.anchorAt, startsAt);
    const up = await client.subscriptions.change('acc-d', { plan: 'pro' });
    assert.ok('change' in up, "an operator's upgrade applies at once");
    assert.equal(up.change, 'upgrade');
    const cancelled = await client.subscriptions.cancel('acc-d');
    assert.equal(cancelled.change, 'cancel');
    const shown = await client.subscriptions.get('acc-d');
    assert.equal(shown.cancelAt, shown.nextRenewalAt);
  });

  it('purchases: buy, get, list, confirm, refund (full)', async () => {
    const bought = await client.purchases.buy({ accountId: 'acc-e', pack: 'pack-20' });
    assert.equal((await client.purchases.get(bought.purchase.id)).status, 'pending');
    await client.purchases.confirm(bought.purchase.id, { paymentRef: 'bank-tx-1' });
    const listed = await client.purchases.list('acc-e');
    assert.deepEqual(
      listed.purchases.map((p) => [p.id, p.status, p.paymentRef]),
      [[bought.purchase.id, 'paid', 'bank-tx-1']],
    );
    await client.charges.create({ accountId: 'acc-e', credits: 5 });
    const r = await client.purchases.refund(bought.purchase.id, { full: true });
    assert.deepEqual([r.purchase.refundedCredits, r.purchase.refundedCents], [15, 999]);
  });

  it('reports: advice and forecast for an account with a plan and a charge', async () => {
    await client.subscriptions.subscribe('acc-e', { plan: 'starter' });
    await client.charges.create({ accountId: 'acc-e', credits: 30 });
    const a = await client.reports.advice('acc-e');
    assert.deepEqual(
      [a.plan, a.cycles.length, a.advice.map((x) => x.kind)],
      ['starter', 0, ['short-history', 'short-history', 'run-out']],
    );
    const f = await client.reports.forecast('acc-e');
    assert.deepEqual(
      [
        f.forecast.kind,
        (f.forecast.figures as { available?: number }).available,
        f.forecast.recommendation?.action,
      ],
      ['run-out', 70, 'buy-packs'],
    );
    assert.equal(a.headline?.kind, 'run-out', 'the run-out leads, not "needs N cycles"');
  });

  it('reports: daily usage of the current cycle, split by operation; bad input refused', async () => {
    const d = await client.reports.dailyUsage('acc-e', { by: 'operation' });
    assert.equal(d.by, 'operation');
    assert.equal(
      d.days.reduce((sum, x) => sum + x.credits, 0),
      d.credits,
    );
    // The plan's cycle started at the subscribe: the 30 credits charged since (given in credits).
    assert.deepEqual(d.series, [{ key: '(credits)', kind: 'key', credits: 30 }]);
    const balance = await client.balance.get('acc-e');
    const allocation = balance.grants.find((g) => g.source === 'allocation');
    // Starter rolls over up to 50 of what is left of its 100 at the renewal.
    assert.equal(allocation?.rollsOver, Math.min(50, allocation?.remaining ?? 0));
    await assert.rejects(client.reports.dailyUsage('acc-e', { cycle: 99 }), (e: unknown) =>
      isAmisiApiError(e, 'invalid_argument'),
    );
  });

  it('operations: health, readiness, metrics, verify', async () => {
    assert.deepEqual(await client.operations.health(), { status: 'ok' });
    assert.deepEqual(await client.operations.readiness(), {
      ready: true,
      checks: { store: 'ok', catalog: 'active' },
    });
    assert.match(await client.operations.metrics(), /# TYPE/);
    assert.equal((await client.operations.verify()).ok, true);
  });
});

describe('typed errors', () => {
  let sdk: SdkServer;
  let client: AmisiClient;
  before(async () => {
    sdk = await startSdkServer();
    client = sdk.client();
    await client.accounts.create({ id: 'poor' });
  });
  after(async () => {
    await sdk?.close();
    assert.deepEqual(sdk?.specViolations ?? [], []);
  });

  it('unknown account: unknown_account (404) with the request id', async () => {
    const e = await rejection(() => client.balance.get('nobody'));
    assert.ok(isAmisiApiError(e, 'unknown_account'), String(e));
    assert.ok(e instanceof AmisiApiError);
    assert.deepEqual([e.status, e.title, e.retryable], [404, 'Unknown account', false]);
    assert.equal(e.type, 'urn:amisi:error:unknown_account');
    assert.equal(e.data.accountId, 'nobody');
    assert.match(e.requestId ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(e.message, `unknown_account: ${e.detail}`);
    assert.equal(isAmisiApiError(e, 'insufficient_credits'), false);
    assert.equal(isAmisiApiError(new Error('x')), false);
  });

  it('insufficient credits: insufficient_credits (402), required and available', async () => {
    const e = await rejection(() =>
      client.holds.create({ accountId: 'poor', credits: 5 }, { idempotencyKey: 'job-1' }),
    );
    assert.ok(isAmisiApiError(e, 'insufficient_credits'));
    assert.deepEqual([e.status, e.data.required, e.data.available], [402, 5, 0]);
    assert.equal(e.idempotencyKey, 'job-1');
  });

  it('bad input: invalid_argument (400), never retried', async () => {
    const before = sdk.sent.length;
    const e = await rejection(() =>
      client.grants.create({ accountId: 'poor', credits: 1, source: 'gift' as 'promotion' }),
    );
    assert.ok(isAmisiApiError(e, 'invalid_argument'), String(e));
    assert.equal(e.status, 400);
    assert.equal(e.data.field, 'source');
    assert.equal(sdk.sent.length - before, 1, 'one attempt');
    const credits = await rejection(() => client.charges.create({ accountId: 'poor', credits: 0 }));
    assert.ok(isAmisiApiError(credits, 'invalid_credits'));
  });

  it('other codes come through as they are', async () => {
    const cases: [() => Promise<unknown>, string][] = [
      [() => client.holds.get('hld_missing'), 'unknown_hold'],
      [() => client.purchases.get('pur_missing'), 'unknown_purchase'],
      [() => client.subscriptions.get('poor'), 'no_subscription'],
      [() => client.accounts.create({ id: 'poor', plan: 'platinum' }), 'invalid_parameter'],
      [() => client.purchases.buy({ accountId: 'poor', pack: 'pack-7' }), 'unknown_pack'],
      [
        () => client.quotes.create({ items: [{ operation: 'video.generate' }] }),
        'unknown_operation',
      ],
    ];
    for (const [call, code] of cases) {
      const e = await rejection(call);
      assert.ok(isAmisiApiError(e) && e.code === code, `${code}: ${String(e)}`);
    }
  });

  it('the same key with another body: idempotency_key_reused', async () => {
    await client.grants.create(
      { accountId: 'poor', credits: 2, source: 'promotion' },
      { idempotencyKey: 'promo-1' },
    );
    const e = await rejection(() =>
      client.grants.create(
        { accountId: 'poor', credits: 3, source: 'promotion' },
        { idempotencyKey: 'promo-1' },
      ),
    );
    assert.ok(isAmisiApiError(e, 'idempotency_key_reused'));
  });

  it('keys: a bad key is unauthorized; an account key cannot see another account', async () => {
    const bad = await rejection(() => sdk.client('amk_nope').balance.get('poor'));
    assert.ok(isAmisiApiError(bad, 'unauthorized'));
    await client.accounts.create({ id: 'rich' });
    const poorKey = await sdk.s.keyFor('poor');
    const own = sdk.client(poorKey);
    assert.equal((await own.balance.get('poor')).available, 2);
    const other = await rejection(() => own.balance.get('rich'));
    assert.ok(isAmisiApiError(other, 'unknown_account'));
    const forbidden = await rejection(() => own.operations.verify());
    assert.ok(isAmisiApiError(forbidden, 'forbidden'));
  });

  it('options are checked when the client is made', () => {
    const base = { baseUrl: sdk.s.url, apiKey: 'k' };
    assert.throws(() => createClient({ ...base, baseUrl: 'not a url' }));
    assert.throws(() => createClient({ ...base, apiKey: '' }), TypeError);
    assert.throws(() => createClient({ ...base, retries: -1 }), RangeError);
    assert.throws(() => createClient({ ...base, retries: 1.5 }), RangeError);
    assert.throws(() => createClient({ ...base, timeoutMs: 0 }), RangeError);
  });
});
