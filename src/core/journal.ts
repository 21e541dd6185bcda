import { assert } from './errors.js';
import type { KindDetail } from './journal-detail.js';

/**
 * Books of the double-entry journal. `grant` is the customer's side (one book per grant);
 * the rest are the operator's books. Positive credits flow into a book, negative out of it.
 * `issued` is the source of every credit, so its total is minus everything ever granted.
 * `overdraft` is what the account has drawn past zero (core/overdraft.ts): minus its debt and
 * what holds reserve past zero; its lines name no grant.
 */
export const BOOKS = [
  'issued',
  'grant',
  'held',
  'consumed',
  'breakage',
  'refunded',
  'overdraft',
] as const;
export type Book = (typeof BOOKS)[number];

export const TRANSACTION_KINDS = [
  'grant',
  'hold',
  'capture',
  'release',
  'hold_expiry',
  'charge',
  'grant_expiry',
  'renewal',
  'plan_change',
  'refund',
  'repayment',
  'partial_capture',
  'hold_extension',
  'hold_increase',
] as const;
export type TransactionKind = (typeof TRANSACTION_KINDS)[number];

export interface Entry {
  readonly book: Book;
  readonly grantId: string | null;
  readonly holdId: string | null;
  readonly credits: number;
}

interface TransactionHeader {
  readonly accountId: string;
  readonly id: string;
  readonly createdAt: number;
  readonly idempotencyKey: string | null;
  readonly holdId: string | null;
  readonly grantId: string | null;
  readonly catalogVersion: string | null;
  readonly entries: readonly Entry[];
}

/**
 * One journal transaction. Its `detail` (what a person reading history needs: quote lines,
 * attribution, reasons) has one shape per kind (core/journal-detail.ts), so `kind` narrows it.
 */
export type JournalTransaction = TransactionHeader & KindDetail;

/**
 * A transaction balances when its entries sum to zero and none is zero or fractional. A plan
 * change that moves no credits (a downgrade or cancel, effective later) and a hold's extension
 * (a new ttl) are recorded with no entries; anything else has two or more.
 */
export function assertBalanced(tx: JournalTransaction): void {
  let sum = 0;
  for (const e of tx.entries) {
    assert(
      Number.isSafeInteger(e.credits) && e.credits !== 0,
      `entry of ${tx.id} is a non-zero integer`,
    );
    sum += e.credits;
  }
  const marker =
    (tx.kind === 'plan_change' || tx.kind === 'hold_extension') && tx.entries.length === 0;
  assert(marker || tx.entries.length >= 2, `transaction ${tx.id} has two or more entries`);
  assert(sum === 0, `transaction ${tx.id} sums to zero`);
}
