import { NO_OVERDRAFT } from '../../core/overdraft.js';
import { AmisiError, assert } from '../../core/errors.js';
import { giveTrial } from '../accounts/trial.js';
import { heldNow, type Attribution } from '../../core/holds.js';
import type { JournalTransaction } from '../../core/journal.js';
import {
  budgetKey,
  POOL_TARGET,
  seatLimit,
  type Budget,
  type BudgetMode,
  type BudgetPeriod,
  type BudgetScope,
  type Member,
  type Project,
  type Role,
} from '../../core/teams.js';
import type { AccountState, UnitOfWork } from '../unit-of-work.js';
import {
  announce,
  announcedBits,
  currentBudget,
  loadTeam,
  periodStart as budgetPeriodStart,
  type TeamState,
} from './budgets.js';
import type { Replayable } from '../idempotency.js';
import type { AccountRecord, AccountView } from '../store.js';

/**
 * Organizations, members, projects and budgets. Each command locks the organization's account,
 * so seat counts, the last owner and budget counters are decided on rows no one else changes
 * meanwhile. They are idempotent by their natural keys (the organization, member, project or
 * budget named): the same request again changes nothing and answers as a replay.
 */

/** Who asks, when it matters: an admin may not make, change or remove an owner. */
export type Actor = Role | null;

export interface OwnerInput {
  readonly id: string;
  readonly name: string | null;
  readonly email: string | null;
}

export interface CreateOrganizationInput {
  readonly accountId: string;
  readonly name: string;
  readonly owner: OwnerInput;
}

export interface OrganizationResult {
  /** With the plan of its active subscription (none for a new organization). */
  readonly account: AccountView;
  readonly owner: Member;
}

