import type { ErrorCode } from './errors.js';
import { assert } from './errors.js';
import { firstItemOver } from './batches.js';
import { availableCredits, OVERDRAFT_DRAW, planDraws, type Draw, type Grant } from './grants.js';
import { overdraftRoom, type SpendOverdraft } from './overdraft.js';
import type { Attribution } from './holds.js';
import type { Entry } from './journal.js';
import {
  coveringBudgets,
  countBudgets,
  headroom,
  rollPeriod,
  type AlertDraft,
  type Budget,
  type Member,
  type Project,
  type SeatLimit,
} from './teams.js';

/**
 * The spend decision of a hold, a charge and a request batch, in one pure function: given the
 * account's grants and, for an organization, its team (members, projects, budgets, the seats of
 * the plan in force), it refuses with the code and figures that explain why, or returns the plan
 * the ledger applies as it is: each item's draws, the budgets after it, the thresholds it newly
 * reaches and its journal entries. Refusals come in a fixed precedence: the team rules (member,
 * project, team access, seats), then hard budgets in covering order (pool, member, project), then
 * the credits available.
 */

/** An organization's state as a spend sees it. */
export interface TeamSpendState {
  readonly members: ReadonlyMap<string, Member>;
  readonly projects: ReadonlyMap<string, Project>;
  /** As stored, by budgetKey(scope, target); rolled into `periodStart` here. */
  readonly budgets: ReadonlyMap<string, Budget>;
  /** Where the organization's cycle budgets start now (teamPeriodStart). */
  readonly periodStart: number;
  /**
   * The seats and team access of the plan in force. Needed only when the member spending is not
   * an owner (owners spend whatever the plan), so the ledger reads the catalog only then.
   */
  readonly seats: SeatLimit | undefined;
}

export interface SpendState {
  readonly accountId: string;
  /** The account's open grants, in the order the ledger keeps them. */
  readonly grants: readonly Grant[];
  /** null for an individual account: no team rules, no budgets. */
  readonly team: TeamSpendState | null;
  /**
   * The overdraft in force and what is used of it, or null when the spend does not need it
   * (the ledger reads the limit only when the spendable credits fall short or a debt is owed).
   */
  readonly overdraft: SpendOverdraft | null;
}

export interface SpendItem {
  readonly credits: number;
  /** The item's operation, named by a batch's refusal; null for a bare amount. */
  readonly operation: string | null;
}

export interface SpendRequest {
  /** A hold reserves (budgets count it as held); a charge consumes at once (used). */
  readonly kind: 'hold' | 'charge';
  readonly attribution: Attribution;
  readonly items: readonly SpendItem[];
  /** A request batch: its refusals name the first item that does not fit. */
  readonly batch: boolean;
}

export interface Refusal {
  readonly code: ErrorCode;
  readonly message: string;
  readonly data: Record<string, unknown>;
}

/** One item of the plan, applied in item order. */
export interface SpendStep {
  readonly credits: number;
  /** The grants drawn, in spend order, then the part past zero (OVERDRAFT_DRAW), if any. */
  readonly draws: readonly Draw[];
  /** Credits of this item drawn past zero, into the overdraft (0 mostly). */
  readonly overdrawn: number;
  /** The covering budgets once this item counts (empty for an individual). */
  readonly budgets: readonly Budget[];
  readonly alerts: readonly AlertDraft[];
  /**
   * The journal entries: grant -> held for a hold, grant -> consumed for a charge (the part
   * past zero from the overdraft book). A hold's lines name its hold, whose id the ledger gives
   * it when it applies the step.
   */
  readonly entries: readonly Entry[];
}

export type SpendDecision =
  | { readonly ok: false; readonly refusal: Refusal }
  | { readonly ok: true; readonly steps: readonly SpendStep[] };

const refuse = (code: ErrorCode, message: string, data: Record<string, unknown>) => ({
  ok: false as const,
  refusal: { code, message, data },
});

