import {
  MAX_BATCH_ITEMS,
  priceBatch,
  viewBatch,
  type BatchItemRequest,
  type BatchView,
  type RequestBatch,
} from '../../core/batches.js';
import { AmisiError, assert } from '../../core/errors.js';
import { MAX_LABELS, type Attribution, type Hold } from '../../core/holds.js';
import type { UnitOfWork } from '../unit-of-work.js';
import { onceRef, type Replayable } from '../idempotency.js';
import { settleHold } from '../credits/commands.js';
import { decideSpend, writeHold } from '../credits/spend.js';
import { requireAmount, requireAttribution, requireId } from '../validate.js';
import { readRequestBatch } from '../reads.js';

/**
 * Request batches (core/batches.ts): hold a list of requests all or nothing under one key, and
 * release what is still held. Capturing or releasing one item is the item's hold's own capture
 * or release (commands.ts resolve), so a batch adds no second way to resolve a hold.
 */

/** One item as checked: parameters and labels sorted, so equal requests fingerprint equally. */
export interface BatchItem {
  readonly operation: string;
  readonly params: Readonly<Record<string, string>>;
  readonly count?: number;
  readonly ref: string | null;
  readonly labels: Readonly<Record<string, string>>;
}

function invalidItems(message: string, value: unknown): never {
  throw new AmisiError('invalid_argument', `items ${message}`, {
    field: 'items',
    value: typeof value === 'number' ? value : String(value),
  });
}

/**
 * The shape of a batch's items (what the catalog cannot check: the catalog prices them later).
 * `batchLabels` are the batch's own labels: with an item's labels they may not pass MAX_LABELS.
 */
export function requireBatchItems(
  value: unknown,
  batchLabels: Readonly<Record<string, string>>,
): BatchItem[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_BATCH_ITEMS) {
    invalidItems(
      `must be a list of 1 to ${MAX_BATCH_ITEMS} requests`,
      Array.isArray(value) ? value.length : value,
    );
  }
  return (value as unknown[]).map((raw, index) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      invalidItems(`[${index}] must be an object with an operation`, raw);
    }
    const item = raw as BatchItemRequest;
    const amount = requireAmount({ items: [item] });
    const [priced] = amount.items ?? [];
    assert(priced, 'an item amount has its one item');
    const ref = item.ref == null ? null : requireId(item.ref, `items[${index}].ref`);
    const labels = requireAttribution({ labels: item.labels ?? {} }).labels;
    const merged = new Set([...Object.keys(batchLabels), ...Object.keys(labels)]);
    if (merged.size > MAX_LABELS) {
      throw new AmisiError(
        'invalid_argument',
        `item ${index} has ${merged.size} labels with the batch's: at most ${MAX_LABELS}`,
        { field: `items[${index}].labels`, value: merged.size, item: index },
      );
    }
    return {
      operation: priced.operation,
      params: priced.params ?? {},
      ...(priced.count === undefined ? {} : { count: priced.count }),
      ref,
      labels,
    };
  });
}

export interface HoldBatchInput {
  readonly accountId: string;
  readonly key: string;
  readonly items: readonly BatchItem[];
  readonly ttlMs: number;
  /** Member and project of every item, and the labels every item carries. */
  readonly attribution: Attribution;
}

export interface BatchResult {
  readonly batch: BatchView;
}

/** The hold as it was made (a replay answers the batch as made, like a hold's replay). */
const asMade = (h: Hold): Hold => ({ ...h, status: 'held', capturedCredits: 0, resolvedAt: null });

async function requestBatchOf(uow: UnitOfWork, accountId: string, batchId: string) {
  const record = await readRequestBatch(uow.read, accountId, batchId);
  assert(record, `batch ${batchId} of ${accountId} exists`);
  return record;
}

/**
 * Holds every item of the batch, or nothing: prices every item, decides the spend of the whole
 * batch in one pure step (core/spend.ts planSpend: team rules, budgets, credits, each item's
 * draws), and only then writes one hold per item and the batch. A refusal names the item at
 * fault and writes nothing.
 */
