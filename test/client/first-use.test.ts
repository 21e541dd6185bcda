import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isAmisiApiError, type AmisiClient } from '../../src/client/index.js';
import { defaultCatalog } from '../helpers.js';
import { BOTH_STORES } from '../pg-helpers.js';
import { rejection, startSdkServer, type SdkServer } from './client-helpers.js';

/** Trial credits and accounts on first use through the HTTP API and the SDK. */

function catalog(): unknown {
  const c = structuredClone(defaultCatalog()) as Record<string, unknown>;
  return {
    ...c,
    version: 'first-use-1',
    defaultPlan: 'free',
    trial: { credits: 25, expiresAfterDays: 7, at: 'creation' },
  };
}

for (const [name, open, skip] of BOTH_STORES) {
  describe(`trial credits and accounts on first use through the API on ${name}`, { skip }, () => {
    let sdk: SdkServer;
    let operator: AmisiClient;
    before(async () => {
      sdk = await startSdkServer({ open, catalog: catalog(), accountsOnFirstUse: true });
      operator = sdk.client();
    });
    after(async () => {
      await sdk?.close();
      assert.deepEqual(sdk?.specViolations ?? [], []);
    });

    it('a charge for an unknown account makes it, with the default plan and the trial', async () => {
      const items = [{ operation: 'image.generate', params: { resolution: '4k' }, count: 2 }];
      const charge = await operator.charges.create({ accountId: 'walk-in', items });
      assert.equal(charge.credits, 6);
      const account = await operator.accounts.get('walk-in');
      assert.equal(account.plan, 'free');
      const balance = await operator.balance.get('walk-in');
      assert.equal(balance.available, 10 + 25 - 6);
      assert.ok(balance.grants.some((g) => g.source === 'trial' && g.remaining === 19));
      const catalogNow = await operator.catalog.get();
      assert.deepEqual(catalogNow.body.trial, { credits: 25, expiresAfterDays: 7, at: 'creation' });
    });

    it('an unknown operation for an unknown account is refused and makes nothing', async () => {
      const e = await rejection(() =>
        operator.charges.create({
          accountId: 'ghost',
          items: [{ operation: 'video.nope', params: {}, count: 1 }],
        }),
      );
      assert.ok(isAmisiApiError(e));
      assert.deepEqual([e.status, e.code], [400, 'unknown_operation']);
      const missing = await rejection(() => operator.accounts.get('ghost'));
      assert.ok(isAmisiApiError(missing));
      assert.equal(missing.code, 'unknown_account');
    });
  });
}
