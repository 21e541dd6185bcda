import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type AmisiApiError, type AmisiClient } from '../../src/client/index.js';
import { rejection, startSdkServer, type SdkServer } from './client-helpers.js';

/** The SDK's batches: quote a list, hold it with one key, resolve item by item, release the rest. */

describe('the SDK: request batches', () => {
  let sdk: SdkServer;
  let ops: AmisiClient;
  before(async () => {
    sdk = await startSdkServer();
    ops = sdk.client();
    await ops.accounts.create({ id: 'kai' });
    await ops.grants.create({ accountId: 'kai', credits: 12, source: 'purchase' });
  });
  after(async () => {
    await sdk?.close();
    assert.deepEqual(sdk?.specViolations ?? [], []);
  });

  it('quotes, holds, captures one item, releases another and the rest', async () => {
    const kai = sdk.client(await sdk.s.keyFor('kai'));
    const items = [
      { operation: 'image.generate', params: { resolution: '720p' }, count: 3, ref: 'drafts' },
      { operation: 'image.generate', params: { resolution: '4k' }, ref: 'hero' },
      { operation: 'image.edit', count: 2 },
    ];
    const q = await kai.batches.quote({ items });
    assert.deepEqual([q.credits, q.items.map((i) => i.credits)], [8, [3, 3, 2]]);

    const refused = (await rejection(() =>
      kai.batches.hold({ accountId: 'kai', items: [...items, ...items] }),
    )) as AmisiApiError;
    assert.deepEqual([refused.code, refused.data.item], ['insufficient_credits', 4]);

    const { batch, replay } = await kai.batches.hold(
      { accountId: 'kai', items },
      { idempotencyKey: 'kai-session-1' },
    );
    assert.equal(replay, false);
    const again = await kai.batches.hold(
      { accountId: 'kai', items },
      { idempotencyKey: 'kai-session-1' },
    );
    assert.deepEqual([again.replay, again.batch.id], [true, batch.id]);

    const hero = await kai.batches.captureItem(batch.id, 1);
    assert.deepEqual([hero.index, hero.capturedCredits], [1, 3]);
    const drafts = await kai.batches.captureItem(batch.id, 0, { credits: 1 });
    assert.deepEqual([drafts.capturedCredits, drafts.releasedCredits], [1, 2]);
    const rest = await kai.batches.release(batch.id);
    assert.deepEqual([rest.released, rest.releasedCredits], [[2], 2]);
    const now = await kai.batches.get(batch.id);
    assert.deepEqual(
      [now.status, now.credits, now.held, now.captured, now.released, now.expired],
      ['settled', 8, 0, 4, 4, 0],
    );
    const late = (await rejection(() => kai.batches.releaseItem(batch.id, 2))) as AmisiApiError;
    assert.equal(late.code, 'hold_already_released');
    const unknown = (await rejection(() => kai.batches.get('bat_none'))) as AmisiApiError;
    assert.equal(unknown.code, 'unknown_batch');
    assert.equal((await ops.balance.get('kai')).available, 12 - 4);
  });
});
