import { LEDGER_PROBLEMS as L } from '../../ledger/ledger.js';
import { PURCHASE_SERVICE_PROBLEMS as P } from '../../service/purchases.js';
import { Type } from '@sinclair/typebox';
import { AmisiError } from '../../core/errors.js';
import type { App, Deps } from '../app.js';
import { replayed } from '../app.js';
import { accountInScope, purchaseInScope, SCOPE_PROBLEMS as S } from '../auth.js';
import {
  AccountParams,
  BuyRequest,
  BuyResult,
  ConfirmRequest,
  IdempotencyHeaders,
  IDEMPOTENCY_HEADER,
  problems,
  Purchase,
  PurchaseList,
  PurchaseParams,
  PurchaseResult,
  ref,
  RefundRequest,
  WebhookResult,
} from '../schemas/index.js';

/** Packs bought through the payment provider: buy, get, cancel, list, confirm (manual), refund. */
export async function purchaseRoutes(app: App, deps: Deps): Promise<void> {
  const { ledger, purchases } = deps;
  app.post(
    '/v1/purchases',
    {
      config: { access: 'account', action: 'packs.buy' },
      schema: {
        summary: 'Buy a pack, or several in one payment: a pending purchase and where to pay',
        description:
          "Name one pack (pack) or several (packs: one line per pack with its count, e.g. the advice's combination), not both. One purchase, one checkout (a line item per pack); the credits of every line are granted once, when the payment is confirmed.",
        tags: ['purchases'],
        headers: IdempotencyHeaders,
        body: BuyRequest,
        response: {
          201: ref(BuyResult),
          ...problems('account', true, S.account, P.buy),
        },
      },
    },
    async (request, reply) => {
      const { pack, packs } = request.body;
      const r = await purchases.buy({
        accountId: accountInScope(request, request.body.accountId),
        ...(pack === undefined ? {} : { pack }),
        ...(packs === undefined ? {} : { packs }),
        key: request.headers[IDEMPOTENCY_HEADER],
      });
      replayed(reply, r.replay);
      return reply.status(201).send(r);
    },
  );

  app.get(
    '/v1/purchases/:purchaseId',
    {
      config: { access: 'account', action: 'packs.buy' },
      schema: {
        summary: 'Get a purchase',
        tags: ['purchases'],
        params: PurchaseParams,
        response: { 200: ref(Purchase), ...problems('account', false, S.purchase) },
      },
    },
    async (request) => purchaseInScope(request, ledger, request.params.purchaseId),
  );

  app.post(
    '/v1/purchases/:purchaseId/cancel',
    {
      config: { access: 'account', action: 'packs.buy' },
      schema: {
        summary: 'Cancel a pending purchase (nothing was paid, no credits move)',
        description:
          "Allowed to the keys that may buy for the account. The provider's checkout is closed (Stripe: the session is expired). Cancelling again is a replay, so no Idempotency-Key is needed; a paid or refunded purchase is purchase_not_pending. A payment that still arrives for it is granted all the same.",
        tags: ['purchases'],
        params: PurchaseParams,
        response: {
          200: ref(PurchaseResult),
          ...problems('account', true, S.purchase, P.cancel),
        },
      },
    },
    async (request, reply) => {
      const purchase = await purchaseInScope(request, ledger, request.params.purchaseId);
      const r = await purchases.cancel(purchase.id);
      replayed(reply, r.replay);
      return r;
    },
  );

  app.get(
    '/v1/accounts/:accountId/purchases',
    {
      config: { access: 'account', action: 'packs.buy' },
      schema: {
        summary: "An account's purchases, newest first",
        tags: ['purchases'],
        params: AccountParams,
        response: {
          200: ref(PurchaseList),
          ...problems('account', false, S.account, L.getAccount, L.listPurchases),
        },
      },
    },
    async (request) => {
      const account = await ledger.getAccount(accountInScope(request, request.params.accountId));
      return { purchases: await ledger.listPurchases(account.id) };
    },
  );

  app.post(
    '/v1/purchases/:purchaseId/confirm',
    {
      config: { access: 'operator' },
      schema: {
        summary: 'Manual provider: the payment arrived (grants the credits once)',
        description:
          'Only for purchases made through the manual provider; a provider with webhooks confirms its own payments. Confirming again is a replay, so no Idempotency-Key is needed.',
        tags: ['purchases'],
        params: PurchaseParams,
        body: ConfirmRequest,
        response: {
          200: ref(PurchaseResult),
          ...problems('operator', true, L.getPurchase, 'invalid_argument', P.confirm),
        },
      },
    },
    async (request, reply) => {
      const purchase = await ledger.getPurchase(request.params.purchaseId);
      if (purchase.provider !== 'manual') {
        throw new AmisiError(
          'invalid_argument',
          `purchase ${purchase.id} is paid through ${purchase.provider}: its webhook confirms it`,
          { field: 'purchaseId', provider: purchase.provider },
        );
      }
      const r = await purchases.confirm(purchase.id, request.body.paymentRef);
      replayed(reply, r.replay);
      return r;
    },
  );

  app.post(
    '/v1/purchases/:purchaseId/refund',
    {
      config: { access: 'operator' },
      schema: {
        summary: 'Refund a purchase: reclaims its unspent credits, pays back their share',
        tags: ['purchases'],
        headers: IdempotencyHeaders,
        params: PurchaseParams,
        body: RefundRequest,
        response: {
          200: ref(PurchaseResult),
          ...problems('operator', true, P.refund),
        },
      },
    },
    async (request, reply) => {
      const r = await purchases.refund({
        purchaseId: request.params.purchaseId,
        key: request.headers[IDEMPOTENCY_HEADER],
        full: request.body.full === true,
      });
      replayed(reply, r.replay);
      return r;
    },
  );

  await app.register(stripeWebhook, deps);
}

/**
 * Stripe's webhook. Its own scope, so its body stays raw bytes: the signature is over them,
 * and parsing and re-serializing would change them. The signature is the authentication.
 */
async function stripeWebhook(app: App, { purchases }: Deps): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => {
    done(null, body);
  });
  app.post(
    '/v1/payments/stripe/webhook',
    {
      config: { access: 'public' },
      schema: {
        summary: "Stripe's signed events (checkout completed, invoice paid, charge refunded)",
        description:
          'Configure the endpoint in Stripe with the signing secret in STRIPE_WEBHOOK_SECRET. Each event is applied at most once.',
        tags: ['payments'],
        security: [],
        headers: Type.Object({ 'stripe-signature': Type.Optional(Type.String()) }),
        response: {
          200: ref(WebhookResult),
          ...problems('public', true, P.handleWebhook),
        },
      },
    },
    async (request) => {
      const body = request.body;
      const raw = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
      const result = await purchases.handleWebhook(raw, request.headers['stripe-signature']);
      request.log.info({ result }, 'stripe webhook');
      return { received: true, result };
    },
  );
}
