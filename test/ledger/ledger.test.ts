import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AmisiError } from '../../src/core/errors.js';
import { UnitOfWork } from '../../src/ledger/unit-of-work.js';
import { verify } from '../../src/ledger/verify.js';
import { freshLedger } from '../helpers.js';

type Env = Awaited<ReturnType<typeof freshLedger>>;
const DAY = 86_400_000;
const code = (c: string) => (e: unknown) => e instanceof AmisiError && e.code === c;

let env: Env;
beforeEach(async () => {
  env = await freshLedger();
  await env.ledger.createAccount({ accountId: 'acme' });
});
afterEach(async () => {
  const report = await verify(env.store);
  assert.ok(report.ok, JSON.stringify(report.violations));
  await env.close();
});

describe('holds and expiry', () => {
  it('a reservation outlives its grant; released credits of an expired grant go to breakage', async () => {
    const { ledger, clock } = env;
    await ledger.grant({
      accountId: 'acme',
      key: 'g',
      credits: 10,
      source: 'promotion',
      expiresAt: clock.now() + DAY,
    });
    const { hold } = await ledger.hold({ accountId: 'acme', key: 'h', credits: 6, ttlMs: 7 * DAY });
    clock.advance(2 * DAY);
    let b = await ledger.balance('acme');
    assert.deepEqual([b.available, b.held], [0, 6]);
    const r = await ledger.capture({ holdId: hold.id, key: 'c', credits: 4 });
    assert.deepEqual([r.capturedCredits, r.releasedCredits], [4, 2]);
    b = await ledger.balance('acme');
    assert.deepEqual([b.available, b.held], [0, 0]);
    const report = await verify(env.store);
    assert.deepEqual(
      [report.totals.granted, report.totals.consumed, report.totals.breakage],
      [10, 4, 6],
    );
  });

  it('a hold past its ttl is released by itself and can no longer be captured', async () => {
    const { ledger, clock } = env;
    await ledger.grant({ accountId: 'acme', key: 'g', credits: 5, source: 'purchase' });
    const { hold } = await ledger.hold({ accountId: 'acme', key: 'h', credits: 5, ttlMs: 60_000 });
    clock.advance(60_000);
    await assert.rejects(ledger.capture({ holdId: hold.id, key: 'c' }), code('hold_expired'));
    assert.equal((await ledger.balance('acme')).available, 5);
    assert.equal((await ledger.getHold(hold.id)).status, 'expired');
  });

  it('the sweep settles every account with something due, once', async () => {
    const { ledger, clock } = env;
    for (const id of ['a1', 'a2', 'a3']) {
      await ledger.createAccount({ accountId: id });
      await ledger.grant({
        accountId: id,
        key: 'g',
        credits: 3,
        source: 'allocation',
        expiresAt: clock.now() + DAY,
      });
    }
    clock.advance(DAY);
    assert.equal(await ledger.sweep(2), 3);
    assert.equal(await ledger.sweep(2), 0);
    const report = await verify(env.store);
    assert.equal(report.totals.breakage, 9);
  });

  it('release returns everything and a hold resolves once', async () => {
    const { ledger } = env;
    await ledger.grant({ accountId: 'acme', key: 'g', credits: 5, source: 'purchase' });
    const { hold } = await ledger.hold({ accountId: 'acme', key: 'h', credits: 5 });
    await ledger.release({ holdId: hold.id, key: 'r' });
    await assert.rejects(
      ledger.capture({ holdId: hold.id, key: 'c' }),
      code('hold_already_released'),
    );
    await assert.rejects(
      ledger.release({ holdId: hold.id, key: 'r2' }),
      code('hold_already_released'),
    );
    assert.equal((await ledger.release({ holdId: hold.id, key: 'r' })).replay, true);
    assert.equal((await ledger.balance('acme')).available, 5);
  });
});

describe('balance and history', () => {
  it('shows grants by source with their next expiry', async () => {
    const { ledger, clock } = env;
    const soon = clock.now() + 3 * DAY;
    await ledger.grant({ accountId: 'acme', key: 'g1', credits: 20, source: 'purchase' });
    await ledger.grant({
      accountId: 'acme',
      key: 'g2',
      credits: 7,
      source: 'allocation',
      expiresAt: soon,
    });
    const b = await ledger.balance('acme');
    assert.equal(b.available, 27);
    assert.deepEqual(b.nextExpiry, { at: soon, credits: 7 });
    assert.deepEqual(b.grants.map((g) => g.source).sort(), ['allocation', 'purchase']);
  });

  it('pages history newest first and filters by kind and time', async () => {
    const { ledger, clock } = env;
    await ledger.grant({ accountId: 'acme', key: 'g', credits: 100, source: 'purchase' });
    const start = clock.now();
    for (let i = 0; i < 7; i++) {
      clock.advance(1000);
      await ledger.charge({ accountId: 'acme', key: `c${i}`, credits: 1 });
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await ledger.history({
        accountId: 'acme',
        kinds: ['charge'],
        limit: 3,
        ...(cursor ? { before: cursor } : {}),
      });
      seen.push(...page.transactions.map((t) => t.id));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    assert.equal(seen.length, 7);
    assert.deepEqual(seen, [...seen].sort().reverse());
    const windowed = await ledger.history({
      accountId: 'acme',
      since: start + 2000,
      until: start + 4000,
    });
    assert.equal(windowed.transactions.length, 2);
  });
});

describe('group commit', () => {
  it('commands in one batch succeed or fail on their own', async () => {
    const { ledger } = env;
    await ledger.grant({ accountId: 'acme', key: 'g', credits: 3, source: 'purchase' });
    const results = await Promise.allSettled([
      ledger.charge({ accountId: 'acme', key: 'a', credits: 2 }),
      ledger.charge({ accountId: 'acme', key: 'b', credits: 2 }),
      ledger.charge({ accountId: 'nobody', key: 'c', credits: 1 }),
      ledger.charge({ accountId: 'acme', key: 'd', credits: 1 }),
      ledger.charge({ accountId: 'acme', key: 'a', credits: 2 }),
    ]);
    assert.deepEqual(
      results.map((r) =>
        r.status === 'fulfilled'
          ? r.value.replay
            ? 'replay'
            : 'ok'
          : (r.reason as AmisiError).code,
      ),
      ['ok', 'insufficient_credits', 'unknown_account', 'ok', 'replay'],
    );
    assert.equal((await ledger.balance('acme')).available, 0);
  });

  it('a failure at flush bisects the batch instead of failing every command', async () => {
    const { ledger } = env;
    await ledger.grant({ accountId: 'acme', key: 'g', credits: 10, source: 'purchase' });
    const original = UnitOfWork.prototype.flush;
    let calls = 0;
    // The first flush fails as a broken store would; the committer must bisect and retry.
    UnitOfWork.prototype.flush = async function (this: UnitOfWork) {
      calls += 1;
      if (calls === 1) throw new Error('disk on fire');
      return original.call(this);
    };
    try {
      const results = await Promise.allSettled(
        [1, 2, 3, 4].map((i) => ledger.charge({ accountId: 'acme', key: `k${i}`, credits: 1 })),
      );
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled'],
      );
    } finally {
      UnitOfWork.prototype.flush = original;
    }
    assert.equal((await ledger.balance('acme')).available, 6);
  });
});
