import { LEDGER_PROBLEMS as L } from '../../ledger/ledger.js';
import { PURCHASE_SERVICE_PROBLEMS as P } from '../../service/purchases.js';
import type { FastifyRequest } from 'fastify';
import { AmisiError } from '../../core/errors.js';
import { newWebhookSecret } from '../../service/webhooks/deliverer.js';
import { requirePublicTarget } from '../../service/webhooks/target.js';
import type { App, Deps } from '../app.js';
import { replayed } from '../app.js';
import { accountInScope, principalOf, SCOPE_PROBLEMS as S } from '../auth.js';
import {
  AccountParams,
  AutoTopup,
  AutoTopupRequest,
  DeliveryDetail,
  DeliveryList,
  DeliveryParams,
  DeliveryQuery,
  EndpointParams,
  IdempotencyHeaders,
  IDEMPOTENCY_HEADER,
  problems,
  ref,
  RegisterWebhookRequest,
  WebhookEndpointCreated,
  WebhookEndpointList,
} from '../schemas/index.js';

/** The account an account key is bound to; null for an operator (every account). */
function ownAccount(request: FastifyRequest): string | null {
  const p = principalOf(request);
  return p.kind === 'operator' ? null : p.accountId;
}

/** Webhook endpoints and their deliveries; an account key manages its own account's only. */
export async function webhookRoutes(app: App, deps: Deps): Promise<void> {
  const { ledger } = deps;
  app.post(
    '/v1/webhooks',
    {
      config: { access: 'account', action: 'billing' },
      schema: {
        summary: 'Register a webhook endpoint (its secret is shown once)',
        description:
          "The same Idempotency-Key and body again (within the keys' retention, at least 24 hours) answers the first answer, secret included, and makes no second endpoint. An account key's endpoint must reach a public address, checked now and at every delivery.",
        tags: ['webhooks'],
        headers: IdempotencyHeaders,
        body: RegisterWebhookRequest,
        response: {
          201: ref(WebhookEndpointCreated),
          ...problems('account', true, S.account, L.registerWebhook),
        },
      },
    },
    async (request, reply) => {
      const own = ownAccount(request);
      const accountId =
        own ?? (request.body.accountId === undefined ? null : request.body.accountId);
      if (own !== null && request.body.accountId !== undefined) {
        accountInScope(request, request.body.accountId);
      }
      // A customer's endpoint must not reach into the operator's network, now or later.
      const publicOnly = own !== null && deps.allowPrivateWebhooks !== true;
      if (publicOnly) await requirePublicTarget(request.body.url);
      const { secret, replay, ...endpoint } = await ledger.registerWebhook({
        url: request.body.url,
        eventTypes: request.body.eventTypes,
        accountId,
        secret: newWebhookSecret(),
        key: request.headers[IDEMPOTENCY_HEADER],
        publicOnly,
      });
      replayed(reply, replay);
      return reply.status(201).send({ endpoint, secret, replay });
    },
  );

  app.get(
    '/v1/webhooks',
    {
      config: { access: 'account', action: 'billing' },
      schema: {
        summary: 'Webhook endpoints (secrets are never shown again)',
        tags: ['webhooks'],
        response: {
          200: ref(WebhookEndpointList),
          ...problems('account', false, L.webhookEndpoints),
        },
      },
    },
    async (request) => {
      return { endpoints: await ledger.webhookEndpoints(ownAccount(request)) };
    },
  );

  app.delete(
    '/v1/webhooks/:endpointId',
    {
      config: { access: 'account', action: 'billing' },
      schema: {
        summary: 'Remove (disable) an endpoint; its deliveries stay on record',
        tags: ['webhooks'],
        params: EndpointParams,
        response: {
          204: { type: 'null', description: 'Done: no content.' },
          ...problems('account', true, L.disableWebhook),
        },
      },
    },
    async (request, reply) => {
      await ledger.disableWebhook(request.params.endpointId, ownAccount(request));
      return reply.status(204).send();
    },
  );

  app.get(
    '/v1/webhooks/deliveries',
    {
      config: { access: 'account', action: 'billing' },
      schema: {
        summary: 'Deliveries, newest first',
        tags: ['webhooks'],
        querystring: DeliveryQuery,
        response: {
          200: ref(DeliveryList),
          ...problems('account', false, S.account, L.listDeliveries),
        },
      },
    },
    async (request) => {
      const own = ownAccount(request);
      const q = request.query;
      const accountId = own === null ? q.accountId : accountInScope(request, q.accountId ?? own);
      const deliveries = await ledger.listDeliveries({
        limit: q.limit ?? 50,
        ...(accountId === undefined ? {} : { accountId }),
        ...(q.endpointId === undefined ? {} : { endpointId: q.endpointId }),
        ...(q.status === undefined ? {} : { status: q.status }),
      });
      return { deliveries };
    },
  );

  app.get(
    '/v1/webhooks/deliveries/:deliveryId',
    {
      config: { access: 'account', action: 'billing' },
      schema: {
        summary: 'One delivery and every attempt made',
        tags: ['webhooks'],
        params: DeliveryParams,
        response: { 200: ref(DeliveryDetail), ...problems('account', false, L.deliveryDetail) },
      },
    },
    async (request) => {
      return ledger.deliveryDetail(request.params.deliveryId, ownAccount(request));
    },
  );

  app.post(
    '/v1/webhooks/deliveries/:deliveryId/redeliver',
    {
      config: { access: 'account', action: 'billing' },
      schema: {
        summary: 'Send the event again to its endpoint (a new delivery, due now)',
        tags: ['webhooks'],
        params: DeliveryParams,
        response: {
          201: ref(DeliveryDetail),
          ...problems('account', true, L.deliveryInScope, L.redeliver),
        },
      },
    },
    async (request, reply) => {
      const d = await ledger.deliveryInScope(request.params.deliveryId, ownAccount(request));
      const fresh = await ledger.redeliver(d.id);
      return reply.status(201).send({ delivery: fresh, attempts: [] });
    },
  );

  app.put(
    '/v1/accounts/:accountId/autotopup',
    {
      config: { access: 'account', action: 'billing' },
      schema: {
        summary: "Set the account's auto top-up rule",
        description:
          'Buys the pack through the configured provider when the available credits fall below the threshold: once per crossing, at most maxPerPeriod times per UTC day, week or month. Setting the same rule again changes nothing.',
        tags: ['purchases'],
        params: AccountParams,
        body: AutoTopupRequest,
        response: {
          200: ref(AutoTopup),
          ...problems('account', true, S.account, P.setAutoTopup),
        },
      },
    },
    async (request) =>
      deps.purchases.setAutoTopup({
        accountId: accountInScope(request, request.params.accountId),
        ...request.body,
      }),
  );

  app.get(
    '/v1/accounts/:accountId/autotopup',
    {
      config: { access: 'account', action: 'billing' },
      schema: {
        summary: "The account's auto top-up rule",
        tags: ['purchases'],
        params: AccountParams,
        response: {
          200: ref(AutoTopup),
          ...problems('account', false, S.account, L.getAutoTopup, 'not_found'),
        },
      },
    },
    async (request) => {
      const accountId = accountInScope(request, request.params.accountId);
      const rule = await ledger.getAutoTopup(accountId);
      if (!rule) {
        throw new AmisiError('not_found', `account ${accountId} has no auto top-up rule`, {
          accountId,
        });
      }
      return rule;
    },
  );

  app.delete(
    '/v1/accounts/:accountId/autotopup',
    {
      config: { access: 'account', action: 'billing' },
      schema: {
        summary: "Remove the account's auto top-up rule",
        tags: ['purchases'],
        params: AccountParams,
        response: {
          204: { type: 'null', description: 'Done: no content.' },
          ...problems('account', true, S.account, L.clearAutoTopup),
        },
      },
    },
    async (request, reply) => {
      await ledger.clearAutoTopup(accountInScope(request, request.params.accountId));
      return reply.status(204).send();
    },
  );
}
