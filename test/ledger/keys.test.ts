import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ledger } from '../../src/ledger/ledger.js';
import { FakeClock } from '../../src/ledger/ports.js';
import type { ApiKeyRecord } from '../../src/ledger/store.js';
import { ApiKeys } from '../../src/service/api-keys.js';
import { defaultCatalog } from '../helpers.js';
import { BOTH_STORES } from '../pg-helpers.js';

const T0 = Date.UTC(2027, 0, 10);

/** A ledger with an organization on Pro (team access) and an individual account. */
async function withKeys(
  open: (typeof BOTH_STORES)[number][1],
  fn: (env: { ledger: Ledger; keys: ApiKeys; commits: number[] }) => Promise<void>,
): Promise<void> {
  const { store, close } = await open();
  const commits: number[] = [];
  const clock = new FakeClock(T0);
  const ledger = new Ledger({ store, clock, committer: { onCommit: (n) => commits.push(n) } });
  try {
    await ledger.loadCatalog(defaultCatalog());
    await ledger.createOrganization({ accountId: 'acme', name: 'Acme', owner: { id: 'olga' } });
    await ledger.subscribe({ accountId: 'acme', key: 'sub', plan: 'pro' });
    await ledger.createAccount({ accountId: 'ann' });
    await fn({ ledger, keys: new ApiKeys(ledger, { cacheMs: 0, clock }), commits });
    assert.ok((await ledger.verify()).ok, 'verify is clean');
  } finally {
    await ledger.idle();
    await close();
  }
}

for (const [name, open, skip] of BOTH_STORES) {
  describe(`API keys through the ledger on ${name}`, { skip }, () => {
    it('issues, lists without hashes, checks and revokes keys', () =>
      withKeys(open, async ({ ledger, keys }) => {
        const op = await keys.create({ scope: 'operator', name: 'ops' });
        const acct = await keys.create({ scope: { accountId: 'ann' }, readOnly: true });
        assert.equal((await keys.authenticate(op.key))?.kind, 'operator');
        assert.deepEqual(await keys.authenticate(acct.key), {
          kind: 'account',
          keyId: acct.record.id,
          readOnly: true,
          expiresAt: null,
          accountId: 'ann',
        });
        const listed = await ledger.listApiKeys();
        assert.equal(listed.length, 2);
        assert.ok(
          listed.every((k) => !('secretHash' in k)),
          'no hash in listings',
        );
        assert.ok(!('secretHash' in op.record), 'no hash in the answer');
        assert.equal((await keys.revoke(op.key)).revoked, true);
        assert.equal((await keys.revoke(op.record.id)).revoked, false, 'twice is a no-op');
        assert.equal(await keys.authenticate(op.key), null);
        await assert.rejects(keys.revoke('amk_nope'), { code: 'unknown_api_key' });
      }));

    it('refuses keys for unknown accounts and members, and for members not active', () =>
      withKeys(open, async ({ ledger, keys }) => {
        await assert.rejects(keys.create({ scope: { accountId: 'nobody' } }), {
          code: 'unknown_account',
        });
        await assert.rejects(keys.create({ scope: { accountId: 'ann', memberId: 'm' } }), {
          code: 'not_an_organization',
        });
        await assert.rejects(keys.create({ scope: { accountId: 'acme', memberId: 'max' } }), {
          code: 'unknown_member',
        });
        await ledger.setMember({
          accountId: 'acme',
          memberId: 'ivy',
          role: 'member',
          invite: true,
        });
        await assert.rejects(keys.create({ scope: { accountId: 'acme', memberId: 'ivy' } }), {
          code: 'member_not_active',
        });
        assert.deepEqual(await ledger.listApiKeys(), [], 'no key was made');
      }));

    it('issuing the same record again is a replay', () =>
      withKeys(open, async ({ ledger }) => {
        const record: ApiKeyRecord = {
          id: 'k0000000000a',
          secretHash: 'ab'.repeat(32),
          scope: 'account',
          accountId: 'ann',
          readOnly: false,
          name: null,
          createdAt: T0,
          revokedAt: null,
          memberId: null,
          expiresAt: null,
        };
        assert.equal((await ledger.issueApiKey(record)).replay, false);
        assert.equal((await ledger.issueApiKey(record)).replay, true);
        assert.equal((await ledger.listApiKeys()).length, 1);
      }));

    it('accepting an invitation makes the member key in the same commit, or neither', () =>
      withKeys(open, async ({ ledger, keys, commits }) => {
        const inv = await ledger.setMember({
          accountId: 'acme',
          memberId: 'ivy',
          role: 'member',
          invite: true,
        });
        const bad = { accountId: 'acme', memberId: 'ivy', code: 'not-the-code' };
        await assert.rejects(keys.acceptInvitation(bad), { code: 'invalid_invitation' });
        assert.deepEqual(await ledger.listApiKeys(), [], 'a refused invitation makes no key');
        const before = commits.length;
        const made = await keys.acceptInvitation({
          accountId: 'acme',
          memberId: 'ivy',
          code: inv.invitationCode!,
          keyName: 'laptop',
        });
        assert.equal(commits.length, before + 1, 'one transaction');
        assert.equal(made.member.status, 'active');
        assert.equal(made.record.name, 'laptop');
        const principal = await keys.authenticate(made.key);
        assert.equal(principal?.kind, 'member');
        await assert.rejects(keys.acceptInvitation({ ...bad, code: inv.invitationCode! }), {
          code: 'invalid_invitation',
        });
        assert.equal((await ledger.listApiKeys()).length, 1, 'used codes make no second key');
      }));
  });
}
