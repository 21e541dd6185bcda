import { isExpired, type Grant } from '../../core/grants.js';
import type { Hold } from '../../core/holds.js';
import type { Entry } from '../../core/journal.js';
import { isCycleAllocation, planRenewal, type Subscription } from '../../core/subscriptions.js';
import { expireGrants, expireHold } from '../expiry/expiry.js';
import type { AccountState, UnitOfWork } from '../unit-of-work.js';

/**
 * Settles what is due in the account, in time order: at each subscription boundary up to now,
 * first the holds and grants that expired before it, then the renewal; then what expired
 * since the last boundary. Each is dated when it was due (a hold at its ttl's end, a grant at
 * its expiry, a renewal at its boundary), so renewing after downtime does, and reports, exactly
 * what renewing on time would have. The unit of work runs it on an account's first access.
 */
export async function settleDue(
  uow: UnitOfWork,
  state: AccountState,
  due: readonly Hold[],
): Promise<void> {
  const holds = [...due].sort((a, b) => a.expiresAt - b.expiresAt);
  for (;;) {
    const sub = state.subscription;
    if (!sub || sub.status !== 'active' || sub.nextRenewalAt > uow.now) break;
    const at = sub.nextRenewalAt;
    while (holds.length > 0 && holds[0]!.expiresAt <= at)
      await expireHold(uow, state, holds.shift()!);
    await expireGrants(uow, state, at, (g) => isCycleAllocation(g, at));
    await renew(uow, state, sub);
  }
  for (const hold of holds) await expireHold(uow, state, hold);
  await expireGrants(uow, state, uow.now, () => false);
}

/**
 * The journal entries that end the cycle's allocation and trim rollover past the cap (each
 * grant's balance set as it goes), and the rollover grant the renewal makes, if any.
 */
async function closeCycle(
  uow: UnitOfWork,
  state: AccountState,
  allocations: readonly Grant[],
  plan: ReturnType<typeof planRenewal>,
  at: number,
): Promise<Entry[]> {
  const entries: Entry[] = [];
  for (const g of allocations) {
    entries.push({ book: 'grant', grantId: g.id, holdId: null, credits: -g.remaining });
    await uow.setRemaining(state, g, 0);
  }
  if (plan.rollover.expired > 0) {
    entries.push({ book: 'breakage', grantId: null, holdId: null, credits: plan.rollover.expired });
  }
  for (const t of plan.rollover.trims) {
    const g = await uow.grant(state, t.grantId);
    entries.push({ book: 'grant', grantId: g.id, holdId: null, credits: -t.credits });
    entries.push({ book: 'breakage', grantId: g.id, holdId: null, credits: t.credits });
    await uow.setRemaining(state, g, g.remaining - t.credits);
  }
  if (plan.rollover.rolled > 0) {
    const accountId = state.account.id;
    const rolled = uow.newGrant(
      accountId,
      'rollover',
      plan.rollover.rolled,
      at,
      plan.rolloverExpiresAt,
    );
    await uow.insertGrant(state, rolled);
    entries.push({ book: 'grant', grantId: rolled.id, holdId: null, credits: rolled.amount });
  }
  return entries;
}

/** One renewal at the subscription's next boundary (see core/subscriptions.ts planRenewal). */
async function renew(uow: UnitOfWork, state: AccountState, sub: Subscription): Promise<void> {
  const catalog = await uow.activeCatalog();
  const at = sub.nextRenewalAt;
  // The cycle's allocation: its grant and any upgrade's prorated grant, all ending at `at`.
  const allocations = [...state.grants.values()].filter(
    (g) => isCycleAllocation(g, at) && g.remaining > 0,
  );
  const unused = allocations.reduce((sum, g) => sum + g.remaining, 0);
  const rollovers = [...state.grants.values()]
    .filter((g) => g.source === 'rollover' && g.remaining > 0 && !isExpired(g, at))
    .map((g) => ({ grantId: g.id, remaining: g.remaining, createdAt: g.createdAt }));
  const plan = planRenewal(sub, catalog.body.plans, unused, rollovers);
  const accountId = state.account.id;
  const entries = await closeCycle(uow, state, allocations, plan, at);
  let allocationGrantId: string | null = null;
  if (plan.allocation > 0) {
    const next = uow.newGrant(
      accountId,
      'allocation',
      plan.allocation,
      at,
      plan.allocationExpiresAt,
    );
    entries.push(...(await uow.issueGrant(state, next)));
    allocationGrantId = next.id;
  }
  await uow.append(accountId, {
    kind: 'renewal',
    at,
    detail: {
      subscriptionId: sub.id,
      cycle: plan.nextCycle,
      at,
      plan: plan.plan,
      unused,
      rolled: plan.rollover.rolled,
      expired: plan.rollover.expired,
      trimmed: plan.rollover.trims.reduce((s, t) => s + t.credits, 0),
      allocation: plan.allocation,
      ended: plan.ends,
    },
    entries,
  });
  await uow.updateSubscription(state, {
    ...sub,
    plan: plan.plan,
    pendingPlan: null,
    cycleIndex: plan.nextCycle,
    nextRenewalAt: plan.allocationExpiresAt,
    status: plan.ends ? 'ended' : 'active',
    allocationGrantId,
  });
}