export function planSpend(state: SpendState, request: SpendRequest, at: number): SpendDecision {
  assert(request.items.length > 0, 'a spend has an item');
  const credits = request.items.reduce((sum, i) => sum + i.credits, 0);
  let budgets: Budget[] = [];
  if (state.team !== null) {
    const team = state.team;
    const refusal = teamRefusal(state.accountId, team, request.attribution);
    if (refusal) return { ok: false, refusal };
    budgets = coveringBudgets(team.budgets, request.attribution).map((b) =>
      rollPeriod(b, team.periodStart),
    );
    const over = budgets.find((b) => credits > headroom(b, at));
    if (over) return { ok: false, refusal: budgetRefusal(state.accountId, over, request, credits) };
  }
  let room = state.overdraft === null ? 0 : overdraftRoom(state.overdraft);
  if (request.batch) {
    const available = availableCredits(state.grants, at);
    if (credits > available + room) return creditRefusal(state, request, credits, available, room);
  }
  // Each item's draws, planned in item order as if the items before it had been taken.
  let grants = state.grants;
  const steps: SpendStep[] = [];
  const items = request.items;
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    let draws: readonly Draw[];
    let overdrawn = 0;
    const plan = planDraws(grants, item.credits, at);
    if (plan.ok) {
      draws = plan.draws;
    } else {
      // The spendable credits fall short: the rest comes from the overdraft, if it has room.
      overdrawn = item.credits - plan.available;
      if (overdrawn > room) {
        return creditRefusal(state, request, credits, availableCredits(state.grants, at), room);
      }
      room -= overdrawn;
      const all = plan.available > 0 ? planDraws(grants, plan.available, at) : null;
      assert(all === null || all.ok, 'the spendable credits can be drawn');
      draws = [...(all?.ok ? all.draws : []), { grantId: OVERDRAFT_DRAW, credits: overdrawn }];
    }
    if (i < items.length - 1 || budgets.length > 0) grants = drawn(grants, draws);
    const count =
      budgets.length === 0 ? NO_BUDGETS : countItem(budgets, request.kind, item, grants, at);
    budgets = [...count.budgets];
    steps.push({
      credits: item.credits,
      draws,
      overdrawn,
      budgets: count.budgets,
      alerts: count.alerts,
      entries: spendEntries(request.kind, draws),
    });
  }
  return { ok: true, steps };
}

/** An individual's step: no budgets to count (shared: a charge is the hot path). */
const NO_BUDGETS = { budgets: [] as readonly Budget[], alerts: [] as readonly AlertDraft[] };

/** The covering budgets once this item counts: held for a hold, used for a charge. */
function countItem(
  budgets: readonly Budget[],
  kind: 'hold' | 'charge',
  item: SpendItem,
  grants: readonly Grant[],
  at: number,
) {
  const change =
    kind === 'hold' ? { held: item.credits, used: 0 } : { held: 0, used: item.credits };
  return countBudgets(budgets, change, availableCredits(grants, at), at);
}

/** The grants once these draws are taken from them (same order). */
function drawn(grants: readonly Grant[], draws: readonly Draw[]): Grant[] {
  const taken = new Map(draws.map((d) => [d.grantId, d.credits]));
  return grants.map((g) => {
    const c = taken.get(g.id);
    return c === undefined ? g : { ...g, remaining: g.remaining - c };
  });
}

function spendEntries(kind: 'hold' | 'charge', draws: readonly Draw[]): Entry[] {
  const to = kind === 'hold' ? ('held' as const) : ('consumed' as const);
  const out: Entry[] = [];
  for (const d of draws) {
    if (d.grantId === OVERDRAFT_DRAW) {
      out.push({ book: 'overdraft', grantId: null, holdId: null, credits: -d.credits });
      out.push({ book: to, grantId: null, holdId: null, credits: d.credits });
      continue;
    }
    out.push({ book: 'grant', grantId: d.grantId, holdId: null, credits: -d.credits });
    out.push({ book: to, grantId: d.grantId, holdId: null, credits: d.credits });
  }
  return out;
}

/**
 * The team rules before any budget: the member named must be active, the project known, and
 * anyone but an owner needs a plan with team access and an organization within its seats.
 */
