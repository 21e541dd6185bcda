import { createHash, randomBytes } from 'node:crypto';
import { AmisiError } from '../../core/errors.js';
import {
  BUDGET_MODES,
  BUDGET_PERIODS,
  BUDGET_SCOPES,
  POOL_TARGET,
  ROLES,
  rollPeriod,
  seatLimit,
  teamPeriodStart,
  type Budget,
  type BudgetAlert,
  type BudgetScope,
  type Member,
  type Project,
  type Role,
} from '../../core/teams.js';
import * as teams from './commands.js';
import type { UnitOfWork } from '../unit-of-work.js';
import type { LedgerContext } from '../context.js';
import { MAX_HISTORY_PAGE, type AccountsApi } from '../accounts/api.js';
import type { AccountView } from '../store.js';
import {
  requireEmail,
  requireId,
  requireLimit,
  requireOneOf,
  requireText,
  requireTime,
} from '../validate.js';
import { activeCatalog, currentSubscription } from '../reads.js';
import {
  ACCOUNT,
  BASE,
  CATALOG,
  codes,
  CREDITS,
  ORGANIZATION,
  type UseCaseProblems,
} from '../problems.js';

/** A budget as people read it: its current period, and how much of it is used and held. */
export interface BudgetView extends Budget {
  /** The limit, or for the pool without one, what is used, held and available now. */
  readonly size: number;
  /** Used and held as a percent of the size, rounded down. */
  readonly percent: number;
  /** When the period ends: the renewal, a fixed budget's end, or null (no plan: month end). */
  readonly periodEnd: number | null;
}

export interface Organization {
  readonly account: AccountView;
  readonly plan: string | null;
  readonly teamAccess: boolean;
  readonly seats: number;
  readonly members: readonly Member[];
  readonly projects: readonly Project[];
}

/** The shown-once code an invited member accepts with. */
export function invitationHash(code: string): string {
  return createHash('sha256').update(code).digest('base64url');
}

/** The checked input of an invitation's acceptance (invalid_invitation for a malformed code). */
export function checkInvitation(input: { accountId: string; memberId: string; code: string }) {
  if (typeof input.code !== 'string' || input.code.length === 0 || input.code.length > 100) {
    throw new AmisiError(
      'invalid_invitation',
      'the invitation is not valid or was used already',
      {},
    );
  }
  return {
    accountId: requireId(input.accountId, 'account'),
    memberId: requireId(input.memberId, 'member'),
    codeHash: invitationHash(input.code),
  };
}

function optionalText(value: unknown, field: string): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  return field === 'email' ? requireEmail(value) : requireText(value, field);
}

/** The problem codes of each use-case below (src/ledger/problems.ts). */
export const TEAMS_PROBLEMS = {
  createOrganization: codes(BASE, 'account_exists'),
  // Adding a member needs a seat of the plan (and team access); only an owner makes an owner,
  // and the last owner stays one.
  setMember: codes(
    ORGANIZATION,
    CATALOG,
    'seat_limit_reached',
    'team_access_required',
    'forbidden',
    'last_owner',
  ),
  removeMember: codes(ORGANIZATION, 'unknown_member', 'forbidden', 'last_owner'),
  // An unknown organization or member is an invalid invitation too: it names nothing.
  acceptInvitation: codes(BASE, 'invalid_invitation'),
  setProject: ORGANIZATION,
  setBudget: codes(ORGANIZATION, CREDITS, 'unknown_member', 'unknown_project'),
  removeBudget: codes(ORGANIZATION, 'not_found'),
  getOrganization: ORGANIZATION,
  organization: codes(ORGANIZATION, CATALOG),
  listMembers: ORGANIZATION,
  getMember: codes(ORGANIZATION, 'unknown_member'),
  listProjects: ORGANIZATION,
  seatsNeeded: ACCOUNT,
  budgets: ORGANIZATION,
  budgetAlerts: ORGANIZATION,
} as const satisfies UseCaseProblems<TeamsApi>;

/** Organizations: members and invitations, projects, budgets and their alerts. */
export class TeamsApi {
  constructor(
    private readonly ctx: LedgerContext,
    private readonly accounts: AccountsApi,
  ) {}

