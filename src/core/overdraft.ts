import { assert } from './errors.js';

/**
 * Overdraft: how far below zero an account's available credits may go. The operator sets a
 * limit per account or per plan in the catalog (none by default: 0, as before). Holds and
 * charges may draw into it once the account's spendable credits are used up. What a hold
 * reserves past zero is `overdraftHeld`; what a charge or a capture takes past zero is `debt`,
 * owed, and the next credits the account receives pay it first (a `repayment` in the journal)
 * before anything else can be spent. In the journal the `overdraft` book is what the account
 * has drawn past zero: minus (debt + overdraftHeld).
 */

export const OVERDRAFT_MODES = ['hard', 'soft'] as const;
/**
 * hard: a spend past the limit is refused (overdraft_limit_reached); soft: it is allowed (the
 * limit is a line the balance measures against, not a stop).
 */
export type OverdraftMode = (typeof OVERDRAFT_MODES)[number];

/** The limit and mode in force for an account (its own, else its plan's, else none). */
export interface OverdraftLimit {
  readonly limit: number;
  readonly mode: OverdraftMode;
}

export const NO_OVERDRAFT_LIMIT: OverdraftLimit = Object.freeze({ limit: 0, mode: 'hard' });

/** An account's overdraft as stored on its row. */
export interface OverdraftState {
  /** The operator's limit for this account; null: the plan's (none without a plan limit). */
  readonly overdraftLimit: number | null;
  readonly overdraftMode: OverdraftMode | null;
  /** Credits captured or charged past zero: owed, paid first by the next grant. */
  readonly debt: number;
  /** Credits open holds reserve past zero (owed only once captured). */
  readonly overdraftHeld: number;
}

/** A new account's overdraft: no limit of its own, nothing owed or held past zero. */
export const NO_OVERDRAFT: OverdraftState = Object.freeze({
  overdraftLimit: null,
  overdraftMode: null,
  debt: 0,
  overdraftHeld: 0,
});

/** The overdraft counters of an account row (nothing owed when the account is gone). */
export function overdraftState(row: OverdraftState | null | undefined): OverdraftState {
  if (!row) return NO_OVERDRAFT;
  const { overdraftLimit, overdraftMode, debt, overdraftHeld } = row;
  return { overdraftLimit, overdraftMode, debt, overdraftHeld };
}

/** The limit in force: the account's own when set, else its plan's, else none. */
export function overdraftInForce(
  account: OverdraftState,
  plan: Partial<OverdraftLimit> | undefined,
): OverdraftLimit {
  if (account.overdraftLimit !== null) {
    return { limit: account.overdraftLimit, mode: account.overdraftMode ?? 'hard' };
  }
  if (plan?.limit !== undefined) return { limit: plan.limit, mode: plan.mode ?? 'hard' };
  return NO_OVERDRAFT_LIMIT;
}

/** What a spend sees of the overdraft: the limit in force and what is used of it. */
export interface SpendOverdraft extends OverdraftLimit {
  readonly debt: number;
  readonly held: number;
}

/** Credits a hard limit still lets the account draw past zero (a soft one has no end). */
export function overdraftRoom(o: SpendOverdraft): number {
  if (o.mode === 'soft') return Number.MAX_SAFE_INTEGER;
  return Math.max(0, o.limit - o.debt - o.held);
}

/** An account's overdraft as reports show it. */
export interface OverdraftView {
  /** The limit in force (0: none) and whose it is. */
  readonly limit: number;
  readonly mode: OverdraftMode;
  readonly from: 'account' | 'plan' | 'none';
  readonly debt: number;
  readonly held: number;
  /** What a hard limit still allows past zero; for a soft limit, what is left before it. */
  readonly remaining: number;
}

export function overdraftView(
  account: OverdraftState,
  plan: Partial<OverdraftLimit> | undefined,
): OverdraftView {
  const inForce = overdraftInForce(account, plan);
  const from =
    account.overdraftLimit !== null ? 'account' : plan?.limit !== undefined ? 'plan' : 'none';
  return {
    limit: inForce.limit,
    mode: inForce.mode,
    from,
    debt: account.debt,
    held: account.overdraftHeld,
    remaining: Math.max(0, inForce.limit - account.debt - account.overdraftHeld),
  };
}

/** A new overdraft state after a change (asserts the counters stay whole and non-negative). */
export function moveOverdraft(
  o: OverdraftState,
  change: { readonly debt?: number; readonly held?: number },
): OverdraftState {
  const debt = o.debt + (change.debt ?? 0);
  const held = o.overdraftHeld + (change.held ?? 0);
  assert(Number.isSafeInteger(debt) && debt >= 0, 'debt stays a non-negative integer');
  assert(Number.isSafeInteger(held) && held >= 0, 'overdraft held stays a non-negative integer');
  return { ...o, debt, overdraftHeld: held };
}
