/**
 * Overdraft: how far below zero an account's available credits may go. The operator sets a
 * limit per account or per plan (0 by default: no overdraft). Holds and charges may draw into
 * it; what a capture or charge draws past zero is a debt that the next grant pays first.
 */

export const OVERDRAFT_MODES = ['hard', 'soft'] as const;
/** hard: refused past the limit; soft: allowed past it, with an alert when it is passed. */
export type OverdraftMode = (typeof OVERDRAFT_MODES)[number];

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
