import type { Plan } from './catalog.js';
import { assert } from './errors.js';
import type { Attribution } from './holds.js';
import { cycleStart } from './cycles.js';
import type { Subscription } from './subscriptions.js';

/**
 * Organizations: an account whose pooled credits members spend, by role, within budgets per
 * member and per project. Pure rules only; the ledger applies them under the account's lock,
 * so a budget check and the hold it guards are one step (ledger/teams/commands.ts, core/spend.ts).
 */

export const ACCOUNT_KINDS = ['individual', 'organization'] as const;
export type AccountKind = (typeof ACCOUNT_KINDS)[number];

export const ROLES = ['owner', 'admin', 'member'] as const;
export type Role = (typeof ROLES)[number];

export const MEMBER_STATUSES = ['active', 'invited'] as const;
export type MemberStatus = (typeof MEMBER_STATUSES)[number];

export interface Member {
  readonly accountId: string;
  readonly id: string;
  readonly role: Role;
  readonly status: MemberStatus;
  readonly name: string | null;
  readonly email: string | null;
  /** SHA-256 (base64url) of the invitation code while the member is invited; null after. */
  readonly inviteHash: string | null;
  readonly createdAt: number;
  readonly joinedAt: number | null;
}

export interface Project {
  readonly accountId: string;
  readonly id: string;
  readonly name: string;
  readonly createdAt: number;
}

export const BUDGET_SCOPES = ['member', 'project', 'pool'] as const;
export type BudgetScope = (typeof BUDGET_SCOPES)[number];
export const BUDGET_MODES = ['hard', 'soft'] as const;
export type BudgetMode = (typeof BUDGET_MODES)[number];
export const BUDGET_PERIODS = ['cycle', 'fixed'] as const;
export type BudgetPeriod = (typeof BUDGET_PERIODS)[number];

/** The pool's budget row has this target; its scope names it. */
export const POOL_TARGET = '';

/**
 * A budget and its counters for the current period. `held` is always the sum of the open holds
 * it covers (set from them when the budget is created, kept as holds open and resolve); `used`
 * counts credits captured or charged in the period and starts again at 0 when a cycle budget's
 * period rolls over (renewal). `alerted` has one bit per threshold already announced this period.
 *
 * The pool's row (scope 'pool') exists for every organization; with no limit it only tracks the
 * alerts on the pool itself, whose size is then what is used, held and still available.
 */
