import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { amisi, snapshot, type Run } from './cli-helpers.js';

const { dir, cleanup } = tempDir('amisi-cli-teams-');
const db = join(dir, 'amisi.db');
const run = (...args: string[]) => amisi(db, args);
const json = <T>(...args: string[]) => {
  const r = amisi(db, ['--json', ...args]);
  assert.equal(r.status, 0, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r.json<T>();
};

/** Refused with this code and exit status, as one error line, and nothing written. */
function refused(args: readonly string[], code: string, exit: number): Run {
  const before = snapshot(db);
  const r = run(...args);
  assert.equal(r.status, exit, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
  assert.match(r.stderr, new RegExp(`^error \\[${code}\\]`));
  assert.equal(snapshot(db), before, `${args.join(' ')} wrote nothing`);
  return r;
}

interface MemberOut {
  id: string;
  role: string;
  status: string;
  name: string | null;
  email: string | null;
  joinedAt: string | null;
}
interface BudgetOut {
  scope: string;
  target: string;
  mode: string;
  period: string;
  used: number;
  held: number;
  limitCredits: number | null;
  size: number;
  percent: number;
  startsAt: string | null;
  endsAt: string | null;
  periodEnd: number | null;
}
interface AlertOut {
  scope: string;
  target: string;
  threshold: number;
  used: number;
  held: number;
  limitCredits: number;
}

const budget = (org: string, scope: string, target = '') =>
  json<BudgetOut[]>('budgets', 'show', org).find((b) => b.scope === scope && b.target === target);
const available = (org: string) => json<{ available: number }>('balance', org).available;

before(() => {
  assert.equal(run('init').status, 0);
});
after(cleanup);

describe('amisi org create, org show', () => {
  it('creates an organization with its owner; the same command again is a replay', () => {
    const r = run(
      'org',
      'create',
      'acme',
      '--name',
      'Acme Inc',
      '--owner',
      'olga',
      '--owner-email',
      'olga@acme.test',
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^account\s+acme$/m);
    assert.match(r.stdout, /^name\s+Acme Inc$/m);
    assert.match(r.stdout, /^owner\s+olga$/m);
    assert.doesNotMatch(r.stdout, /replay/);
    const again = json<{
      account: { id: string; kind: string; name: string };
      owner: { id: string; role: string; email: string };
      replay: boolean;
    }>('org', 'create', 'acme', '--name', 'Acme Inc', '--owner', 'olga');
    assert.deepEqual(
      [again.account.kind, again.account.name, again.owner.role, again.owner.email, again.replay],
      ['organization', 'Acme Inc', 'owner', 'olga@acme.test', true],
    );
    assert.match(
      run('org', 'create', 'acme', '--name', 'Acme Inc', '--owner', 'olga').stdout,
      /replay\s+yes/,
    );
  });
  it('refuses another organization under the same id, and a plain account', () => {
    refused(['org', 'create', 'acme', '--name', 'Other', '--owner', 'olga'], 'account_exists', 4);
    assert.equal(run('accounts', 'create', 'solo').status, 0);
    refused(['org', 'show', 'solo'], 'not_an_organization', 4);
    refused(['members', 'list', 'solo'], 'not_an_organization', 4);
  });
  it('shows plan, team access and seats: the owner alone without a plan', () => {
    const r = run('org', 'show', 'acme');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^team access\s+no/m);
    assert.match(r.stdout, /^seats\s+1 of 1 used$/m);
    assert.match(r.stdout, /^olga\s+owner\s+active\s+-\s+olga@acme\.test/m);
    const o = json<{ plan: string | null; teamAccess: boolean; seats: number }>(
      'org',
      'show',
      'acme',
    );
    assert.deepEqual([o.plan, o.teamAccess, o.seats], [null, false, 1]);
  });
});

describe('amisi members', () => {
  let bobCode = '';
  it('refuses a member while the organization has no plan with team access', () => {
    refused(['members', 'add', 'acme', 'alice'], 'team_access_required', 4);
    const sub = json<{ change: string }>('subscribe', 'acme', 'starter', '--key', 'sub-starter');
    assert.equal(sub.change, 'subscribe');
    refused(['members', 'add', 'acme', 'alice'], 'team_access_required', 4);
  });
  it('adds members up to the seats of plan pro (3), then refuses', () => {
    const up = json<{ change: string }>('plan', 'change', 'acme', 'pro', '--key', 'up-pro');
    assert.equal(up.change, 'upgrade');
    const alice = json<{ member: MemberOut; created: boolean; invitationCode: string | null }>(
      'members',
      'add',
      'acme',
      'alice',
      '--name',
      'Alice',
      '--email',
      'alice@acme.test',
    );
    assert.deepEqual(
      [alice.member.role, alice.member.status, alice.created, alice.invitationCode],
      ['member', 'active', true, null],
    );
    const r = run('members', 'add', 'acme', 'bob', '--role', 'admin', '--invite');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^status\s+invited$/m);
    assert.match(r.stdout, /^role\s+admin$/m);
    bobCode = /amisi members accept acme bob --code (\S+)$/m.exec(r.stdout)?.[1] ?? '';
    assert.ok(bobCode.length >= 20, r.stdout);
    refused(['members', 'add', 'acme', 'carol'], 'seat_limit_reached', 4);
    const shown = run('org', 'show', 'acme');
    assert.match(shown.stdout, /^seats\s+3 of 3 used$/m);
    assert.match(shown.stdout, /^team access\s+yes$/m);
  });
  it('an invitation is accepted once, with its code; a wrong code is refused', () => {
    const before = snapshot(db);
    const again = json<{ replay: boolean; invitationCode: string | null }>(
      'members',
      'add',
      'acme',
      'bob',
      '--role',
      'admin',
      '--invite',
    );
    // Inviting again replaces the code: the first one stops working.
    assert.equal(again.replay, false);
    assert.ok(again.invitationCode && again.invitationCode !== bobCode, 'a new code');
    assert.notEqual(snapshot(db), before);
    refused(['members', 'accept', 'acme', 'bob', '--code', bobCode], 'invalid_invitation', 11);
    const code = again.invitationCode;
    refused(
      ['members', 'accept', 'acme', 'bob', '--code', 'not-the-code'],
      'invalid_invitation',
      11,
    );
    refused(['members', 'accept', 'acme', 'alice', '--code', code], 'invalid_invitation', 11);
    refused(
      ['charge', 'acme', '--credits', '1', '--member', 'bob', '--key', 'inv'],
      'unknown_member',
      3,
    );
    // A key for bob would be refused until he accepts: it is not made, and the error says why.
    const notYet = refused(
      ['keys', 'create', '--scope', 'member:acme/bob'],
      'member_not_active',
      4,
    );
    assert.match(notYet.stderr, /accept the invitation first/);
    assert.equal(notYet.stdout, '', 'no key printed');
    const accepted = json<{ member: MemberOut }>(
      'members',
      'accept',
      'acme',
      'bob',
      '--code',
      code,
    );
    assert.equal(accepted.member.status, 'active');
    assert.ok(accepted.member.joinedAt);
    refused(['members', 'accept', 'acme', 'bob', '--code', code], 'invalid_invitation', 11);
    const key = json<{ key: string; memberId: string }>(
      'keys',
      'create',
      '--scope',
      'member:acme/bob',
    );
    assert.equal(key.memberId, 'bob');
  });
  it('makes a short-lived key with --ttl, listed with its end; refuses a lifetime out of range', () => {
    const made = json<{ id: string; createdAt: string; expiresAt: string }>(
      'keys',
      'create',
      '--scope',
      'member:acme/bob',
      '--ttl',
      '15m',
    );
    assert.equal(Date.parse(made.expiresAt) - Date.parse(made.createdAt), 900_000);
    const listed = json<{ id: string; expiresAt: string | null }[]>('keys', 'list');
    assert.equal(listed.find((k) => k.id === made.id)?.expiresAt, made.expiresAt);
    assert.match(
      run('keys', 'list').stdout,
      /^id\s+scope\s+read-only\s+name\s+created\s+revoked\s+expires$/m,
    );
    const count = listed.length;
    for (const ttl of ['30s', '31d', '1500ms', 'soon']) {
      refused(
        ['keys', 'create', '--scope', 'member:acme/bob', '--ttl', ttl],
        'invalid_argument',
        2,
      );
    }
    assert.equal(json<unknown[]>('keys', 'list').length, count, 'no key made');
  });
  it('lists members in id order with role and status', () => {
    const rows = json<MemberOut[]>('members', 'list', 'acme');
    assert.deepEqual(
      rows.map((m) => [m.id, m.role, m.status, m.name]),
      [
        ['alice', 'member', 'active', 'Alice'],
        ['bob', 'admin', 'active', null],
        ['olga', 'owner', 'active', null],
      ],
    );
    const r = run('members', 'list', 'acme');
    assert.match(r.stdout, /^member\s+role\s+status\s+name\s+email\s+joined$/m);
    assert.match(r.stdout, /^alice\s+member\s+active\s+Alice\s+alice@acme\.test\s+\d{4}-/m);
  });
  it("changes a member's role; an unknown member or role is refused", () => {
    const r = json<{ member: MemberOut; replay: boolean }>(
      'members',
      'role',
      'acme',
      'bob',
      'member',
    );
    assert.deepEqual([r.member.role, r.replay], ['member', false]);
    assert.equal(
      json<{ replay: boolean }>('members', 'role', 'acme', 'bob', 'member').replay,
      true,
    );
    refused(['members', 'role', 'acme', 'zed', 'admin'], 'unknown_member', 3);
    refused(['members', 'role', 'acme', 'bob', 'boss'], 'invalid_argument', 2);
    refused(['members', 'add', 'acme', 'zed', '--role', 'boss'], 'invalid_argument', 2);
  });
  it('keeps the last owner', () => {
    refused(['members', 'remove', 'acme', 'olga'], 'last_owner', 4);
    refused(['members', 'role', 'acme', 'olga', 'admin'], 'last_owner', 4);
    refused(['members', 'remove', 'acme', 'nobody'], 'unknown_member', 3);
  });
});

