import type { Catalog } from './catalog.js';
import { AmisiError, assert, isAmisiError } from './errors.js';
import type { Attribution, Hold, HoldStatus } from './holds.js';
import { MAX_QUOTE_ITEMS, quote, type QuoteItemRequest, type QuoteLine } from './quote.js';

/**
 * Request batches (the seed's batch processing: prepare the prompts, generate them in one
 * session, review them together). A batch is a list of requests of one account, held all or
 * nothing under one idempotency key: one hold per item, made in one journal step. Each item is
 * then captured or released on its own (it is its hold), and releasing the batch releases every
 * item still held. Pure: the records and how a batch reads from its items' holds.
 */

/** Most items one batch carries: a quote's limit, since a batch is priced as one quote. */
export const MAX_BATCH_ITEMS = MAX_QUOTE_ITEMS;

/** One request of a batch, as asked: a quote item, plus the caller's name for it and labels. */
export interface BatchItemRequest extends QuoteItemRequest {
  /** The caller's own name for the item (a prompt id, a file name); shown back, not unique. */
  readonly ref?: string | null;
  /** Labels of this item's hold, over the batch's labels (audits group by them). */
  readonly labels?: Readonly<Record<string, string>>;
}

export interface RequestBatchItem {
  /** The item's place in the batch, from 0. */
  readonly index: number;
  readonly holdId: string;
  readonly ref: string | null;
}

/** A batch as stored; its items' figures live in their holds. */
export interface RequestBatch {
  readonly accountId: string;
  readonly id: string;
  readonly idempotencyKey: string;
  readonly createdAt: number;
  /** When the items' holds release themselves (one ttl for the batch). */
  readonly expiresAt: number;
  readonly catalogVersion: string;
  /** Member and project of every item; its labels are the batch's (items may add theirs). */
  readonly attribution: Attribution;
  readonly items: readonly RequestBatchItem[];
}

/** Where an item's credits are: the four figures sum to its credits. */
export interface BatchFigures {
  readonly credits: number;
  readonly held: number;
  readonly captured: number;
  /** Returned to the account: a release, or what a partial capture did not take. */
  readonly released: number;
  /** Returned by the hold's ttl passing. */
  readonly expired: number;
}

export interface BatchItemView extends QuoteLine, BatchFigures {
  readonly index: number;
  readonly ref: string | null;
  readonly holdId: string;
  readonly status: HoldStatus;
  readonly labels: Readonly<Record<string, string>>;
  readonly resolvedAt: number | null;
}

/** held: every item still held; partial: some resolved; settled: none held any more. */
export const BATCH_STATUSES = ['held', 'partial', 'settled'] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];

export interface BatchView extends BatchFigures {
  readonly accountId: string;
  readonly id: string;
  readonly status: BatchStatus;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly catalogVersion: string;
  readonly attribution: Attribution;
  /** Items by status. */
  readonly counts: Readonly<Record<HoldStatus, number>>;
  readonly items: readonly BatchItemView[];
}

/** A list of requests priced line by line: the total and each item's price. */
export interface BatchQuote {
  readonly catalogVersion: string;
  readonly credits: number;
  readonly items: readonly (QuoteLine & { readonly index: number; readonly ref: string | null })[];
}

/** An item's figures; what it captured in parts counts as captured, whatever ended it. */
function figuresOf(h: Hold): BatchFigures {
  const c = h.credits;
  const captured = h.capturedCredits;
  const rest = c - captured;
  const none = { credits: c, held: 0, captured, released: 0, expired: 0 };
  switch (h.status) {
    case 'held':
      return { ...none, held: rest };
    case 'captured':
    case 'released':
      return { ...none, released: rest };
    case 'expired':
      return { ...none, expired: rest };
  }
}

/** The batch as its items' holds stand: per item and in total, every credit accounted for. */
export function viewBatch(batch: RequestBatch, holds: readonly Hold[]): BatchView {
  const byId = new Map(holds.map((h) => [h.id, h]));
  const total = { credits: 0, held: 0, captured: 0, released: 0, expired: 0 };
  const counts: Record<HoldStatus, number> = { held: 0, captured: 0, released: 0, expired: 0 };
  const items = batch.items.map((item): BatchItemView => {
    const h = byId.get(item.holdId);
    assert(h, `hold ${item.holdId} of batch ${batch.id} is known`);
    const line = h.quote?.lines[0];
    assert(line && h.quote?.lines.length === 1, `hold ${h.id} of a batch prices one line`);
    const f = figuresOf(h);
    assert(
      f.held + f.captured + f.released + f.expired === f.credits,
      'an item accounts for its credits',
    );
    for (const k of ['credits', 'held', 'captured', 'released', 'expired'] as const)
      total[k] += f[k];
    counts[h.status] += 1;
    return {
      index: item.index,
      ref: item.ref,
      holdId: h.id,
      status: h.status,
      ...line,
      ...f,
      labels: h.attribution.labels,
      resolvedAt: h.resolvedAt,
    };
  });
  const status: BatchStatus =
    counts.held === items.length ? 'held' : counts.held === 0 ? 'settled' : 'partial';
  return {
    accountId: batch.accountId,
    id: batch.id,
    status,
    createdAt: batch.createdAt,
    expiresAt: batch.expiresAt,
    catalogVersion: batch.catalogVersion,
    attribution: batch.attribution,
    ...total,
    counts,
    items,
  };
}

/**
 * The first item at which the running total passes `limit` (the credits available, a budget's
 * headroom), or -1 when the whole list fits: the item a refusal names.
 */
export function firstItemOver(credits: readonly number[], limit: number): number {
  let sum = 0;
  for (let i = 0; i < credits.length; i++) {
    sum += credits[i]!;
    if (sum > limit) return i;
  }
  return -1;
}

/**
 * Prices a list of requests under one catalog version: the total and each item. A refusal names
 * the item at fault ("item 2: unknown operation ..."), with its index in the error's data.
 */
export function priceBatch(
  catalog: Catalog,
  items: readonly (QuoteItemRequest & { readonly ref?: string | null })[],
): BatchQuote {
  let q;
  try {
    q = quote(
      catalog,
      items.map((i) => ({
        operation: i.operation,
        ...(i.params === undefined ? {} : { params: i.params }),
        ...(i.count === undefined ? {} : { count: i.count }),
      })),
    );
  } catch (e) {
    if (isAmisiError(e) && typeof e.data.item === 'number') {
      throw new AmisiError(e.code, `item ${e.data.item}: ${e.message}`, { ...e.data });
    }
    throw e;
  }
  return {
    catalogVersion: q.catalogVersion,
    credits: q.credits,
    items: q.lines.map((line, index) => ({ index, ref: items[index]!.ref ?? null, ...line })),
  };
}
