import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeClock } from '../../src/ledger/ports.js';
import { BOTH_STORES } from '../pg-helpers.js';
import { ok, problem, startServer, type TestServer } from './http-helpers.js';

/**
 * GET /v1/accounts/{id}/usage/daily through real HTTP on each store: a cycle that starts at
 * 10:30 (so its first and last hours are read from the journal, the rest from rollups), split
 * by operation, member and project; a member key sees its own usage; bad input is refused.
 */

const json = (b: unknown) => b as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const START = Date.UTC(2026, 2, 1, 10, 30);
const HOUR = 3_600_000;

for (const [storeName, open, skip] of BOTH_STORES) {
  describe(`daily usage over HTTP on ${storeName}`, { skip }, () => {
    let s: TestServer;
    let clock: FakeClock;
    let ownerKey = '';
    let memberKey = '';
    let otherKey = '';
    const image = (resolution: string, count = 1) => [
      { operation: 'image.generate', params: { resolution }, count },
    ];
    const charge = (key: string, items: unknown, member: string | null, project: string | null) =>
      s.ledger.charge({
        accountId: 'acme',
        key,
        items: items as never,
        attribution: { member, project },
      });
    const daily = (query: string, key = ownerKey) =>
      s.call('GET', `/v1/accounts/acme/usage/daily${query}`, { key });

    before(async () => {
      clock = new FakeClock(START);
      s = await startServer({ open, clock });
      const { ledger, keys } = s;
      await ledger.createOrganization({ accountId: 'acme', name: 'Acme', owner: { id: 'olga' } });
      await ledger.subscribe({ accountId: 'acme', key: 'sub', plan: 'pro' });
      await ledger.setMember({ accountId: 'acme', memberId: 'max', role: 'member' });
      await ledger.setProject({ accountId: 'acme', projectId: 'web' });
      await ledger.createAccount({ accountId: 'bob' });
      // Day 0, in the cycle's first (partial) hour: olga, 8K on web (4 credits).
      clock.set(START + 10 * 60_000);
      await charge('c1', image('8k'), 'olga', 'web');
      // Day 0, a whole hour later: max, 4K without a project (3).
      clock.set(START + 5 * HOUR);
      await charge('c2', image('4k'), 'max', null);
      // Day 2: olga, two 1080p images on web (4).
      clock.set(Date.UTC(2026, 2, 3, 9));
      await charge('c3', image('1080p', 2), 'olga', 'web');
      ownerKey = (await keys.create({ scope: { accountId: 'acme', memberId: 'olga' } })).key;
      memberKey = (await keys.create({ scope: { accountId: 'acme', memberId: 'max' } })).key;
      otherKey = await s.keyFor('bob');
    });
    after(async () => s?.close());

    it('by operation: every UTC day of the cycle, cut at its edges, adding up to the audit', async () => {
      const d = json(ok(await daily('')));
      assert.deepEqual([d.by, d.member, d.complete, d.period.cycle], ['operation', null, true, 0]);
      // March 1 from 10:30, March 2 to 31, April 1 to 10:30.
      assert.equal(d.days.length, 32);
      assert.deepEqual([d.days[0].from, d.days[0].to], [START, Date.UTC(2026, 2, 2)]);
      assert.deepEqual(
        [d.days[31].from, d.days[31].to],
        [Date.UTC(2026, 3, 1), Date.UTC(2026, 3, 1, 10, 30)],
      );
      assert.deepEqual(d.series, [{ key: 'image.generate', kind: 'key', credits: 11 }]);
      assert.deepEqual(d.days.map((x: { credits: number }) => x.credits).slice(0, 4), [7, 0, 4, 0]);
      assert.deepEqual(d.days[0].split, [7]);
      const audit = json(ok(await s.call('GET', '/v1/accounts/acme/audit', { key: ownerKey })));
      assert.equal(d.credits, audit.usage.credits);
      assert.equal(d.asOf, clock.now());
    });

    it('by member and project: the named keys, and "none" for usage without a project', async () => {
      const m = json(ok(await daily('?by=member')));
      assert.deepEqual(m.series, [
        { key: 'olga', kind: 'key', credits: 8 },
        { key: 'max', kind: 'key', credits: 3 },
      ]);
      assert.deepEqual(
        [m.days[0].split, m.days[2].split],
        [
          [4, 3],
          [4, 0],
        ],
      );
      const p = json(ok(await daily('?by=project&cycle=0')));
      assert.deepEqual(p.series, [
        { key: 'web', kind: 'key', credits: 8 },
        { key: null, kind: 'none', credits: 3 },
      ]);
      assert.deepEqual(
        [p.days[0].split, p.days[2].split],
        [
          [4, 3],
          [4, 0],
        ],
      );
    });

    it('a member key sees its own usage only; a past cycle stays readable', async () => {
      const own = json(ok(await daily('?by=project', memberKey)));
      assert.deepEqual([own.member, own.credits], ['max', 3]);
      assert.deepEqual(own.series, [{ key: null, kind: 'none', credits: 3 }]);
      assert.deepEqual(own.days[0].split, [3]);
      const ops = json(ok(await daily('', memberKey)));
      assert.deepEqual(ops.series, [{ key: 'image.generate', kind: 'key', credits: 3 }]);
      // The renewal on April 1 starts cycle 1: cycle 0 reads the same, cycle 1 is empty so far.
      clock.set(Date.UTC(2026, 3, 2, 12));
      const past = json(ok(await daily('?cycle=0')));
      assert.deepEqual([past.credits, past.days[2].credits], [11, 4]);
      const now = json(ok(await daily('')));
      assert.deepEqual([now.period.cycle, now.credits, now.series], [1, 0, []]);
      assert.equal(now.days.length, 31);
    });

    it("a test-clock account counts its clock's days, not the server's", async () => {
      const starts = Date.UTC(2027, 0, 10, 6);
      await s.ledger.createClock({ id: 'tc', startsAt: starts });
      await s.ledger.createAccount({ accountId: 'tina', plan: 'starter', testClockId: 'tc' });
      await s.ledger.charge({ accountId: 'tina', key: 't1', credits: 2 });
      await s.ledger.advanceClock({ id: 'tc', to: starts + 2 * 24 * HOUR });
      await s.ledger.charge({ accountId: 'tina', key: 't2', credits: 5 });
      const d = json(ok(await s.call('GET', '/v1/accounts/tina/usage/daily')));
      assert.deepEqual(
        [d.asOf, d.period.from, d.days[0].from],
        [starts + 2 * 24 * HOUR, starts, starts],
      );
      assert.deepEqual(
        d.days.slice(0, 3).map((x: { credits: number }) => x.credits),
        [2, 0, 5],
      );
    });

    it('bad input: an unknown dimension, a cycle not started or out of range; another account', async () => {
      problem(await daily('?by=resolution'), 400, 'invalid_argument');
      problem(await daily('?cycle=-1'), 400, 'invalid_argument');
      problem(await daily('?cycle=1201'), 400, 'invalid_argument');
      problem(await daily('?cycle=7'), 400, 'invalid_argument');
      problem(await daily('', otherKey), 404, 'unknown_account');
      problem(
        await s.call('GET', '/v1/accounts/nobody/usage/daily', { key: s.operatorKey }),
        404,
        'unknown_account',
      );
    });
  });
}
