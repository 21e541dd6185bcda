import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Grant } from '../../src/core/grants.js';
import type { Attribution } from '../../src/core/holds.js';
import {
  planSpend,
  type SpendDecision,
  type SpendRequest,
  type SpendState,
  type TeamSpendState,
} from '../../src/core/spend.js';
import {
  alertBit,
  budgetKey,
  POOL_TARGET,
  type Budget,
  type BudgetScope,
  type Member,
  type Role,
} from '../../src/core/teams.js';

// The rules of PRODUCT.md without a store: Pro seats 3 with team access, Free seats the owner
// alone; an image costs 1 (720p), 2 (1080p), 3 (4K) or 4 (8K) credits.
const utc = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d);
const NOW = utc(2027, 3, 15);
const CYCLE = utc(2027, 3, 1);
const PRO = { plan: 'pro', seats: 3, teamAccess: true };
const FREE = { plan: 'free', seats: 1, teamAccess: false };

const grant = (id: string, remaining: number, expiresAt: number | null = null): Grant => ({
  accountId: 'org',
  id,
  source: 'allocation',
  amount: 300,
  remaining,
  startsAt: 0,
  expiresAt,
  createdAt: 0,
});

const member = (id: string, role: Role, status: Member['status'] = 'active'): Member => ({
  accountId: 'org',
  id,
  role,
  status,
  name: null,
  email: null,
  inviteHash: null,
  createdAt: 0,
  joinedAt: status === 'active' ? 0 : null,
});

const budget = (scope: BudgetScope, target: string, fields: Partial<Budget> = {}): Budget => ({
  accountId: 'org',
  scope,
  target,
  limitCredits: 100,
  mode: 'hard',
  period: 'cycle',
  startsAt: null,
  endsAt: null,
  periodStart: CYCLE,
  used: 0,
  held: 0,
  alerted: 0,
  createdAt: 0,
  updatedAt: 0,
  ...fields,
});

const MEMBERS = [
  member('olga', 'owner'),
  member('adam', 'member'),
  member('ivy', 'member', 'invited'),
];

function team(fields: {
  budgets?: readonly Budget[];
  members?: readonly Member[];
  seats?: TeamSpendState['seats'];
}): TeamSpendState {
  const budgets = fields.budgets ?? [
    budget('pool', POOL_TARGET, { limitCredits: null, mode: 'soft' }),
  ];
  return {
    members: new Map((fields.members ?? MEMBERS).map((m) => [m.id, m])),
    projects: new Map([
      ['launch', { accountId: 'org', id: 'launch', name: 'Launch', createdAt: 0 }],
    ]),
    budgets: new Map(budgets.map((b) => [budgetKey(b.scope, b.target), b])),
    periodStart: CYCLE,
    seats: fields.seats === undefined ? PRO : fields.seats,
  };
}

const org = (t: TeamSpendState, grants: readonly Grant[] = [grant('g1', 300)]): SpendState => ({
  accountId: 'org',
  grants,
  team: t,
  overdraft: null,
});

const by = (m: string | null, project: string | null = null): Attribution => ({
  member: m,
  project,
  labels: {},
});

const spend = (
  kind: SpendRequest['kind'],
  attribution: Attribution,
  credits: readonly number[],
  batch = credits.length > 1,
): SpendRequest => ({
  kind,
  attribution,
  items: credits.map((c) => ({ credits: c, operation: 'image' })),
  batch,
});

const code = (d: SpendDecision) => (d.ok ? 'ok' : d.refusal.code);

