import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HOLD_LIFETIME_MAX_MS } from '../../src/core/holds.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { FakeClock } from '../../src/ledger/ports.js';
import { defaultCatalog } from '../helpers.js';
import { BOTH_STORES } from '../pg-helpers.js';
import { clean, refusal } from './refusals.js';

const T0 = Date.UTC(2027, 3, 1);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const VIDEO = [{ operation: 'image.generate', params: { resolution: '4k' }, count: 4 }];

for (const [name, open, skip] of BOTH_STORES) {
  describe(`long holds on ${name}`, { skip }, () => {
    it('a long job: extended past its ttl, captured in parts, the final capture returns the rest', async () => {
      const { store, close } = await open();
      try {
        const clock = new FakeClock(T0);
        const ledger = new Ledger({ store, clock });
        await ledger.loadCatalog(defaultCatalog());
        await ledger.createAccount({ accountId: 'vid' });
        await ledger.grant({ accountId: 'vid', key: 'g1', credits: 30, source: 'promotion' });

        // 4 images at 4K: 12 credits, held for 10 minutes.
        const { hold } = await ledger.hold({
          accountId: 'vid',
          key: 'h1',
          items: VIDEO,
          ttlMs: 10 * MINUTE,
        });
        assert.equal(hold.credits, 12);

        // The job runs long: extended to an hour from now, then past the first ttl.
        clock.advance(9 * MINUTE);
        const ext = await ledger.extendHold({ holdId: hold.id, key: 'e1', ttlMs: HOUR });
        assert.equal(ext.hold.expiresAt, T0 + 9 * MINUTE + HOUR);
        assert.equal(ext.replay, false);
        clock.advance(20 * MINUTE);
        assert.equal((await ledger.getHold(hold.id)).status, 'held');

        // The first image is done: 3 captured, 9 still held.
        const part = await ledger.capture({ holdId: hold.id, key: 'p1', credits: 3, final: false });
        assert.deepEqual(
          [part.capturedCredits, part.releasedCredits, part.hold.status, part.hold.capturedCredits],
          [3, 0, 'held', 3],
        );
        let balance = await ledger.balance('vid');
        assert.deepEqual([balance.available, balance.held], [18, 9]);

        // Another part; a part beyond what is still held is refused and changes nothing.
        await ledger.capture({ holdId: hold.id, key: 'p2', credits: 3, final: false });
        const over = await refusal(
          ledger.capture({ holdId: hold.id, key: 'p3', credits: 7, final: false }),
        );
        assert.equal(over.code, 'capture_exceeds_hold');
        assert.deepEqual(over.data, { holdId: hold.id, held: 6, requested: 7 });

        // The last image failed: the final capture takes 3 and returns 3.
        const last = await ledger.capture({ holdId: hold.id, key: 'f1', credits: 3 });
        assert.deepEqual(
          [last.capturedCredits, last.releasedCredits, last.hold.status, last.hold.capturedCredits],
          [3, 3, 'captured', 9],
        );
        balance = await ledger.balance('vid');
        assert.deepEqual([balance.available, balance.held], [21, 0]);

        // Replays answer the first answers, even after the hold moved on.
        const again = await ledger.capture({
          holdId: hold.id,
          key: 'p1',
          credits: 3,
          final: false,
        });
        assert.equal(again.replay, true);
        assert.deepEqual(
          { ...again, replay: false },
          { ...part, replay: false },
          'a partial capture replays as first answered',
        );
        const extAgain = await ledger.extendHold({ holdId: hold.id, key: 'e1', ttlMs: HOUR });
        assert.deepEqual({ ...extAgain, replay: false }, { ...ext, replay: false });
        const first = await ledger.hold({
          accountId: 'vid',
          key: 'h1',
          items: VIDEO,
          ttlMs: 10 * MINUTE,
        });
        assert.deepEqual(first.hold, hold, 'the hold replays as made, before its extension');

        // Usage: 9 credits of image.generate at 4K, 3 images (one of the 4 was not captured).
        const history = await ledger.history({ accountId: 'vid', limit: 50 });
        const kinds = history.transactions.map((t) => t.kind);
        assert.deepEqual(
          kinds.filter((k) => k !== 'grant'),
          ['hold', 'hold_extension', 'partial_capture', 'partial_capture', 'capture'].reverse(),
        );
        const usage = await ledger.usage('vid', { from: T0, to: clock.now() + DAY });
        const op = usage.byOperation.find((u) => u.key === 'image.generate');
        assert.deepEqual([op?.credits, op?.units], [9, 3]);
        await clean(store);
      } finally {
        await close();
      }
    });

    it('a partial capture that takes all still held resolves the hold; a release after parts returns the rest', async () => {
      const { store, close } = await open();
      try {
        const clock = new FakeClock(T0);
        const ledger = new Ledger({ store, clock });
        await ledger.loadCatalog(defaultCatalog());
        await ledger.createAccount({ accountId: 'a' });
        await ledger.grant({ accountId: 'a', key: 'g', credits: 20, source: 'promotion' });
        const h1 = (await ledger.hold({ accountId: 'a', key: 'h1', credits: 5 })).hold;
        const all = await ledger.capture({ holdId: h1.id, key: 'c1', credits: 5, final: false });
        assert.equal(all.hold.status, 'captured');

        const h2 = (await ledger.hold({ accountId: 'a', key: 'h2', credits: 8 })).hold;
        await ledger.capture({ holdId: h2.id, key: 'c2', credits: 2, final: false });
        const rel = await ledger.release({ holdId: h2.id, key: 'r2' });
        assert.deepEqual(
          [rel.capturedCredits, rel.releasedCredits, rel.hold.capturedCredits],
          [0, 6, 2],
        );

        // A hold that expires after parts keeps them captured and returns the rest.
        const h3 = (await ledger.hold({ accountId: 'a', key: 'h3', credits: 6, ttlMs: MINUTE }))
          .hold;
        await ledger.capture({ holdId: h3.id, key: 'c3', credits: 4, final: false });
        clock.advance(2 * MINUTE);
        const expired = await ledger.getHold(h3.id);
        assert.deepEqual([expired.status, expired.capturedCredits], ['expired', 4]);
        const balance = await ledger.balance('a');
        assert.deepEqual([balance.available, balance.held], [20 - 5 - 2 - 4, 0]);
        await clean(store);
      } finally {
        await close();
      }
    });

    it('an increase reserves more on the same hold, all or nothing; the capture takes it', async () => {
      const { store, close } = await open();
      try {
        const clock = new FakeClock(T0);
        const ledger = new Ledger({ store, clock });
        await ledger.loadCatalog(defaultCatalog());
        await ledger.createAccount({ accountId: 'big' });
        await ledger.grant({ accountId: 'big', key: 'g1', credits: 20, source: 'promotion' });
        const items = [{ operation: 'image.generate', params: { resolution: '1080p' }, count: 2 }];
        const { hold } = await ledger.hold({ accountId: 'big', key: 'h', items });
        assert.equal(hold.credits, 4);

        // The job turns out bigger: 3 more 4K images (9 credits).
        const more = [{ operation: 'image.generate', params: { resolution: '4k' }, count: 3 }];
        const inc = await ledger.increaseHold({ holdId: hold.id, key: 'i1', items: more });
        assert.deepEqual([inc.credits, inc.hold.credits], [9, 13]);
        assert.equal(inc.hold.quote?.lines.length, 2);
        assert.equal((await ledger.balance('big')).held, 13);

        // More than there is: refused, nothing changes.
        const huge = [{ operation: 'image.generate', params: { resolution: '8k' }, count: 5 }];
        const no = await refusal(ledger.increaseHold({ holdId: hold.id, key: 'i2', items: huge }));
        assert.equal(no.code, 'insufficient_credits');
        assert.equal((await ledger.getHold(hold.id)).credits, 13);

        // A hold priced by items is increased by items, not plain credits.
        const plain = await refusal(
          ledger.increaseHold({ holdId: hold.id, key: 'i3', credits: 2 }),
        );
        assert.equal(plain.code, 'invalid_argument');

        const replay = await ledger.increaseHold({ holdId: hold.id, key: 'i1', items: more });
        assert.deepEqual({ ...replay, replay: false }, { ...inc, replay: false });

        const done = await ledger.capture({ holdId: hold.id, key: 'c' });
        assert.deepEqual([done.capturedCredits, done.releasedCredits], [13, 0]);
        const usage = await ledger.usage('big', { from: T0, to: T0 + DAY });
        const byRes = Object.fromEntries(usage.byResolution.map((u) => [u.key, u.units]));
        assert.deepEqual(byRes, { '1080p': 2, '4k': 3 });
        await clean(store);
      } finally {
        await close();
      }
    });

    it('an increase may draw into the overdraft; a capture makes it debt', async () => {
      const { store, close } = await open();
      try {
        const clock = new FakeClock(T0);
        const ledger = new Ledger({ store, clock });
        await ledger.loadCatalog(defaultCatalog());
        await ledger.createAccount({ accountId: 'od' });
        await ledger.grant({ accountId: 'od', key: 'g1', credits: 10, source: 'promotion' });
        await ledger.setOverdraft({ accountId: 'od', limit: 5 });
        const { hold } = await ledger.hold({ accountId: 'od', key: 'h', credits: 8 });
        await ledger.increaseHold({ holdId: hold.id, key: 'i1', credits: 6 });
        let balance = await ledger.balance('od');
        assert.deepEqual([balance.held, balance.overdraft.held], [14, 4]);
        const past = await refusal(ledger.increaseHold({ holdId: hold.id, key: 'i2', credits: 2 }));
        assert.equal(past.code, 'overdraft_limit_reached');
        await ledger.capture({ holdId: hold.id, key: 'c1', credits: 12, final: false });
        balance = await ledger.balance('od');
        assert.deepEqual([balance.overdraft.debt, balance.overdraft.held], [2, 2]);
        await ledger.release({ holdId: hold.id, key: 'r' });
        balance = await ledger.balance('od');
        assert.deepEqual(
          [balance.available, balance.overdraft.debt, balance.overdraft.held],
          [-2, 2, 0],
        );
        await clean(store);
      } finally {
        await close();
      }
    });

    it('bad input: an extension past the maximum lifetime or ttl, a resolved hold, a bad part', async () => {
      const { store, close } = await open();
      try {
        const clock = new FakeClock(T0);
        const ledger = new Ledger({ store, clock });
        await ledger.loadCatalog(defaultCatalog());
        await ledger.createAccount({ accountId: 'b' });
        await ledger.grant({ accountId: 'b', key: 'g', credits: 10, source: 'promotion' });
        const { hold } = await ledger.hold({
          accountId: 'b',
          key: 'h',
          credits: 4,
          ttlMs: 7 * DAY,
        });

        // Extended every 6 days, a hold reaches its 30 days (exactly) and no further.
        for (let i = 1; i <= 3; i++) {
          clock.advance(6 * DAY);
          await ledger.extendHold({ holdId: hold.id, key: `e${i}`, ttlMs: 7 * DAY });
        }
        clock.advance(6 * DAY);
        const end = await ledger.extendHold({ holdId: hold.id, key: 'e4', ttlMs: 6 * DAY });
        assert.equal(end.hold.expiresAt, hold.createdAt + HOLD_LIFETIME_MAX_MS);
        clock.advance(5 * DAY);
        const tooLong = await refusal(
          ledger.extendHold({ holdId: hold.id, key: 'e5', ttlMs: 7 * DAY }),
        );
        assert.equal(tooLong.code, 'hold_lifetime_exceeded');
        assert.equal(
          (tooLong.data as { latest: number }).latest,
          hold.createdAt + HOLD_LIFETIME_MAX_MS,
        );
        const ttl = await refusal(
          ledger.extendHold({ holdId: hold.id, key: 'e6', ttlMs: 8 * DAY }),
        );
        assert.equal(ttl.code, 'invalid_argument');
        const noCredits = await refusal(
          ledger.capture({ holdId: hold.id, key: 'p0', final: false }),
        );
        assert.equal(noCredits.code, 'invalid_argument');
        const zero = await refusal(
          ledger.capture({ holdId: hold.id, key: 'p0', credits: 0, final: false }),
        );
        assert.equal(zero.code, 'invalid_argument');
        const unknown = await refusal(
          ledger.extendHold({ holdId: 'hld_nope', key: 'x', ttlMs: HOUR }),
        );
        assert.equal(unknown.code, 'unknown_hold');
        const before = (await ledger.history({ accountId: 'b', limit: 100 })).transactions.length;

        await ledger.release({ holdId: hold.id, key: 'r' });
        const resolved = await refusal(
          ledger.extendHold({ holdId: hold.id, key: 'e7', ttlMs: HOUR }),
        );
        assert.equal(resolved.code, 'hold_already_released');
        const incResolved = await refusal(
          ledger.increaseHold({ holdId: hold.id, key: 'i', credits: 1 }),
        );
        assert.equal(incResolved.code, 'hold_already_released');
        assert.equal(
          (await ledger.history({ accountId: 'b', limit: 100 })).transactions.length,
          before + 1,
          'refusals wrote nothing',
        );
        await clean(store);
      } finally {
        await close();
      }
    });
  });
}
