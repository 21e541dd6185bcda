import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BOTH_STORES } from '../pg-helpers.js';
import {
  ok,
  problem,
  startServer,
  type CallOptions,
  type Reply,
  type TestServer,
} from './http-helpers.js';

/** API keys: who may call what, and one account's key never reaches another account. */

const json = (b: unknown) => b as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('API keys: authentication', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
    ok(await s.call('POST', '/v1/accounts', { body: { id: 'ann' } }), 201);
  });
  after(async () => s?.close());

  it('a missing, malformed, unknown, forged or revoked key is 401 unauthorized', async () => {
    const none = await s.call('GET', '/v1/accounts/ann', { key: null });
    problem(none, 401, 'unauthorized');
    assert.equal(none.headers.get('www-authenticate'), 'Bearer');
    const real = await s.keyFor('ann');
    const forged = real.slice(0, -4) + (real.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    const bodies = new Set<string>();
    for (const authorization of [
      'Bearer nope',
      `Bearer ${forged}`,
      `Bearer amk_000000000000_${'A'.repeat(43)}`,
    ]) {
      const r = await s.call('GET', '/v1/accounts/ann', { key: null, headers: { authorization } });
      bodies.add(JSON.stringify(problem(r, 401, 'unauthorized')));
    }
    assert.equal(bodies.size, 1, 'every bad key gets the same answer');
    // A header that is not `Bearer <key>` is told so: it says nothing about any key.
    for (const authorization of ['Basic YW5uOnB3', 'Bearer', real, `Bearer ${real} extra`]) {
      const r = await s.call('GET', '/v1/accounts/ann', { key: null, headers: { authorization } });
      const p = problem(r, 401, 'unauthorized');
      assert.match(String(p.detail), /Authorization header must be "Bearer <key>"/, authorization);
      assert.equal(p.reason, 'malformed_authorization');
    }
    ok(await s.call('GET', '/v1/accounts/ann', { key: real }));
    const { record } = await s.keys.revoke(real);
    assert.notEqual(record.revokedAt, null);
    const revoked = problem(
      await s.call('GET', '/v1/accounts/ann', { key: real }),
      401,
      'unauthorized',
    );
    assert.equal(JSON.stringify(revoked), [...bodies][0]);
  });

  it('public routes need no key; the webhook authenticates by its signature instead', async () => {
    ok(await s.call('GET', '/healthz', { key: null }));
    ok(await s.call('GET', '/readyz', { key: null }));
    ok(await s.call('GET', '/metrics', { key: null }));
    problem(
      await s.call('POST', '/v1/payments/stripe/webhook', {
        key: null,
        raw: '{}',
        headers: { 'content-type': 'application/json' },
      }),
      400,
      'webhook_signature_invalid',
    );
  });

  it('read-only keys read but every POST is forbidden and changes nothing', async () => {
    const ops = await s.keyFor('operator', true);
    const ann = await s.keyFor('ann', true);
    ok(await s.call('GET', '/v1/accounts', { key: ops }));
    ok(await s.call('GET', '/v1/accounts/ann/balance', { key: ann }));
    const before = await s.call('GET', '/v1/accounts/ann/history');
    problem(
      await s.call('POST', '/v1/grants', {
        key: ops,
        idem: 'ro-1',
        body: { accountId: 'ann', credits: 5, source: 'promotion' },
      }),
      403,
      'forbidden',
    );
    problem(
      await s.call('POST', '/v1/charges', {
        key: ann,
        idem: 'ro-2',
        body: { accountId: 'ann', credits: 1 },
      }),
      403,
      'forbidden',
    );
    problem(
      await s.call('POST', '/v1/quotes', {
        key: ann,
        body: { items: [{ operation: 'image.generate' }] },
      }),
      403,
      'forbidden',
    );
    assert.equal((await s.call('GET', '/v1/accounts/ann/history')).text, before.text);
  });

  it('an account key cannot use operator routes: 403 forbidden', async () => {
    const ann = await s.keyFor('ann');
    const calls: [string, string, CallOptions][] = [
      ['POST', '/v1/accounts', { body: { id: 'new' } }],
      ['GET', '/v1/accounts', {}],
      [
        'POST',
        '/v1/grants',
        { idem: 'op-1', body: { accountId: 'ann', credits: 1, source: 'promotion' } },
      ],
      ['POST', '/v1/accounts/ann/subscription', { idem: 'op-2', body: { plan: 'pro' } }],
      ['POST', '/v1/plan-upgrades/upg_01AAAAAAAAAAAAAAAAAAAAAAAA/confirm', { body: {} }],
      ['GET', '/v1/verify', {}],
      ['GET', '/v1/account-summaries', {}],
      ['POST', '/v1/accounts/ann/keys', { body: {} }],
    ];
    for (const [method, path, o] of calls) {
      problem(await s.call(method, path, { ...o, key: ann }), 403, 'forbidden');
    }
  });
});