  async createOrganization(input: {
    accountId: string;
    name: string;
    owner: { id: string; name?: string | null; email?: string | null };
  }) {
    const checked: teams.CreateOrganizationInput = {
      accountId: requireId(input.accountId, 'account'),
      name: requireText(input.name, 'name'),
      owner: {
        id: requireId(input.owner?.id, 'owner'),
        name: optionalText(input.owner?.name, 'owner name') ?? null,
        email: optionalText(input.owner?.email, 'email') ?? null,
      },
    };
    return this.submit(checked.accountId, (b) => teams.createOrganization(b, checked));
  }

  /**
   * Adds, invites or changes a member. An invitation returns its code once (only its hash is
   * kept); the member accepts it with acceptInvitation before acting.
   */
  async setMember(input: {
    accountId: string;
    memberId: string;
    role: string;
    name?: string | null;
    email?: string | null;
    invite?: boolean;
    actor?: Role | null;
  }): Promise<teams.MemberResult & { replay: boolean; invitationCode: string | null }> {
    const code = input.invite ? randomBytes(24).toString('base64url') : null;
    const name = optionalText(input.name, 'name');
    const email = optionalText(input.email, 'email');
    const checked: teams.PutMemberInput = {
      accountId: requireId(input.accountId, 'account'),
      memberId: requireId(input.memberId, 'member'),
      role: requireOneOf(input.role, ROLES, 'role'),
      ...(name === undefined ? {} : { name }),
      ...(email === undefined ? {} : { email }),
      inviteHash: code === null ? null : invitationHash(code),
      actor: input.actor ?? null,
    };
    const r = await this.submit(checked.accountId, (b) => teams.putMember(b, checked));
    return { ...r, invitationCode: r.invited ? code : null };
  }

  async removeMember(input: { accountId: string; memberId: string; actor?: Role | null }) {
    const checked = {
      accountId: requireId(input.accountId, 'account'),
      memberId: requireId(input.memberId, 'member'),
      actor: input.actor ?? null,
    };
    return this.submit(checked.accountId, (b) => teams.removeMember(b, checked));
  }

  async acceptInvitation(input: { accountId: string; memberId: string; code: string }) {
    const checked = checkInvitation(input);
    return this.submit(checked.accountId, (b) => teams.acceptInvitation(b, checked));
  }

  async setProject(input: { accountId: string; projectId: string; name?: string }) {
    const projectId = requireId(input.projectId, 'project');
    const checked = {
      accountId: requireId(input.accountId, 'account'),
      projectId,
      name: input.name === undefined ? projectId : requireText(input.name, 'name'),
    };
    return this.submit(checked.accountId, (b) => teams.putProject(b, checked));
  }

  async setBudget(input: {
    accountId: string;
    scope: string;
    target?: string;
    limit: number;
    mode?: string;
    period?: string;
    startsAt?: number;
    endsAt?: number;
  }) {
    const scope = requireOneOf(input.scope, BUDGET_SCOPES, 'scope');
    const period = requireOneOf(input.period ?? 'cycle', BUDGET_PERIODS, 'period');
    const checked: teams.SetBudgetInput = {
      accountId: requireId(input.accountId, 'account'),
      scope,
      target: scope === 'pool' ? POOL_TARGET : requireId(input.target, scope),
      limitCredits: requireLimit(input.limit),
      mode: requireOneOf(input.mode ?? 'hard', BUDGET_MODES, 'mode'),
      period,
      ...(input.startsAt === undefined
        ? {}
        : { startsAt: requireTime(input.startsAt, 'startsAt') }),
      ...(input.endsAt === undefined ? {} : { endsAt: requireTime(input.endsAt, 'endsAt') }),
    };
    const r = await this.submit(checked.accountId, (b) => teams.setBudget(b, checked));
    const [view] = await this.viewBudgets(checked.accountId, [r.budget]);
    return { budget: view!, replay: r.replay };
  }

  async removeBudget(input: { accountId: string; scope: string; target?: string }) {
    const scope = requireOneOf(input.scope, BUDGET_SCOPES, 'scope');
    const checked = {
      accountId: requireId(input.accountId, 'account'),
      scope,
      target: scope === 'pool' ? POOL_TARGET : requireId(input.target, scope),
    };
    return this.submit(checked.accountId, (b) => teams.removeBudget(b, checked));
  }

  /** The account, if it is an organization (not_an_organization otherwise). */
  async getOrganization(accountId: string): Promise<AccountView> {
    const account = await this.accounts.known(accountId);
    if (account.kind !== 'organization') {
      throw new AmisiError('not_an_organization', `account ${accountId} is not an organization`, {
        accountId,
      });
    }
    return account;
  }

