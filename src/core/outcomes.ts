import { AmisiError } from './errors.js';
import type { JournalTransaction } from './journal.js';
import type { QuoteLine } from './quote.js';
import { BY_CREDITS, spendOf } from './rollups.js';

/**
 * Outcomes: what became of a charged result (kept or discarded), with optional labels (concept,
 * phase, intended use...). One row per charge or capture, denormalized from its journal
 * transaction (credits, operation, resolution, units, member, project, time), so audits read
 * outcomes without reading the journal. Pure.
 */

export const OUTCOMES = ['kept', 'discarded'] as const;
export type OutcomeKind = (typeof OUTCOMES)[number];

/** The operation of a charge whose lines name several operations. */
export const MIXED = '(mixed)';

export interface Outcome {
  readonly accountId: string;
  /** The charge or capture this is the outcome of. */
  readonly transactionId: string;
  readonly outcome: OutcomeKind;
  readonly labels: Readonly<Record<string, string>>;
  /** Credits the transaction consumed. */
  readonly credits: number;
  /** The lines' one operation, MIXED for several, BY_CREDITS for a charge in credits. */
  readonly operation: string;
  /** The lines' one resolution, or null (none, or several). */
  readonly resolution: string | null;
  readonly units: number;
  readonly member: string | null;
  readonly project: string | null;
  /** When the charge or capture happened. */
  readonly createdAt: number;
  readonly recordedAt: number;
}

/** Outcomes are recorded for charges and captures only. */
export function requireSpend(t: JournalTransaction): void {
  if (t.kind !== 'charge' && t.kind !== 'capture' && t.kind !== 'partial_capture') {
    throw new AmisiError(
      'not_a_charge',
      `transaction ${t.id} of ${t.accountId} is a ${t.kind}: outcomes are recorded for charges and captures (whole or partial)`,
      { accountId: t.accountId, transactionId: t.id, kind: t.kind },
    );
  }
}

function single<T>(values: readonly T[], many: T): T | undefined {
  if (values.length === 0) return undefined;
  return values.every((v) => v === values[0]) ? values[0] : many;
}

/** The outcome row of a charge or capture (`holdLines`: the captured hold's quote lines). */
export function outcomeOf(
  t: JournalTransaction,
  holdLines: readonly QuoteLine[],
  input: { outcome: OutcomeKind; labels: Readonly<Record<string, string>>; recordedAt: number },
): Outcome {
  requireSpend(t);
  const spend = spendOf(t, { holdLines: () => holdLines })!;
  const lines: readonly { operation: string; resolution: string | null }[] =
    spend.parts.length > 0
      ? spend.parts
      : (t.kind === 'charge' ? t.detail.lines : holdLines).map((l) => ({
          operation: l.operation,
          resolution: l.params.resolution ?? l.params.target ?? null,
        }));
  return {
    accountId: t.accountId,
    transactionId: t.id,
    outcome: input.outcome,
    labels: input.labels,
    credits: spend.parts.reduce((s, p) => s + p.credits, 0),
    operation:
      single(
        lines.map((l) => l.operation),
        MIXED,
      ) ?? BY_CREDITS,
    resolution:
      single<string | null>(
        lines.map((l) => l.resolution),
        null,
      ) ?? null,
    units: spend.parts.reduce((s, p) => s + p.units, 0),
    member: spend.attribution?.member ?? null,
    project: spend.attribution?.project ?? null,
    createdAt: t.createdAt,
    recordedAt: input.recordedAt,
  };
}

/** Whether two outcomes of one transaction say the same (a replay). */
export function sameOutcome(a: Outcome, b: Pick<Outcome, 'outcome' | 'labels'>): boolean {
  const ka = Object.keys(a.labels).sort();
  const kb = Object.keys(b.labels).sort();
  return (
    a.outcome === b.outcome &&
    ka.length === kb.length &&
    ka.every((k, i) => k === kb[i] && a.labels[k] === b.labels[k])
  );
}
