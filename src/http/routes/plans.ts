import { LEDGER_PROBLEMS as L } from '../../ledger/ledger.js';
import { PURCHASE_SERVICE_PROBLEMS as P } from '../../service/purchases.js';
import type { App, Deps } from '../app.js';
import { replayed } from '../app.js';
import { AmisiError } from '../../core/errors.js';
import { accountInScope, principalOf, SCOPE_PROBLEMS as S, upgradeInScope } from '../auth.js';
import {
  AccountParams,
  CancelRequest,
  ChangePlanRequest,
  IdempotencyHeaders,
  IDEMPOTENCY_HEADER,
  PlanChangePreview,
  PlanPreviewQuery,
  PlanUpgradeCheckout,
  PlanUpgradeList,
  PlanUpgradeResult,
  ConfirmRequest,
  UpgradeParams,
  problems,
  ref,
  SubscribeRequest,
  Subscription,
  SubscriptionCheckout,
  SubscriptionResult,
} from '../schemas/index.js';

/**
 * An account's plan. Subscribing grants credits, so it takes an operator key. A plan change by
 * an operator applies at once; by the account (its key, an organization's owner) money decides:
 * an upgrade with a difference to pay waits for the payment (202 and a pending upgrade), a
 * downgrade, a cancellation or a change back to the current plan (undoing either) needs none.
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
      config: { access: 'account', action: 'billing' },
      schema: {
        summary: 'Upgrade (prorated) or downgrade at the next renewal',
        description:
          "With an operator key the change applies at once (an upgrade grants its prorated credits; the operator bills it, or the provider's subscription is charged). With an account key (or an organization owner's), an upgrade with a prorated difference to pay answers 202: a pending upgrade and where to pay; its credits and the new plan arrive with the payment, exactly once. A downgrade (queued for the renewal), or the current plan (undoing a queued downgrade or cancellation), applies at once for either key.",
        tags: ['plans'],
        headers: IdempotencyHeaders,
        params: AccountParams,
        body: ChangePlanRequest,
        response: {
          200: ref(SubscriptionResult),
          202: ref(PlanUpgradeCheckout),
          ...problems('account', true, S.account, P.changePlan, P.changePlanAsCustomer),
        },
      },
    },
    async (request, reply) => {
      const input = {
        accountId: accountInScope(request, request.params.accountId),
        key: request.headers[IDEMPOTENCY_HEADER],
        plan: request.body.plan,
      };
      if (principalOf(request).kind === 'operator') {
        const r = await purchases.changePlan(input);
        replayed(reply, r.replay);
        return r;
      }
      const r = await purchases.changePlanAsCustomer(input);
      if (r.paid) {
        replayed(reply, r.result.replay);
        return r.result;
      }
      replayed(reply, r.replay);
      return reply
        .status(202)
        .send({ upgrade: r.upgrade, checkoutUrl: r.checkoutUrl, replay: r.replay });
    },
  );

  app.get(
    '/v1/accounts/:accountId/subscription/upgrades',
    {
      config: { access: 'account', action: 'billing' },
      schema: {
        summary: "The account's upgrades (pending, paid, cancelled), newest first",
        tags: ['plans'],
        params: AccountParams,
        response: {
          200: ref(PlanUpgradeList),
          ...problems('account', false, S.account, L.listUpgrades),
        },
      },
    },
    async (request) => ({
      upgrades: await ledger.listUpgrades(accountInScope(request, request.params.accountId)),
    }),
  );

  app.post(
    '/v1/plan-upgrades/:upgradeId/cancel',
    {
      config: { access: 'account', action: 'billing' },
      schema: {
        summary: 'Cancel a pending upgrade (nothing was paid, nothing changes)',
        description:
          'Cancelling again is a replay, so no Idempotency-Key is needed. A payment that still arrives for it applies it all the same.',
        tags: ['plans'],
        params: UpgradeParams,
        response: {
          200: ref(PlanUpgradeResult),
          ...problems('account', true, S.upgrade, L.cancelUpgrade),
        },
      },
    },
    async (request, reply) => {
      const upgrade = await upgradeInScope(request, ledger, request.params.upgradeId);
      const r = await ledger.cancelUpgrade(upgrade.id);
      replayed(reply, r.replay);
      return { upgrade: r.upgrade, subscription: null, transactionId: null, replay: r.replay };
    },
  );

  app.post(
    '/v1/plan-upgrades/:upgradeId/confirm',
    {
      config: { access: 'operator' },
      schema: {
        summary:
          "Manual provider: the upgrade's payment arrived (the plan changes, credits granted once)",
        description:
          'Only for upgrades asked for through the manual provider; a provider with webhooks confirms its own payments. Confirming again is a replay, so no Idempotency-Key is needed.',
        tags: ['plans'],
        params: UpgradeParams,
        body: ConfirmRequest,
        response: {
          200: ref(PlanUpgradeResult),
          ...problems('operator', true, L.getUpgrade, 'invalid_argument', P.confirmUpgrade),
        },
      },
    },
    async (request, reply) => {
      const upgrade = await ledger.getUpgrade(request.params.upgradeId);
      if (upgrade.provider !== 'manual') {
        throw new AmisiError(
          'invalid_argument',
          `upgrade ${upgrade.id} is paid through ${upgrade.provider}: its webhook confirms it`,
          { field: 'upgradeId', provider: upgrade.provider },
        );
      }
      const r = await purchases.confirmUpgrade(upgrade.id, request.body.paymentRef);
      replayed(reply, r.replay);
      return {
        upgrade: r.upgrade,
        subscription: r.change?.subscription ?? null,
        transactionId: r.change?.transactionId ?? null,
        replay: r.replay,
      };
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
