import { own, type Catalog, type Plan } from '../../core/catalog.js';
import { cycleStart } from '../../core/cycles.js';
import { AmisiError, assert } from '../../core/errors.js';
import { isSubscriptionChange, type SubscriptionChange } from '../../core/journal-detail.js';
import type { Entry, JournalTransaction } from '../../core/journal.js';
import { planChange, type Subscription } from '../../core/subscriptions.js';
import type { AccountState, UnitOfWork } from '../unit-of-work.js';
import { giveTrial } from '../accounts/trial.js';
import { once, type Replayable } from '../idempotency.js';
import { createAccount } from '../accounts/commands.js';
import type { AccountView } from '../store.js';
import { loadTeam } from '../teams/budgets.js';
import { activeCatalog } from '../reads.js';
import { quote, type QuoteItemRequest } from '../../core/quote.js';
import { seatsOf } from '../../core/teams.js';

/** Subscribe, change plan, cancel: load -> decide (core/subscriptions.ts) -> apply. */

export interface SubscriptionResult {
  readonly subscription: Subscription;
  readonly transactionId: string;
  /** Upgrade: the prorated price difference due now, in minor units of the catalog currency. */
  readonly chargeCents: number;
  readonly currency: string;
  /** Credits granted now (first allocation, or an upgrade's prorated difference). */
  readonly credits: number;
  readonly change: SubscriptionChange;
}

/** The plan of this catalog, or invalid_parameter naming the plans there are. */
export function planIn(catalog: Catalog, planId: string): Plan {
  const plan = own(catalog.plans, planId);
  if (!plan) {
    throw new AmisiError('invalid_parameter', `unknown plan "${planId}"`, {
      parameter: 'plan',
      value: planId,
      allowed: Object.keys(catalog.plans),
    });
  }
  return plan;
}

export async function planOf(
  uow: UnitOfWork,
  planId: string,
): Promise<{ plan: Plan; currency: string }> {
  const { body } = await uow.activeCatalog();
  return { plan: planIn(body, planId), currency: body.currency };
}

export function activeOrRefuse(state: AccountState): Subscription {
  const sub = state.subscription;
  if (!sub || sub.status !== 'active') {
    throw new AmisiError('no_subscription', `account ${state.account.id} has no active plan`, {
      accountId: state.account.id,
    });
  }
  return sub;
}

/** What a replay answers: the subscription as this transaction left it (kept in its detail). */
export function fromTransaction(t: JournalTransaction): SubscriptionResult {
  assert(
    (t.kind === 'renewal' || t.kind === 'plan_change') && isSubscriptionChange(t.detail),
    `transaction ${t.id} records a subscription change`,
  );
  const { subscription } = t.detail;
  // Rows written before plans could be billed through a provider name none.
  const providerRef = subscription.providerRef ?? null;
  return { ...t.detail, subscription: { ...subscription, providerRef }, transactionId: t.id };
}

export interface OpenAccountInput {
  readonly accountId: string;
  /** Subscribe it to this plan (by `key`), or null for an account without a plan. */
  readonly plan: string | null;
  readonly key: string;
  /** Made on this test clock (null: real time). */
  readonly testClockId?: string | null;
}

export interface OpenedAccount {
  /** The account, with the plan of its active subscription. */
  readonly account: AccountView;
  /** The subscription made (or replayed) for `plan`; null without a plan. */
  readonly subscription: Replayable<SubscriptionResult> | null;
}

/**
 * Creates an account (idempotent by its id) and, with a plan, subscribes it through `subscribe`
 * by `key`: the plan starts now with its first cycle's credits, as `subscribe` would. The plan is
 * checked before anything is written, so nothing is refused after the account is made. The
 * same request again (the same key, within its retention) is a replay; an account that existed
 * before, under any other key, is account_exists (subscribe or change its plan instead).
 */
export async function openAccount(
  uow: UnitOfWork,
  input: OpenAccountInput,
): Promise<Replayable<OpenedAccount>> {
  if (input.plan !== null) await planOf(uow, input.plan);
  const created = await createAccount(uow, {
    accountId: input.accountId,
    testClockId: input.testClockId ?? null,
  });
  // A plan is for a new account. An account that was there before, whose key is not this
  // request's (another key, or one forgotten after the retention), is not subscribed again: a
  // provisioning script run a second time months later must not grant a new first cycle.
  // created.replay means nothing was written, so refusing here changes nothing.
  if (
    input.plan !== null &&
    created.replay &&
    (await uow.getIdempotency(input.accountId, input.key)) === undefined
  ) {
    throw new AmisiError(
      'account_exists',
      `account ${input.accountId} already exists, and a plan given at creation is for a new account: subscribe it, or change its plan`,
      { accountId: input.accountId },
    );
  }
  if (!created.replay) await giveTrial(uow, input.accountId, 'creation');
  const subscription =
    input.plan === null
      ? null
      : await subscribe(uow, { accountId: input.accountId, key: input.key, plan: input.plan });
  const state = await uow.account(input.accountId);
  const active = state.subscription?.status === 'active' ? state.subscription.plan : null;
  return {
    account: { ...created.account, plan: active },
    subscription,
    replay: created.replay && (subscription === null || subscription.replay),
  };
}