export async function holdBatch(
  uow: UnitOfWork,
  input: HoldBatchInput,
): Promise<Replayable<BatchResult>> {
  const { accountId, key } = input;
  const state = await uow.account(accountId);
  const { key: _key, ...request } = input;
  return onceRef(
    uow,
    accountId,
    key,
    { op: 'batch.hold', ...request },
    async () => {
      const catalog = await uow.activeCatalog();
      const priced = priceBatch(catalog.body, input.items);
      // The team rules and budgets are checked for the whole batch at once (its items share
      // member and project, so the budgets covering one cover all), then the credits; each
      // refusal names the first item that does not fit.
      const steps = await decideSpend(uow, state, {
        kind: 'hold',
        attribution: input.attribution,
        items: priced.items.map((i) => ({ credits: i.credits, operation: i.operation })),
        batch: true,
      });
      // Decided: from here on, only writes.
      const batchId = uow.newId('bat');
      const expiresAt = uow.now + input.ttlMs;
      const holds: Hold[] = [];
      for (const { index, ref: _ref, ...line } of priced.items) {
        const item = input.items[index]!;
        const h: Hold = {
          accountId,
          id: uow.newId('hld'),
          status: 'held',
          credits: line.credits,
          capturedCredits: 0,
          draws: steps[index]!.draws,
          expiresAt,
          createdAt: uow.now,
          resolvedAt: null,
          catalogVersion: priced.catalogVersion,
          quote: { catalogVersion: priced.catalogVersion, credits: line.credits, lines: [line] },
          attribution: {
            member: input.attribution.member,
            project: input.attribution.project,
            labels: sortedLabels({ ...input.attribution.labels, ...item.labels }),
          },
        };
        await writeHold(uow, state, h, steps[index]!, key, { batch: { id: batchId, item: index } });
        holds.push(h);
      }
      const record: RequestBatch = {
        accountId,
        id: batchId,
        idempotencyKey: key,
        createdAt: uow.now,
        expiresAt,
        catalogVersion: priced.catalogVersion,
        attribution: input.attribution,
        items: holds.map((h, index) => ({ index, holdId: h.id, ref: input.items[index]!.ref })),
      };
      await uow.insertRequestBatch(record);
      return { result: { batch: viewBatch(record, holds) }, ref: batchId };
    },
    async (batchId) => {
      const record = await requestBatchOf(uow, accountId, batchId);
      const holds = await uow.holdsOf(
        accountId,
        record.items.map((i) => i.holdId),
      );
      return { batch: viewBatch(record, holds.map(asMade)) };
    },
  );
}

function sortedLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
}

export interface ReleaseBatchInput {
  readonly accountId: string;
  readonly batchId: string;
  readonly key: string;
}

export interface ReleaseBatchResult extends BatchResult {
  /** The items this release returned (those still held), in order. */
  readonly released: readonly number[];
  readonly releasedCredits: number;
}

/**
 * Releases every item of the batch still held ("a partially captured batch releases the rest"):
 * one release transaction per item, under the one key. Items already captured, released or
 * expired stay as they are; with none held it changes nothing and says so.
 */
export async function releaseBatch(
  uow: UnitOfWork,
  input: ReleaseBatchInput,
): Promise<Replayable<ReleaseBatchResult>> {
  const { accountId, batchId, key } = input;
  const state = await uow.account(accountId);
  const holdsOf = (record: RequestBatch) =>
    uow.holdsOf(
      accountId,
      record.items.map((i) => i.holdId),
    );
  const figures = (record: RequestBatch, holds: readonly Hold[], released: readonly number[]) => ({
    batch: viewBatch(record, holds),
    released,
    releasedCredits: released.reduce((sum, i) => sum + holds[i]!.credits, 0),
  });
  return onceRef(
    uow,
    accountId,
    key,
    { op: 'batch.release', batchId },
    async () => {
      const record = await requestBatchOf(uow, accountId, batchId);
      const holds = await holdsOf(record);
      const open = record.items
        .filter((i) => holds[i.index]!.status === 'held')
        .map((i) => i.index);
      // The first release transaction lists what this release returned: a replay reads it there.
      let first: string | null = null;
      for (const index of open) {
        const r = await settleHold(uow, state, holds[index]!, 'release', 0, key, {
          batch: { id: batchId, item: index, ...(first === null ? { released: open } : {}) },
        });
        first ??= r.transactionId;
      }
      return { result: figures(record, await holdsOf(record), open), ref: first ?? batchId };
    },
    async (ref) => {
      const record = await requestBatchOf(uow, accountId, batchId);
      let released: readonly number[] = [];
      if (ref !== batchId) {
        const t = await uow.transaction(accountId, ref);
        assert(
          t.kind === 'release' && t.detail.batch?.released !== undefined,
          `transaction ${ref} lists what its batch release released`,
        );
        released = t.detail.batch.released;
      }
      // Every item was resolved by then, and a resolved hold never changes again.
      return figures(record, await holdsOf(record), released);
    },
  );
}
