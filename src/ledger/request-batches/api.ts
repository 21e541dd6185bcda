import { AmisiError } from '../../core/errors.js';
import { HOLD_TTL_DEFAULT_MS, type Attribution } from '../../core/holds.js';
import { requireCredits } from '../../core/credits.js';
import {
  priceBatch,
  viewBatch,
  type BatchItemRequest,
  type BatchQuote,
  type BatchView,
  type RequestBatch,
} from '../../core/batches.js';
import * as batches from './commands.js';
import type { LedgerContext } from '../context.js';
import type { AccountsApi } from '../accounts/api.js';
import type { CatalogApi } from '../catalog/api.js';
import type { CreditsApi } from '../credits/api.js';
import { requireAttribution, requireId, requireKey, requireTtl } from '../validate.js';
import { findRequestBatch } from '../reads.js';
import { CREDITS_PROBLEMS } from '../credits/api.js';
import {
  ACCOUNT,
  BASE,
  codes,
  except,
  KEYED,
  PRICED,
  SPEND,
  STORE,
  type UseCaseProblems,
} from '../problems.js';

/** An item of a batch: the batch and the item must exist (the item's hold always does). */
const ITEM = codes(BASE, 'unknown_batch', 'unknown_batch_item');
const CAPTURE = except(CREDITS_PROBLEMS.capture, 'unknown_hold');
const RELEASE = except(CREDITS_PROBLEMS.release, 'unknown_hold');

/** The problem codes of each use-case below (src/ledger/problems.ts). */
export const REQUEST_BATCHES_PROBLEMS = {
  quoteBatch: codes(STORE, PRICED),
  holdBatch: codes(ACCOUNT, KEYED, PRICED, SPEND),
  getBatch: codes(BASE, 'unknown_batch'),
  captureBatchItem: codes(ITEM, CAPTURE),
  releaseBatchItem: codes(ITEM, RELEASE),
  releaseBatch: codes(BASE, KEYED, 'unknown_batch'),
  findBatch: codes(BASE, 'unknown_batch'),
} as const satisfies UseCaseProblems<RequestBatchesApi>;

/** Request batches: many requests of one account quoted and held together, resolved per item. */
export class RequestBatchesApi {
  constructor(
    private readonly ctx: LedgerContext,
    private readonly accounts: AccountsApi,
    private readonly catalog: CatalogApi,
    private readonly credits: CreditsApi,
  ) {}

  /** Prices a list of requests line by line under the active catalog: the total and each item. */
  async quoteBatch(items: readonly BatchItemRequest[]): Promise<BatchQuote> {
    const checked = batches.requireBatchItems(items, {});
    return priceBatch((await this.catalog.activeCatalog()).body, checked);
  }

  /**
   * Holds a list of requests all or nothing under one key: one hold per item, made together.
   * A refusal names the item at fault and writes nothing; the same key again answers the batch.
   */
  async holdBatch(input: {
    accountId: string;
    key: string;
    items: readonly BatchItemRequest[];
    ttlMs?: number;
    attribution?: Partial<Attribution>;
  }) {
    const attribution = requireAttribution(input.attribution);
    const checked: batches.HoldBatchInput = {
      accountId: requireId(input.accountId, 'account'),
      key: requireKey(input.key),
      items: batches.requireBatchItems(input.items, attribution.labels),
      ttlMs: requireTtl(input.ttlMs ?? HOLD_TTL_DEFAULT_MS),
      attribution,
    };
    return this.ctx.committer.submit((b) => batches.holdBatch(b, checked), {
      accountId: checked.accountId,
      key: checked.key,
    });
  }

  /** The batch as it stands now, item by item (holds past their ttl are settled first). */
  async getBatch(batchId: string): Promise<BatchView> {
    let read = await this.readBatch(batchId);
    const now = await this.ctx.times.nowFor(read.batch.accountId);
    if (read.holds.some((h) => h.status === 'held' && h.expiresAt <= now)) {
      await this.accounts.maintain(read.batch.accountId);
      read = await this.readBatch(batchId);
    }
    return viewBatch(read.batch, read.holds);
  }

  /** Captures one item of a batch (all of it, or `credits`): the capture of the item's hold. */
  async captureBatchItem(input: { batchId: string; index: number; key: string; credits?: number }) {
    const key = requireKey(input.key);
    const credits = input.credits === undefined ? undefined : requireCredits(input.credits);
    const item = await this.batchItem(input.batchId, input.index);
    const r = await this.credits.capture({
      holdId: item.holdId,
      key,
      ...(credits === undefined ? {} : { credits }),
    });
    return { batchId: input.batchId, index: item.index, ...r };
  }

  /** Releases one item of a batch: the release of the item's hold. */
  async releaseBatchItem(input: { batchId: string; index: number; key: string }) {
    const key = requireKey(input.key);
    const item = await this.batchItem(input.batchId, input.index);
    const r = await this.credits.release({ holdId: item.holdId, key });
    return { batchId: input.batchId, index: item.index, ...r };
  }

  /** Releases every item of the batch still held, under one key. */
  async releaseBatch(input: { batchId: string; key: string }) {
    const key = requireKey(input.key);
    const { batch } = await this.readBatch(input.batchId);
    const checked: batches.ReleaseBatchInput = {
      accountId: batch.accountId,
      batchId: batch.id,
      key,
    };
    return this.ctx.committer.submit((b) => batches.releaseBatch(b, checked), {
      accountId: batch.accountId,
      key,
    });
  }

  /** The batch as stored (its items name their holds); getBatch has their figures. */
  async findBatch(batchId: string): Promise<RequestBatch> {
    return (await this.readBatch(batchId)).batch;
  }

  private async readBatch(batchId: string) {
    const read = await findRequestBatch(this.ctx.store, requireId(batchId, 'batch'));
    if (!read) throw new AmisiError('unknown_batch', `unknown batch "${batchId}"`, { batchId });
    return read;
  }

  private async batchItem(batchId: string, index: number) {
    if (!Number.isSafeInteger(index) || index < 0) {
      throw new AmisiError('invalid_argument', 'item must be a whole number from 0', {
        field: 'item',
        value: String(index),
      });
    }
    const { batch } = await this.readBatch(batchId);
    const item = batch.items[index];
    if (!item) {
      throw new AmisiError(
        'unknown_batch_item',
        `batch ${batchId} has ${batch.items.length} items (0 to ${batch.items.length - 1}), not ${index}`,
        { batchId, item: index, items: batch.items.length },
      );
    }
    return item;
  }
}