/**
 * An account named for the first time by a hold, charge or grant (accounts on first use), in
 * that command's unit of work, before it: made with its trial and the catalog's default plan (a
 * free plan, the catalog checks), as a creation with that plan would be. The request's items
 * are priced first, so bad input makes nothing. What it writes has no idempotency key of its
 * own (like the maintenance a load runs), so the command may still refuse after it (for
 * credits): the account stays made. An account that exists is left as it is.
 */
export async function openOnFirstUse(
  uow: UnitOfWork,
  accountId: string,
  items: readonly QuoteItemRequest[] | undefined,
): Promise<void> {
  const [existing] = await uow.read.lockAccounts([accountId]);
  if (existing) return;
  const catalog = await activeCatalog(uow.read);
  if (items !== undefined) {
    if (!catalog) throw new AmisiError('not_initialized', 'no catalog is loaded', {});
    quote(catalog.body, items);
  }
  const created = await createAccount(uow, { accountId });
  if (created.replay) return;
  await giveTrial(uow, accountId, 'creation');
  const planId = catalog?.body.defaultPlan;
  if (planId === undefined) return;
  const { plan, currency } = await planOf(uow, planId);
  const state = await uow.account(accountId);
  await startPlan(
    uow,
    state,
    { accountId, key: null, plan: planId },
    { plan, currency, anchorAt: uow.now },
  );
}

export interface SubscribeInput {
  readonly accountId: string;
  readonly key: string;
  readonly plan: string;
  /** When the first cycle starts (default now; a past start catches up at once). */
  readonly startsAt?: number;
  /** The provider's subscription, when the plan is billed through a payment provider. */
  readonly providerRef?: string;
}

export async function subscribe(
  uow: UnitOfWork,
  input: SubscribeInput,
): Promise<Replayable<SubscriptionResult>> {
  const state = await uow.account(input.accountId);
  const { key, ...request } = input;
  return once(
    uow,
    input.accountId,
    key,
    { op: 'subscribe', ...request },
    async () => {
      if (state.subscription?.status === 'active') {
        throw new AmisiError(
          'subscription_exists',
          `account ${input.accountId} already has a plan`,
          {
            accountId: input.accountId,
            plan: state.subscription.plan,
          },
        );
      }
      const { plan, currency } = await planOf(uow, input.plan);
      if (state.account.kind === 'organization') {
        await refuseFewerSeats(uow, state, input.plan, plan);
      }
      const anchorAt = input.startsAt ?? uow.now;
      if (anchorAt > uow.now) {
        throw new AmisiError('invalid_argument', 'a subscription cannot start in the future', {
          field: 'start',
          value: anchorAt,
        });
      }
      // Decided: from here on, only writes.
      return startPlan(uow, state, input, { plan, currency, anchorAt });
    },
    async (t) => fromTransaction(t),
  );
}

/** Writes a subscription its command decided on: its first cycle's allocation and its row. */
async function startPlan(
  uow: UnitOfWork,
  state: AccountState,
  input: Omit<SubscribeInput, 'key'> & { readonly key: string | null },
  decided: { readonly plan: Plan; readonly currency: string; readonly anchorAt: number },
): Promise<SubscriptionResult> {
  const { plan, currency, anchorAt } = decided;
  const entries: Entry[] = [];
  let allocationGrantId: string | null = null;
  if (plan.creditsPerCycle > 0) {
    const g = uow.newGrant(
      input.accountId,
      'allocation',
      plan.creditsPerCycle,
      anchorAt,
      cycleStart(anchorAt, 1),
    );
    entries.push(...(await uow.issueGrant(state, g)));
    allocationGrantId = g.id;
  }
  const subscription: Subscription = {
    accountId: input.accountId,
    id: uow.newId('sub'),
    plan: input.plan,
    pendingPlan: null,
    anchorAt,
    cycleIndex: 0,
    nextRenewalAt: cycleStart(anchorAt, 1),
    status: 'active',
    cancelAt: null,
    allocationGrantId,
    createdAt: uow.now,
    providerRef: input.providerRef ?? null,
  };
  await uow.insertSubscription(state, subscription);
  const result = {
    subscription,
    chargeCents: 0,
    currency,
    credits: plan.creditsPerCycle,
    change: 'subscribe' as const,
  };
  const transactionId = await uow.append(input.accountId, {
    kind: entries.length > 0 ? 'renewal' : 'plan_change',
    // Dated at the start it settles: a plan started in the past grants its first cycle's
    // allocation in that cycle (the catch-up renewals that follow are dated alike).
    at: anchorAt,
    idempotencyKey: input.key,
    detail: result,
    entries,
  });
  await giveTrial(uow, input.accountId, 'subscription');
  return { ...result, transactionId };
}

