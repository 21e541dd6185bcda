import { AmisiError } from '../../core/errors.js';
import {
  outcomeOf,
  requireSpend,
  sameOutcome,
  type Outcome,
  type OutcomeKind,
} from '../../core/outcomes.js';
import type { UnitOfWork } from '../unit-of-work.js';
import type { Replayable } from '../idempotency.js';
import * as rollups from './rollups.js';

/** Commands behind reports: outcomes of charges, and rebuilding an account's rollups. */

export interface RecordOutcomeInput {
  readonly accountId: string;
  readonly transactionId: string;
  readonly outcome: OutcomeKind;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * Records what became of a charge or capture, idempotent by its natural key: the same outcome
 * and labels again is a replay; another outcome or other labels replace it (people change their
 * mind: a discarded image is kept after all).
 */
export async function recordOutcome(
  uow: UnitOfWork,
  input: RecordOutcomeInput,
): Promise<Replayable<{ outcome: Outcome }>> {
  await uow.account(input.accountId);
  const t = await uow.findTransaction(input.accountId, input.transactionId);
  if (!t) {
    throw new AmisiError(
      'unknown_transaction',
      `unknown transaction "${input.transactionId}" of ${input.accountId}`,
      { accountId: input.accountId, transactionId: input.transactionId },
    );
  }
  requireSpend(t);
  const existing = await uow.outcome(input.accountId, input.transactionId);
  if (existing && sameOutcome(existing, input)) return { outcome: existing, replay: true };
  const hold =
    t.kind !== 'charge' && t.holdId !== null ? await uow.hold(t.accountId, t.holdId) : undefined;
  const outcome = outcomeOf(t, hold?.quote?.lines ?? [], {
    outcome: input.outcome,
    labels: input.labels,
    recordedAt: uow.now,
  });
  uow.putOutcome(outcome);
  return { outcome, replay: false };
}

export interface RebuildResult {
  readonly accountId: string;
  /** Journal transactions read. */
  readonly transactions: number;
}

/** Recomputes the account's rollups from its journal, in one write transaction. */
export async function rebuildRollups(
  uow: UnitOfWork,
  accountId: string,
  onProgress?: (transactions: number) => void,
): Promise<RebuildResult> {
  const state = await uow.account(accountId);
  const transactions = await rollups.rebuildRollups(uow, state, onProgress);
  return { accountId, transactions };
}