describe('amisi projects', () => {
  it('creates (a replay the second time) and lists projects', () => {
    const p = json<{ project: { id: string; name: string }; replay: boolean }>(
      'projects',
      'create',
      'acme',
      'web',
      '--name',
      'Website',
    );
    assert.deepEqual([p.project.name, p.replay], ['Website', false]);
    assert.equal(
      json<{ replay: boolean }>('projects', 'create', 'acme', 'web', '--name', 'Website').replay,
      true,
    );
    assert.equal(
      json<{ project: { name: string } }>('projects', 'create', 'acme', 'api').project.name,
      'api',
      'the name defaults to the id',
    );
    assert.deepEqual(
      json<{ id: string; name: string }[]>('projects', 'list', 'acme').map((x) => [x.id, x.name]),
      [
        ['api', 'api'],
        ['web', 'Website'],
      ],
    );
    assert.match(run('projects', 'list', 'acme').stdout, /^web\s+Website\s+\d{4}-/m);
    assert.match(run('org', 'show', 'acme').stdout, /^web\s+Website/m);
  });
});

describe('amisi budgets, alerts', () => {
  it('needs exactly one of --member, --project, --pool and a known target', () => {
    refused(['budgets', 'set', 'acme', '--limit', '5'], 'invalid_argument', 2);
    refused(
      ['budgets', 'set', 'acme', '--pool', '--member', 'alice', '--limit', '5'],
      'invalid_argument',
      2,
    );
    refused(['budgets', 'set', 'acme', '--member', 'zed', '--limit', '5'], 'unknown_member', 3);
    refused(['budgets', 'set', 'acme', '--project', 'nope', '--limit', '5'], 'unknown_project', 3);
    refused(
      ['budgets', 'set', 'acme', '--member', 'alice', '--limit', 'five'],
      'invalid_credits',
      2,
    );
    const negative = refused(
      ['budgets', 'set', 'acme', '--member', 'alice', '--limit', '-1'],
      'invalid_credits',
      2,
    );
    assert.match(negative.stderr, /0 or more/);
    refused(
      ['budgets', 'set', 'acme', '--member', 'alice', '--limit', '5', '--from', '2026-01-01'],
      'invalid_argument',
      2,
    );
    refused(
      ['budgets', 'set', 'acme', '--member', 'alice', '--limit', '5', '--fixed'],
      'invalid_argument',
      2,
    );
    refused(['budgets', 'remove', 'acme', '--member', 'alice'], 'not_found', 3);
    refused(['budgets', 'remove', 'acme'], 'invalid_argument', 2);
  });
  it('a hard member budget of 5: 4 credits pass, 2 more are refused', () => {
    const set = json<{ budget: BudgetOut; replay: boolean }>(
      'budgets',
      'set',
      'acme',
      '--member',
      'alice',
      '--limit',
      '5',
    );
    assert.deepEqual(
      [set.budget.mode, set.budget.period, set.budget.limitCredits, set.budget.used, set.replay],
      ['hard', 'cycle', 5, 0, false],
    );
    const before = available('acme');
    assert.equal(
      json<{ credits: number }>(
        'charge',
        'acme',
        '--credits',
        '4',
        '--member',
        'alice',
        '--key',
        'k1',
      ).credits,
      4,
    );
    const r = refused(
      ['charge', 'acme', '--credits', '2', '--member', 'alice', '--key', 'k2'],
      'budget_exceeded',
      5,
    );
    assert.match(r.stderr, /4 used, 0 held, 2 requested/);
    const j = amisi(db, [
      '--json',
      'charge',
      'acme',
      '--credits',
      '2',
      '--member',
      'alice',
      '--key',
      'k2',
    ]);
    assert.equal(j.status, 5);
    const error = j.json<{ error: { code: string; data: { limit: number; used: number } } }>()
      .error;
    assert.deepEqual([error.code, error.data.limit, error.data.used], ['budget_exceeded', 5, 4]);
    assert.equal(available('acme'), before - 4);
    const b = budget('acme', 'member', 'alice');
    assert.deepEqual([b?.used, b?.held, b?.limitCredits, b?.percent], [4, 0, 5, 80]);
    const shown = run('budgets', 'show', 'acme');
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /^member alice\s+hard\s+cycle\s+4\s+0\s+5\s+80%\s+\[#{16}\.{4}\]/m);
    // The pool without a limit shows its size: what is used and held plus what is available.
    const pool = budget('acme', 'pool');
    assert.equal(pool?.limitCredits, null);
    assert.equal(pool?.size, (pool?.used ?? 0) + (pool?.held ?? 0) + available('acme'));
    assert.match(
      shown.stdout,
      new RegExp(`^pool\\s+soft\\s+cycle\\s+4\\s+0\\s+${pool?.size} \\(pool\\)`, 'm'),
    );
    // Another member is not covered by alice's budget.
    json('charge', 'acme', '--credits', '2', '--member', 'bob', '--key', 'k3');
  });
  it('a soft project budget lets a charge through and alerts at 50, 80 and 100% once each', () => {
    json('budgets', 'set', 'acme', '--project', 'web', '--limit', '10', '--soft');
    json(
      'charge',
      'acme',
      '--credits',
      '12',
      '--member',
      'olga',
      '--project',
      'web',
      '--key',
      's1',
    );
    json('charge', 'acme', '--credits', '1', '--member', 'olga', '--project', 'web', '--key', 's2');
    const web = budget('acme', 'project', 'web');
    assert.deepEqual([web?.mode, web?.used, web?.percent], ['soft', 13, 130]);
    const alerts = json<AlertOut[]>('alerts', 'acme');
    const of = (scope: string, target: string) =>
      alerts
        .filter((a) => a.scope === scope && a.target === target)
        .map((a) => a.threshold)
        .sort((x, y) => x - y);
    assert.deepEqual(of('project', 'web'), [50, 80, 100]);
    assert.deepEqual(of('member', 'alice'), [50, 80]);
    assert.equal(alerts.length, 5, 'the pool reached no threshold');
    const hundred = alerts.find((a) => a.target === 'web' && a.threshold === 100);
    assert.deepEqual([hundred?.used, hundred?.limitCredits], [12, 10]);
    const r = run('alerts', 'acme');
    assert.match(r.stdout, /^when\s+budget\s+threshold\s+mode\s+used\s+held\s+limit$/m);
    assert.match(r.stdout, /\s+project web\s+100%\s+soft\s+12\s+0\s+10$/m);
    assert.equal(json<AlertOut[]>('alerts', 'acme', '--limit', '2').length, 2);
    refused(['alerts', 'acme', '--limit', '0'], 'invalid_argument', 2);
  });
  it('a limit of 0 refuses everything; a fixed window not begun yet does not apply', () => {
    const fixed = json<{ budget: BudgetOut }>(
      'budgets',
      'set',
      'acme',
      '--project',
      'api',
      '--limit',
      '0',
      '--fixed',
      '--from',
      '2099-01-01',
      '--until',
      '2099-02-01',
    );
    assert.deepEqual(
      [fixed.budget.period, fixed.budget.startsAt, fixed.budget.endsAt, fixed.budget.periodEnd],
      ['fixed', '2099-01-01T00:00:00.000Z', '2099-02-01T00:00:00.000Z', Date.UTC(2099, 1, 1)],
    );
    json('charge', 'acme', '--credits', '1', '--member', 'olga', '--project', 'api', '--key', 'a1');
    json('budgets', 'set', 'acme', '--project', 'api', '--limit', '0');
    refused(
      ['charge', 'acme', '--credits', '1', '--member', 'olga', '--project', 'api', '--key', 'a2'],
      'budget_exceeded',
      5,
    );
    assert.match(
      run('budgets', 'show', 'acme').stdout,
      /^project api\s+hard\s+cycle\s+1\s+0\s+0\s+100%/m,
    );
  });
  it("removing a budget lifts its limit; removing a member removes the member's budget", () => {
    assert.match(run('budgets', 'remove', 'acme', '--project', 'api').stdout, /removed/);
    json('charge', 'acme', '--credits', '1', '--member', 'olga', '--project', 'api', '--key', 'a3');
    json('budgets', 'set', 'acme', '--pool', '--limit', '1000');
    assert.equal(budget('acme', 'pool')?.limitCredits, 1000);
    assert.match(run('budgets', 'remove', 'acme', '--pool').stdout, /no limit/);
    assert.equal(budget('acme', 'pool')?.limitCredits, null, 'the pool stays, without a limit');
    assert.ok(budget('acme', 'member', 'alice'));
    assert.equal(
      json<{ member: MemberOut }>('members', 'remove', 'acme', 'alice').member.id,
      'alice',
    );
    assert.equal(budget('acme', 'member', 'alice'), undefined);
  });
});

describe('amisi plan change with members', () => {
  it('a downgrade to a plan without team access is refused while 2 members remain', () => {
    assert.equal(json<MemberOut[]>('members', 'list', 'acme').length, 2);
    const r = refused(
      ['plan', 'change', 'acme', 'starter', '--key', 'down-1'],
      'seat_limit_reached',
      4,
    );
    assert.match(r.stderr, /remove 1 member first/);
    assert.equal(run('members', 'remove', 'acme', 'bob').status, 0);
    const down = json<{ change: string; subscription: { pendingPlan: string } }>(
      'plan',
      'change',
      'acme',
      'starter',
      '--key',
      'down-2',
    );
    assert.deepEqual([down.change, down.subscription.pendingPlan], ['downgrade', 'starter']);
  });
});
