import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ErrorCode } from '../../src/core/errors.js';
import { FakeClock } from '../../src/ledger/ports.js';
import { BOTH_STORES } from '../pg-helpers.js';
import { ok, startServer, type Reply, type TestServer } from './http-helpers.js';

/**
 * The Autumn-shaped endpoints under /autumn/v1: check (plain, with lock, with send_event),
 * track, the lock's finalize and the customer read answer in Autumn's shapes over Amisi's
 * check, holds, captures, charges and balance; bad input is a 4xx problem; an account key
 * reaches its own customer only. Every answer is checked against /openapi.json by the helper.
 */

const json = (b: unknown) => b as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A 4xx problem+json with this code (the status is the error table's, checked by the spec). */
function refused(reply: Reply, code: ErrorCode) {
  assert.ok(
    reply.status >= 400 && reply.status < 500,
    `4xx ${code}, got ${reply.status} ${reply.text}`,
  );
  assert.match(reply.contentType, /^application\/problem\+json/);
  assert.equal(reply.body.code, code, reply.text);
  return reply.body;
}

for (const [name, open, skip] of BOTH_STORES) {
  describe(`Autumn compatibility (/autumn/v1) on ${name}`, { skip }, () => {
    let s: TestServer;
    const clock = new FakeClock(Date.UTC(2026, 2, 1));
    let n = 0;
    const fresh = (prefix: string) => `${prefix}-${++n}`;
    const autumn = (path: string, body: unknown, o: { key?: string; idem?: string } = {}) =>
      s.call('POST', `/autumn/v1${path}`, { body, ...o });
    const available = async (id: string) => (await s.ledger.balance(id)).available;

    /** A new account with `credits` of promotion credits. */
    async function customer(credits: number, plan?: string): Promise<string> {
      const id = fresh('au');
      ok(await s.call('POST', '/v1/accounts', { body: { id, ...(plan ? { plan } : {}) } }), 201);
      ok(
        await s.call('POST', '/v1/grants', {
          idem: `g-${id}`,
          body: { accountId: id, credits, source: 'promotion' },
        }),
        201,
      );
      return id;
    }

    before(async () => {
      s = await startServer({ open, clock });
    });
    after(async () => {
      await s?.close();
    });

    it('check: allowed or not as POST /v1/check decides, with the same block code; writes nothing', async () => {
      const id = await customer(10);
      for (const path of ['/check', '/balances.check']) {
        const yes = json(
          ok(await autumn(path, { customer_id: id, feature_id: 'credits', required_balance: 10 })),
        );
        assert.equal(yes.allowed, true);
        assert.deepEqual([yes.customer_id, yes.entity_id, yes.required_balance], [id, null, 10]);
        assert.deepEqual(
          [yes.balance.feature_id, yes.balance.remaining, yes.balance.granted],
          ['credits', 10, 10],
        );
        assert.deepEqual(
          [yes.amisi.credits, yes.amisi.blocked_by, yes.amisi.hold_id],
          [10, null, null],
        );
      }
      const no = json(
        ok(
          await autumn('/check', { customer_id: id, feature_id: 'credits', required_balance: 11 }),
        ),
      );
      const amisi = json(
        ok(await s.call('POST', '/v1/check', { body: { accountId: id, credits: 11 } })),
      );
      assert.equal(no.allowed, false);
      assert.equal(no.amisi.blocked_by.code, 'insufficient_credits');
      assert.deepEqual(no.amisi.blocked_by, amisi.blockedBy, 'the same code, message and figures');
      // An operation of the catalog, by its default params (image.generate at 1080p: 2 each).
      const op = json(
        ok(
          await autumn('/check', {
            customer_id: id,
            feature_id: 'image.generate',
            required_balance: 6,
          }),
        ),
      );
      assert.deepEqual(
        [op.allowed, op.amisi.blocked_by.code, op.amisi.credits],
        [false, 'insufficient_credits', 12],
      );
      const one = json(
        ok(await autumn('/check', { customer_id: id, feature_id: 'image.generate' })),
      );
      assert.deepEqual([one.allowed, one.required_balance, one.amisi.credits], [true, 1, 2]);
      assert.equal(await available(id), 10, 'a check takes nothing');
      assert.equal(await s.store.count('holds', { accountId: id }), 0);
    });

    it('check with lock holds; finalize confirm captures (override_value: what was used), release returns', async () => {
      const id = await customer(10);
      const lock = { enabled: true, lock_id: fresh('lock') };
      const body = { customer_id: id, feature_id: 'image.generate', required_balance: 3, lock };
      const held = json(ok(await autumn('/check', body)));
      assert.equal(held.allowed, true);
      assert.equal(held.amisi.credits, 6);
      assert.ok(held.amisi.hold_id, 'the lock is a hold');
      assert.equal(held.balance.remaining, 4, 'what the lock holds is taken off');
      // A retry of the same check is the same hold; another amount under the lock is refused.
      clock.advance(1000);
      const again = json(ok(await autumn('/check', body)));
      assert.deepEqual([again.amisi.hold_id, again.amisi.replay], [held.amisi.hold_id, true]);
      refused(await autumn('/check', { ...body, required_balance: 2 }), 'idempotency_key_reused');
      // Two of three images made: confirm takes 4 credits, 2 come back.
      const confirmed = json(
        ok(
          await autumn('/balances.finalize', {
            lock_id: lock.lock_id,
            action: 'confirm',
            override_value: 2,
            customer_id: id,
          }),
        ),
      );
      assert.equal(confirmed.success, true);
      assert.deepEqual([confirmed.amisi.capturedCredits, confirmed.amisi.releasedCredits], [4, 2]);
      assert.equal(await available(id), 6);
      const replay = json(
        ok(
          await autumn('/balances.finalize', {
            lock_id: lock.lock_id,
            action: 'confirm',
            override_value: 2,
            customer_id: id,
          }),
        ),
      );
      assert.equal(replay.amisi.replay, true, 'a retried confirm changes nothing');
      refused(
        await autumn('/balances.finalize', {
          lock_id: lock.lock_id,
          action: 'release',
          customer_id: id,
        }),
        'hold_already_captured',
      );
      assert.equal(await available(id), 6);

      // A lock released gives all of it back.
      const other = { enabled: true, lock_id: fresh('lock'), expires_at: clock.now() + 60_000 };
      ok(
        await autumn('/check', {
          customer_id: id,
          feature_id: 'credits',
          required_balance: 5,
          lock: other,
        }),
      );
      assert.equal(await available(id), 1);
      const released = json(
        ok(
          await autumn('/balances.finalize', {
            lock_id: other.lock_id,
            action: 'release',
            customer_id: id,
          }),
        ),
      );
      assert.deepEqual([released.amisi.capturedCredits, released.amisi.releasedCredits], [0, 5]);
      assert.equal(await available(id), 6);

      // An account key finalizes its own locks without naming the customer.
      const key = await s.keyFor(id);
      const own = { enabled: true, lock_id: fresh('lock') };
      ok(
        await autumn(
          '/check',
          { customer_id: id, feature_id: 'credits', required_balance: 2, lock: own },
          { key },
        ),
      );
      ok(await autumn('/balances.finalize', { lock_id: own.lock_id, action: 'confirm' }, { key }));
      assert.equal(await available(id), 4);

      // A lock not allowed holds nothing.
      const blocked = json(
        ok(
          await autumn('/check', {
            customer_id: id,
            feature_id: 'credits',
            required_balance: 50,
            lock: { enabled: true, lock_id: fresh('lock') },
          }),
        ),
      );
      assert.deepEqual([blocked.allowed, blocked.amisi.hold_id], [false, null]);
      assert.equal(await available(id), 4);
    });

    it('track charges once per idempotency key (header or idempotency_key); a replay charges nothing', async () => {
      const id = await customer(10);
      const idem = fresh('track');
      for (const path of ['/track', '/balances.track']) {
        const r = json(
          ok(await autumn(path, { customer_id: id, feature_id: 'credits', value: 3 }, { idem })),
        );
        assert.deepEqual(
          [r.customer_id, r.feature_id, r.value, r.amisi.credits],
          [id, 'credits', 3, 3],
        );
        assert.equal(r.balance.remaining, 7);
      }
      assert.equal(await available(id), 7, 'charged once');
      const byBody = { customer_id: id, event_name: 'image.generate', idempotency_key: fresh('t') };
      ok(await autumn('/track', byBody));
      const replay = json(ok(await autumn('/track', byBody)));
      assert.equal(replay.amisi.replay, true);
      assert.equal(await available(id), 5);
      refused(
        await autumn('/track', { customer_id: id, feature_id: 'credits' }),
        'invalid_argument',
      );
      refused(
        await autumn(
          '/track',
          { customer_id: id, feature_id: 'credits', value: 99 },
          { idem: fresh('t') },
        ),
        'insufficient_credits',
      );
      // check with send_event: a charge when allowed, nothing when not.
      const sent = json(
        ok(
          await autumn(
            '/check',
            { customer_id: id, feature_id: 'credits', required_balance: 2, send_event: true },
            { idem: fresh('send') },
          ),
        ),
      );
      assert.deepEqual([sent.allowed, sent.balance.remaining], [true, 3]);
      const notSent = json(
        ok(
          await autumn(
            '/check',
            { customer_id: id, feature_id: 'credits', required_balance: 4, send_event: true },
            { idem: fresh('send') },
          ),
        ),
      );
      assert.deepEqual(
        [notSent.allowed, notSent.amisi.blocked_by.code],
        [false, 'insufficient_credits'],
      );
      assert.equal(await available(id), 3);
      refused(
        await autumn('/check', { customer_id: id, feature_id: 'credits', send_event: true }),
        'invalid_argument',
      );
    });

    it('customer: the balance grant by grant and the plan as a subscription', async () => {
      const id = await customer(5, 'starter');
      const c = json(ok(await s.call('GET', `/autumn/v1/customers/${id}`)));
      assert.equal(c.id, id);
      assert.equal(c.env, 'live');
      const credits = c.balances.credits;
      assert.equal(credits.remaining, (await s.ledger.balance(id)).available);
      assert.equal(credits.remaining, 105, "the plan's 100 and the promotion's 5");
      assert.deepEqual(credits.breakdown.map((g: Record<string, unknown>) => g.source).sort(), [
        'allocation',
        'promotion',
      ]);
      const allocation = credits.breakdown.find(
        (g: Record<string, unknown>) => g.source === 'allocation',
      );
      assert.deepEqual([allocation.plan_id, allocation.included_grant], ['starter', 100]);
      assert.equal(c.subscriptions.length, 1);
      assert.deepEqual(
        [c.subscriptions[0].plan_id, c.subscriptions[0].status],
        ['starter', 'active'],
      );
      assert.equal(c.subscriptions[0].current_period_end, credits.next_reset_at);
      const plain = json(ok(await s.call('GET', `/autumn/v1/customers/${await customer(1)}`)));
      assert.deepEqual([plain.subscriptions, plain.balances.credits.reset], [[], null]);
    });

    it('bad input is a 4xx problem: an unknown feature, customer or lock, a missing customer_id', async () => {
      const id = await customer(3);
      refused(
        await autumn('/check', { customer_id: id, feature_id: 'no.such' }),
        'unknown_operation',
      );
      refused(
        await autumn('/track', { customer_id: id, feature_id: 'no.such' }, { idem: fresh('t') }),
        'unknown_operation',
      );
      refused(await autumn('/check', { feature_id: 'credits' }), 'invalid_argument');
      refused(
        await autumn('/check', { customer_id: id, feature_id: 'credits', required_balance: 1.5 }),
        'invalid_argument',
      );
      refused(
        await autumn('/check', { customer_id: 'nobody', feature_id: 'credits' }),
        'unknown_account',
      );
      refused(
        await autumn(
          '/track',
          { customer_id: 'nobody', feature_id: 'credits' },
          { idem: fresh('t') },
        ),
        'unknown_account',
      );
      refused(await s.call('GET', '/autumn/v1/customers/nobody'), 'unknown_account');
      refused(
        await autumn('/balances.finalize', { lock_id: 'nope', action: 'confirm', customer_id: id }),
        'unknown_hold',
      );
      refused(
        await autumn('/balances.finalize', { lock_id: 'nope', action: 'confirm' }),
        'invalid_argument',
      );
      refused(
        await autumn('/balances.finalize', {
          lock_id: 'x',
          action: 'release',
          override_value: 1,
          customer_id: id,
        }),
        'invalid_argument',
      );
      refused(
        await autumn('/check', {
          customer_id: id,
          feature_id: 'credits',
          lock: { enabled: true, lock_id: 'l', expires_at: clock.now() + 2 * 24 * 3600_000 },
        }),
        'invalid_argument',
      );
      assert.equal(await available(id), 3, 'nothing changed');
    });

    it('an account key never reaches another customer: it looks unknown', async () => {
      const mine = await customer(5);
      const theirs = await customer(5);
      const key = await s.keyFor(mine);
      ok(await autumn('/check', { customer_id: mine, feature_id: 'credits' }, { key }));
      refused(
        await autumn('/check', { customer_id: theirs, feature_id: 'credits' }, { key }),
        'unknown_account',
      );
      refused(
        await autumn(
          '/track',
          { customer_id: theirs, feature_id: 'credits' },
          { key, idem: fresh('t') },
        ),
        'unknown_account',
      );
      refused(await s.call('GET', `/autumn/v1/customers/${theirs}`, { key }), 'unknown_account');
      const lock = { enabled: true, lock_id: fresh('lock') };
      ok(await autumn('/check', { customer_id: theirs, feature_id: 'credits', lock }));
      refused(
        await autumn(
          '/balances.finalize',
          { lock_id: lock.lock_id, action: 'confirm', customer_id: theirs },
          { key },
        ),
        'unknown_account',
      );
      refused(
        await autumn('/balances.finalize', { lock_id: lock.lock_id, action: 'confirm' }, { key }),
        'unknown_hold',
      );
      assert.equal(await available(theirs), 4, 'their lock is still held, nothing captured');
      const readOnly = await s.keyFor(mine, true);
      refused(
        await autumn('/check', { customer_id: mine, feature_id: 'credits' }, { key: readOnly }),
        'forbidden',
      );
      ok(await s.call('GET', `/autumn/v1/customers/${mine}`, { key: readOnly }));
    });
  });
}
