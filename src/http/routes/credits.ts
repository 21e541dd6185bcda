import { LEDGER_PROBLEMS as L } from '../../ledger/ledger.js';
import type { App, Deps } from '../app.js';
import { replayed } from '../app.js';
import { accountInScope, attributionOf, holdInScope, SCOPE_PROBLEMS as S } from '../auth.js';
import {
  CaptureRequest,
  ChargeRequest,
  ChargeResult,
  ExtendRequest,
  GrantRequest,
  GrantResult,
  Hold,
  HoldParams,
  HoldRequest,
  HoldResult,
  IdempotencyHeaders,
  IDEMPOTENCY_HEADER,
  IncreaseRequest,
  IncreaseResult,
  problems,
  ref,
  ReleaseRequest,
  ResolveResult,
} from '../schemas/index.js';

/** Grants, holds (create, get, capture, release) and charges. */
export async function creditRoutes(app: App, { ledger }: Deps): Promise<void> {
  app.post(
    '/v1/grants',
    {
      config: { access: 'operator' },
      schema: {
        summary: 'Give an account credits from a source',
        tags: ['credits'],
        headers: IdempotencyHeaders,
        body: GrantRequest,
        response: {
          201: ref(GrantResult),
          ...problems('operator', true, L.grant),
        },
      },
    },
    async (request, reply) => {
      const r = await ledger.grant({ ...request.body, key: request.headers[IDEMPOTENCY_HEADER] });
      replayed(reply, r.replay);
      return reply.status(201).send(r);
    },
  );

  app.post(
    '/v1/holds',
    {
      config: { access: 'account', action: 'spend' },
      schema: {
        summary: 'Reserve credits before a job runs (all or nothing)',
        tags: ['holds'],
        headers: IdempotencyHeaders,
        body: HoldRequest,
        response: {
          201: ref(HoldResult),
          ...problems('account', true, S.account, S.attribution, L.hold),
        },
      },
    },
    async (request, reply) => {
      accountInScope(request, request.body.accountId);
      const r = await ledger.hold({
        ...request.body,
        attribution: attributionOf(request, request.body.attribution),
        key: request.headers[IDEMPOTENCY_HEADER],
      });
      replayed(reply, r.replay);
      return reply.status(201).send(r);
    },
  );

  app.get(
    '/v1/holds/:holdId',
    {
      config: { access: 'account', action: 'spend' },
      schema: {
        summary: 'Get a hold',
        tags: ['holds'],
        params: HoldParams,
        response: { 200: ref(Hold), ...problems('account', false, S.hold) },
      },
    },
    async (request) => holdInScope(request, ledger, request.params.holdId),
  );

  app.post(
    '/v1/holds/:holdId/capture',
    {
      config: { access: 'account', action: 'spend' },
      schema: {
        summary:
          'Take all of a hold, or part of it and return the rest (final: false keeps it held)',
        tags: ['holds'],
        headers: IdempotencyHeaders,
        params: HoldParams,
        body: CaptureRequest,
        response: {
          200: ref(ResolveResult),
          ...problems('account', true, S.hold, L.capture),
        },
      },
    },
    async (request, reply) => {
      await holdInScope(request, ledger, request.params.holdId);
      const r = await ledger.capture({
        holdId: request.params.holdId,
        key: request.headers[IDEMPOTENCY_HEADER],
        ...request.body,
      });
      replayed(reply, r.replay);
      return r;
    },
  );

  app.post(
    '/v1/holds/:holdId/extend',
    {
      config: { access: 'account', action: 'spend' },
      schema: {
        summary: 'Give a hold still held a new ttl (a job that runs long)',
        tags: ['holds'],
        headers: IdempotencyHeaders,
        params: HoldParams,
        body: ExtendRequest,
        response: {
          200: ref(HoldResult),
          ...problems('account', true, S.hold, L.extendHold),
        },
      },
    },
    async (request, reply) => {
      await holdInScope(request, ledger, request.params.holdId);
      const r = await ledger.extendHold({
        holdId: request.params.holdId,
        key: request.headers[IDEMPOTENCY_HEADER],
        ttlMs: request.body.ttlMs,
      });
      replayed(reply, r.replay);
      return r;
    },
  );

  app.post(
    '/v1/holds/:holdId/increase',
    {
      config: { access: 'account', action: 'spend' },
      schema: {
        summary: 'Reserve more on a hold still held (a job bigger than quoted), all or nothing',
        tags: ['holds'],
        headers: IdempotencyHeaders,
        params: HoldParams,
        body: IncreaseRequest,
        response: {
          200: ref(IncreaseResult),
          ...problems('account', true, S.hold, L.increaseHold),
        },
      },
    },
    async (request, reply) => {
      await holdInScope(request, ledger, request.params.holdId);
      const r = await ledger.increaseHold({
        ...request.body,
        holdId: request.params.holdId,
        key: request.headers[IDEMPOTENCY_HEADER],
      });
      replayed(reply, r.replay);
      return r;
    },
  );

  app.post(
    '/v1/holds/:holdId/release',
    {
      config: { access: 'account', action: 'spend' },
      schema: {
        summary: 'Return all of a hold (the job failed)',
        tags: ['holds'],
        headers: IdempotencyHeaders,
        params: HoldParams,
        body: ReleaseRequest,
        response: { 200: ref(ResolveResult), ...problems('account', true, S.hold, L.release) },
      },
    },
    async (request, reply) => {
      await holdInScope(request, ledger, request.params.holdId);
      const r = await ledger.release({
        holdId: request.params.holdId,
        key: request.headers[IDEMPOTENCY_HEADER],
      });
      replayed(reply, r.replay);
      return r;
    },
  );

  app.post(
    '/v1/charges',
    {
      config: { access: 'account', action: 'spend' },
      schema: {
        summary: 'Hold and capture in one step',
        tags: ['credits'],
        headers: IdempotencyHeaders,
        body: ChargeRequest,
        response: {
          201: ref(ChargeResult),
          ...problems('account', true, S.account, S.attribution, L.charge),
        },
      },
    },
    async (request, reply) => {
      accountInScope(request, request.body.accountId);
      const r = await ledger.charge({
        ...request.body,
        attribution: attributionOf(request, request.body.attribution),
        key: request.headers[IDEMPOTENCY_HEADER],
      });
      replayed(reply, r.replay);
      return reply.status(201).send(r);
    },
  );
}
