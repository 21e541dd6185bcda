import { NO_OVERDRAFT, type OverdraftMode } from '../../core/overdraft.js';
import { overdraftOf } from '../credits/spend.js';
import { AmisiError, assert } from '../../core/errors.js';
import { TEST_CLOCK_MAX_ACCOUNTS } from '../../core/clocks.js';
import type { UnitOfWork } from '../unit-of-work.js';
import type { AccountRecord } from '../store.js';
import type { Replayable } from '../idempotency.js';

/** Account commands: creating an account (idempotent by its id) and its lazy maintenance. */

export interface CreateAccountInput {
  readonly accountId: string;
  /** Made on this test clock (its time is the clock's from now on); default real time. */
  readonly testClockId?: string | null;
}

/**
 * The same id again is the same account, unless it is an organization (a different thing) or
 * on another clock.
 */
function sameAccount(existing: AccountRecord, input: CreateAccountInput) {
  if (existing.kind !== 'individual') {
    throw new AmisiError(
      'account_exists',
      `account "${input.accountId}" exists as an ${existing.kind}`,
      { accountId: input.accountId, kind: existing.kind },
    );
  }
  if (existing.testClockId !== (input.testClockId ?? null)) {
    throw new AmisiError(
      'account_exists',
      `account "${input.accountId}" exists ${existing.testClockId ? `on test clock ${existing.testClockId}` : 'in real time'}`,
      { accountId: input.accountId, testClockId: existing.testClockId },
    );
  }
  return { account: existing, replay: true };
}

/** Idempotent by its natural key: the same id again answers the account as a replay. */
export async function createAccount(
  uow: UnitOfWork,
  input: CreateAccountInput,
): Promise<Replayable<{ account: AccountRecord }>> {
  const [existing] = await uow.read.lockAccounts([input.accountId]);
  if (existing) return sameAccount(existing, input);
  const testClockId = input.testClockId ?? null;
  if (testClockId !== null) await refuseFullClock(uow, testClockId);
  const account: AccountRecord = {
    id: input.accountId,
    createdAt: uow.now,
    kind: 'individual',
    name: null,
    testClockId,
    ...NO_OVERDRAFT,
  };
  if (!(await uow.insertAccount(account))) {
    // Another process created it since we looked (PostgreSQL: no row existed to lock).
    const [raced] = await uow.read.lockAccounts([input.accountId]);
    assert(raced, `account ${input.accountId} exists after a conflicting insert`);
    return sameAccount(raced, input);
  }
  return { account, replay: false };
}

/** A test clock takes at most TEST_CLOCK_MAX_ACCOUNTS accounts (an advance maintains each). */
export async function refuseFullClock(uow: UnitOfWork, clockId: string): Promise<void> {
  const on = await uow.read.count('accounts', { testClockId: clockId });
  if (on >= TEST_CLOCK_MAX_ACCOUNTS) {
    throw new AmisiError(
      'invalid_argument',
      `test clock ${clockId} has ${on} accounts, the most one clock takes`,
      { field: 'testClock', testClockId: clockId, max: TEST_CLOCK_MAX_ACCOUNTS },
    );
  }
}

/** Runs the lazy expiry of one account (the sweep calls this for every account due). */
export async function maintain(uow: UnitOfWork, accountId: string): Promise<void> {
  await uow.account(accountId);
}

export interface SetOverdraftInput {
  readonly accountId: string;
  /** The account's own limit; null: the plan's again (none without a plan limit). */
  readonly limit: number | null;
  readonly mode: OverdraftMode | null;
}

/**
 * Sets the account's own overdraft limit (a replace, so no idempotency key: the same setting
 * twice is the same state). Refused while the limit that would be in force is below what is
 * already used of it (debt plus what open holds reserve past zero): lowering a limit never
 * turns credits already spent or reserved into a breach.
 */
export async function setOverdraft(uow: UnitOfWork, input: SetOverdraftInput) {
  const state = await uow.account(input.accountId);
  const setting = {
    overdraftLimit: input.limit,
    overdraftMode: input.limit === null ? null : (input.mode ?? 'hard'),
  };
  const next = { ...state.account, ...setting };
  const inForce = await overdraftOf(uow, next, state.subscription);
  const used = next.debt + next.overdraftHeld;
  if (inForce.limit < used) {
    throw new AmisiError(
      'overdraft_below_used',
      `an overdraft limit of ${inForce.limit} is below the ${used} credits already used past zero`,
      { limit: inForce.limit, debt: next.debt, held: next.overdraftHeld },
    );
  }
  uow.setOverdraftLimit(state, setting);
}
