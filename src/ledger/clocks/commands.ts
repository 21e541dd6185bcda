import { AmisiError } from '../../core/errors.js';
import type { TestClock } from '../../core/clocks.js';
import type { Grant } from '../../core/grants.js';
import { announceExpiring } from '../webhooks/commands.js';
import type { UnitOfWork } from '../unit-of-work.js';

/** grant.expiring is announced this long ahead (as the scheduler does in real time). */
const EXPIRING_WITHIN_MS = 7 * 86_400_000;

export interface CreateClockInput {
  readonly id: string;
  readonly name: string | null;
  /** The clock's first time (at or after real time). */
  readonly startsAt: number;
}

/**
 * Makes a test clock, idempotent by its id: the same id with the same name and start answers
 * the clock (a replay); with others it is refused.
 */
export async function createClock(
  uow: UnitOfWork,
  input: CreateClockInput,
): Promise<{ clock: TestClock; replay: boolean }> {
  const clock: TestClock = {
    id: input.id,
    name: input.name,
    now: input.startsAt,
    createdAt: uow.now,
    advancedAt: null,
  };
  if (await uow.insertTestClock(clock)) return { clock, replay: false };
  const existing = await uow.read.get('test_clocks', { id: input.id });
  if (existing && existing.name === input.name && existing.advancedAt === null) {
    if (existing.now === input.startsAt) return { clock: existing, replay: true };
  }
  throw new AmisiError('test_clock_exists', `test clock "${input.id}" exists`, {
    testClockId: input.id,
  });
}

/**
 * One step of an advance: the clock's time becomes `to`. It runs in the clock's commit group
 * (the row locked, at the clock's time before the step), so no command of its accounts runs
 * between the move and the maintenance that follows at the new time.
 */
export async function moveClock(
  uow: UnitOfWork,
  clockId: string,
  to: number,
  wallNow: number,
): Promise<void> {
  if (to <= uow.now) return;
  await uow.moveTestClock(clockId, to, wallNow);
}

/**
 * What the scheduler does for a real account, for one account on a test clock at the clock's
 * time: what is due settles on load (renewals and rollover, expiries, hold ttls, budget
 * periods, in order), then grant.expiring for its grants that expire within 7 days.
 */
export async function maintainOnClock(uow: UnitOfWork, accountId: string): Promise<number> {
  const state = await uow.account(accountId);
  const soon: Grant[] = [...state.grants.values()].filter(
    (g) =>
      g.remaining > 0 &&
      g.expiresAt !== null &&
      g.expiresAt > uow.now &&
      g.expiresAt <= uow.now + EXPIRING_WITHIN_MS,
  );
  return soon.length > 0 ? announceExpiring(uow, accountId, soon) : 0;
}