describe('planSpend: the team rules and their precedence', () => {
  const cases: readonly [string, SpendState, SpendRequest, string][] = [
    [
      'an individual spends without team rules',
      { accountId: 'me', grants: [grant('g1', 10)], team: null, overdraft: null },
      spend('charge', by(null), [4]),
      'ok',
    ],
    [
      'an organization names the member',
      org(team({})),
      spend('hold', by(null), [2]),
      'invalid_argument',
    ],
    ['an unknown member', org(team({})), spend('hold', by('zed'), [2]), 'unknown_member'],
    [
      'an invited member has not accepted yet',
      org(team({})),
      spend('hold', by('ivy'), [2]),
      'unknown_member',
    ],
    [
      'an unknown project',
      org(team({})),
      spend('hold', by('adam', 'nope'), [2]),
      'unknown_project',
    ],
    ['a known project', org(team({})), spend('hold', by('adam', 'launch'), [2]), 'ok'],
    [
      'a member on a plan without team access',
      org(team({ seats: FREE })),
      spend('charge', by('adam'), [1]),
      'team_access_required',
    ],
    [
      'an owner on a plan without team access',
      org(team({ seats: FREE })),
      spend('charge', by('olga'), [1]),
      'ok',
    ],
    [
      'a member past the seats (4 members, Pro seats 3)',
      org(team({ members: [...MEMBERS, member('bo', 'admin')] })),
      spend('charge', by('adam'), [1]),
      'seat_limit_reached',
    ],
    [
      'the owner past the seats',
      org(team({ members: [...MEMBERS, member('bo', 'admin')] })),
      spend('charge', by('olga'), [1]),
      'ok',
    ],
    [
      'seats come before budgets',
      org(
        team({
          members: [...MEMBERS, member('bo', 'admin')],
          budgets: [budget('member', 'adam', { limitCredits: 0 })],
        }),
      ),
      spend('charge', by('adam'), [1]),
      'seat_limit_reached',
    ],
    [
      'a hard member budget passed (8 used + 3 > 10)',
      org(team({ budgets: [budget('member', 'adam', { limitCredits: 10, used: 8 })] })),
      spend('charge', by('adam'), [3]),
      'budget_exceeded',
    ],
    [
      'a hard member budget just reached (8 used + 2 = 10)',
      org(team({ budgets: [budget('member', 'adam', { limitCredits: 10, used: 8 })] })),
      spend('charge', by('adam'), [2]),
      'ok',
    ],
    [
      'held credits count against a hard budget',
      org(team({ budgets: [budget('project', 'launch', { limitCredits: 10, held: 9 })] })),
      spend('hold', by('adam', 'launch'), [2]),
      'budget_exceeded',
    ],
    [
      'a soft budget allows and alerts',
      org(
        team({ budgets: [budget('member', 'adam', { limitCredits: 10, used: 8, mode: 'soft' })] }),
      ),
      spend('charge', by('adam'), [4]),
      'ok',
    ],
    [
      "another member's budget does not cover adam",
      org(team({ budgets: [budget('member', 'olga', { limitCredits: 0 })] })),
      spend('charge', by('adam'), [4]),
      'ok',
    ],
    [
      'a fixed window not begun does not limit',
      org(
        team({
          budgets: [
            budget('member', 'adam', {
              limitCredits: 1,
              period: 'fixed',
              startsAt: utc(2027, 4, 1),
              endsAt: utc(2027, 5, 1),
              periodStart: utc(2027, 4, 1),
            }),
          ],
        }),
      ),
      spend('charge', by('adam'), [4]),
      'ok',
    ],
    [
      'a fixed window in force limits',
      org(
        team({
          budgets: [
            budget('member', 'adam', {
              limitCredits: 1,
              period: 'fixed',
              startsAt: utc(2027, 3, 1),
              endsAt: utc(2027, 4, 1),
            }),
          ],
        }),
      ),
      spend('charge', by('adam'), [4]),
      'budget_exceeded',
    ],
    [
      'a cycle budget used up last cycle starts again',
      org(
        team({
          budgets: [
            budget('member', 'adam', { limitCredits: 10, used: 10, periodStart: utc(2027, 2, 1) }),
          ],
        }),
      ),
      spend('charge', by('adam'), [4]),
      'ok',
    ],
    [
      'a budget refusal comes before the credits',
      org(team({ budgets: [budget('pool', POOL_TARGET, { limitCredits: 5 })] }), [grant('g1', 2)]),
      spend('charge', by('olga'), [8]),
      'budget_exceeded',
    ],
    [
      'not enough credits',
      org(team({}), [grant('g1', 3)]),
      spend('charge', by('olga'), [4]),
      'insufficient_credits',
    ],
    [
      'expired credits do not count',
      org(team({}), [grant('g1', 300, utc(2027, 3, 1))]),
      spend('charge', by('olga'), [1]),
      'insufficient_credits',
    ],
  ];
  for (const [name, state, request, expected] of cases) {
    it(name, () => assert.equal(code(planSpend(state, request, NOW)), expected));
  }

  it('a budget refusal explains the figures', () => {
    const t = team({ budgets: [budget('member', 'adam', { limitCredits: 10, used: 8 })] });
    const d = planSpend(org(t), spend('charge', by('adam'), [3]), NOW);
    assert.ok(!d.ok);
    assert.equal(
      d.refusal.message,
      'the member "adam" budget of org is 10 credits: 8 used, 0 held, 3 requested',
    );
    assert.deepEqual(d.refusal.data, {
      accountId: 'org',
      budget: { scope: 'member', target: 'adam', mode: 'hard', period: 'cycle' },
      limit: 10,
      used: 8,
      held: 0,
      requested: 3,
    });
  });
});

