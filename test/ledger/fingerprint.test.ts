import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { isAmisiError } from '../../src/core/errors.js';
import { legacyRequestHash, requestHash, sameRequest } from '../../src/ledger/idempotency.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { FakeClock } from '../../src/ledger/ports.js';
import { defaultCatalog } from '../helpers.js';
import { BOTH_STORES } from '../pg-helpers.js';

const T0 = Date.UTC(2027, 2, 1);

/** The grant request as the Ledger builds it from checked input: "op" first, then the input. */
const grantRequest = (accountId: string, credits: number) => ({
  op: 'grant',
  accountId,
  credits,
  source: 'promotion',
  expiresAt: null,
});

describe('the idempotency fingerprint', () => {
  it('is the same for two requests that differ only in key order, at every depth', () => {
    const a = { op: 'hold', accountId: 'a', attribution: { member: 'm', project: null } };
    const b = { attribution: { project: null, member: 'm' }, accountId: 'a', op: 'hold' };
    assert.equal(requestHash(a), requestHash(b));
    assert.notEqual(legacyRequestHash(a), legacyRequestHash(b));
    assert.notEqual(requestHash(a), requestHash({ ...a, accountId: 'b' }));
  });

  it("changes the bytes of the Ledger's requests: the old form is needed for stored keys", () => {
    // "op" comes first in every request the Ledger builds, and sorts after "accountId".
    const request = grantRequest('ann', 5);
    assert.notEqual(canonicalJson(request), JSON.stringify(request));
    assert.notEqual(requestHash(request), legacyRequestHash(request));
  });

  it('accepts the stored form, old or new, of this request and of no other', () => {
    const request = grantRequest('ann', 5);
    const canonical = requestHash(request);
    assert.ok(sameRequest(canonical, request, canonical));
    assert.ok(sameRequest(legacyRequestHash(request), request, canonical));
    const other = grantRequest('ann', 6);
    assert.ok(!sameRequest(legacyRequestHash(other), request, canonical));
    assert.ok(!sameRequest(requestHash(other), request, canonical));
  });
});

for (const [name, open, skip] of BOTH_STORES) {
  describe(`keys stored with the old fingerprint on ${name}`, { skip }, () => {
    it('still replay, and still refuse another request', async () => {
      const { store, close } = await open();
      const ledger = new Ledger({ store, clock: new FakeClock(T0) });
      try {
        await ledger.loadCatalog(defaultCatalog());
        await ledger.createAccount({ accountId: 'ann' });
        const input = { accountId: 'ann', credits: 5, source: 'promotion', expiresAt: null };
        const first = await ledger.grant({ ...input, key: 'new' });
        // A key as an earlier version stored it: the same request's JSON in insertion order.
        await store.write((w) =>
          w.insert('idempotency', [
            {
              accountId: 'ann',
              key: 'old',
              requestHash: legacyRequestHash(grantRequest('ann', 5)),
              transactionId: first.transactionId,
              createdAt: T0,
            },
          ]),
        );
        const replay = await ledger.grant({ ...input, key: 'old' });
        assert.equal(replay.replay, true);
        assert.equal(replay.transactionId, first.transactionId);
        assert.deepEqual(replay.grant, first.grant);
        await assert.rejects(
          ledger.grant({ ...input, credits: 6, key: 'old' }),
          (e: unknown) => isAmisiError(e) && e.code === 'idempotency_key_reused',
        );
        // The key stored by this version replays as before.
        assert.equal((await ledger.grant({ ...input, key: 'new' })).replay, true);
        assert.equal((await ledger.balance('ann')).available, 5);
      } finally {
        await ledger.idle();
        await close();
      }
    });
  });
}
