import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BOTH_STORES } from '../pg-helpers.js';
import { startServer, type Reply, type TestServer } from './http-helpers.js';

/**
 * Every write answers a replay (the same request again, with its key where it takes one) with
 * exactly its first answer, `replay: true` aside: same status, same body. One table, so the
 * next write added is checked the same way.
 */

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Write {
  readonly name: string;
  readonly method: 'POST' | 'PUT';
  /** The path, from what earlier writes answered. */
  readonly path: (ctx: Json) => string;
  readonly body?: (ctx: Json) => unknown;
  /** The Idempotency-Key, for writes that take one. */
  readonly idem?: string;
  /** What later writes need from this one's answer. */
  readonly keep?: (body: Json, ctx: Json) => void;
  /**
   * A PUT of a member sets its state: the first answers 201 with `created: true`, the same
   * again 200 with `created: false` (it created nothing); the rest of the answer is the same.
   */
  readonly put?: true;
}

const gen = (resolution: string) => ({
  operation: 'image.generate',
  params: { resolution },
  count: 1,
});

const WRITES: readonly Write[] = [
  {
    name: 'create account',
    method: 'POST',
    path: () => '/v1/accounts',
    body: () => ({ id: 'rex' }),
  },
  {
    name: 'grant',
    method: 'POST',
    path: () => '/v1/grants',
    body: () => ({ accountId: 'rex', credits: 1000, source: 'promotion', reason: 'welcome' }),
    idem: 'g-1',
  },
  {
    name: 'hold',
    method: 'POST',
    path: () => '/v1/holds',
    body: () => ({ accountId: 'rex', credits: 10 }),
    idem: 'h-1',
    keep: (b, ctx) => (ctx.hold1 = b.hold.id),
  },
  {
    name: 'capture',
    method: 'POST',
    path: (ctx) => `/v1/holds/${ctx.hold1}/capture`,
    body: () => ({ credits: 6 }),
    idem: 'c-1',
  },
  {
    name: 'hold again',
    method: 'POST',
    path: () => '/v1/holds',
    body: () => ({ accountId: 'rex', items: [gen('1080p')] }),
    idem: 'h-2',
    keep: (b, ctx) => (ctx.hold2 = b.hold.id),
  },
  {
    name: 'release',
    method: 'POST',
    path: (ctx) => `/v1/holds/${ctx.hold2}/release`,
    body: () => ({}),
    idem: 'r-1',
  },
  {
    name: 'charge',
    method: 'POST',
    path: () => '/v1/charges',
    body: () => ({ accountId: 'rex', items: [gen('4k')] }),
    idem: 'ch-1',
    keep: (b, ctx) => (ctx.charge = b.transactionId),
  },
  {
    name: 'outcome',
    method: 'POST',
    path: () => '/v1/outcomes',
    body: (ctx) => ({ accountId: 'rex', transactionId: ctx.charge, outcome: 'kept' }),
  },
  {
    name: 'subscribe',
    method: 'POST',
    path: () => '/v1/accounts/rex/subscription',
    body: () => ({ plan: 'starter' }),
    idem: 's-1',
  },
  {
    name: 'upgrade',
    method: 'POST',
    path: () => '/v1/accounts/rex/subscription/change',
    body: () => ({ plan: 'pro' }),
    idem: 'up-1',
  },
  {
    name: 'downgrade',
    method: 'POST',
    path: () => '/v1/accounts/rex/subscription/change',
    body: () => ({ plan: 'starter' }),
    idem: 'down-1',
  },
  {
    name: 'cancel',
    method: 'POST',
    path: () => '/v1/accounts/rex/subscription/cancel',
    body: () => ({}),
    idem: 'x-1',
  },
  {
    name: 'buy',
    method: 'POST',
    path: () => '/v1/purchases',
    body: () => ({ accountId: 'rex', pack: 'pack-50' }),
    idem: 'p-1',
    keep: (b, ctx) => (ctx.purchase = b.purchase.id),
  },
  {
    name: 'confirm',
    method: 'POST',
    path: (ctx) => `/v1/purchases/${ctx.purchase}/confirm`,
    body: () => ({}),
  },
  {
    name: 'refund',
    method: 'POST',
    path: (ctx) => `/v1/purchases/${ctx.purchase}/refund`,
    body: () => ({}),
    idem: 'rf-1',
  },
  {
    name: 'hold a batch',
    method: 'POST',
    path: () => '/v1/batches',
    body: () => ({ accountId: 'rex', items: [gen('1080p'), gen('4k'), gen('1080p')] }),
    idem: 'b-1',
    keep: (b, ctx) => (ctx.batch = b.batch.id),
  },
  {
    name: 'capture a batch item',
    method: 'POST',
    path: (ctx) => `/v1/batches/${ctx.batch}/items/0/capture`,
    body: () => ({}),
    idem: 'bc-1',
  },
  {
    name: 'release a batch item',
    method: 'POST',
    path: (ctx) => `/v1/batches/${ctx.batch}/items/1/release`,
    body: () => ({}),
    idem: 'br-1',
  },
  {
    name: 'release a batch',
    method: 'POST',
    path: (ctx) => `/v1/batches/${ctx.batch}/release`,
    body: () => ({}),
    idem: 'bx-1',
  },
  {
    name: 'create an organization',
    method: 'POST',
    path: () => '/v1/orgs',
    body: () => ({ id: 'orb', name: 'Orb', owner: { id: 'olga' } }),
  },
  {
    name: 'subscribe the organization',
    method: 'POST',
    path: () => '/v1/accounts/orb/subscription',
    body: () => ({ plan: 'pro' }),
    idem: 'os-1',
  },
  {
    name: 'add a member',
    method: 'PUT',
    path: () => '/v1/accounts/orb/members/mia',
    body: () => ({ role: 'member', name: 'Mia' }),
    put: true,
  },
  {
    name: 'add a project',
    method: 'PUT',
    path: () => '/v1/accounts/orb/projects/web',
    body: () => ({ name: 'Web' }),
  },
  {
    name: 'set a budget',
    method: 'PUT',
    path: () => '/v1/accounts/orb/budgets/member/mia',
    body: () => ({ limit: 100 }),
  },
];