describe('planSpend: draws, counters and alerts', () => {
  it('draws soonest expiry first and journals grant -> consumed for a charge', () => {
    const state: SpendState = {
      accountId: 'me',
      grants: [grant('late', 5), grant('soon', 2, utc(2027, 4, 1))],
      team: null,
      overdraft: null,
    };
    const d = planSpend(state, spend('charge', by(null), [4]), NOW);
    assert.ok(d.ok);
    assert.deepEqual(d.steps[0]!.draws, [
      { grantId: 'soon', credits: 2 },
      { grantId: 'late', credits: 2 },
    ]);
    assert.deepEqual(
      d.steps[0]!.entries.map((e) => [e.book, e.grantId, e.credits]),
      [
        ['grant', 'soon', -2],
        ['consumed', 'soon', 2],
        ['grant', 'late', -2],
        ['consumed', 'late', 2],
      ],
    );
  });

  it('a hold counts as held and a charge as used', () => {
    const t = team({ budgets: [budget('member', 'adam', { used: 10, held: 5 })] });
    const hold = planSpend(org(t), spend('hold', by('adam'), [4]), NOW);
    const charge = planSpend(org(t), spend('charge', by('adam'), [4]), NOW);
    assert.ok(hold.ok && charge.ok);
    assert.deepEqual([hold.steps[0]!.budgets[0]!.used, hold.steps[0]!.budgets[0]!.held], [10, 9]);
    assert.deepEqual(
      [charge.steps[0]!.budgets[0]!.used, charge.steps[0]!.budgets[0]!.held],
      [14, 5],
    );
    assert.equal(hold.steps[0]!.budgets[0]!.updatedAt, NOW);
  });

  it('alerts at 50, 80 and 100% once per period, each threshold once', () => {
    const cases: readonly [number, number, readonly number[]][] = [
      // used before, alerted bits, thresholds raised by a charge of 40 against 100
      [0, 0, []],
      [10, 0, [50]],
      [45, 0, [50, 80]],
      [45, alertBit(50), [80]],
      [60, alertBit(50) | alertBit(80), [100]],
      [60, alertBit(50) | alertBit(80) | alertBit(100), []],
    ];
    for (const [used, alerted, expected] of cases) {
      const t = team({
        budgets: [budget('member', 'adam', { limitCredits: 100, used, alerted, mode: 'soft' })],
      });
      const d = planSpend(org(t), spend('charge', by('adam'), [40]), NOW);
      assert.ok(d.ok);
      const step = d.steps[0]!;
      assert.deepEqual(
        step.alerts.map((a) => a.threshold),
        expected,
        `used ${used}, alerted ${alerted}`,
      );
      let bits = alerted;
      for (const threshold of expected) bits |= alertBit(threshold as 50 | 80 | 100);
      assert.equal(step.budgets[0]!.alerted, bits);
      for (const a of step.alerts) {
        assert.deepEqual(
          [a.used, a.held, a.limitCredits, a.explicitLimit],
          [used + 40, 0, 100, true],
        );
      }
    }
  });

  it('a budget rolled into a new cycle announces again', () => {
    const all = alertBit(50) | alertBit(80) | alertBit(100);
    const t = team({
      budgets: [
        budget('member', 'adam', {
          used: 100,
          alerted: all,
          mode: 'soft',
          periodStart: utc(2027, 2, 1),
        }),
      ],
    });
    const d = planSpend(org(t), spend('charge', by('adam'), [50]), NOW);
    assert.ok(d.ok);
    assert.deepEqual(
      d.steps[0]!.alerts.map((a) => a.threshold),
      [50],
    );
    assert.deepEqual(
      [d.steps[0]!.budgets[0]!.periodStart, d.steps[0]!.budgets[0]!.used],
      [CYCLE, 50],
    );
  });

  it('the pool without a limit measures used + held + available after the spend', () => {
    // 300 credits: a charge of 150 leaves 150 available, so the pool is at 150 of 300 (50%).
    const d = planSpend(org(team({})), spend('charge', by('olga'), [150]), NOW);
    assert.ok(d.ok);
    assert.deepEqual(
      d.steps[0]!.alerts.map((a) => [a.threshold, a.limitCredits, a.explicitLimit]),
      [[50, 300, false]],
    );
  });

  it('credits outside a fixed window count as held but not as used', () => {
    const fixed = {
      period: 'fixed' as const,
      startsAt: utc(2027, 4, 1),
      endsAt: utc(2027, 5, 1),
      periodStart: utc(2027, 4, 1),
    };
    const t = team({ budgets: [budget('member', 'adam', fixed)] });
    const hold = planSpend(org(t), spend('hold', by('adam'), [4]), NOW);
    const charge = planSpend(org(t), spend('charge', by('adam'), [4]), NOW);
    assert.ok(hold.ok && charge.ok);
    assert.equal(hold.steps[0]!.budgets[0]!.held, 4);
    assert.equal(charge.steps[0]!.budgets[0]!.used, 0);
    assert.deepEqual([...hold.steps[0]!.alerts, ...charge.steps[0]!.alerts], []);
  });

  it('covering budgets count in order: the pool, the member, the project', () => {
    const t = team({
      budgets: [budget('project', 'launch'), budget('member', 'adam'), budget('pool', POOL_TARGET)],
    });
    const d = planSpend(org(t), spend('hold', by('adam', 'launch'), [60]), NOW);
    assert.ok(d.ok);
    assert.deepEqual(
      d.steps[0]!.budgets.map((b) => b.scope),
      ['pool', 'member', 'project'],
    );
    assert.deepEqual(
      d.steps[0]!.alerts.map((a) => a.scope),
      ['pool', 'member', 'project'],
    );
  });
});