describe('API keys: rate limit per key', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ rateLimit: { max: 3, windowMs: 60_000 } });
    ok(await s.call('POST', '/v1/accounts', { body: { id: 'ann' } }), 201);
  });
  after(async () => s?.close());

  it('past the limit a key gets 429 rate_limited with Retry-After; other keys go on', async () => {
    const a = await s.keyFor('ann');
    const b = await s.keyFor('ann');
    for (let i = 0; i < 3; i++) ok(await s.call('GET', '/v1/accounts/ann', { key: a }));
    const limited = await s.call('GET', '/v1/accounts/ann', { key: a });
    problem(limited, 429, 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) > 0, 'Retry-After in seconds');
    assert.equal(limited.body.retryable, true);
    ok(await s.call('GET', '/v1/accounts/ann', { key: b }));
    for (let i = 0; i < 5; i++) ok(await s.call('GET', '/healthz', { key: null }));
  });

  it('requests without a valid key are limited per address (ADR 0005)', async () => {
    const attempts = [
      { key: null },
      { key: 'amk_000000000000_' + 'A'.repeat(43) },
      { key: null, headers: { authorization: 'Basic YW5uOnB3' } },
    ];
    for (const o of attempts)
      problem(await s.call('GET', '/v1/accounts/ann', o), 401, 'unauthorized');
    // The fourth attempt from this address, with a key or without, is over the limit.
    problem(await s.call('GET', '/v1/accounts/ann', { key: null }), 429, 'rate_limited');
    problem(
      await s.call('POST', '/v1/accounts', { key: 'nope', body: { id: 'x' } }),
      429,
      'rate_limited',
    );
    // A valid key is limited by its own count, not by the address's.
    const c = await s.keyFor('ann');
    ok(await s.call('GET', '/v1/accounts/ann', { key: c }));
  });

  it('a valid key refused on a route counts against that key', async () => {
    const d = await s.keyFor('ann');
    for (let i = 0; i < 3; i++) {
      problem(await s.call('GET', '/v1/accounts', { key: d }), 403, 'forbidden');
    }
    problem(await s.call('GET', '/v1/accounts/ann', { key: d }), 429, 'rate_limited');
  });
});

/** What a call answered, with the target's ids replaced, so two targets compare equal. */
function normalized(reply: Reply, ids: readonly string[]): string {
  let text = reply.text;
  for (const id of ids) text = text.split(id).join('<target>');
  return `${reply.status} ${text}`;
}

interface Targets {
  readonly account: string;
  readonly hold: string;
  readonly purchase: string;
  readonly upgrade: string;
  readonly delivery: string;
  readonly endpoint: string;
}

type Attempt = readonly [string, string, CallOptions];

