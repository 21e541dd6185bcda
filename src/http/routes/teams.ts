import { LEDGER_PROBLEMS as L } from '../../ledger/ledger.js';
import { API_KEYS_PROBLEMS as K } from '../../service/api-keys.js';
import type { App, Deps } from '../app.js';
import { replayed } from '../app.js';
import { accountInScope, ownUsageOnly, principalOf, SCOPE_PROBLEMS as S } from '../auth.js';
import { actorOf } from '../../service/api-keys.js';
import { AmisiError } from '../../core/errors.js';
import {
  AcceptInvitationRequest,
  AccountParams,
  AlertsQuery,
  BudgetAlertList,
  BudgetList,
  BudgetParams,
  BudgetResult,
  CreateMemberKeyRequest,
  CreateOrganizationRequest,
  MemberKey,
  MemberList,
  MemberParams,
  MemberResult,
  Organization,
  OrganizationCreated,
  problems,
  ProjectList,
  ProjectParams,
  ProjectResult,
  PutBudgetRequest,
  PutMemberRequest,
  PutProjectRequest,
  ref,
} from '../schemas/index.js';

const NO_CONTENT = { type: 'null', description: 'Done: no content.' } as const;

/** The pool's budget is addressed as /budgets/pool/-. */
const targetOf = (scope: string, target: string) => (scope === 'pool' ? '' : target);

