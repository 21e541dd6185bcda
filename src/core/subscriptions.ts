import { cycleStart } from './cycles.js';
import { assert } from './errors.js';
import { isExpired, type Grant } from './grants.js';
import type { Plan } from './catalog.js';
import { prorate } from './proration.js';
import { planRollover, type RolloverBalance, type RolloverPlan } from './rollover.js';

export interface Subscription {
  readonly accountId: string;
  readonly id: string;
  readonly plan: string;
  /** A downgrade waiting for the next renewal. */
  readonly pendingPlan: string | null;
  readonly anchorAt: number;
  /** The cycle whose allocation is granted. */
  readonly cycleIndex: number;
  readonly nextRenewalAt: number;
  readonly status: 'active' | 'ended';
  /** Set by cancel: the plan ends at this boundary (the end of the current cycle). */
  readonly cancelAt: number | null;
  readonly allocationGrantId: string | null;
  readonly createdAt: number;
  /**
   * The payment provider's subscription (Stripe: sub_...) when the plan is billed there; null
   * when the operator bills it (the manual provider). Plan changes are passed on to it.
   */
  readonly providerRef: string | null;
}

/** Rollover credits expire this many cycles after they were rolled over (PRODUCT.md). */
export const DEFAULT_ROLLOVER_CYCLES = 3;

export interface RenewalPlan {
  /** The boundary this renewal happens at (start of the next cycle). */
  readonly at: number;
  readonly nextCycle: number;
  readonly rollover: RolloverPlan;
  /** When the new rollover grant expires (rolloverCycles cycles later). */
  readonly rolloverExpiresAt: number;
  /** The new cycle's allocation (0 when the subscription ends here). */
  readonly allocation: number;
  readonly allocationExpiresAt: number;
  readonly plan: string;
  readonly ends: boolean;
}

/**
 * The renewal at the subscription's next boundary. The cycle that starts is the next plan's
 * (the pending downgrade's if one waits, else the current one's), so its rules apply to what is
 * kept into it: the ending allocation's unused credits roll over within the next plan's cap on
 * the total rollover balance (oldest rollover trimmed first), the rolled credits expire after
 * the next plan's rolloverCycles, and the rest expires; the new cycle's allocation is the next
 * plan's. A cancelled subscription ends here with no rollover and no new allocation. Pure.
 */
export function planRenewal(
  sub: Subscription,
  plans: Readonly<Record<string, Plan>>,
  unused: number,
  rollovers: readonly RolloverBalance[],
): RenewalPlan {
  assert(sub.status === 'active', 'only active subscriptions renew');
  assert(plans[sub.plan], `plan ${sub.plan} is in the catalog`);
  const at = sub.nextRenewalAt;
  const nextCycle = sub.cycleIndex + 1;
  const ends = sub.cancelAt !== null && sub.cancelAt <= at;
  const nextPlanId = sub.pendingPlan ?? sub.plan;
  const next = plans[nextPlanId];
  assert(next, `plan ${nextPlanId} is in the catalog`);
  const rollover = ends
    ? { rolled: 0, expired: unused, trims: [] }
    : planRollover(unused, rollovers, next.rolloverCap);
  return {
    at,
    nextCycle,
    rollover,
    rolloverExpiresAt: cycleStart(sub.anchorAt, nextCycle + next.rolloverCycles),
    allocation: ends ? 0 : next.creditsPerCycle,
    allocationExpiresAt: cycleStart(sub.anchorAt, nextCycle + 1),
    plan: nextPlanId,
    ends,
  };
}

export interface PlanChange {
  readonly kind: 'upgrade' | 'downgrade' | 'same';
  /** Upgrade: prorated price difference charged now (cents, half up). */
  readonly chargeCents: number;
  /** Upgrade: prorated allocation difference granted now (credits, half up). */
  readonly credits: number;
  readonly cycleEndsAt: number;
}

/**
 * An upgrade (a dearer plan) takes effect at once: the price difference and the allocation
 * difference for the rest of the cycle are prorated the same way (prorate: half up). A cheaper
 * plan is a downgrade, taking effect at the next renewal. Pure.
 */
export function planChange(sub: Subscription, from: Plan, to: Plan, now: number): PlanChange {
  const start = cycleStart(sub.anchorAt, sub.cycleIndex);
  const end = sub.nextRenewalAt;
  assert(start <= now && now < end, 'a plan change happens inside the current cycle');
  if (to.priceCents === from.priceCents && to.creditsPerCycle === from.creditsPerCycle) {
    return { kind: 'same', chargeCents: 0, credits: 0, cycleEndsAt: end };
  }
  if (
    to.priceCents < from.priceCents ||
    (to.priceCents === from.priceCents && to.creditsPerCycle < from.creditsPerCycle)
  ) {
    return { kind: 'downgrade', chargeCents: 0, credits: 0, cycleEndsAt: end };
  }
  const remaining = end - now;
  const length = end - start;
  return {
    kind: 'upgrade',
    chargeCents: prorate(to.priceCents - from.priceCents, remaining, length),
    credits: prorate(Math.max(0, to.creditsPerCycle - from.creditsPerCycle), remaining, length),
    cycleEndsAt: end,
  };
}

/** An allocation grant of the cycle that ends at `at` (renewal rolls these over). */
export function isCycleAllocation(g: Pick<Grant, 'source' | 'expiresAt'>, at: number): boolean {
  return g.source === 'allocation' && g.expiresAt === at;
}

/**
 * What of each grant the next renewal keeps as rollover, were it now (planRenewal over the
 * grants as they are): the cycle's allocation grants, which end at the renewal, roll their
 * unused credits over within the next plan's cap (the rest of them expires), counted against
 * the allocation grants oldest first. Empty without an active plan the catalog sells, and for
 * a plan that ends at the renewal (nothing rolls over then).
 */
export function rolloverAtRenewal(
  sub: Subscription | undefined,
  plans: Readonly<Record<string, Plan>>,
  grants: readonly Grant[],
): Map<string, number> {
  const out = new Map<string, number>();
  if (sub?.status !== 'active') return out;
  if (!Object.hasOwn(plans, sub.plan) || !Object.hasOwn(plans, sub.pendingPlan ?? sub.plan)) {
    return out;
  }
  const at = sub.nextRenewalAt;
  const allocations = grants
    .filter((g) => isCycleAllocation(g, at) && g.remaining > 0)
    .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  const unused = allocations.reduce((sum, g) => sum + g.remaining, 0);
  const rollovers = grants
    .filter((g) => g.source === 'rollover' && g.remaining > 0 && !isExpired(g, at))
    .map((g) => ({ grantId: g.id, remaining: g.remaining, createdAt: g.createdAt }));
  let left = planRenewal(sub, plans, unused, rollovers).rollover.rolled;
  for (const g of allocations) {
    const rolled = Math.min(left, g.remaining);
    if (rolled > 0) out.set(g.id, rolled);
    left -= rolled;
  }
  return out;
}
