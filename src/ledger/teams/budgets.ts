import { AmisiError } from '../../core/errors.js';
import type { Attribution } from '../../core/holds.js';
import {
  alertBit,
  announceBudget,
  budgetKey,
  countBudgets,
  coveringBudgets,
  rollPeriod,
  teamPeriodStart,
  type AlertDraft,
  type AlertThreshold,
  type Budget,
  type BudgetAlert,
  type BudgetCount,
  type Member,
  type Project,
} from '../../core/teams.js';
import type { Reader, WriteTx } from '../store.js';
import type { AccountState, UnitOfWork } from '../unit-of-work.js';

/**
 * Team budgets and alerts in a unit of work. The rules are core/teams.ts's; this loads an
 * organization's team once, keeps the budgets changed and the alerts raised until the flush,
 * and writes each alert with its `budget.threshold` event. The budget row is read and written
 * under the account's lock, so each threshold is announced once per period however many
 * charges race.
 */

/** An organization's members, projects and budgets, loaded when a command first needs them. */
export class TeamState {
  readonly members = new Map<string, Member>();
  readonly projects = new Map<string, Project>();
  /** By budgetKey(scope, target). */
  readonly budgets = new Map<string, Budget>();
}

/** The budgets changed and the alerts raised in a unit of work, written at its flush. */
export class BudgetBuffer {
  /** By account, scope and target. */
  private readonly dirty = new Map<string, Budget>();
  private readonly alerts: BudgetAlert[] = [];

  put(state: AccountState, b: Budget): void {
    this.dirty.set(`${state.account.id}\u0000${b.scope}\u0000${b.target}`, b);
    state.team?.budgets.set(budgetKey(b.scope, b.target), b);
  }

  /** Forgets a budget removed by a command (its row is deleted directly). */
  drop(state: AccountState, b: Budget): void {
    this.dirty.delete(`${state.account.id}\u0000${b.scope}\u0000${b.target}`);
    state.team?.budgets.delete(budgetKey(b.scope, b.target));
  }

  addAlert(alert: BudgetAlert): void {
    this.alerts.push(alert);
  }

  /** Thresholds of this unit's alerts for the budget in its period. */
  alertedHere(b: Budget): AlertThreshold[] {
    return this.alerts
      .filter(
        (a) =>
          a.accountId === b.accountId &&
          a.scope === b.scope &&
          a.target === b.target &&
          a.periodStart === b.periodStart,
      )
      .map((a) => a.threshold);
  }

  async flush(tx: WriteTx): Promise<void> {
    if (this.dirty.size > 0) await tx.insert('budgets', [...this.dirty.values()], 'replace');
    await tx.insert('budget_alerts', this.alerts);
  }
}

/**
 * The organization's members, projects and budgets (not_an_organization otherwise). It only
 * reads, so a check's snapshot can stand in for the unit of work (credits/check.ts).
 */
export async function loadTeam(
  uow: { readonly read: Reader },
  state: AccountState,
): Promise<TeamState> {
  if (state.account.kind !== 'organization') {
    throw new AmisiError(
      'not_an_organization',
      `account ${state.account.id} is not an organization`,
      { accountId: state.account.id },
    );
  }
  if (state.team) return state.team;
  const id = state.account.id;
  const team = new TeamState();
  const r = uow.read;
  for (const m of await r.find('members', { accountId: id }, { order: ['id'] }))
    team.members.set(m.id, m);
  for (const p of await r.find('projects', { accountId: id }, { order: ['id'] }))
    team.projects.set(p.id, p);
  const budgets = await r.find('budgets', { accountId: id }, { order: ['scope', 'target'] });
  for (const b of budgets) team.budgets.set(budgetKey(b.scope, b.target), b);
  state.team = team;
  return team;
}

/** Where the organization's cycle budgets start now (core/teams.ts teamPeriodStart). */
export function periodStart(uow: { readonly now: number }, state: AccountState): number {
  return teamPeriodStart(state.subscription, uow.now);
}

/**
 * The budget in its current period (a cycle budget starts again after a renewal). Rolling it
 * over is maintenance, like a renewal, and the rolled row is what every reader computes anyway.
 */
export function currentBudget(uow: UnitOfWork, state: AccountState, b: Budget): Budget {
  const rolled = rollPeriod(b, periodStart(uow, state));
  if (rolled !== b) uow.budgets.put(state, rolled);
  return rolled;
}

/**
 * Bits of the thresholds already announced for the budget in its period: stored ones and this
 * unit's. Setting a budget again starts from these, so no threshold is announced twice.
 */
export async function announcedBits(
  uow: UnitOfWork,
  state: AccountState,
  b: Budget,
): Promise<number> {
  const id = state.account.id;
  const where = { accountId: id, scope: b.scope, target: b.target, periodStart: b.periodStart };
  const o = { fields: ['threshold'], order: ['threshold'] } as const;
  const stored = (await uow.read.find('budget_alerts', where, o)).map((a) => a.threshold);
  let bits = 0;
  for (const t of [...stored, ...uow.budgets.alertedHere({ ...b, accountId: id })])
    bits |= alertBit(t);
  return bits;
}

/** Writes each alert with its budget.threshold event, in order (ids in that order too). */
async function raise(uow: UnitOfWork, state: AccountState, drafts: readonly AlertDraft[]) {
  for (const { explicitLimit, ...draft } of drafts) {
    const alert: BudgetAlert = {
      accountId: state.account.id,
      id: uow.newId('alr'),
      ...draft,
      createdAt: uow.now,
    };
    uow.budgets.addAlert(alert);
    await uow.outbox.emit(state.account.id, 'budget.threshold', {
      alert: { ...alert, limit: alert.limitCredits, explicitLimit },
    });
  }
}

/** Applies what a spend, resolution or expiry does to its budgets (core/teams.ts countBudgets). */
export async function applyBudgetCount(
  uow: UnitOfWork,
  state: AccountState,
  count: BudgetCount,
): Promise<void> {
  for (const b of count.budgets) uow.budgets.put(state, b);
  await raise(uow, state, count.alerts);
}

/**
 * Moves the counters of the budgets covering an organization's hold as it resolves or expires
 * (a no-op for other accounts), announcing what they newly reach.
 */
export async function countSpend(
  uow: UnitOfWork,
  state: AccountState,
  attribution: Attribution,
  change: { readonly held: number; readonly used: number },
): Promise<void> {
  if (state.account.kind !== 'organization') return;
  const team = await loadTeam(uow, state);
  const covering = coveringBudgets(team.budgets, attribution).map((b) =>
    currentBudget(uow, state, b),
  );
  const count = countBudgets(covering, change, uow.available(state), uow.now);
  await applyBudgetCount(uow, state, count);
}

/** Records and emits the thresholds a budget just set has newly reached in its period. */
export async function announce(uow: UnitOfWork, state: AccountState, b: Budget): Promise<void> {
  const announced = announceBudget(b, uow.available(state), uow.now);
  if (announced.alerts.length === 0) return;
  await raise(uow, state, announced.alerts);
  uow.budgets.put(state, announced.budget);
}
