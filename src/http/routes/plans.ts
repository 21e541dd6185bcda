import { LEDGER_PROBLEMS as L } from '../../ledger/ledger.js';
import { PURCHASE_SERVICE_PROBLEMS as P } from '../../service/purchases.js';
import type { App, Deps } from '../app.js';
import { replayed } from '../app.js';
import { accountInScope, SCOPE_PROBLEMS as S } from '../auth.js';
import {
  AccountParams,
  CancelRequest,
  ChangePlanRequest,
  IdempotencyHeaders,
  IDEMPOTENCY_HEADER,
  PlanChangePreview,
  PlanPreviewQuery,
  problems,
  ref,
  SubscribeRequest,
  Subscription,
  SubscriptionCheckout,
  SubscriptionResult,
} from '../schemas/index.js';

/**
 * An account's plan. Subscribing and changing plans grant credits, so they take an operator
 * key; an account key may read its plan and cancel it.
 */
export async function planRoutes(app: App, { ledger, purchases }: Deps): Promise<void> {
  app.get(
    '/v1/accounts/:accountId/subscription',
    {
      config: { access: 'account', action: 'read' },
      schema: {
        summary: "The account's subscription: plan, cycle, next renewal",
        tags: ['plans'],
        params: AccountParams,
        response: {
          200: ref(Subscription),
          ...problems('account', false, S.account, L.getSubscription),
        },
      },
    },
    async (request) => ledger.getSubscription(accountInScope(request, request.params.accountId)),
  );

  app.get(
    '/v1/accounts/:accountId/subscription/preview',
    {
      config: { access: 'account', action: 'read' },
      schema: {
        summary:
          'What changing to a plan would do now: the prorated upgrade, or the downgrade date',
        description: 'Changes nothing; the change itself takes an operator key.',
        tags: ['plans'],
        params: AccountParams,
        querystring: PlanPreviewQuery,
        response: {
          200: ref(PlanChangePreview),
          ...problems('account', false, S.account, L.previewPlanChange),
        },
      },
    },
    async (request) =>
      ledger.previewPlanChange(
        accountInScope(request, request.params.accountId),
        request.query.plan,
      ),
  );

  app.post(
    '/v1/accounts/:accountId/subscription',
    {
      config: { access: 'operator' },
      schema: {
        summary: 'Subscribe the account to a plan',
        description:
          "With the manual provider (or a given startsAt) the plan starts at once: 201 and the first cycle's credits. With a provider that takes money: 202 and a checkout URL; the plan starts when it is paid.",
        tags: ['plans'],
        headers: IdempotencyHeaders,
        params: AccountParams,
        body: SubscribeRequest,
        response: {
          201: ref(SubscriptionResult),
          202: ref(SubscriptionCheckout),
          ...problems('operator', true, P.subscribe, L.subscribe),
        },
      },
    },
    async (request, reply) => {
      const input = {
        accountId: request.params.accountId,
        key: request.headers[IDEMPOTENCY_HEADER],
        ...request.body,
      };
      if (input.startsAt === undefined && purchases.providerName !== 'manual') {
        const r = await purchases.subscribe(input);
        return reply.status(202).send({ checkoutUrl: r.checkoutUrl });
      }
      const r = await ledger.subscribe(input);
      replayed(reply, r.replay);
      return reply.status(201).send(r);
    },
  );

  app.post(
    '/v1/accounts/:accountId/subscription/change',
    {
      config: { access: 'operator' },
      schema: {
        summary: 'Upgrade at once (prorated) or downgrade at the next renewal',
        tags: ['plans'],
        headers: IdempotencyHeaders,
        params: AccountParams,
        body: ChangePlanRequest,
        response: {
          200: ref(SubscriptionResult),
          ...problems('operator', true, P.changePlan),
        },
      },
    },
    async (request, reply) => {
      const r = await purchases.changePlan({
        accountId: request.params.accountId,
        key: request.headers[IDEMPOTENCY_HEADER],
        plan: request.body.plan,
      });
      replayed(reply, r.replay);
      return r;
    },
  );

  app.post(
    '/v1/accounts/:accountId/subscription/cancel',
    {
      config: { access: 'account', action: 'billing' },
      schema: {
        summary: 'End the plan at the end of the current cycle (purchased credits stay)',
        tags: ['plans'],
        headers: IdempotencyHeaders,
        params: AccountParams,
        body: CancelRequest,
        response: {
          200: ref(SubscriptionResult),
          ...problems('account', true, S.account, P.changePlan),
        },
      },
    },
    async (request, reply) => {
      const r = await purchases.changePlan({
        accountId: accountInScope(request, request.params.accountId),
        key: request.headers[IDEMPOTENCY_HEADER],
        plan: null,
      });
      replayed(reply, r.replay);
      return r;
    },
  );
}