describe('planSpend: request batches', () => {
  it('a budget refusal names the first item past the headroom', () => {
    const t = team({ budgets: [budget('member', 'adam', { limitCredits: 10, used: 3 })] });
    // Headroom 7: 2 + 4 fit, the third item (3 credits, 4K) does not.
    const d = planSpend(org(t), spend('hold', by('adam'), [2, 4, 3]), NOW);
    assert.ok(!d.ok);
    assert.equal(d.refusal.code, 'budget_exceeded');
    assert.equal(d.refusal.data.item, 2);
    assert.match(
      d.refusal.message,
      /the batch of 3 items takes 9 credits and item 2 is the first that does not fit$/,
    );
  });

  it('a credit refusal names the first item past what is available, with its operation', () => {
    const d = planSpend(org(team({}), [grant('g1', 5)]), spend('hold', by('olga'), [4, 4]), NOW);
    assert.ok(!d.ok);
    assert.equal(d.refusal.code, 'insufficient_credits');
    assert.deepEqual(d.refusal.data, { accountId: 'org', required: 8, available: 5, item: 1 });
    assert.match(d.refusal.message, /item 1 \(image, 4 credits\) is the first that does not fit$/);
  });

  it('a batch of one is still a batch in its refusals', () => {
    const d = planSpend(org(team({}), [grant('g1', 1)]), spend('hold', by('olga'), [4], true), NOW);
    assert.ok(!d.ok);
    assert.equal(d.refusal.data.item, 0);
  });

  it('each item draws after the ones before it and counts its own alerts', () => {
    const t = team({ budgets: [budget('member', 'adam', { limitCredits: 10, mode: 'soft' })] });
    const grants = [grant('a', 3, utc(2027, 4, 1)), grant('b', 10)];
    const d = planSpend(org(t, grants), spend('hold', by('adam'), [2, 2, 4]), NOW);
    assert.ok(d.ok);
    assert.deepEqual(
      d.steps.map((s) => s.draws),
      [
        [{ grantId: 'a', credits: 2 }],
        [
          { grantId: 'a', credits: 1 },
          { grantId: 'b', credits: 1 },
        ],
        [{ grantId: 'b', credits: 4 }],
      ],
    );
    // 2 held (20%), 4 held (40%), 8 held (80%): the last item crosses 50 and 80 at once.
    assert.deepEqual(
      d.steps.map((s) => s.alerts.map((a) => a.threshold)),
      [[], [], [50, 80]],
    );
    assert.deepEqual(
      d.steps.map((s) => s.budgets[0]!.held),
      [2, 4, 8],
    );
  });
});
