import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AmisiClient } from '../../src/client/index.js';
import { FakeClock } from '../../src/ledger/ports.js';
import { BOTH_STORES } from '../pg-helpers.js';
import { problem, startSdkServer, type SdkServer } from './client-helpers.js';

/** Long and streaming jobs through the HTTP API and the SDK: extend, capture in parts, increase. */

const MINUTE = 60_000;
const DAY = 86_400_000;

for (const [name, open, skip] of BOTH_STORES) {
  describe(`long holds through the API on ${name}`, { skip }, () => {
    let sdk: SdkServer;
    let customer: AmisiClient;
    const clock = new FakeClock(Date.UTC(2027, 4, 3));
    before(async () => {
      sdk = await startSdkServer({ open, clock });
      const operator = sdk.client();
      await operator.accounts.create({ id: 'lj' });
      await operator.grants.create({ accountId: 'lj', credits: 40, source: 'promotion' });
      customer = sdk.client(await sdk.s.keyFor('lj'));
    });
    after(async () => {
      await sdk?.close();
      assert.deepEqual(sdk?.specViolations ?? [], []);
    });

    it('a batch job: held, extended, captured as it goes, topped up, finished', async () => {
      const items = [{ operation: 'image.generate', params: { resolution: '1080p' }, count: 5 }];
      const { hold } = await customer.holds.create({ accountId: 'lj', items, ttlMs: 10 * MINUTE });
      assert.equal(hold.credits, 10);

      clock.advance(8 * MINUTE);
      const ext = await customer.holds.extend(hold.id, { ttlMs: 30 * MINUTE });
      assert.equal(ext.hold.expiresAt, clock.now() + 30 * MINUTE);
      clock.advance(20 * MINUTE);

      const part = await customer.holds.capture(hold.id, { credits: 4, final: false });
      assert.deepEqual(
        [part.capturedCredits, part.releasedCredits, part.hold.status, part.hold.capturedCredits],
        [4, 0, 'held', 4],
      );

      const more = [{ operation: 'image.generate', params: { resolution: '4k' }, count: 2 }];
      const inc = await customer.holds.increase(hold.id, { items: more });
      assert.deepEqual([inc.credits, inc.hold.credits, inc.hold.capturedCredits], [6, 16, 4]);
      let balance = await customer.balance.get('lj');
      assert.deepEqual([balance.available, balance.held], [40 - 16, 12]);

      const done = await customer.holds.capture(hold.id, { credits: 10 });
      assert.deepEqual(
        [done.capturedCredits, done.releasedCredits, done.hold.status],
        [10, 2, 'captured'],
      );
      balance = await customer.balance.get('lj');
      assert.deepEqual([balance.available, balance.held], [40 - 14, 0]);

      const history = await customer.history.list('lj', {
        kind: ['hold', 'hold_extension', 'partial_capture', 'hold_increase', 'capture'],
      });
      assert.deepEqual(
        history.transactions.map((t) => t.kind),
        ['capture', 'hold_increase', 'partial_capture', 'hold_extension', 'hold'],
      );
    });

    it('bad input: past the maximum ttl or lifetime, a part beyond the hold, a part without credits', async () => {
      const { hold } = await customer.holds.create({ accountId: 'lj', credits: 3, ttlMs: 7 * DAY });
      const ttl = await problem(() => customer.holds.extend(hold.id, { ttlMs: 8 * DAY }));
      assert.deepEqual([ttl.status, ttl.code], [400, 'invalid_argument']);
      clock.advance(6 * DAY);
      await customer.holds.extend(hold.id, { ttlMs: 7 * DAY });
      for (let i = 0; i < 2; i++) {
        clock.advance(7 * DAY - MINUTE);
        await customer.holds.extend(hold.id, { ttlMs: 7 * DAY });
      }
      // 27 days old: 7 more days would pass its 30.
      clock.advance(7 * DAY - MINUTE);
      const life = await problem(() => customer.holds.extend(hold.id, { ttlMs: 7 * DAY }));
      assert.deepEqual([life.status, life.code], [409, 'hold_lifetime_exceeded']);

      const beyond = await problem(() =>
        customer.holds.capture(hold.id, { credits: 4, final: false }),
      );
      assert.deepEqual([beyond.status, beyond.code], [409, 'capture_exceeds_hold']);
      const bare = await problem(() => customer.holds.capture(hold.id, { final: false }));
      assert.deepEqual([bare.status, bare.code], [400, 'invalid_argument']);
      const plain = await problem(() =>
        customer.holds.increase(hold.id, {
          items: [{ operation: 'image.generate', params: { resolution: '4k' }, count: 1 }],
        }),
      );
      assert.deepEqual([plain.status, plain.code], [400, 'invalid_argument']);
      const unknown = await problem(() => customer.holds.extend('hld_nope', { ttlMs: MINUTE }));
      assert.equal(unknown.status, 404);
      assert.equal((await customer.holds.get(hold.id)).credits, 3);
    });
  });
}
