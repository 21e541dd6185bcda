import { AmisiError } from '../../core/errors.js';
import type { HoldBatchRef } from '../../core/journal-detail.js';
import type { Hold } from '../../core/holds.js';
import { availableCredits, isOverdraftDraw, type Grant } from '../../core/grants.js';
import {
  overdraftInForce,
  type OverdraftLimit,
  type OverdraftState,
  type SpendOverdraft,
} from '../../core/overdraft.js';
import { planSpend, type SpendRequest, type SpendState, type SpendStep } from '../../core/spend.js';
import { seatsInForce } from '../../core/teams.js';
import type { Subscription } from '../../core/subscriptions.js';
import { applyBudgetCount, loadTeam, periodStart } from '../teams/budgets.js';
import type { AccountState, UnitOfWork } from '../unit-of-work.js';
import type { CatalogRecord, Reader } from '../store.js';

/**
 * The spend of a hold, a charge and a request batch, in three steps: load the account's state
 * (for an organization its team too), decide with core/spend.ts planSpend (which may refuse),
 * then apply the plan's steps. Nothing is written before the decision, so a refusal has written
 * nothing by construction.
 */

/**
 * What the decision reads: the unit of work of a hold or charge, or the snapshot of a check
 * (credits/check.ts), which decides the same way and writes nothing.
 */
export interface SpendReads {
  readonly now: number;
  readonly read: Reader;
  activeCatalog(): Promise<CatalogRecord>;
}

/** What planSpend needs of the account, as the unit of work has it. */
async function spendState(
  uow: SpendReads,
  state: AccountState,
  request: SpendRequest,
): Promise<SpendState> {
  const accountId = state.account.id;
  const grants = [...state.grants.values()];
  const overdraft = await spendOverdraft(uow, state, grants, request);
  const attribution = request.attribution;
  if (state.account.kind !== 'organization') return { accountId, grants, team: null, overdraft };
  const team = await loadTeam(uow, state);
  const member = attribution.member === null ? undefined : team.members.get(attribution.member);
  // The plan's seats matter only once the team rules reach a member who is not an owner, so
  // the catalog is read only then (as a spend of credits by an owner never needs it).
  const seatsMatter =
    member !== undefined &&
    member.status === 'active' &&
    member.role !== 'owner' &&
    (attribution.project === null || team.projects.has(attribution.project));
  const seats = seatsMatter
    ? seatsInForce(state.subscription, (await uow.activeCatalog()).body.plans)
    : undefined;
  return {
    accountId,
    grants,
    team: { ...team, periodStart: periodStart(uow, state), seats },
    overdraft,
  };
}

/**
 * The overdraft a spend may draw on, read only when the spendable credits fall short (the
 * limit in force may be the plan's, in the catalog): null when they suffice.
 */
async function spendOverdraft(
  uow: SpendReads,
  state: AccountState,
  grants: readonly Grant[],
  request: SpendRequest,
): Promise<SpendOverdraft | null> {
  const credits = request.items.reduce((sum, i) => sum + i.credits, 0);
  if (availableCredits(grants, uow.now) >= credits) return null;
  return {
    ...(await overdraftOf(uow, state.account, state.subscription)),
    debt: state.account.debt,
    held: state.account.overdraftHeld,
  };
}

/** The overdraft limit in force for the account: its own, else its plan's, else none. */
export async function overdraftOf(
  uow: Pick<SpendReads, 'activeCatalog'>,
  account: OverdraftState,
  subscription: Subscription | undefined,
): Promise<OverdraftLimit> {
  if (account.overdraftLimit !== null || !subscription) return overdraftInForce(account, undefined);
  const plans = (await uow.activeCatalog()).body.plans;
  const plan = Object.hasOwn(plans, subscription.plan) ? plans[subscription.plan] : undefined;
  return overdraftInForce(account, plan?.overdraft);
}

/** Loads and decides: the plan's steps, one per item, or the refusal thrown. */
export async function decideSpend(
  uow: SpendReads,
  state: AccountState,
  request: SpendRequest,
): Promise<readonly SpendStep[]> {
  const decision = planSpend(await spendState(uow, state, request), request, uow.now);
  if (!decision.ok) {
    const { code, message, data } = decision.refusal;
    throw new AmisiError(code, message, data);
  }
  return decision.steps;
}

/**
 * Takes a step's draws from their grants; the part past zero is held in the overdraft (a hold)
 * or owed at once (a charge).
 */
export async function takeDraws(
  uow: UnitOfWork,
  state: AccountState,
  step: SpendStep,
  kind: 'hold' | 'charge',
): Promise<void> {
  for (const d of step.draws) {
    if (isOverdraftDraw(d)) continue;
    const g = await uow.grant(state, d.grantId);
    await uow.setRemaining(state, g, g.remaining - d.credits);
  }
  if (step.overdrawn > 0) {
    const used = state.account.debt + state.account.overdraftHeld;
    uow.changeOverdraft(
      state,
      kind === 'hold' ? { held: step.overdrawn } : { debt: step.overdrawn },
    );
    await alertSoftLimit(uow, state, used);
  }
}

/**
 * A soft overdraft limit lets a spend pass it, and says so: overdraft.limit_passed when the
 * account's use past zero (debt and holds) goes from within the limit to beyond it.
 */
async function alertSoftLimit(uow: UnitOfWork, state: AccountState, before: number) {
  const limit = await overdraftOf(uow, state.account, state.subscription);
  const after = state.account.debt + state.account.overdraftHeld;
  if (limit.mode !== 'soft' || before > limit.limit || after <= limit.limit) return;
  await uow.outbox.emit(state.account.id, 'overdraft.limit_passed', {
    limit: limit.limit,
    debt: state.account.debt,
    held: state.account.overdraftHeld,
    over: after - limit.limit,
  });
}

/**
 * Writes a hold as its step planned it: takes the draws from their grants, inserts the hold,
 * moves its budgets and raises their alerts, and journals it. Returns the hold transaction's id.
 * `detail` adds to the transaction's detail (a request batch's hold names its batch and item).
 */
export async function writeHold(
  uow: UnitOfWork,
  state: AccountState,
  h: Hold,
  step: SpendStep,
  key: string,
  detail: { readonly batch?: HoldBatchRef } = {},
): Promise<string> {
  await takeDraws(uow, state, step, 'hold');
  await uow.insertHold(h);
  await applyBudgetCount(uow, state, step);
  return uow.append(h.accountId, {
    kind: 'hold',
    idempotencyKey: key,
    holdId: h.id,
    catalogVersion: h.catalogVersion,
    detail: {
      credits: h.credits,
      attribution: h.attribution,
      lines: h.quote?.lines ?? [],
      ...detail,
      expiresAt: h.expiresAt,
    },
    entries: step.entries.map((e) => ({ ...e, holdId: h.id })),
  });
}
