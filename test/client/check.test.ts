import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isAmisiApiError, type AmisiClient } from '../../src/client/index.js';
import { BOTH_STORES } from '../pg-helpers.js';
import { rejection, startSdkServer, type SdkServer } from './client-helpers.js';

/**
 * client.checks.create: a plain check is sent without an Idempotency-Key and never throws for
 * "not allowed"; with hold it is keyed like holds.create, and a retry with the key replays.
 */

for (const [name, open, skip] of BOTH_STORES) {
  describe(`checks through the SDK on ${name}`, { skip }, () => {
    let sdk: SdkServer;
    let customer: AmisiClient;
    before(async () => {
      sdk = await startSdkServer({ open });
      const operator = sdk.client();
      await operator.accounts.create({ id: 'sdk-c' });
      await operator.grants.create({ accountId: 'sdk-c', credits: 10, source: 'promotion' });
      customer = sdk.client(await sdk.s.keyFor('sdk-c'));
    });
    after(async () => {
      await sdk?.close();
      assert.deepEqual(sdk?.specViolations ?? [], []);
    });

    it('a plain check: typed answer, no key sent, not allowed is an answer', async () => {
      const item = { operation: 'image.generate', params: { resolution: '1080p' }, count: 3 };
      const r = await customer.checks.create({ accountId: 'sdk-c', items: [item] });
      assert.deepEqual([r.allowed, r.credits, r.availableAfter], [true, 6, 4]);
      assert.equal(r.quote?.lines[0]?.unitCredits, 2);
      const blocked = await customer.checks.create({ accountId: 'sdk-c', credits: 11 });
      assert.equal(blocked.allowed, false);
      assert.equal(blocked.blockedBy?.code, 'insufficient_credits');
      assert.equal(blocked.blockedBy?.data.available, 10);
      const checks = sdk.sent.filter((s) => s.url.endsWith('/v1/check'));
      assert.deepEqual(
        checks.map((s) => s.idempotencyKey),
        [null, null],
      );
    });

    it('with hold: keyed, replayed by the same key; bad input throws its problem', async () => {
      const input = { accountId: 'sdk-c', credits: 4, hold: true };
      const r = await customer.checks.create(input, { idempotencyKey: 'sdk-job-1' });
      assert.equal(r.hold?.credits, 4);
      const again = await customer.checks.create(input, { idempotencyKey: 'sdk-job-1' });
      assert.deepEqual([again.hold?.id, again.replay], [r.hold?.id, true]);
      const made = await customer.checks.create({ ...input, credits: 1 });
      assert.notEqual(made.hold?.id, r.hold?.id);
      assert.equal(typeof sdk.sent.at(-1)?.idempotencyKey, 'string', 'a key made for the call');
      const e = await rejection(() =>
        customer.checks.create({ accountId: 'sdk-c', items: [{ operation: 'image.teleport' }] }),
      );
      assert.ok(isAmisiApiError(e, 'unknown_operation'), String(e));
      assert.equal(e.status, 400);
    });
  });
}