function teamRefusal(
  accountId: string,
  team: TeamSpendState,
  attribution: Attribution,
): Refusal | undefined {
  if (attribution.member === null) {
    return {
      code: 'invalid_argument',
      message: `holds and charges of organization ${accountId} name the member they are for`,
      data: { field: 'attribution.member', accountId },
    };
  }
  const member = team.members.get(attribution.member);
  if (!member || member.status !== 'active') {
    return {
      code: 'unknown_member',
      message: member
        ? `member "${attribution.member}" of ${accountId} has not accepted the invitation yet`
        : `unknown member "${attribution.member}" of ${accountId}`,
      data: { accountId, memberId: attribution.member },
    };
  }
  if (attribution.project !== null && !team.projects.has(attribution.project)) {
    return {
      code: 'unknown_project',
      message: `unknown project "${attribution.project}" of ${accountId}`,
      data: { accountId, projectId: attribution.project },
    };
  }
  if (member.role === 'owner') return undefined;
  assert(team.seats, 'the seats in force are loaded for a member who is not an owner');
  const { seats, teamAccess } = team.seats;
  if (!teamAccess) {
    return {
      code: 'team_access_required',
      message: `organization ${accountId} has no plan with team access: only its owners may spend`,
      data: { accountId, memberId: member.id },
    };
  }
  // Members past the plan's seats (a plan taken after a lapse, a catalog with fewer seats) wait,
  // owners aside, until the organization fits its plan again.
  if (team.members.size > seats) {
    return {
      code: 'seat_limit_reached',
      message:
        `organization ${accountId} has ${team.members.size} members and its plan seats ${seats}: ` +
        'only its owners may spend until members are removed',
      data: { accountId, memberId: member.id, members: team.members.size, seats },
    };
  }
  return undefined;
}

/** A hard budget the spend would pass; a batch's names the first item past the headroom. */
function budgetRefusal(
  accountId: string,
  b: Budget,
  request: SpendRequest,
  credits: number,
): Refusal {
  const message =
    `the ${b.scope === 'pool' ? 'pool' : `${b.scope} "${b.target}"`} budget of ${accountId} ` +
    `is ${b.limitCredits} credits: ${b.used} used, ${b.held} held, ${credits} requested`;
  const data = {
    accountId,
    budget: { scope: b.scope, target: b.target, mode: b.mode, period: b.period },
    limit: b.limitCredits,
    used: b.used,
    held: b.held,
    requested: credits,
  };
  if (!request.batch) return { code: 'budget_exceeded', message, data };
  const items = request.items.map((i) => i.credits);
  const item = firstItemOver(items, b.limitCredits! - b.used - b.held);
  assert(item >= 0, 'a batch over a budget has an item over it');
  return {
    code: 'budget_exceeded',
    message: `${message}: the batch of ${items.length} items takes ${credits} credits and item ${item} is the first that does not fit`,
    data: { ...data, item },
  };
}

function creditRefusal(
  state: SpendState,
  request: SpendRequest,
  credits: number,
  available: number,
  room: number,
): SpendDecision {
  const accountId = state.accountId;
  const o = state.overdraft;
  // An account with an overdraft limit is refused by the limit (and told what it owes).
  const limited = o !== null && o.limit > 0;
  const code = limited ? 'overdraft_limit_reached' : 'insufficient_credits';
  const why = limited
    ? `has ${available} available and ${room} of its overdraft limit of ${o.limit} left (${o.debt} owed, ${o.held} held past zero)`
    : `has ${available} available`;
  const data = {
    accountId,
    required: credits,
    available,
    ...(limited
      ? { overdraft: { limit: o.limit, debt: o.debt, held: o.held, remaining: room } }
      : {}),
  };
  if (!request.batch) {
    return refuse(code, `account ${accountId} needs ${credits} credits and ${why}`, data);
  }
  const item = firstItemOver(
    request.items.map((i) => i.credits),
    available + room,
  );
  const line = request.items[item]!;
  return refuse(
    code,
    `account ${accountId} needs ${credits} credits for the batch of ${request.items.length} items and ${why}: item ${item} (${line.operation}, ${line.credits} credits) is the first that does not fit`,
    { ...data, item },
  );
}
