import { NO_OVERDRAFT, type OverdraftMode } from '../../core/overdraft.js';
import { overdraftOf } from '../credits/spend.js';
import { AmisiError, assert } from '../../core/errors.js';
import type { UnitOfWork } from '../unit-of-work.js';
import type { AccountRecord } from '../store.js';
import type { Replayable } from '../idempotency.js';

/** Account commands: creating an account (idempotent by its id) and its lazy maintenance. */

export interface CreateAccountInput {
  readonly accountId: string;
}

/** The same id again is the same account, unless it is an organization (a different thing). */
function sameAccount(existing: AccountRecord, input: CreateAccountInput) {
  if (existing.kind === 'individual') return { account: existing, replay: true };
  throw new AmisiError(
    'account_exists',
    `account "${input.accountId}" exists as an ${existing.kind}`,
    { accountId: input.accountId, kind: existing.kind },
  );
}

/** Idempotent by its natural key: the same id again answers the account as a replay. */
export async function createAccount(
  uow: UnitOfWork,
  input: CreateAccountInput,
): Promise<Replayable<{ account: AccountRecord }>> {
  const [existing] = await uow.read.lockAccounts([input.accountId]);
  if (existing) return sameAccount(existing, input);
  const account: AccountRecord = {
    id: input.accountId,
    createdAt: uow.now,
    kind: 'individual',
    name: null,
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
