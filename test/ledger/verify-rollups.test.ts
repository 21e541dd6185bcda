import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { verify } from '../../src/ledger/verify.js';
import { freshLedger } from '../helpers.js';

/** verify checks the rollups reports read against the journal, and a rebuild mends them. */
describe('verify: rollups', () => {
  it('finds rollups that disagree with the journal; a rebuild mends them', async () => {
    const { ledger, store, path, close } = await freshLedger();
    try {
      await ledger.createAccount({ accountId: 'ann' });
      await ledger.grant({ accountId: 'ann', key: 'g', credits: 50, source: 'purchase' });
      await ledger.charge({
        accountId: 'ann',
        key: 'c',
        items: [{ operation: 'image.generate', params: { resolution: '4k' }, count: 2 }],
        attribution: { member: 'mia', project: 'web' },
      });
      await ledger.idle();
      assert.deepEqual((await verify(store)).violations, []);

      const db = new Database(path);
      db.prepare(
        "UPDATE flows_hourly SET credits = credits + 5 WHERE account_id = 'ann' AND flow = 'consumed'",
      ).run();
      db.prepare(
        "UPDATE usage_hourly SET credits = credits + 9 WHERE account_id = 'ann' AND dim = 'member'",
      ).run();
      db.close();
      const broken = await verify(store);
      assert.equal(broken.ok, false);
      assert.deepEqual(
        broken.violations.map((v) => [v.check, v.detail]),
        [
          ['rollups_match_journal', 'consumed: rollups 11, journal 6 (amisi rollups rebuild ann)'],
          ['rollups_within_consumed', 'usage by member 15 exceeds the 6 consumed'],
        ],
      );

      await ledger.rebuildRollups('ann');
      assert.deepEqual((await verify(store)).violations, []);
    } finally {
      await close();
    }
  });
});