export interface Budget {
  readonly accountId: string;
  readonly scope: BudgetScope;
  readonly target: string;
  /** null only for the pool without an explicit cap. */
  readonly limitCredits: number | null;
  readonly mode: BudgetMode;
  readonly period: BudgetPeriod;
  /** A fixed budget's window [startsAt, endsAt); null for cycle budgets. */
  readonly startsAt: number | null;
  readonly endsAt: number | null;
  readonly periodStart: number;
  readonly used: number;
  readonly held: number;
  readonly alerted: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export const ALERT_THRESHOLDS = [50, 80, 100] as const;
export type AlertThreshold = (typeof ALERT_THRESHOLDS)[number];

export interface BudgetAlert {
  readonly accountId: string;
  readonly id: string;
  readonly scope: BudgetScope;
  readonly target: string;
  readonly threshold: AlertThreshold;
  readonly periodStart: number;
  /** The figures when the threshold was crossed. */
  readonly used: number;
  readonly held: number;
  readonly limitCredits: number;
  readonly mode: BudgetMode;
  readonly createdAt: number;
}

/** Everything a role may be asked to do; routes and commands name one each. */
export const ACTIONS = [
  'read', // balance, catalog, the organization, its members and projects
  'spend', // quote, hold, charge; capture and release of one's own holds
  'usage.all', // every member's history and holds; capture and release of anyone's holds
  'members.manage',
  'projects.manage',
  'budgets.manage',
  'packs.buy',
  'billing', // plan, subscription, refunds, auto top-up, webhooks, purchases
] as const;
export type Action = (typeof ACTIONS)[number];

const GRANTS: Readonly<Record<Role, readonly Action[]>> = {
  owner: ACTIONS,
  admin: [
    'read',
    'spend',
    'usage.all',
    'members.manage',
    'projects.manage',
    'budgets.manage',
    'packs.buy',
  ],
  member: ['read', 'spend'],
};

export function can(role: Role, action: Action): boolean {
  return GRANTS[role].includes(action);
}

/** Seats a plan gives an organization: its seat count with team access, else the owner alone. */
export function seatsOf(plan: Plan | undefined): number {
  return plan?.teamAccess ? plan.seats : 1;
}

export interface SeatLimit {
  /** The plan that sets the limit (a pending downgrade's), or null without a plan. */
  readonly plan: string | null;
  readonly seats: number;
  readonly teamAccess: boolean;
}

const NO_PLAN: SeatLimit = { plan: null, seats: 1, teamAccess: false };

/**
 * The seats and team access of the plan in force now: what spending is checked against (a
 * pending downgrade or cancellation takes effect at the renewal). The owner alone without a plan.
 */
export function seatsInForce(
  sub: Subscription | undefined,
  plans: Readonly<Record<string, Plan>>,
): SeatLimit {
  if (!sub || sub.status !== 'active') return NO_PLAN;
  const current = Object.hasOwn(plans, sub.plan) ? plans[sub.plan] : undefined;
  return { plan: sub.plan, seats: seatsOf(current), teamAccess: current?.teamAccess ?? false };
}

/**
 * The seats an organization may fill now. A downgrade or cancellation waiting for the renewal
 * counts already, so members are not added that the next cycle could not seat.
 */
export function seatLimit(
  sub: Subscription | undefined,
  plans: Readonly<Record<string, Plan>>,
): SeatLimit {
  if (!sub || sub.status !== 'active' || sub.cancelAt !== null) return NO_PLAN;
  const pending =
    sub.pendingPlan !== null && Object.hasOwn(plans, sub.pendingPlan)
      ? plans[sub.pendingPlan]
      : undefined;
  const now = seatsInForce(sub, plans);
  if (pending && seatsOf(pending) < now.seats) {
    return { plan: sub.pendingPlan, seats: seatsOf(pending), teamAccess: pending.teamAccess };
  }
  return now;
}

/** Whether the budget covers a hold or charge made at `at` (a fixed window may not have begun). */
export function budgetApplies(b: Budget, at: number): boolean {
  if (b.period === 'cycle') return true;
  return (b.startsAt ?? 0) <= at && (b.endsAt === null || at < b.endsAt);
}

/** The budgets that cover this attribution: its member's, its project's and the pool. */
export function coveringBudgets(
  budgets: ReadonlyMap<string, Budget>,
  attribution: Attribution,
): Budget[] {
  const keys = [budgetKey('pool', POOL_TARGET)];
  if (attribution.member !== null) keys.push(budgetKey('member', attribution.member));
  if (attribution.project !== null) keys.push(budgetKey('project', attribution.project));
  return keys.flatMap((k) => {
    const b = budgets.get(k);
    return b ? [b] : [];
  });
}

export function budgetKey(scope: BudgetScope, target: string): string {
  return `${scope}\u0000${target}`;
}

/** A cycle budget in a period that has rolled over starts again: nothing used, no alerts. */
export function rollPeriod(b: Budget, periodStart: number): Budget {
  if (b.period !== 'cycle' || b.periodStart >= periodStart) return b;
  return { ...b, periodStart, used: 0, alerted: 0 };
}

/** Credits a hard budget still allows; Infinity when it does not limit. */
export function headroom(b: Budget, at: number): number {
  if (b.mode !== 'hard' || b.limitCredits === null || !budgetApplies(b, at)) return Infinity;
  return b.limitCredits - b.used - b.held;
}

/**
 * The thresholds this budget has newly reached (not yet announced this period). `size` is the
 * limit, or for the pool without one, what is used, held and available now.
 */
export function newThresholds(b: Budget, size: number): AlertThreshold[] {
  const spent = b.used + b.held;
  // A budget of 0 that something was spent against is past every threshold.
  if (size <= 0)
    return spent > 0 ? ALERT_THRESHOLDS.filter((_, i) => (b.alerted & (1 << i)) === 0) : [];
  return ALERT_THRESHOLDS.filter((t, i) => (b.alerted & (1 << i)) === 0 && spent * 100 >= t * size);
}

export function alertBit(threshold: AlertThreshold): number {
  return 1 << ALERT_THRESHOLDS.indexOf(threshold);
}

/**
 * Where an organization's cycle budgets start at `now`: its plan's current cycle, or without an
 * active plan the calendar month (UTC).
 */
export function teamPeriodStart(sub: Subscription | undefined, now: number): number {
  if (sub && sub.status === 'active') return cycleStart(sub.anchorAt, sub.cycleIndex);
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** A threshold newly reached, before the ledger gives it an id and a time. */
export interface AlertDraft {
  readonly scope: BudgetScope;
  readonly target: string;
  readonly threshold: AlertThreshold;
  readonly periodStart: number;
  /** The figures when the threshold was crossed; `limitCredits` is the size it was measured by. */
  readonly used: number;
  readonly held: number;
  readonly limitCredits: number;
  readonly mode: BudgetMode;
  /** False for the pool without a limit, whose size is used + held + available. */
  readonly explicitLimit: boolean;
}

/** A budget with the thresholds it newly reached marked, and those thresholds in order. */
export interface Announced {
  readonly budget: Budget;
  readonly alerts: readonly AlertDraft[];
}

/**
 * The thresholds a budget has newly reached in its period, measured against its limit (the pool
 * without one: used + held + `available`), and the budget with their bits set. Nothing when the
 * budget does not apply at `at` (a fixed window not begun or over).
 */
export function announceBudget(b: Budget, available: number, at: number): Announced {
  if (!budgetApplies(b, at)) return { budget: b, alerts: [] };
  const size = b.limitCredits ?? b.used + b.held + available;
  const fresh = newThresholds(b, size);
  if (fresh.length === 0) return { budget: b, alerts: [] };
  let alerted = b.alerted;
  const alerts = fresh.map((threshold): AlertDraft => {
    alerted |= alertBit(threshold);
    return {
      scope: b.scope,
      target: b.target,
      threshold,
      periodStart: b.periodStart,
      used: b.used,
      held: b.held,
      limitCredits: size,
      mode: b.mode,
      explicitLimit: b.limitCredits !== null,
    };
  });
  return { budget: { ...b, alerted }, alerts };
}

/** What a spend, a resolution or an expiry does to the budgets covering it. */
export interface BudgetCount {
  /** Every covering budget, counters moved and newly reached thresholds marked. */
  readonly budgets: readonly Budget[];
  /** The thresholds newly reached, budget by budget in covering order. */
  readonly alerts: readonly AlertDraft[];
}

/**
 * Moves the counters of the budgets covering a hold or charge (in their current period) and
 * announces the thresholds they newly reach: a hold adds to `held`, a charge to `used`, a capture
 * moves its hold from `held` to `used`, a release or an expiry takes it off `held`. Credits used
 * outside a fixed budget's window do not count against it. `available` is the account's
 * spendable credits after the change (the size of a pool without a limit).
 */
export function countBudgets(
  covering: readonly Budget[],
  change: { readonly held: number; readonly used: number },
  available: number,
  at: number,
): BudgetCount {
  const budgets: Budget[] = [];
  const alerts: AlertDraft[] = [];
  for (const b of covering) {
    const used = budgetApplies(b, at) ? change.used : 0;
    const next: Budget = { ...b, held: b.held + change.held, used: b.used + used, updatedAt: at };
    assert(next.held >= 0, `budget ${b.scope}/${b.target} holds what its open holds hold`);
    if (change.held > 0 || used > 0) {
      const announced = announceBudget(next, available, at);
      budgets.push(announced.budget);
      alerts.push(...announced.alerts);
    } else {
      budgets.push(next);
    }
  }
  return { budgets, alerts };
}
