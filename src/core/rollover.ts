import { assert } from './errors.js';

/** A rollover grant still holding credits at renewal time. */
export interface RolloverBalance {
  readonly grantId: string;
  readonly remaining: number;
  readonly createdAt: number;
}

export interface RolloverPlan {
  /** Credits of the ending allocation that become a new rollover grant. */
  readonly rolled: number;
  /** Credits of the ending allocation that expire (over the cap). */
  readonly expired: number;
  /** Credits trimmed from older rollover grants to make room, oldest first. */
  readonly trims: readonly { readonly grantId: string; readonly credits: number }[];
}

/**
 * At renewal, the unused allocation rolls over within the plan's cap on the total rollover
 * balance. The newest credits are kept: older rollover grants are trimmed first (oldest first)
 * to make room, and only what still does not fit expires. Pure.
 */
export function planRollover(
  unused: number,
  existing: readonly RolloverBalance[],
  cap: number,
): RolloverPlan {
  assert(Number.isSafeInteger(unused) && unused >= 0, 'unused is a non-negative integer');
  assert(Number.isSafeInteger(cap) && cap >= 0, 'cap is a non-negative integer');
  const rolled = Math.min(unused, cap);
  const held = existing.reduce((s, g) => s + g.remaining, 0);
  let excess = Math.max(0, held + rolled - cap);
  const trims: { grantId: string; credits: number }[] = [];
  const oldestFirst = [...existing].sort((a, b) =>
    a.createdAt !== b.createdAt ? a.createdAt - b.createdAt : a.grantId < b.grantId ? -1 : 1,
  );
  for (const g of oldestFirst) {
    if (excess === 0) break;
    const take = Math.min(g.remaining, excess);
    if (take > 0) trims.push({ grantId: g.grantId, credits: take });
    excess -= take;
  }
  assert(excess === 0, 'trims make room for the rolled credits');
  const after = held - trims.reduce((s, t) => s + t.credits, 0) + rolled;
  assert(after <= cap, 'the rollover balance stays within the cap');
  return { rolled, expired: unused - rolled, trims };
}
