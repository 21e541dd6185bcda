import { Type } from '@sinclair/typebox';
import { MAX_CREDITS } from '../../core/credits.js';
import {
  ALERT_THRESHOLDS,
  BUDGET_MODES,
  BUDGET_PERIODS,
  BUDGET_SCOPES,
  MEMBER_STATUSES,
  ROLES,
} from '../../core/teams.js';
import { MAX_HISTORY_PAGE } from '../../ledger/ledger.js';
import { Account, KeyTtl } from './credits.js';
import { Id, list, nullable, oneOf, ref, Replay, Time } from './common.js';

/** Organizations, members, projects, budgets and their alerts. */

const Role = oneOf(ROLES, {
  description:
    'owner: everything (plan, billing); admin: members, projects, budgets, packs, all usage; member: quote, hold and charge within budgets, own usage.',
});
const Name = (description: string) => Type.String({ minLength: 1, maxLength: 100, description });
const Email = Type.String({ maxLength: 254, pattern: '^[^\\s@]+@[^\\s@]+$' });

export const Member = Type.Object(
  {
    accountId: Type.String(),
    id: Type.String(),
    role: Role,
    status: oneOf(MEMBER_STATUSES, {
      description: 'invited members count toward the seats but act only once they accept.',
    }),
    name: nullable(Type.String()),
    email: nullable(Type.String()),
    createdAt: Time('When the member was added or invited.'),
    joinedAt: nullable(Time('When the member joined (accepted the invitation).')),
  },
  { $id: 'Member' },
);

export const Project = Type.Object(
  {
    accountId: Type.String(),
    id: Type.String(),
    name: Type.String(),
    createdAt: Time('When the project was created.'),
  },
  { $id: 'Project' },
);

export const Organization = Type.Object(
  {
    account: ref(Account),
    plan: nullable(Type.String({ description: 'The active plan, if any.' })),
    teamAccess: Type.Boolean({
      description: 'Whether the plan lets members other than owners act.',
    }),
    seats: Type.Integer({ description: 'Members (invited ones too) the plan allows.' }),
    members: list(ref(Member)),
    projects: list(ref(Project)),
  },
  { $id: 'Organization' },
);