function monthStart(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

function poolBudget(accountId: string, periodStart: number, now: number): Budget {
  return {
    accountId,
    scope: 'pool',
    target: POOL_TARGET,
    limitCredits: null,
    mode: 'soft',
    period: 'cycle',
    startsAt: null,
    endsAt: null,
    periodStart,
    used: 0,
    held: 0,
    alerted: 0,
    createdAt: now,
    updatedAt: now,
  };
}

export async function createOrganization(
  uow: UnitOfWork,
  input: CreateOrganizationInput,
): Promise<Replayable<OrganizationResult>> {
  const replay = async (existing: AccountRecord) => {
    const owner = (
      await uow.read.find('members', { accountId: existing.id }, { order: ['id'] })
    ).find((m) => m.id === input.owner.id);
    if (
      existing.kind === 'organization' &&
      existing.name === input.name &&
      owner?.role === 'owner'
    ) {
      const sub = (await uow.account(existing.id)).subscription;
      const plan = sub?.status === 'active' ? sub.plan : null;
      return { account: { ...existing, plan }, owner, replay: true };
    }
    throw new AmisiError('account_exists', `account "${input.accountId}" exists`, {
      accountId: input.accountId,
      kind: existing.kind,
    });
  };
  const [existing] = await uow.read.lockAccounts([input.accountId]);
  if (existing) return replay(existing);
  const now = uow.now;
  const account: AccountRecord = {
    id: input.accountId,
    createdAt: now,
    kind: 'organization',
    name: input.name,
    testClockId: null,
    ...NO_OVERDRAFT,
  };
  if (!(await uow.insertAccount(account))) {
    const [raced] = await uow.read.lockAccounts([input.accountId]);
    assert(raced, `account ${input.accountId} exists after a conflicting insert`);
    return replay(raced);
  }
  const owner: Member = {
    accountId: account.id,
    id: input.owner.id,
    role: 'owner',
    status: 'active',
    name: input.owner.name,
    email: input.owner.email,
    inviteHash: null,
    createdAt: now,
    joinedAt: now,
  };
  await uow.putMembers([owner]);
  await uow.writeBudgets([poolBudget(account.id, monthStart(now), now)]);
  await giveTrial(uow, account.id, 'creation');
  return { account: { ...account, plan: null }, owner, replay: false };
}

export interface PutMemberInput {
  readonly accountId: string;
  readonly memberId: string;
  readonly role: Role;
  readonly name?: string | null;
  readonly email?: string | null;
  /** Set to invite: the member must accept with the code whose hash this is before acting. */
  readonly inviteHash?: string | null;
  readonly actor: Actor;
}

export interface MemberResult {
  readonly member: Member;
  /** True when this call added the member. */
  readonly created: boolean;
  /** True when this call made an invitation (a new member's, or a new code for an invited one). */
  readonly invited: boolean;
}

function refuseOwnerChange(actor: Actor, accountId: string, memberId: string): void {
  if (actor !== null && actor !== 'owner') {
    throw new AmisiError('forbidden', `only an owner can make, change or remove an owner`, {
      accountId,
      memberId,
    });
  }
}

function activeOwners(team: TeamState): number {
  let n = 0;
  for (const m of team.members.values()) if (m.role === 'owner' && m.status === 'active') n += 1;
  return n;
}

function refuseLastOwner(team: TeamState, member: Member): void {
  if (member.role === 'owner' && member.status === 'active' && activeOwners(team) === 1) {
    throw new AmisiError(
      'last_owner',
      `member "${member.id}" is the last owner of ${member.accountId}`,
      { accountId: member.accountId, memberId: member.id },
    );
  }
}

async function seats(uow: UnitOfWork, state: AccountState) {
  return seatLimit(state.subscription, (await uow.activeCatalog()).body.plans);
}

/** Changes an existing member's role, name or e-mail, or invites it again with a new code. */
async function changeMember(
  uow: UnitOfWork,
  team: TeamState,
  existing: Member,
  input: PutMemberInput,
): Promise<Replayable<MemberResult>> {
  const next: Member = {
    ...existing,
    role: input.role,
    name: input.name === undefined ? existing.name : input.name,
    email: input.email === undefined ? existing.email : input.email,
  };
  const reinvite = existing.status === 'invited' && input.inviteHash != null;
  if (
    next.role === existing.role &&
    next.name === existing.name &&
    next.email === existing.email &&
    !reinvite
  ) {
    return { member: existing, created: false, invited: false, replay: true };
  }
  if (reinvite) {
    // A new invitation replaces the old one: its code no longer works.
    if (existing.role === 'owner' || next.role === 'owner') {
      refuseOwnerChange(input.actor, input.accountId, input.memberId);
    }
    const renewed: Member = { ...next, inviteHash: input.inviteHash };
    await uow.putMembers([renewed]);
    team.members.set(renewed.id, renewed);
    return { member: renewed, created: false, invited: true, replay: false };
  }
  if (existing.role === 'owner' || next.role === 'owner') {
    // An owner's name, e-mail and role are an owner's to change.
    refuseOwnerChange(input.actor, input.accountId, input.memberId);
  }
  if (next.role !== existing.role && existing.role === 'owner') refuseLastOwner(team, existing);
  await uow.putMembers([next]);
  team.members.set(next.id, next);
  return { member: next, created: false, invited: false, replay: false };
}

/** Adds or invites a member, or changes an existing member's role (and name or email). */
export async function putMember(
  uow: UnitOfWork,
  input: PutMemberInput,
): Promise<Replayable<MemberResult>> {
  const state = await uow.account(input.accountId);
  const team = await loadTeam(uow, state);
  const existing = team.members.get(input.memberId);
  if (existing) return changeMember(uow, team, existing, input);
  if (input.role === 'owner') refuseOwnerChange(input.actor, input.accountId, input.memberId);
  const plan = await seats(uow, state);
  if (team.members.size + 1 > plan.seats) {
    const accountId = input.accountId;
    throw plan.teamAccess
      ? new AmisiError(
          'seat_limit_reached',
          `organization ${accountId} uses all ${plan.seats} seats of plan "${plan.plan}"`,
          { accountId, plan: plan.plan, seats: plan.seats, members: team.members.size },
        )
      : new AmisiError(
          'team_access_required',
          `organization ${accountId} ` +
            (plan.plan ? `is on plan "${plan.plan}", which has` : 'has no plan, so it has') +
            ' no team access: only its owner',
          { accountId, plan: plan.plan, seats: plan.seats, members: team.members.size },
        );
  }
  const invited = input.inviteHash != null;
  const member: Member = {
    accountId: input.accountId,
    id: input.memberId,
    role: input.role,
    status: invited ? 'invited' : 'active',
    name: input.name ?? null,
    email: input.email ?? null,
    inviteHash: input.inviteHash ?? null,
    createdAt: uow.now,
    joinedAt: invited ? null : uow.now,
  };
  await uow.putMembers([member]);
  team.members.set(member.id, member);
  return { member, created: true, invited, replay: false };
}

function unknownMember(accountId: string, memberId: string): AmisiError {
  return new AmisiError('unknown_member', `unknown member "${memberId}" of ${accountId}`, {
    accountId,
    memberId,
  });
}

/** Removes a member and the member's budget; the last owner stays. */
export async function removeMember(
  uow: UnitOfWork,
  input: { accountId: string; memberId: string; actor: Actor },
): Promise<{ member: Member }> {
  const state = await uow.account(input.accountId);
  const team = await loadTeam(uow, state);
  const member = team.members.get(input.memberId);
  if (!member) throw unknownMember(input.accountId, input.memberId);
  if (member.role === 'owner') refuseOwnerChange(input.actor, input.accountId, member.id);
  refuseLastOwner(team, member);
  await uow.deleteMember(input.accountId, member.id);
  // The member's keys go with it: an id added again later is someone new.
  await uow.revokeMemberKeys(input.accountId, member.id);
  const budget = team.budgets.get(budgetKey('member', member.id));
  if (budget) {
    await uow.deleteBudget(input.accountId, 'member', member.id);
    uow.budgets.drop(state, budget);
  }
  team.members.delete(member.id);
  return { member };
}

/** An invited member accepts with the code; any mismatch fails the same way. */
export async function acceptInvitation(
  uow: UnitOfWork,
  input: { accountId: string; memberId: string; codeHash: string },
): Promise<{ member: Member }> {
  const refuse = () =>
    new AmisiError('invalid_invitation', 'the invitation is not valid or was used already', {});
  let state: AccountState;
  try {
    state = await uow.account(input.accountId);
  } catch {
    throw refuse();
  }
  if (state.account.kind !== 'organization') throw refuse();
  const team = await loadTeam(uow, state);
  const member = team.members.get(input.memberId);
  if (!member || member.status !== 'invited' || member.inviteHash !== input.codeHash) {
    throw refuse();
  }
  const joined: Member = { ...member, status: 'active', inviteHash: null, joinedAt: uow.now };
  await uow.putMembers([joined]);
  team.members.set(joined.id, joined);
  return { member: joined };
}

export async function putProject(
  uow: UnitOfWork,
  input: { accountId: string; projectId: string; name: string },
): Promise<Replayable<{ project: Project }>> {
  const state = await uow.account(input.accountId);
  const team = await loadTeam(uow, state);
  const existing = team.projects.get(input.projectId);
  if (existing && existing.name === input.name) return { project: existing, replay: true };
  const project: Project = {
    accountId: input.accountId,
    id: input.projectId,
    name: input.name,
    createdAt: existing?.createdAt ?? uow.now,
  };
  await uow.putProject(project);
  team.projects.set(project.id, project);
  return { project, replay: false };
}

export interface SetBudgetInput {
  readonly accountId: string;
  readonly scope: BudgetScope;
  /** The member or project id; '' for the pool. */
  readonly target: string;
  readonly limitCredits: number;
  readonly mode: BudgetMode;
  readonly period: BudgetPeriod;
  /** A fixed budget's window [startsAt, endsAt). */
  readonly startsAt?: number;
  readonly endsAt?: number;
}

function covers(scope: BudgetScope, target: string, a: Attribution | undefined): boolean {
  if (scope === 'pool') return true;
  if (!a) return false;
  return scope === 'member' ? a.member === target : a.project === target;
}

/** Credits captured or charged for the target from `since` (before `until`), journal and uow. */
async function usedSince(
  uow: UnitOfWork,
  accountId: string,
  scope: BudgetScope,
  target: string,
  since: number,
  until: number | null,
): Promise<number> {
  const stored = await uow.read.journal(
    {
      accountId: accountId,
      kind: ['charge', 'capture', 'partial_capture'],
      createdAt: { gte: since },
    },
    { order: ['createdAt', 'id'] },
  );
  const seen = new Set(stored.map((t) => t.id));
  const pending = uow
    .bufferedTransactions(accountId)
    .filter((t) => !seen.has(t.id) && t.createdAt >= since);
  let used = 0;
  for (const t of [...stored, ...pending] as JournalTransaction[]) {
    if (t.kind !== 'charge' && t.kind !== 'capture' && t.kind !== 'partial_capture') continue;
    if (until !== null && t.createdAt >= until) continue;
    if (!covers(scope, target, t.detail.attribution)) continue;
    used += t.kind === 'charge' ? t.detail.credits : t.detail.captured;
  }
  return used;
}

/** A budget names a member or project that exists; a fixed one, a window that ends after it starts. */
function refuseBadBudget(team: TeamState, input: SetBudgetInput): void {
  const accountId = input.accountId;
  if (input.scope === 'member' && !team.members.has(input.target)) {
    throw unknownMember(accountId, input.target);
  }
  if (input.scope === 'project' && !team.projects.has(input.target)) {
    throw new AmisiError('unknown_project', `unknown project "${input.target}" of ${accountId}`, {
      accountId,
      projectId: input.target,
    });
  }
  const fixed = input.period === 'fixed';
  if (fixed && (input.startsAt === undefined || input.endsAt === undefined)) {
    throw new AmisiError('invalid_argument', 'a fixed budget needs a start and an end', {
      field: 'startsAt',
    });
  }
  if (fixed && input.endsAt! <= input.startsAt!) {
    throw new AmisiError('invalid_argument', 'a fixed budget ends after it starts', {
      field: 'endsAt',
    });
  }
}

/**
 * Sets a budget. Its counters are computed afresh from what it covers: `held` from the open
 * holds, `used` from the captures and charges of its period so far, so a budget set mid-cycle
 * counts the cycle's spend. Thresholds already announced this period stay announced while still
 * reached; a lower limit announces what it now reaches.
 */
export async function setBudget(
  uow: UnitOfWork,
  input: SetBudgetInput,
): Promise<Replayable<{ budget: Budget }>> {
  const state = await uow.account(input.accountId);
  const team = await loadTeam(uow, state);
  const accountId = input.accountId;
  refuseBadBudget(team, input);
  const fixed = input.period === 'fixed';
  const stored = team.budgets.get(budgetKey(input.scope, input.target));
  const existing = stored ? currentBudget(uow, state, stored) : undefined;
  const periodStart = fixed ? input.startsAt! : budgetPeriodStart(uow, state);
  const held = (
    await uow.read.find(
      'holds',
      { accountId: accountId, status: 'held' },
      { order: ['createdAt', 'id'] },
    )
  )
    .filter((h) => covers(input.scope, input.target, h.attribution))
    .reduce((sum, h) => sum + heldNow(h), 0);
  const used = await usedSince(
    uow,
    accountId,
    input.scope,
    input.target,
    periodStart,
    fixed ? input.endsAt! : null,
  );
  const draft: Budget = {
    accountId,
    scope: input.scope,
    target: input.target,
    limitCredits: input.limitCredits,
    mode: input.mode,
    period: input.period,
    startsAt: fixed ? input.startsAt! : null,
    endsAt: fixed ? input.endsAt! : null,
    periodStart,
    used,
    held,
    alerted: 0,
    createdAt: existing?.createdAt ?? uow.now,
    updatedAt: uow.now,
  };
  const same =
    existing !== undefined &&
    existing.limitCredits === draft.limitCredits &&
    existing.mode === draft.mode &&
    existing.period === draft.period &&
    existing.startsAt === draft.startsAt &&
    existing.endsAt === draft.endsAt;
  if (
    same &&
    existing.used === used &&
    existing.held === held &&
    existing.periodStart === periodStart
  ) {
    return { budget: existing, replay: true };
  }
  // Once per threshold per period, whatever the limit was or whether the budget was removed and
  // set again meanwhile: start from what was announced.
  const budget = { ...draft, alerted: await announcedBits(uow, state, draft) };
  uow.budgets.put(state, budget);
  await announce(uow, state, budget);
  const announced = team.budgets.get(budgetKey(input.scope, input.target));
  return { budget: announced ?? budget, replay: same };
}

/** Removes a member's or project's budget; the pool's goes back to no limit (alerts only). */
export async function removeBudget(
  uow: UnitOfWork,
  input: { accountId: string; scope: BudgetScope; target: string },
): Promise<{ budget: Budget }> {
  const state = await uow.account(input.accountId);
  const team = await loadTeam(uow, state);
  const stored = team.budgets.get(budgetKey(input.scope, input.target));
  if (!stored || (input.scope === 'pool' && stored.limitCredits === null)) {
    throw new AmisiError(
      'not_found',
      input.scope === 'pool'
        ? `the pool of ${input.accountId} has no limit`
        : `no budget for ${input.scope} "${input.target}" of ${input.accountId}`,
      { accountId: input.accountId, scope: input.scope, target: input.target },
    );
  }
  const b = currentBudget(uow, state, stored);
  if (input.scope === 'pool') {
    const periodStart = budgetPeriodStart(uow, state);
    const implicit: Budget = { ...b, periodStart };
    const pool: Budget = {
      ...b,
      alerted: await announcedBits(uow, state, implicit),
      used: await usedSince(uow, input.accountId, 'pool', POOL_TARGET, periodStart, null),
      limitCredits: null,
      mode: 'soft',
      period: 'cycle',
      startsAt: null,
      endsAt: null,
      periodStart,
      updatedAt: uow.now,
    };
    uow.budgets.put(state, pool);
    return { budget: pool };
  }
  await uow.deleteBudget(input.accountId, input.scope, input.target);
  uow.budgets.drop(state, b);
  return { budget: b };
}