/** The answer as compared: status and body, `replay` left out (and a PUT's `created`). */
function answer(r: Reply, put = false): unknown {
  const { replay: _replay, created: _created, ...rest } = r.body ?? {};
  if (put) return rest;
  return {
    status: r.status,
    body: 'created' in (r.body ?? {}) ? { ...rest, created: _created } : rest,
  };
}

for (const [storeName, open, skip] of BOTH_STORES) {
  describe(`every replay answers the first answer, on ${storeName}`, { skip }, () => {
    let s: TestServer;
    before(async () => {
      s = await startServer({ open });
    });
    after(async () => s?.close());

    it('each write, then the same again', async () => {
      const ctx: Json = {};
      const differ: string[] = [];
      for (const w of WRITES) {
        const send = () =>
          s.call(w.method, w.path(ctx), {
            ...(w.body ? { body: w.body(ctx) } : {}),
            ...(w.idem === undefined ? {} : { idem: w.idem }),
          });
        const first = await send();
        assert.ok(first.status < 300, `${w.name}: ${first.status} ${first.text}`);
        w.keep?.(first.body, ctx);
        const again = await send();
        if (w.put) {
          assert.deepEqual(
            [first.status, first.body.created, again.status, again.body.created],
            [201, true, 200, false],
            w.name,
          );
        }
        if (JSON.stringify(answer(again, w.put)) !== JSON.stringify(answer(first, w.put))) {
          differ.push(`${w.name}:\n  first ${first.text}\n  again ${again.text}`);
        } else if ('replay' in first.body) {
          assert.deepEqual([first.body.replay, again.body.replay], [false, true], w.name);
        }
      }
      assert.deepEqual(differ, [], differ.join('\n'));
    });
  });
}
