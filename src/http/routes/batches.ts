import { LEDGER_PROBLEMS as L } from '../../ledger/ledger.js';
import type { App, Deps } from '../app.js';
import { replayed } from '../app.js';
import { accountInScope, attributionOf, batchInScope, SCOPE_PROBLEMS as S } from '../auth.js';
import {
  BatchCaptureRequest,
  Batch,
  BatchItemParams,
  BatchItemResult,
  BatchParams,
  BatchQuote,
  BatchQuoteRequest,
  BatchReleaseRequest,
  BatchReleaseResult,
  BatchResult,
  HoldBatchRequest,
  IdempotencyHeaders,
  IDEMPOTENCY_HEADER,
  problems,
  ref,
} from '../schemas/index.js';

/**
 * Request batches: quote a list of requests, hold them all or nothing under one key, capture or
 * release item by item, release what is left, and read the batch at any time.
 */
export async function batchRoutes(app: App, { ledger }: Deps): Promise<void> {
  app.post(
    '/v1/batches/quote',
    {
      config: { access: 'account', action: 'spend' },
      schema: {
        summary: 'Price a list of requests: each item and the total',
        description: 'Changes nothing, so no Idempotency-Key is needed.',
        tags: ['batches'],
        body: BatchQuoteRequest,
        response: { 200: ref(BatchQuote), ...problems('account', true, L.quoteBatch) },
      },
    },
    async (request) => ledger.quoteBatch(request.body.items),
  );

  app.post(
    '/v1/batches',
    {
      config: { access: 'account', action: 'spend' },
      schema: {
        summary: 'Hold a list of requests, all or nothing',
        description:
          'One hold per item, made together: if any item cannot be held (price, credits, budget), nothing is and the problem names the item (`item`, from 0). The same Idempotency-Key again answers the batch as it was made.',
        tags: ['batches'],
        headers: IdempotencyHeaders,
        body: HoldBatchRequest,
        response: {
          201: ref(BatchResult),
          ...problems('account', true, S.account, S.attribution, L.holdBatch),
        },
      },
    },
    async (request, reply) => {
      accountInScope(request, request.body.accountId);
      const r = await ledger.holdBatch({
        ...request.body,
        attribution: attributionOf(request, request.body.attribution),
        key: request.headers[IDEMPOTENCY_HEADER],
      });
      replayed(reply, r.replay);
      return reply.status(201).send(r);
    },
  );

  app.get(
    '/v1/batches/:batchId',
    {
      config: { access: 'account', action: 'spend' },
      schema: {
        summary: 'A batch as it stands: every item and the totals',
        tags: ['batches'],
        params: BatchParams,
        response: { 200: ref(Batch), ...problems('account', false, S.batch, L.getBatch) },
      },
    },
    async (request) => {
      await batchInScope(request, ledger, request.params.batchId);
      return ledger.getBatch(request.params.batchId);
    },
  );

  app.post(
    '/v1/batches/:batchId/items/:index/capture',
    {
      config: { access: 'account', action: 'spend' },
      schema: {
        summary: 'Capture one item of a batch (all of it, or part) and return the rest',
        tags: ['batches'],
        headers: IdempotencyHeaders,
        params: BatchItemParams,
        body: BatchCaptureRequest,
        response: {
          200: ref(BatchItemResult),
          ...problems('account', true, S.batch, L.captureBatchItem),
        },
      },
    },
    async (request, reply) => {
      await batchInScope(request, ledger, request.params.batchId);
      const r = await ledger.captureBatchItem({
        ...request.params,
        ...request.body,
        key: request.headers[IDEMPOTENCY_HEADER],
      });
      replayed(reply, r.replay);
      return r;
    },
  );

  app.post(
    '/v1/batches/:batchId/items/:index/release',
    {
      config: { access: 'account', action: 'spend' },
      schema: {
        summary: 'Release one item of a batch (its job failed)',
        tags: ['batches'],
        headers: IdempotencyHeaders,
        params: BatchItemParams,
        body: BatchReleaseRequest,
        response: {
          200: ref(BatchItemResult),
          ...problems('account', true, S.batch, L.releaseBatchItem),
        },
      },
    },
    async (request, reply) => {
      await batchInScope(request, ledger, request.params.batchId);
      const r = await ledger.releaseBatchItem({
        ...request.params,
        key: request.headers[IDEMPOTENCY_HEADER],
      });
      replayed(reply, r.replay);
      return r;
    },
  );

  app.post(
    '/v1/batches/:batchId/release',
    {
      config: { access: 'account', action: 'spend' },
      schema: {
        summary: 'Release every item of a batch still held',
        description:
          'Items already captured, released or expired stay as they are: a partially captured batch returns the rest. With nothing held it changes nothing (released is empty).',
        tags: ['batches'],
        headers: IdempotencyHeaders,
        params: BatchParams,
        body: BatchReleaseRequest,
        response: {
          200: ref(BatchReleaseResult),
          ...problems('account', true, S.batch, L.releaseBatch),
        },
      },
    },
    async (request, reply) => {
      await batchInScope(request, ledger, request.params.batchId);
      const r = await ledger.releaseBatch({
        batchId: request.params.batchId,
        key: request.headers[IDEMPOTENCY_HEADER],
      });
      replayed(reply, r.replay);
      return r;
    },
  );
}
