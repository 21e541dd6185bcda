import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type AmisiApiError, type AmisiClient } from '../../src/client/index.js';
import { rejection, startSdkServer, type SdkServer } from './client-helpers.js';

/** The SDK's teams methods: an organization run end to end by its admin and a member. */

describe('the SDK: organizations', () => {
  let sdk: SdkServer;
  let ops: AmisiClient;
  before(async () => {
    sdk = await startSdkServer();
    ops = sdk.client();
  });
  after(async () => {
    await sdk?.close();
    assert.deepEqual(sdk?.specViolations ?? [], []);
  });

  it('creates an organization, invites a member, sets budgets and reads what was spent', async () => {
    const made = await ops.teams.createOrganization({
      id: 'studio',
      name: 'Studio',
      owner: { id: 'ola' },
    });
    assert.equal(made.account.kind, 'organization');
    assert.equal(
      (await ops.teams.createOrganization({ id: 'studio', name: 'Studio', owner: { id: 'ola' } }))
        .replay,
      true,
    );
    await ops.subscriptions.subscribe('studio', { plan: 'pro' });
    const adminKey = (await ops.teams.createMemberKey('studio', 'ola')).key;
    const admin = sdk.client(adminKey);

    const invited = await admin.teams.putMember('studio', 'kim', { role: 'member', invite: true });
    assert.equal(invited.member.status, 'invited');
    const accepted = await ops.teams.acceptInvitation({
      accountId: 'studio',
      memberId: 'kim',
      code: invited.invitationCode!,
    });
    const kim = sdk.client(accepted.key);

    await admin.teams.putProject('studio', 'launch', { name: 'Launch' });
    await admin.teams.putBudget('studio', 'member', 'kim', { limit: 10, mode: 'hard' });
    await admin.teams.putBudget('studio', 'pool', '', { limit: 250, mode: 'soft' });

    const c = await kim.charges.create({
      accountId: 'studio',
      credits: 8,
      attribution: { project: 'launch' },
    });
    assert.deepEqual([c.attribution.member, c.attribution.project], ['kim', 'launch']);
    const refused = (await rejection(() =>
      kim.holds.create({ accountId: 'studio', credits: 3 }),
    )) as AmisiApiError;
    assert.equal(refused.code, 'budget_exceeded');
    assert.equal(refused.status, 402);

    const budgets = (await admin.teams.budgets('studio')).budgets;
    const mine = budgets.find((b) => b.scope === 'member' && b.target === 'kim')!;
    assert.deepEqual([mine.used, mine.held, mine.size, mine.percent], [8, 0, 10, 80]);
    const pool = budgets.find((b) => b.scope === 'pool')!;
    assert.deepEqual([pool.used, pool.size], [8, 250]);
    const alerts = (await admin.teams.alerts('studio')).alerts;
    assert.deepEqual(
      alerts
        .filter((a) => a.target === 'kim')
        .map((a) => a.threshold)
        .sort((x, y) => x - y),
      [50, 80],
    );
    const forbidden = (await rejection(() =>
      kim.teams.putBudget('studio', 'member', 'kim', { limit: 99 }),
    )) as AmisiApiError;
    assert.equal(forbidden.code, 'forbidden');

    await admin.teams.removeBudget('studio', 'member', 'kim');
    await admin.teams.removeMember('studio', 'kim');
    assert.deepEqual(
      (await ops.teams.members('studio')).members.map((m) => m.id),
      ['ola'],
    );
    assert.equal((await ops.teams.get('studio')).seats, 3);
  });
});