export const CreateOrganizationRequest = Type.Object(
  {
    id: Id('The new account id of the organization.'),
    name: Name('Shown to people.'),
    owner: Type.Object(
      {
        id: Id('The first owner, a member id.'),
        name: Type.Optional(Name('The owner’s name.')),
        email: Type.Optional(Email),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const OrganizationCreated = Type.Object(
  { account: ref(Account), owner: ref(Member), replay: Replay },
  { $id: 'OrganizationCreated' },
);

export const MemberParams = Type.Object({
  accountId: Id('The organization.'),
  memberId: Id('The member.'),
});
export const ProjectParams = Type.Object({
  accountId: Id('The organization.'),
  projectId: Id('The project.'),
});

export const PutMemberRequest = Type.Object(
  {
    role: Role,
    name: Type.Optional(nullable(Name('The member’s name.'))),
    email: Type.Optional(nullable(Email)),
    invite: Type.Optional(
      Type.Boolean({
        description:
          'Add as invited: the answer carries an invitation code, shown once, that the member accepts with. For a member still invited, a new code replaces the old one.',
      }),
    ),
  },
  { additionalProperties: false },
);

export const MemberResult = Type.Object(
  {
    member: ref(Member),
    created: Type.Boolean({ description: 'true when this request added the member.' }),
    invited: Type.Boolean({
      description: 'true when this request made an invitation (invitationCode carries its code).',
    }),
    replay: Replay,
    invitationCode: nullable(
      Type.String({ description: 'Shown only here, when an invitation was created.' }),
    ),
  },
  { $id: 'MemberResult' },
);

export const MemberList = Type.Object({ members: list(ref(Member)) }, { $id: 'MemberList' });

export const AcceptInvitationRequest = Type.Object(
  {
    accountId: Id('The organization.'),
    memberId: Id('The invited member.'),
    code: Type.String({ minLength: 1, maxLength: 100, description: 'The invitation code.' }),
    keyName: Type.Optional(Name('A name for the member key made on acceptance.')),
  },
  { additionalProperties: false },
);

export const MemberKey = Type.Object(
  {
    member: ref(Member),
    key: Type.String({ description: 'The member’s API key, shown only here.' }),
    keyId: Type.String(),
    expiresAt: nullable(Time('When a short-lived key stops working; null: when it is revoked.')),
  },
  { $id: 'MemberKey' },
);

export const CreateMemberKeyRequest = Type.Object(
  {
    name: Type.Optional(Name('Shown in key listings.')),
    readOnly: Type.Optional(Type.Boolean()),
    ttlSeconds: Type.Optional(KeyTtl),
  },
  { additionalProperties: false },
);

export const PutProjectRequest = Type.Object(
  { name: Type.Optional(Name('Shown to people (default: the id).')) },
  { additionalProperties: false },
);

export const ProjectResult = Type.Object(
  { project: ref(Project), replay: Replay },
  { $id: 'ProjectResult' },
);

export const ProjectList = Type.Object({ projects: list(ref(Project)) }, { $id: 'ProjectList' });

export const Budget = Type.Object(
  {
    accountId: Type.String(),
    scope: oneOf(BUDGET_SCOPES),
    target: Type.String({ description: 'The member or project id; empty for the pool.' }),
    limitCredits: nullable(
      Type.Integer({ description: 'null only for the pool without a cap (alerts only).' }),
    ),
    mode: oneOf(BUDGET_MODES, {
      description:
        'hard: a hold that would pass it is refused (budget_exceeded); soft: allowed, and alerts raised.',
    }),
    period: oneOf(BUDGET_PERIODS, {
      description: 'cycle: starts again at each renewal; fixed: a window [startsAt, endsAt).',
    }),
    startsAt: nullable(Time('A fixed budget’s start.')),
    endsAt: nullable(Time('A fixed budget’s end.')),
    periodStart: Time('When the current period began.'),
    periodEnd: nullable(Time('When it ends (the renewal, or a fixed budget’s end).')),
    used: Type.Integer({ description: 'Credits captured or charged in the period.' }),
    held: Type.Integer({ description: 'Credits in open holds it covers.' }),
    size: Type.Integer({
      description: 'The limit, or for the pool without one, used + held + available.',
    }),
    percent: Type.Integer({ description: 'used + held as a percent of size, rounded down.' }),
    alerted: Type.Integer({ description: 'Bits of the thresholds announced this period.' }),
    createdAt: Time('When it was set first.'),
    updatedAt: Time('When it last changed.'),
  },
  { $id: 'Budget' },
);

export const BudgetList = Type.Object({ budgets: list(ref(Budget)) }, { $id: 'BudgetList' });

export const BudgetResult = Type.Object(
  { budget: ref(Budget), replay: Replay },
  { $id: 'BudgetResult' },
);

export const BudgetParams = Type.Object({
  accountId: Id('The organization.'),
  scope: oneOf(BUDGET_SCOPES),
  target: Type.String({
    maxLength: 128,
    description: 'The member or project id; "-" for the pool.',
  }),
});

export const PutBudgetRequest = Type.Object(
  {
    limit: Type.Integer({ minimum: 0, maximum: MAX_CREDITS, description: 'Credits per period.' }),
    mode: Type.Optional(oneOf(BUDGET_MODES)),
    period: Type.Optional(oneOf(BUDGET_PERIODS)),
    startsAt: Type.Optional(Time('A fixed budget’s start.')),
    endsAt: Type.Optional(Time('A fixed budget’s end.')),
  },
  { additionalProperties: false },
);

export const BudgetAlert = Type.Object(
  {
    accountId: Type.String(),
    id: Type.String(),
    scope: oneOf(BUDGET_SCOPES),
    target: Type.String(),
    threshold: Type.Integer({ enum: [...ALERT_THRESHOLDS] }),
    periodStart: Time('The period the alert belongs to.'),
    used: Type.Integer(),
    held: Type.Integer(),
    limitCredits: Type.Integer({ description: 'The size the percent was taken of.' }),
    mode: oneOf(BUDGET_MODES),
    createdAt: Time('When the threshold was reached.'),
  },
  { $id: 'BudgetAlert' },
);

export const BudgetAlertList = Type.Object(
  { alerts: list(ref(BudgetAlert)) },
  { $id: 'BudgetAlertList' },
);

export const AlertsQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_HISTORY_PAGE })),
});