/** Every endpoint that names an account, hold or purchase, aimed at `t`. */
function attempts(t: Targets): [string, Attempt][] {
  const a = t.account;
  return [
    ['get account', ['GET', `/v1/accounts/${a}`, {}]],
    ['balance', ['GET', `/v1/accounts/${a}/balance`, {}]],
    ['history', ['GET', `/v1/accounts/${a}/history`, {}]],
    ['subscription', ['GET', `/v1/accounts/${a}/subscription`, {}]],
    ['purchases', ['GET', `/v1/accounts/${a}/purchases`, {}]],
    ['hold', ['POST', '/v1/holds', { idem: 'x-1', body: { accountId: a, credits: 1 } }]],
    ['charge', ['POST', '/v1/charges', { idem: 'x-2', body: { accountId: a, credits: 1 } }]],
    ['buy', ['POST', '/v1/purchases', { idem: 'x-3', body: { accountId: a, pack: 'pack-20' } }]],
    ['cancel', ['POST', `/v1/accounts/${a}/subscription/cancel`, { idem: 'x-4' }]],
    ['get hold', ['GET', `/v1/holds/${t.hold}`, {}]],
    ['capture', ['POST', `/v1/holds/${t.hold}/capture`, { idem: 'x-5' }]],
    ['release', ['POST', `/v1/holds/${t.hold}/release`, { idem: 'x-6' }]],
    ['get purchase', ['GET', `/v1/purchases/${t.purchase}`, {}]],
    ['cancel purchase', ['POST', `/v1/purchases/${t.purchase}/cancel`, {}]],
    [
      'buy packs',
      [
        'POST',
        '/v1/purchases',
        { idem: 'x-12', body: { accountId: a, packs: [{ pack: 'pack-20', count: 2 }] } },
      ],
    ],
    [
      'grant',
      [
        'POST',
        '/v1/grants',
        { idem: 'x-7', body: { accountId: a, credits: 9, source: 'promotion' } },
      ],
    ],
    [
      'subscribe',
      ['POST', `/v1/accounts/${a}/subscription`, { idem: 'x-8', body: { plan: 'pro' } }],
    ],
    [
      'change plan',
      [
        'POST',
        `/v1/accounts/${a}/subscription/change`,
        { idem: 'x-9', body: { plan: 'business' } },
      ],
    ],
    ['confirm', ['POST', `/v1/purchases/${t.purchase}/confirm`, {}]],
    ['upgrades', ['GET', `/v1/accounts/${a}/subscription/upgrades`, {}]],
    ['cancel upgrade', ['POST', `/v1/plan-upgrades/${t.upgrade}/cancel`, {}]],
    ['confirm upgrade', ['POST', `/v1/plan-upgrades/${t.upgrade}/confirm`, { body: {} }]],
    ['refund', ['POST', `/v1/purchases/${t.purchase}/refund`, { idem: 'x-10' }]],
    ['auto top-up', ['GET', `/v1/accounts/${a}/autotopup`, {}]],
    [
      'set auto top-up',
      [
        'PUT',
        `/v1/accounts/${a}/autotopup`,
        { body: { pack: 'pack-20', thresholdCredits: 500, maxPerPeriod: 3 } },
      ],
    ],
    ['clear auto top-up', ['DELETE', `/v1/accounts/${a}/autotopup`, {}]],
    ['organization', ['GET', `/v1/accounts/${a}/organization`, {}]],
    ['members', ['GET', `/v1/accounts/${a}/members`, {}]],
    ['add member', ['PUT', `/v1/accounts/${a}/members/eve`, { body: { role: 'admin' } }]],
    ['remove member', ['DELETE', `/v1/accounts/${a}/members/eve`, {}]],
    ['member key', ['POST', `/v1/accounts/${a}/members/eve/keys`, { body: {} }]],
    ['projects', ['GET', `/v1/accounts/${a}/projects`, {}]],
    ['set project', ['PUT', `/v1/accounts/${a}/projects/web`, { body: {} }]],
    ['budgets', ['GET', `/v1/accounts/${a}/budgets`, {}]],
    ['set budget', ['PUT', `/v1/accounts/${a}/budgets/pool/-`, { body: { limit: 1 } }]],
    ['remove budget', ['DELETE', `/v1/accounts/${a}/budgets/pool/-`, {}]],
    ['alerts', ['GET', `/v1/accounts/${a}/alerts`, {}]],
    ['statement', ['GET', `/v1/accounts/${a}/statement`, {}]],
    ['audit', ['GET', `/v1/accounts/${a}/audit`, {}]],
    ['daily usage', ['GET', `/v1/accounts/${a}/usage/daily`, {}]],
    ['advice', ['GET', `/v1/accounts/${a}/advice`, {}]],
    ['forecast', ['GET', `/v1/accounts/${a}/forecast`, {}]],
    ['export', ['GET', `/v1/accounts/${a}/export.csv`, {}]],
    [
      'batch hold',
      [
        'POST',
        '/v1/batches',
        {
          idem: 'x-11',
          body: {
            accountId: a,
            items: [{ operation: 'image.generate', params: { resolution: '720p' } }],
          },
        },
      ],
    ],
    ['deliveries', ['GET', `/v1/webhooks/deliveries?accountId=${a}`, {}]],
    ['get delivery', ['GET', `/v1/webhooks/deliveries/${t.delivery}`, {}]],
    ['redeliver', ['POST', `/v1/webhooks/deliveries/${t.delivery}/redeliver`, {}]],
    ['remove endpoint', ['DELETE', `/v1/webhooks/${t.endpoint}`, {}]],
    [
      'register endpoint',
      [
        'POST',
        '/v1/webhooks',
        {
          idem: 'x-wh',
          body: { url: 'http://127.0.0.1:9/hooks', eventTypes: ['charge.created'], accountId: a },
        },
      ],
    ],
  ];
}

