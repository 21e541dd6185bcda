/**
 * Test clocks: an operator's simulated time for the accounts made on it. Every command on a
 * clocked account runs at the clock's time (its journal records clock time); advancing the
 * clock runs what is due in between, in steps, for those accounts only. Pure: types and limits.
 */

export interface TestClock {
  readonly id: string;
  readonly name: string | null;
  /** The clock's time: what "now" is for its accounts. */
  readonly now: number;
  readonly createdAt: number;
  /** When it was last advanced (wall time); null: never. */
  readonly advancedAt: number | null;
}

const DAY = 86_400_000;

/** An advance runs what is due one step at a time, so daily events (grant.expiring) fire on their day. */
export const TEST_CLOCK_STEP_MS = DAY;
/** Most one advance may move a clock: two years (a longer simulation advances again). */
export const TEST_CLOCK_MAX_ADVANCE_MS = 731 * DAY;
/** Most accounts on one clock: an advance maintains every one at every step. */
export const TEST_CLOCK_MAX_ACCOUNTS = 100;

/** The times an advance from `from` to `to` stops at: each step, then `to`. */
export function advanceSteps(from: number, to: number): number[] {
  const steps: number[] = [];
  for (let t = from + TEST_CLOCK_STEP_MS; t < to; t += TEST_CLOCK_STEP_MS) steps.push(t);
  steps.push(to);
  return steps;
}