/** Organizations: members and their keys, invitations, projects, budgets and alerts. */
export async function teamRoutes(app: App, { ledger, keys }: Deps): Promise<void> {
  app.post(
    '/v1/orgs',
    {
      config: { access: 'operator' },
      schema: {
        summary: 'Create an organization with its first owner',
        description:
          'An organization is an account whose pooled credits its members spend. Idempotent by its id: the same request again answers it with replay true.',
        tags: ['teams'],
        body: CreateOrganizationRequest,
        response: {
          201: ref(OrganizationCreated),
          ...problems('operator', true, L.createOrganization),
        },
      },
    },
    async (request, reply) => {
      const r = await ledger.createOrganization({
        accountId: request.body.id,
        name: request.body.name,
        owner: request.body.owner,
      });
      replayed(reply, r.replay);
      return reply.status(201).send(r);
    },
  );

  app.get(
    '/v1/accounts/:accountId/organization',
    {
      config: { access: 'account', action: 'read' },
      schema: {
        summary: 'The organization: plan, seats, members and projects',
        tags: ['teams'],
        params: AccountParams,
        response: {
          200: ref(Organization),
          ...problems('account', false, S.account, L.organization),
        },
      },
    },
    async (request) => ledger.organization(accountInScope(request, request.params.accountId)),
  );

  app.get(
    '/v1/accounts/:accountId/members',
    {
      config: { access: 'account', action: 'read' },
      schema: {
        summary: 'The members, invited ones too',
        tags: ['teams'],
        params: AccountParams,
        response: { 200: ref(MemberList), ...problems('account', false, S.account, L.listMembers) },
      },
    },
    async (request) => ({
      members: await ledger.listMembers(accountInScope(request, request.params.accountId)),
    }),
  );

  app.put(
    '/v1/accounts/:accountId/members/:memberId',
    {
      config: { access: 'account', action: 'members.manage' },
      schema: {
        summary: 'Add, invite or change a member',
        description:
          'Adds the member (201) within the plan’s seats, or changes an existing member’s role, name or e-mail (200). Only owners make, change or remove owners; the last owner stays. The same request again changes nothing.',
        tags: ['teams'],
        params: MemberParams,
        body: PutMemberRequest,
        response: {
          200: ref(MemberResult),
          201: ref(MemberResult),
          ...problems('account', true, S.account, L.setMember),
        },
      },
    },
    async (request, reply) => {
      const { accountId, memberId } = request.params;
      const r = await ledger.setMember({
        accountId: accountInScope(request, accountId),
        memberId,
        ...request.body,
        actor: actorOf(principalOf(request)),
      });
      keys.forgetAccount(accountId);
      replayed(reply, r.replay);
      return reply.status(r.created ? 201 : 200).send(r);
    },
  );

  app.delete(
    '/v1/accounts/:accountId/members/:memberId',
    {
      config: { access: 'account', action: 'members.manage' },
      schema: {
        summary: 'Remove a member (and the member’s budget); the last owner stays',
        tags: ['teams'],
        params: MemberParams,
        response: {
          204: NO_CONTENT,
          ...problems('account', true, S.account, L.removeMember),
        },
      },
    },
    async (request, reply) => {
      const { accountId, memberId } = request.params;
      await ledger.removeMember({
        accountId: accountInScope(request, accountId),
        memberId,
        actor: actorOf(principalOf(request)),
      });
      keys.forgetAccount(accountId);
      return reply.status(204).send();
    },
  );

  app.post(
    '/v1/accounts/:accountId/members/:memberId/keys',
    {
      config: { access: 'account', action: 'read' },
      schema: {
        summary: 'Make an API key for a member, limited by the member’s role',
        description:
          'A member key may make keys for its own member; an owner (or an account or operator key) for any member.',
        tags: ['teams'],
        params: MemberParams,
        body: CreateMemberKeyRequest,
        response: {
          201: ref(MemberKey),
          ...problems('account', true, S.account, 'forbidden', L.getMember, K.create),
        },
      },
    },
    async (request, reply) => {
      const { accountId, memberId } = request.params;
      const caller = principalOf(request);
      // A key acts as its member: a member makes keys for itself; only an owner for others.
      if (caller.kind === 'member' && caller.memberId !== memberId && caller.role !== 'owner') {
        throw new AmisiError(
          'forbidden',
          `member "${caller.memberId}" may make keys for itself only (owners make them for others)`,
          { role: caller.role },
        );
      }
      const member = await ledger.getMember(accountInScope(request, accountId), memberId);
      const made = await keys.create({
        scope: { accountId, memberId },
        readOnly: request.body.readOnly ?? false,
        name: request.body.name ?? null,
        ...(request.body.ttlSeconds === undefined ? {} : { ttlSeconds: request.body.ttlSeconds }),
      });
      return reply.status(201).send({
        member,
        key: made.key,
        keyId: made.record.id,
        expiresAt: made.record.expiresAt,
      });
    },
  );

  app.post(
    '/v1/invitations/accept',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Accept an invitation; answers the member’s first API key',
        description:
          'The invitation code is the credential: any mismatch (organization, member, code, or a code used already) is invalid_invitation.',
        tags: ['teams'],
        security: [],
        body: AcceptInvitationRequest,
        response: {
          201: ref(MemberKey),
          ...problems('public', true, K.acceptInvitation),
        },
      },
    },
    async (request, reply) => {
      const { accountId, memberId, code, keyName } = request.body;
      // One transaction: the invitation is accepted and its first key made, or neither.
      const made = await keys.acceptInvitation({
        accountId,
        memberId,
        code,
        keyName: keyName ?? null,
      });
      return reply.status(201).send({
        member: made.member,
        key: made.key,
        keyId: made.record.id,
        expiresAt: made.record.expiresAt,
      });
    },
  );

  app.get(
    '/v1/accounts/:accountId/projects',
    {
      config: { access: 'account', action: 'read' },
      schema: {
        summary: 'The projects',
        tags: ['teams'],
        params: AccountParams,
        response: {
          200: ref(ProjectList),
          ...problems('account', false, S.account, L.listProjects),
        },
      },
    },
    async (request) => ({
      projects: await ledger.listProjects(accountInScope(request, request.params.accountId)),
    }),
  );

  app.put(
    '/v1/accounts/:accountId/projects/:projectId',
    {
      config: { access: 'account', action: 'projects.manage' },
      schema: {
        summary: 'Create or rename a project',
        tags: ['teams'],
        params: ProjectParams,
        body: PutProjectRequest,
        response: {
          200: ref(ProjectResult),
          ...problems('account', true, S.account, L.setProject),
        },
      },
    },
    async (request, reply) => {
      const { accountId, projectId } = request.params;
      const r = await ledger.setProject({
        accountId: accountInScope(request, accountId),
        projectId,
        ...(request.body.name === undefined ? {} : { name: request.body.name }),
      });
      replayed(reply, r.replay);
      return r;
    },
  );

  app.get(
    '/v1/accounts/:accountId/budgets',
    {
      config: { access: 'account', action: 'read' },
      schema: {
        summary: 'Budgets with what is used and held in the current period',
        description:
          'The pool first, then members and projects. A member key sees the pool, its own budget and the projects’.',
        tags: ['teams'],
        params: AccountParams,
        response: { 200: ref(BudgetList), ...problems('account', false, S.account, L.budgets) },
      },
    },
    async (request) => {
      const budgets = await ledger.budgets(accountInScope(request, request.params.accountId));
      const own = ownUsageOnly(request);
      return {
        budgets:
          own === null ? budgets : budgets.filter((b) => b.scope !== 'member' || b.target === own),
      };
    },
  );

  app.put(
    '/v1/accounts/:accountId/budgets/:scope/:target',
    {
      config: { access: 'account', action: 'budgets.manage' },
      schema: {
        summary: 'Set a member’s, a project’s or the pool’s budget',
        description:
          'Counters are computed from what the budget covers: open holds, and captures and charges of the period so far. Setting the same budget again changes nothing.',
        tags: ['teams'],
        params: BudgetParams,
        body: PutBudgetRequest,
        response: {
          200: ref(BudgetResult),
          ...problems('account', true, S.account, L.setBudget),
        },
      },
    },
    async (request, reply) => {
      const { accountId, scope, target } = request.params;
      const r = await ledger.setBudget({
        accountId: accountInScope(request, accountId),
        scope,
        target: targetOf(scope, target),
        ...request.body,
      });
      replayed(reply, r.replay);
      return r;
    },
  );

  app.delete(
    '/v1/accounts/:accountId/budgets/:scope/:target',
    {
      config: { access: 'account', action: 'budgets.manage' },
      schema: {
        summary: 'Remove a budget (the pool’s goes back to alerts only)',
        tags: ['teams'],
        params: BudgetParams,
        response: { 204: NO_CONTENT, ...problems('account', true, S.account, L.removeBudget) },
      },
    },
    async (request, reply) => {
      const { accountId, scope, target } = request.params;
      await ledger.removeBudget({
        accountId: accountInScope(request, accountId),
        scope,
        target: targetOf(scope, target),
      });
      return reply.status(204).send();
    },
  );

  app.get(
    '/v1/accounts/:accountId/alerts',
    {
      config: { access: 'account', action: 'usage.all' },
      schema: {
        summary: 'Budget alerts (50, 80 and 100%), newest first',
        description:
          'Each threshold of each budget is announced once per period, also as the budget.threshold webhook.',
        tags: ['teams'],
        params: AccountParams,
        querystring: AlertsQuery,
        response: {
          200: ref(BudgetAlertList),
          ...problems('account', false, S.account, L.budgetAlerts),
        },
      },
    },
    async (request) => ({
      alerts: await ledger.budgetAlerts(
        accountInScope(request, request.params.accountId),
        request.query.limit ?? 100,
      ),
    }),
  );
}