export interface ChangePlanInput {
  readonly accountId: string;
  readonly key: string;
  /** The new plan, or null to cancel at the end of the cycle. */
  readonly plan: string | null;
}

export async function changePlan(
  uow: UnitOfWork,
  input: ChangePlanInput,
): Promise<Replayable<SubscriptionResult>> {
  const state = await uow.account(input.accountId);
  const { key, ...request } = input;
  return once(
    uow,
    input.accountId,
    key,
    { op: 'change_plan', ...request },
    async () => {
      const sub = activeOrRefuse(state);
      const current = await planOf(uow, sub.plan);
      const currency = current.currency;
      if (input.plan === null) {
        const subscription: Subscription = {
          ...sub,
          cancelAt: sub.nextRenewalAt,
          pendingPlan: null,
        };
        return record(
          uow,
          state,
          key,
          { subscription, chargeCents: 0, currency, credits: 0, change: 'cancel' },
          [],
        );
      }
      const target = await planOf(uow, input.plan);
      if (state.account.kind === 'organization' && input.plan !== sub.plan) {
        await refuseFewerSeats(uow, state, input.plan, target.plan);
      }
      const change = planChange(sub, current.plan, target.plan, uow.now);
      if (change.kind === 'same' || input.plan === sub.plan) {
        const subscription: Subscription = { ...sub, pendingPlan: null, cancelAt: null };
        return record(
          uow,
          state,
          key,
          { subscription, chargeCents: 0, currency, credits: 0, change: 'unchanged' },
          [],
        );
      }
      if (change.kind === 'downgrade') {
        const subscription: Subscription = { ...sub, pendingPlan: input.plan, cancelAt: null };
        return record(
          uow,
          state,
          key,
          { subscription, chargeCents: 0, currency, credits: 0, change: 'downgrade' },
          [],
        );
      }
      return upgrade(uow, state, { key, plan: input.plan, sub, change, currency });
    },
    async (t) => fromTransaction(t),
  );
}

/** An upgrade takes effect at once; the prorated allocation difference expires with the cycle. */
export async function upgrade(
  uow: UnitOfWork,
  state: AccountState,
  decided: {
    readonly key: string;
    readonly plan: string;
    readonly sub: Subscription;
    readonly change: {
      readonly credits: number;
      readonly chargeCents: number;
      readonly cycleEndsAt: number;
    };
    readonly currency: string;
  },
): Promise<SubscriptionResult> {
  const { key, sub, change, currency } = decided;
  const entries: Entry[] = [];
  if (change.credits > 0) {
    const g = uow.newGrant(
      state.account.id,
      'allocation',
      change.credits,
      uow.now,
      change.cycleEndsAt,
    );
    entries.push(...(await uow.issueGrant(state, g)));
  }
  const subscription: Subscription = {
    ...sub,
    plan: decided.plan,
    pendingPlan: null,
    cancelAt: null,
  };
  return record(
    uow,
    state,
    key,
    {
      subscription,
      chargeCents: change.chargeCents,
      currency,
      credits: change.credits,
      change: 'upgrade',
    },
    entries,
  );
}

/** An organization cannot move to a plan with fewer seats than it has members. */
export async function refuseFewerSeats(
  uow: UnitOfWork,
  state: AccountState,
  planId: string,
  plan: Plan,
): Promise<void> {
  const members = (await loadTeam(uow, state)).members.size;
  const seats = seatsOf(plan);
  if (members <= seats) return;
  const accountId = state.account.id;
  throw new AmisiError(
    'seat_limit_reached',
    `organization ${accountId} has ${members} members and plan "${planId}" ` +
      (plan.teamAccess ? `has ${seats} seats` : 'has no team access (the owner alone)') +
      `: remove ${members - seats} member${members - seats === 1 ? '' : 's'} first`,
    { accountId, plan: planId, members, seats, teamAccess: plan.teamAccess },
  );
}

async function record(
  uow: UnitOfWork,
  state: AccountState,
  key: string,
  result: Omit<SubscriptionResult, 'transactionId'>,
  entries: Entry[],
): Promise<SubscriptionResult> {
  await uow.updateSubscription(state, result.subscription);
  const transactionId = await uow.append(state.account.id, {
    kind: 'plan_change',
    idempotencyKey: key,
    detail: result,
    entries,
  });
  return { ...result, transactionId };
}
