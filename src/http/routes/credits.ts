import type { App, Deps } from '../app.js';
import { replayed } from '../app.js';
import { accountInScope, attributionOf, holdInScope } from '../auth.js';
import {
  CaptureRequest,
  ChargeRequest,
  ChargeResult,
  GrantRequest,
  GrantResult,
  Hold,
  HoldParams,
  HoldRequest,
  HoldResult,
  IdempotencyHeaders,
  IDEMPOTENCY_HEADER,
  problems,
  ref,
  ReleaseRequest,
  ResolveResult,
} from '../schemas/index.js';

/** Codes of anything priced by the catalog (a hold or charge with items). */
const PRICED = ['invalid_credits', 'unknown_operation', 'invalid_parameter'] as const;
const KEYED = ['idempotency_key_reused'] as const;
/** Codes of spending from an organization's pool (member, project, budgets, team access). */
const TEAM = [
  'budget_exceeded',
  'unknown_member',
  'unknown_project',
  'team_access_required',
] as const;

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
          ...problems('operator', true, ['unknown_account', 'invalid_credits', ...KEYED]),
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
          ...problems('account', true, [
            'unknown_account',
            'insufficient_credits',
            'not_initialized',
            ...PRICED,
            ...KEYED,
            ...TEAM,
          ]),
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
        response: { 200: ref(Hold), ...problems('account', false, ['unknown_hold']) },
      },
    },
    async (request) => holdInScope(request, ledger, request.params.holdId),
  );

  const resolveErrors = [
    'unknown_hold',
    'hold_already_captured',
    'hold_already_released',
    'hold_expired',
    ...KEYED,
  ] as const;

  app.post(
    '/v1/holds/:holdId/capture',
    {
      config: { access: 'account', action: 'spend' },
      schema: {
        summary: 'Take all of a hold, or part of it, and return the rest',
        tags: ['holds'],
        headers: IdempotencyHeaders,
        params: HoldParams,
        body: CaptureRequest,
        response: {
          200: ref(ResolveResult),
          ...problems('account', true, [
            ...resolveErrors,
            'capture_exceeds_hold',
            'invalid_credits',
          ]),
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
    '/v1/holds/:holdId/release',
    {
      config: { access: 'account', action: 'spend' },
      schema: {
        summary: 'Return all of a hold (the job failed)',
        tags: ['holds'],
        headers: IdempotencyHeaders,
        params: HoldParams,
        body: ReleaseRequest,
        response: { 200: ref(ResolveResult), ...problems('account', true, resolveErrors) },
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
          ...problems('account', true, [
            'unknown_account',
            'insufficient_credits',
            'not_initialized',
            ...PRICED,
            ...KEYED,
            ...TEAM,
          ]),
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
