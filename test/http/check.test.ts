import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeClock } from '../../src/ledger/ports.js';
import { BOTH_STORES } from '../pg-helpers.js';
import {
  createOrganization,
  ok,
  problem,
  startServer,
  type Reply,
  type TestServer,
} from './http-helpers.js';

/**
 * POST /v1/check: the hold's decision without the hold. Allowed or not with the price line by
 * line and the balance after; blocked by credits, a hard budget, the overdraft limit with the
 * very code, message and figures POST /v1/holds refuses the same request with; with hold, a
 * hold (idempotent by its key); bad input a 4xx problem; scoped like holds; a plain check
 * writes nothing, and sees what is due (a hold past its ttl) as a hold would.
 */

const json = (b: unknown) => b as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const FOUR_K = { operation: 'image.generate', params: { resolution: '4k' }, count: 2 };

/** The problem's own figures: its members other than the problem+json ones. */
function figures(body: Record<string, unknown>): Record<string, unknown> {
  const { type: _t, title: _ti, status: _s, detail: _d, code: _c, retryable: _r, ...data } = body;
  return data;
}

for (const [name, open, skip] of BOTH_STORES) {
  describe(`POST /v1/check on ${name}`, { skip }, () => {
    let s: TestServer;
    const clock = new FakeClock(Date.UTC(2026, 2, 1));
    let n = 0;
    const fresh = (prefix: string) => `${prefix}-${++n}`;

    const check = (body: unknown, o: { key?: string; idem?: string } = {}) =>
      s.call('POST', '/v1/check', { body, ...o });

    /** What a plain check must leave as it found: the journal, keys and holds of the account. */
    async function footprint(accountId: string) {
      const page = await s.ledger.history({ accountId, limit: 500 });
      return {
        journal: page.transactions.length,
        keys: await s.store.count('idempotency', { accountId }),
        holds: await s.store.count('holds', { accountId }),
      };
    }

    /** A check that blocks answers what POST /v1/holds refuses with, code, detail and data. */
    async function sameAsHold(body: Record<string, unknown>, options: { key?: string } = {}) {
      const checked = json(ok(await check(body, options)));
      const held: Reply = await s.call('POST', '/v1/holds', {
        body,
        idem: fresh('hold'),
        ...options,
      });
      assert.ok(held.status >= 400, `the hold is refused too: ${held.text}`);
      assert.equal(checked.allowed, false);
      assert.equal(checked.hold, null);
      assert.equal(checked.blockedBy.code, held.body.code);
      assert.equal(checked.blockedBy.message, held.body.detail);
      assert.deepEqual(checked.blockedBy.data, figures(held.body));
      return checked;
    }

    before(async () => {
      s = await startServer({ open, clock });
      for (const [id, credits] of [
        ['c-a', 10],
        ['c-o', 10],
        ['c-h', 10],
        ['c-t', 10],
      ] as const) {
        ok(await s.call('POST', '/v1/accounts', { body: { id } }), 201);
        ok(
          await s.call('POST', '/v1/grants', {
            idem: `g-${id}`,
            body: { accountId: id, credits, source: 'promotion' },
          }),
          201,
        );
      }
    });
    after(async () => {
      await s?.close();
    });

    it('allowed: the price line by line, the balance now and after, and nothing written', async () => {
      const before = await footprint('c-a');
      const r = json(ok(await check({ accountId: 'c-a', items: [FOUR_K] })));
      assert.equal(r.allowed, true);
      assert.equal(r.blockedBy, null);
      assert.equal(r.credits, 6);
      assert.deepEqual(
        r.quote.lines.map((l: Record<string, unknown>) => [l.operation, l.unitCredits, l.count]),
        [['image.generate', 3, 2]],
      );
      const quote = json(ok(await s.call('POST', '/v1/quotes', { body: { items: [FOUR_K] } })));
      assert.deepEqual(r.quote, quote, 'priced as POST /v1/quotes prices it');
      assert.deepEqual([r.available, r.availableAfter], [10, 4]);
      assert.deepEqual([r.hold, r.transactionId, r.replay], [null, null, false]);
      const plain = json(ok(await check({ accountId: 'c-a', credits: 10 })));
      assert.deepEqual([plain.allowed, plain.quote, plain.availableAfter], [true, null, 0]);
      assert.deepEqual(await footprint('c-a'), before, 'a check writes nothing');
    });

    it('blocked by credits: 200 allowed false, with what a hold is refused with', async () => {
      const before = await footprint('c-a');
      const r = await sameAsHold({ accountId: 'c-a', credits: 11 });
      assert.equal(r.blockedBy.code, 'insufficient_credits');
      assert.equal(r.blockedBy.reason, 'credits');
      assert.deepEqual([r.available, r.availableAfter], [10, -1]);
      const items = await sameAsHold({ accountId: 'c-a', items: [{ ...FOUR_K, count: 4 }] });
      assert.equal(items.quote.credits, 12, 'blocked, the price is still answered');
      assert.deepEqual(await footprint('c-a'), before, 'neither wrote anything');
    });

    it('blocked by the overdraft limit; allowed into it, below zero after', async () => {
      await s.ledger.setOverdraft({ accountId: 'c-o', limit: 5 });
      const into = json(ok(await check({ accountId: 'c-o', credits: 14 })));
      assert.deepEqual([into.allowed, into.availableAfter], [true, -4]);
      const past = await sameAsHold({ accountId: 'c-o', credits: 16 });
      assert.deepEqual(
        [past.blockedBy.code, past.blockedBy.reason],
        ['overdraft_limit_reached', 'overdraft'],
      );
    });

    it('blocked by a hard budget, for a member key, as its hold is', async () => {
      await createOrganization(s, {
        id: 'c-org',
        name: 'Check Org',
        owner: { id: 'olga', email: 'o@c.test' },
        plan: 'business',
        members: [
          ['mia', 'member'],
          ['max', 'member'],
        ],
      });
      ok(
        await s.call('PUT', '/v1/accounts/c-org/budgets/member/mia', {
          body: { limit: 5, mode: 'hard' },
        }),
      );
      const mia = json(
        ok(await s.call('POST', '/v1/accounts/c-org/members/mia/keys', { body: {} }), 201),
      ).key as string;
      const fits = json(ok(await check({ accountId: 'c-org', credits: 5 }, { key: mia })));
      assert.equal(fits.allowed, true);
      const over = await sameAsHold({ accountId: 'c-org', credits: 6 }, { key: mia });
      assert.deepEqual([over.blockedBy.code, over.blockedBy.reason], ['budget_exceeded', 'budget']);
      assert.equal(over.blockedBy.data.limit, 5);

      // A member key checks as its own member only, like its holds.
      const other = await check(
        { accountId: 'c-org', credits: 1, attribution: { member: 'max' } },
        { key: mia },
      );
      problem(other, 403, 'forbidden');
      const elsewhere = await check({ accountId: 'c-a', credits: 1 }, { key: mia });
      problem(elsewhere, 404, 'unknown_account');
      // An organization's check names its member, or is bad input as its hold is.
      problem(await check({ accountId: 'c-org', credits: 1 }), 400, 'invalid_argument');
      problem(
        await check({ accountId: 'c-org', credits: 1, attribution: { member: 'nobody' } }),
        404,
        'unknown_member',
      );
    });

    it('an account key checks its own account only; another looks unknown', async () => {
      const key = await s.keyFor('c-a');
      assert.equal(json(ok(await check({ accountId: 'c-a', credits: 1 }, { key }))).allowed, true);
      problem(await check({ accountId: 'c-o', credits: 1 }, { key }), 404, 'unknown_account');
      const readOnly = await s.keyFor('c-a', true);
      problem(await check({ accountId: 'c-a', credits: 1 }, { key: readOnly }), 403, 'forbidden');
    });

    it('with hold: reserves at once; the same key answers the same hold; another body is refused', async () => {
      const body = { accountId: 'c-h', items: [FOUR_K], hold: true };
      const first = await check(body, { idem: 'ch-1' });
      const r = json(ok(first));
      assert.equal(r.allowed, true);
      assert.equal(r.hold.status, 'held');
      assert.equal(r.hold.credits, 6);
      assert.deepEqual(r.hold.quote, r.quote);
      assert.deepEqual([r.available, r.availableAfter, r.replay], [10, 4, false]);
      const balance = json(ok(await s.call('GET', '/v1/accounts/c-h/balance')));
      assert.deepEqual([balance.available, balance.held], [4, 6], 'the balance after is real');

      const again = await check(body, { idem: 'ch-1' });
      const replay = json(ok(again));
      assert.equal(replay.hold.id, r.hold.id);
      assert.equal(replay.replay, true);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      // A check-and-hold is a hold: POST /v1/holds with the same key and body replays it.
      const { hold: _hold, ...holdBody } = body;
      const viaHolds = json(
        ok(await s.call('POST', '/v1/holds', { body: holdBody, idem: 'ch-1' }), 201),
      );
      assert.equal(viaHolds.hold.id, r.hold.id);

      const other = await check({ ...body, items: [{ ...FOUR_K, count: 1 }] }, { idem: 'ch-1' });
      problem(other, 422, 'idempotency_key_reused');
      problem(await check(body), 400, 'invalid_argument');
      assert.equal(await s.store.count('holds', { accountId: 'c-h' }), 1);
    });

    it('with hold and not allowed: 200 allowed false, no hold, nothing written', async () => {
      const before = await footprint('c-h');
      const r = json(
        ok(await check({ accountId: 'c-h', credits: 5, hold: true }, { idem: 'ch-refused' })),
      );
      assert.deepEqual(
        [r.allowed, r.hold, r.blockedBy.code],
        [false, null, 'insufficient_credits'],
      );
      assert.deepEqual([r.available, r.availableAfter], [4, -1]);
      assert.deepEqual(await footprint('c-h'), before);
    });

    it('bad input is a 4xx problem with a stable code, and changes nothing', async () => {
      const before = await footprint('c-a');
      const bad = async (body: unknown, status: number, code: Parameters<typeof problem>[2]) =>
        problem(await check(body), status, code);
      await bad(
        { accountId: 'c-a', items: [{ operation: 'image.teleport' }] },
        400,
        'unknown_operation',
      );
      await bad(
        { accountId: 'c-a', items: [{ operation: 'image.generate', params: { colour: 'red' } }] },
        400,
        'invalid_parameter',
      );
      await bad({ accountId: 'nobody', credits: 1 }, 404, 'unknown_account');
      await bad({ accountId: 'c-a', credits: 1, items: [FOUR_K] }, 400, 'invalid_argument');
      await bad({ accountId: 'c-a' }, 400, 'invalid_argument');
      await bad({ accountId: 'c-a', credits: 1, extra: true }, 400, 'invalid_argument');
      await bad({ accountId: 'c-a', credits: 1, ttlMs: 60_000 }, 400, 'invalid_argument');
      assert.deepEqual(await footprint('c-a'), before);
    });

    it('sees what is due as a hold would: a hold past its ttl gives its credits back', async () => {
      ok(
        await s.call('POST', '/v1/holds', {
          idem: 'c-t-hold',
          body: { accountId: 'c-t', credits: 8, ttlMs: 1000 },
        }),
        201,
      );
      const short = json(ok(await check({ accountId: 'c-t', credits: 9 })));
      assert.equal(short.allowed, false);
      clock.advance(2000);
      const r = json(ok(await check({ accountId: 'c-t', credits: 9 })));
      assert.deepEqual([r.allowed, r.available, r.availableAfter], [true, 10, 1]);
      const holds = await s.store.find('holds', { accountId: 'c-t' });
      assert.deepEqual(
        holds.map((h) => h.status),
        ['expired'],
        'the expiry was settled, as on any read',
      );
    });
  });
}
