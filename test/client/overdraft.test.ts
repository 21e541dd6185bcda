import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AmisiClient } from '../../src/client/index.js';
import { BOTH_STORES } from '../pg-helpers.js';
import { problem, startSdkServer, type SdkServer } from './client-helpers.js';

/** The overdraft through the HTTP API and the SDK: operator sets it, the account sees it. */

for (const [name, open, skip] of BOTH_STORES) {
  describe(`overdraft through the API on ${name}`, { skip }, () => {
    let sdk: SdkServer;
    let operator: AmisiClient;
    let customer: AmisiClient;
    before(async () => {
      sdk = await startSdkServer({ open });
      operator = sdk.client();
      await operator.accounts.create({ id: 'od-a' });
      await operator.grants.create({ accountId: 'od-a', credits: 10, source: 'promotion' });
      customer = sdk.client(await sdk.s.keyFor('od-a'));
    });
    after(async () => {
      await sdk?.close();
      assert.deepEqual(sdk?.specViolations ?? [], []);
    });

    it('an operator sets a limit; charges go past zero; the balance shows the debt', async () => {
      const none = await customer.balance.get('od-a');
      assert.deepEqual(none.overdraft, {
        limit: 0,
        mode: 'hard',
        from: 'none',
        debt: 0,
        held: 0,
        remaining: 0,
      });
      const set = await operator.balance.setOverdraft('od-a', { limit: 20 });
      assert.deepEqual([set.limit, set.from, set.remaining], [20, 'account', 20]);
      await customer.charges.create({ accountId: 'od-a', credits: 25 });
      const balance = await customer.balance.get('od-a');
      assert.deepEqual([balance.available, balance.overdraft.debt], [-15, 15]);

      const past = await problem(() => customer.charges.create({ accountId: 'od-a', credits: 6 }));
      assert.deepEqual([past.status, past.code], [402, 'overdraft_limit_reached']);
      assert.deepEqual((past.data as { overdraft: unknown }).overdraft, {
        limit: 20,
        debt: 15,
        held: 0,
        remaining: 5,
      });
    });

    it('a limit below the debt, bad input, and an account key are refused', async () => {
      const below = await problem(() => operator.balance.setOverdraft('od-a', { limit: 10 }));
      assert.deepEqual([below.status, below.code], [409, 'overdraft_below_used']);
      const negative = await problem(() => operator.balance.setOverdraft('od-a', { limit: -1 }));
      assert.deepEqual([negative.status, negative.code], [400, 'invalid_argument']);
      // The nullable field's three schema issues read as one sentence.
      assert.equal(negative.detail, 'body.limit must be >= 0 (or null)');
      const fraction = await problem(() => operator.balance.setOverdraft('od-a', { limit: 1.5 }));
      assert.equal(fraction.detail, 'body.limit must be integer (or null)');
      const mode = await problem(() =>
        operator.balance.setOverdraft('od-a', { limit: 30, mode: 'loose' as 'hard' }),
      );
      assert.equal(mode.status, 400);
      const own = await problem(() => customer.balance.setOverdraft('od-a', { limit: 100 }));
      assert.equal(own.status, 403);
      const unknown = await problem(() => operator.balance.setOverdraft('nobody', { limit: 5 }));
      assert.deepEqual([unknown.status, unknown.code], [404, 'unknown_account']);
      assert.equal((await customer.balance.get('od-a')).overdraft.limit, 20, 'nothing changed');
    });

    it('a grant repays the debt first, in the history', async () => {
      await operator.grants.create({ accountId: 'od-a', credits: 40, source: 'purchase' });
      const balance = await customer.balance.get('od-a');
      assert.deepEqual([balance.available, balance.overdraft.debt], [25, 0]);
      const page = await customer.history.list('od-a', { kind: ['repayment'] });
      assert.equal(page.transactions.length, 1);
      assert.equal(page.transactions[0]!.kind, 'repayment');
    });
  });
}