for (const [storeName, open, skip] of BOTH_STORES) {
  describe(`tenant isolation on ${storeName}`, { skip }, () => {
    let s: TestServer;
    let ben: Targets;
    before(async () => {
      s = await startServer({ open });
      for (const id of ['ann', 'ben']) {
        ok(await s.call('POST', '/v1/accounts', { body: { id } }), 201);
        ok(
          await s.call('POST', '/v1/grants', {
            idem: `g-${id}`,
            body: { accountId: id, credits: 100, source: 'promotion' },
          }),
          201,
        );
      }
      const hold = json(
        ok(
          await s.call('POST', '/v1/holds', {
            idem: 'h-ben',
            body: { accountId: 'ben', credits: 7 },
          }),
          201,
        ),
      );
      const purchase = json(
        ok(
          await s.call('POST', '/v1/purchases', {
            idem: 'p-ben',
            body: { accountId: 'ben', pack: 'pack-20' },
          }),
          201,
        ),
      );
      ok(
        await s.call('POST', '/v1/accounts/ben/subscription', {
          idem: 's-ben',
          body: { plan: 'pro' },
        }),
        201,
      );
      // Ben asks for an upgrade himself: it waits for its payment.
      const upgrade = json(
        ok(
          await s.call('POST', '/v1/accounts/ben/subscription/change', {
            idem: 'u-ben',
            key: await s.keyFor('ben'),
            body: { plan: 'business' },
          }),
          202,
        ),
      );
      const endpoint = json(
        ok(
          await s.call('POST', '/v1/webhooks', {
            idem: 'wh-302',
            body: {
              url: 'http://127.0.0.1:9/hooks',
              eventTypes: ['charge.created'],
              accountId: 'ben',
            },
          }),
          201,
        ),
      );
      ok(
        await s.call('POST', '/v1/charges', {
          idem: 'c-ben',
          body: { accountId: 'ben', credits: 1 },
        }),
        201,
      );
      ok(
        await s.call('PUT', '/v1/accounts/ben/autotopup', {
          body: { pack: 'pack-50', thresholdCredits: 5, maxPerPeriod: 1 },
        }),
      );
      const deliveries = json(ok(await s.call('GET', '/v1/webhooks/deliveries?accountId=ben')));
      ben = {
        account: 'ben',
        hold: hold.hold.id,
        purchase: purchase.purchase.id,
        upgrade: upgrade.upgrade.id,
        delivery: deliveries.deliveries[0].id,
        endpoint: endpoint.endpoint.id,
      };
    });
    after(async () => s?.close());

    /** Everything an operator can read about ben. */
    async function benState(): Promise<string> {
      const reads = [
        '/v1/accounts/ben/balance',
        '/v1/accounts/ben/history?limit=500',
        '/v1/accounts/ben/subscription',
        '/v1/accounts/ben/purchases',
        '/v1/accounts/ben/subscription/upgrades',
        `/v1/holds/${ben.hold}`,
        '/v1/accounts/ben/autotopup',
        '/v1/webhooks/deliveries?accountId=ben',
        '/v1/webhooks',
      ];
      const texts = await Promise.all(reads.map(async (p) => (await s.call('GET', p)).text));
      // The balance's asOf moves with the clock; nothing else may.
      return texts.join('\n').replace(/"asOf":\d+/, '');
    }

    it("an account key gets for another account's resources exactly what it gets for unknown ones", async () => {
      const annKey = await s.keyFor('ann');
      const ghost: Targets = {
        account: 'ghost',
        hold: 'hld_01AAAAAAAAAAAAAAAAAAAAAAAA',
        purchase: 'pur_01AAAAAAAAAAAAAAAAAAAAAAAA',
        upgrade: 'upg_01AAAAAAAAAAAAAAAAAAAAAAAA',
        delivery: 'dlv_01AAAAAAAAAAAAAAAAAAAAAAAA',
        endpoint: 'whe_01AAAAAAAAAAAAAAAAAAAAAAAA',
      };
      const before = await benState();
      const foreign = attempts(ben);
      const unknown = attempts(ghost);
      for (const [i, [name, [method, path, o]]] of foreign.entries()) {
        const [, [, ghostPath, ghostOptions]] = unknown[i]!;
        const mine = await s.call(method, path, { ...o, key: annKey });
        const none = await s.call(method, ghostPath, { ...ghostOptions, key: annKey });
        assert.ok([403, 404].includes(mine.status), `${name}: ${mine.status} ${mine.text}`);
        assert.equal(
          normalized(mine, Object.values(ben)),
          normalized(none, Object.values(ghost)),
          `${name}: another account's resource must look unknown`,
        );
      }
      assert.equal(await benState(), before, "nothing of ben's changed");
      // Ann's own key still works on ann.
      ok(
        await s.call('POST', '/v1/charges', {
          key: annKey,
          idem: 'own',
          body: { accountId: 'ann', credits: 1 },
        }),
        201,
      );
    });
  });
}
