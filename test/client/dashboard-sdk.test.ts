import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newIdempotencyKey, type AmisiClient } from '../../src/client/index.js';
import { rejection, startSdkServer, type SdkServer } from './client-helpers.js';

/** What the dashboard uses of the SDK: who a key is, account search, the plan preview, keys. */

describe('the SDK for the dashboard', () => {
  let sdk: SdkServer;
  let operator: AmisiClient;
  before(async () => {
    sdk = await startSdkServer();
    operator = sdk.client();
    for (const id of ['ann', 'anna', 'bo']) await operator.accounts.create({ id });
    await operator.subscriptions.subscribe('ann', { plan: 'starter' });
  });
  after(async () => {
    await sdk?.close();
    assert.deepEqual(sdk?.specViolations ?? [], []);
  });

  it('accounts.me names the key; an account key sees only its own account', async () => {
    assert.equal((await operator.accounts.me()).scope, 'operator');
    const ann = sdk.client(await sdk.s.keyFor('ann'));
    const me = await ann.accounts.me();
    assert.deepEqual(
      [me.scope, me.accountId, me.memberId, me.role],
      ['account', 'ann', null, null],
    );
  });

  it('accounts.list searches ids and names; all() pages through the matches', async () => {
    const page = await operator.accounts.list({ search: 'AN', limit: 1 });
    assert.deepEqual([page.accounts.map((a) => a.id), page.nextCursor], [['ann'], 'ann']);
    const ids: string[] = [];
    for await (const a of operator.accounts.all({ search: 'an', limit: 1 })) ids.push(a.id);
    assert.deepEqual(ids, ['ann', 'anna']);
  });

  it('subscriptions.preview prices an upgrade and changes nothing', async () => {
    const ann = sdk.client(await sdk.s.keyFor('ann'));
    const preview = await ann.subscriptions.preview('ann', 'business');
    assert.equal(preview.change, 'upgrade');
    assert.ok(preview.chargeCents > 0 && preview.credits > 0);
    assert.equal((await ann.subscriptions.get('ann')).plan, 'starter');
    const e = await rejection(() => ann.subscriptions.preview('bo', 'business'));
    assert.equal((e as { code: string }).code, 'unknown_account');
  });

  it('makes version 4 UUIDs for idempotency keys, also without crypto.randomUUID', () => {
    const v4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    assert.match(newIdempotencyKey(), v4);
    const original = Object.getOwnPropertyDescriptor(globalThis.crypto, 'randomUUID');
    // An insecure context: the property is missing.
    Object.defineProperty(globalThis.crypto, 'randomUUID', {
      value: undefined,
      configurable: true,
    });
    try {
      const keys = new Set(Array.from({ length: 200 }, () => newIdempotencyKey()));
      assert.equal(keys.size, 200);
      for (const k of keys) assert.match(k, v4);
    } finally {
      if (original) Object.defineProperty(globalThis.crypto, 'randomUUID', original);
      else delete (globalThis.crypto as { randomUUID?: unknown }).randomUUID;
      assert.equal(typeof globalThis.crypto.randomUUID, 'function', 'restored');
    }
  });
});