  async organization(accountId: string): Promise<Organization> {
    // Settles what is due first: a renewal may change the plan, so the seats, and the account
    // read afterwards shows the same plan.
    const account = await this.accounts.settle((await this.getOrganization(accountId)).id);
    const { store } = this.ctx;
    const [members, projects, sub, catalog] = await Promise.all([
      store.find('members', { accountId: account.id }, { order: ['id'] }),
      store.find('projects', { accountId: account.id }, { order: ['id'] }),
      currentSubscription(store, account.id),
      activeCatalog(store),
    ]);
    const active = sub?.status === 'active' ? sub : undefined;
    const limit = seatLimit(active, catalog?.body.plans ?? {});
    return {
      account,
      plan: active?.plan ?? null,
      teamAccess: limit.teamAccess,
      seats: limit.seats,
      members,
      projects,
    };
  }

  async listMembers(accountId: string): Promise<Member[]> {
    const account = await this.getOrganization(accountId);
    return this.ctx.store.find('members', { accountId: account.id }, { order: ['id'] });
  }

  async getMember(accountId: string, memberId: string): Promise<Member> {
    const account = await this.getOrganization(accountId);
    const m = await this.ctx.store.get('members', {
      accountId: account.id,
      id: requireId(memberId, 'member'),
    });
    if (!m) {
      throw new AmisiError('unknown_member', `unknown member "${memberId}" of ${accountId}`, {
        accountId,
        memberId,
      });
    }
    return m;
  }

  async listProjects(accountId: string): Promise<Project[]> {
    const account = await this.getOrganization(accountId);
    return this.ctx.store.find('projects', { accountId: account.id }, { order: ['id'] });
  }

  /** Members a plan must seat: an organization's members (invited ones too), else 1. */
  async seatsNeeded(accountId: string): Promise<number> {
    const account = await this.accounts.known(accountId);
    if (account.kind !== 'organization') return 1;
    return Math.max(
      1,
      (await this.ctx.store.find('members', { accountId: accountId }, { order: ['id'] })).length,
    );
  }

  /** The organization's budgets in their current periods, pool first. */
  async budgets(accountId: string): Promise<BudgetView[]> {
    const account = await this.getOrganization(accountId);
    // Settles what is due first (holds past their ttl, a renewal), so held, used and the
    // period are now's.
    await this.accounts.settle(account.id);
    return this.viewBudgets(
      account.id,
      await this.ctx.store.find(
        'budgets',
        { accountId: account.id },
        { order: ['scope', 'target'] },
      ),
    );
  }

  /** Budgets of a settled account (budgets, or setBudget's batch) in their current periods. */
  private async viewBudgets(accountId: string, budgets: readonly Budget[]): Promise<BudgetView[]> {
    const sub = await currentSubscription(this.ctx.store, accountId);
    const now = await this.ctx.times.nowFor(accountId);
    const start = teamPeriodStart(sub, now);
    const needsPool = budgets.some((b) => b.limitCredits === null);
    const available = needsPool ? (await this.accounts.balance(accountId)).available : 0;
    const order: Record<BudgetScope, number> = { pool: 0, member: 1, project: 2 };
    return budgets
      .map((stored) => {
        const b = rollPeriod(stored, start);
        const size = b.limitCredits ?? b.used + b.held + available;
        const periodEnd =
          b.period === 'fixed' ? b.endsAt : sub?.status === 'active' ? sub.nextRenewalAt : null;
        const spent = b.used + b.held;
        // A limit of 0 that something was spent against is over it: 100%, not 0.
        const percent = size > 0 ? Math.floor((spent * 100) / size) : spent > 0 ? 100 : 0;
        return { ...b, size, percent, periodEnd };
      })
      .sort((a, b) => order[a.scope] - order[b.scope] || (a.target < b.target ? -1 : 1));
  }

  async budgetAlerts(accountId: string, limit = 100): Promise<BudgetAlert[]> {
    const account = await this.getOrganization(accountId);
    await this.accounts.settle(account.id);
    const page = Math.min(Math.max(limit, 1), MAX_HISTORY_PAGE);
    return this.ctx.store.find(
      'budget_alerts',
      { accountId: account.id },
      { order: ['createdAt desc', 'id desc'], limit: page },
    );
  }

  /** Team commands are keyed by their organization: its account is their hint. */
  private submit<T>(accountId: string, run: (uow: UnitOfWork) => Promise<T>): Promise<T> {
    return this.ctx.committer.submit(run, { accountId });
  }
}
