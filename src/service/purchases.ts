import { createHash } from 'node:crypto';
import { own } from '../core/catalog.js';
import { seatsOf } from '../core/teams.js';
import { AmisiError, isAmisiError } from '../core/errors.js';
import { LEDGER_PROBLEMS as L, type Ledger } from '../ledger/ledger.js';
import { codes, type UseCaseProblems } from '../ledger/problems.js';
import type { PurchaseResult } from '../ledger/purchases/commands.js';
import type { SubscriptionResult } from '../ledger/subscriptions/commands.js';
import type { PlanUpgrade } from '../core/upgrades.js';
import type { PaymentEvent, PaymentProvider } from './payments/port.js';

/** The payment provider refused or failed (its calls are keyed: retried with the same key). */
const PROVIDER = ['payment_provider_error'] as const;

/** The problem codes of each use-case of PurchaseService: its ledger calls' and the provider's. */
export const PURCHASE_SERVICE_PROBLEMS = {
  setAutoTopup: L.setAutoTopup,
  buy: codes(
    L.createPurchase,
    L.recordCheckout,
    L.getAccount,
    PROVIDER,
    'live_payment_on_test_clock',
  ),
  cancel: codes(L.cancelPurchase, PROVIDER),
  confirm: L.confirmPayment,
  refund: codes(L.reclaimForRefund, L.getPurchase, L.markRefunded, PROVIDER),
  // Through a provider, the plan and an organization's seats are checked before the checkout.
  subscribe: codes(
    L.subscribe,
    L.getAccount,
    L.activeCatalog,
    PROVIDER,
    'live_payment_on_test_clock',
  ),
  changePlan: codes(L.changePlan, L.cancelPlan, L.activeCatalog, PROVIDER),
  // A customer's change: an upgrade with something to pay waits for the payment.
  changePlanAsCustomer: codes(
    L.previewPlanChange,
    L.changePlan,
    L.activeCatalog,
    L.requestUpgrade,
    L.recordUpgradeCheckout,
    L.getAccount,
    PROVIDER,
    'live_payment_on_test_clock',
  ),
  confirmUpgrade: codes(L.confirmUpgrade, L.activeCatalog, PROVIDER),
  checkoutAutoTopups: codes(L.autoTopupsAwaitingCheckout, L.recordCheckout, PROVIDER),
  // A signed event applies what it reports: a paid pack or plan, an invoice, a refund.
  handleWebhook: codes(
    'webhook_signature_invalid',
    'invalid_argument',
    L.confirmPayment,
    L.subscribe,
    L.applyPaidInvoice,
    L.confirmUpgrade,
    L.getPurchase,
    L.reclaimForRefund,
    L.markRefunded,
  ),
} as const satisfies UseCaseProblems<PurchaseService>;

/**
 * Buying and refunding packs: load -> decide -> apply in the ledger, with the provider call
 * between two commits. Every step can be retried: the purchase and the refund are keyed, the
 * provider calls carry idempotency keys, and confirming a payment twice grants once.
 */
export class PurchaseService {
  constructor(
    private readonly ledger: Ledger,
    private readonly provider: PaymentProvider,
  ) {}

  get providerName(): string {
    return this.provider.name;
  }

  /** Sets the account's auto top-up rule; its purchases go through this service's provider. */
  setAutoTopup(input: {
    accountId: string;
    pack: string;
    thresholdCredits: number;
    maxPerPeriod: number;
    period?: string;
  }) {
    return this.ledger.setAutoTopup({ ...input, provider: this.provider.name });
  }

  /** A pending purchase and its checkout; the grant appears when the payment is confirmed. */
  /** An account on a test clock is never paid through a provider that takes real money. */
  private async refuseLiveOnClock(accountId: string): Promise<void> {
    if (!this.provider.live) return;
    const account = await this.ledger.getAccount(accountId);
    if (account.testClockId === null) return;
    throw new AmisiError(
      'live_payment_on_test_clock',
      `account ${accountId} is on test clock ${account.testClockId}: it is not paid through a live ${this.provider.name} key`,
      { accountId, testClockId: account.testClockId, provider: this.provider.name },
    );
  }

  /**
   * A pending purchase of one pack (`pack`) or of several in one payment (`packs`: one line
   * per pack, one checkout with a line item each), and its checkout.
   */
  async buy(input: {
    accountId: string;
    key: string;
    pack?: string;
    packs?: readonly { pack: string; count: number }[];
  }) {
    await this.refuseLiveOnClock(input.accountId);
    const created = await this.ledger.createPurchase({ ...input, provider: this.provider.name });
    let purchase = created.purchase;
    let checkoutUrl: string | null = null;
    if (purchase.checkoutRef === null) {
      const several = purchase.lines.length > 1 || purchase.lines.some((l) => l.count > 1);
      const checkout = await this.provider.createCheckout({
        accountId: purchase.accountId,
        purchaseId: purchase.id,
        kind: 'pack',
        itemId: purchase.pack,
        description: `${purchase.credits} credits (${purchase.pack})`,
        amountCents: purchase.priceCents,
        currency: purchase.currency,
        ...(several
          ? {
              lines: purchase.lines.map((l) => ({
                description: `${l.unitCredits} credits (${l.pack})`,
                quantity: l.count,
                unitAmountCents: l.unitPriceCents,
              })),
            }
          : {}),
      });
      purchase = await this.ledger.recordCheckout(purchase.id, checkout.providerRef);
      checkoutUrl = checkout.url;
    }
    return { purchase, checkoutUrl, replay: created.replay };
  }

  /**
   * Cancels a pending purchase in the ledger (no credits move), then closes its checkout at the
   * provider (Stripe: the session is expired), so it can no longer be paid. If the provider
   * call fails, the purchase stays cancelled and cancelling again retries only the provider's
   * part. A payment that arrives all the same (the customer paid just before) is granted.
   */
  async cancel(purchaseId: string) {
    const r = await this.ledger.cancelPurchase(purchaseId);
    const p = r.purchase;
    if (
      p.checkoutRef !== null &&
      p.provider === this.provider.name &&
      this.provider.expireCheckout
    ) {
      await this.provider.expireCheckout(p.checkoutRef, `expire:${p.id}`);
    }
    return r;
  }

  /** The manual provider's confirmation, by an operator. */
  confirm(purchaseId: string, paymentRef?: string) {
    return this.ledger.confirmPayment({
      purchaseId,
      paymentRef: paymentRef ?? `manual_${purchaseId}`,
    });
  }

  /**
   * Reclaims the unspent credits, then asks the provider for the money. If the provider call
   * fails, the purchase stays `refunding`; calling refund again with the same key retries it.
   */
  async refund(input: {
    purchaseId: string;
    key: string;
    full?: boolean;
  }): Promise<PurchaseResult & { replay: boolean }> {
    const reclaimed = await this.ledger.reclaimForRefund(input);
    const p = await this.ledger.getPurchase(input.purchaseId);
    if (p.status !== 'refunding') return { ...reclaimed, purchase: p };
    const refund = await this.provider.refund({
      accountId: p.accountId,
      purchaseId: p.id,
      paymentRef: p.paymentRef ?? p.id,
      amountCents: p.refundedCents,
      currency: p.currency,
      idempotencyKey: `refund:${p.id}`,
    });
    const done = await this.ledger.markRefunded(p.id, refund.providerRef);
    return { ...reclaimed, purchase: done };
  }

  /**
   * Starts a plan. With the manual provider the plan starts at once (the operator bills it);
   * with a provider that takes money, a subscription checkout is created and the plan starts
   * when its payment completes (the webhook). The checkout id is derived from the account and
   * the key, so a retry returns the same checkout.
   */
  async subscribe(input: { accountId: string; plan: string; key: string }) {
    if (this.provider.name === 'manual') {
      const result = await this.ledger.subscribe(input);
      return { started: true as const, result, checkoutUrl: null };
    }
    await this.refuseLiveOnClock(input.accountId);
    const account = await this.ledger.getAccount(input.accountId);
    const catalog = await this.ledger.activeCatalog();
    const plan = own(catalog.body.plans, input.plan);
    if (!plan) {
      throw new AmisiError('invalid_parameter', `unknown plan "${input.plan}"`, {
        parameter: 'plan',
        value: input.plan,
        allowed: Object.keys(catalog.body.plans),
      });
    }
    if (account.kind === 'organization') {
      // Refuse before anyone pays: the plan would be refused when the payment arrives. (The
      // ledger checks again under the account's lock when the plan starts.)
      const members = (await this.ledger.listMembers(input.accountId)).length;
      if (members > seatsOf(plan)) {
        throw new AmisiError(
          'seat_limit_reached',
          `organization ${input.accountId} has ${members} members and plan "${input.plan}" seats ${seatsOf(plan)}`,
          { accountId: input.accountId, plan: input.plan, members, seats: seatsOf(plan) },
        );
      }
    }
    const id = createHash('sha256').update(`${input.accountId}\u0000${input.key}`).digest('hex');
    const checkout = await this.provider.createCheckout({
      accountId: input.accountId,
      purchaseId: `plan_${id.slice(0, 32)}`,
      kind: 'subscription',
      itemId: input.plan,
      description: `${plan.name} plan: ${plan.creditsPerCycle} credits a month`,
      amountCents: plan.priceCents,
      currency: catalog.body.currency,
    });
    return { started: false as const, result: null, checkoutUrl: checkout.url };
  }

  /**
   * Upgrade, downgrade or cancel (plan null) in the ledger, then the same change on the
   * provider's subscription when the plan is billed there. If the provider call fails, the
   * ledger change stands and calling again with the same key retries only the provider's part.
   */
  async changePlan(input: { accountId: string; key: string; plan: string | null }) {
    const result =
      input.plan === null
        ? await this.ledger.cancelPlan({ accountId: input.accountId, key: input.key })
        : await this.ledger.changePlan({ ...input, plan: input.plan });
    const sub = result.subscription;
    const change = result.change;
    if (
      sub.providerRef === null ||
      !this.provider.changeSubscription ||
      change === 'subscribe' ||
      change === 'unchanged'
    ) {
      return result;
    }
    const catalog = await this.ledger.activeCatalog();
    const planId = change === 'downgrade' ? (sub.pendingPlan ?? sub.plan) : sub.plan;
    const plan = change === 'cancel' ? undefined : own(catalog.body.plans, planId);
    await this.provider.changeSubscription({
      accountId: sub.accountId,
      providerRef: sub.providerRef,
      change,
      plan: plan ? { id: planId, name: plan.name, priceCents: plan.priceCents } : null,
      chargeCents: result.chargeCents,
      currency: result.currency,
      idempotencyKey: `plan:${sub.id}:${input.key}`,
    });
    return result;
  }

  /**
   * A plan change asked for by the customer (an account key, an organization's owner). Money
   * decides the path: an upgrade with a prorated difference to pay becomes a pending upgrade
   * with the provider's checkout (Stripe: a Checkout Session; manual: an operator confirms),
   * and nothing changes until it is paid; a downgrade, a change back to the current plan (which
   * undoes a queued downgrade or cancellation) or an upgrade with nothing to pay is applied as
   * an operator's change would be. A retry with the same key answers the same upgrade.
   */
  async changePlanAsCustomer(input: { accountId: string; key: string; plan: string }): Promise<
    | {
        readonly paid: false;
        readonly upgrade: PlanUpgrade;
        readonly checkoutUrl: string | null;
        readonly replay: boolean;
      }
    | { readonly paid: true; readonly result: Awaited<ReturnType<PurchaseService['changePlan']>> }
  > {
    const preview = await this.ledger.previewPlanChange(input.accountId, input.plan);
    const requested = await this.ledger.upgradeByKey(input.accountId, input.key);
    if (requested === null && (preview.change !== 'upgrade' || preview.chargeCents === 0)) {
      return { paid: true, result: await this.changePlan(input) };
    }
    await this.refuseLiveOnClock(input.accountId);
    const created = await this.ledger.requestUpgrade({ ...input, provider: this.provider.name });
    let upgrade = created.upgrade;
    const catalog = await this.ledger.activeCatalog();
    const name = own(catalog.body.plans, upgrade.plan)?.name ?? upgrade.plan;
    // Asked for the same upgrade again (a retry): the provider answers the same checkout.
    const checkout = await this.provider.createCheckout({
      accountId: upgrade.accountId,
      purchaseId: upgrade.id,
      kind: 'upgrade',
      itemId: upgrade.plan,
      description: `Upgrade to ${name}: ${upgrade.credits} credits for the rest of the cycle`,
      amountCents: upgrade.priceCents,
      currency: upgrade.currency,
    });
    if (upgrade.checkoutRef === null) {
      upgrade = await this.ledger.recordUpgradeCheckout(upgrade.id, checkout.providerRef);
    }
    return { paid: false, upgrade, checkoutUrl: checkout.url, replay: created.replay };
  }

  /** The manual provider's confirmation of an upgrade's payment, by an operator. */
  async confirmUpgrade(upgradeId: string, paymentRef?: string) {
    const r = await this.ledger.confirmUpgrade({
      upgradeId,
      paymentRef: paymentRef ?? `manual_${upgradeId}`,
    });
    await this.moveProviderPrice(r);
    return r;
  }

  /**
   * A paid upgrade on a plan billed by the provider: its recurring price moves to the new plan,
   * charging nothing more (the difference was paid by the upgrade's checkout). Keyed by the
   * upgrade: a retry (a redelivered event) repeats nothing.
   */
  private async moveProviderPrice(r: {
    readonly upgrade: PlanUpgrade;
    readonly change: SubscriptionResult | null;
  }): Promise<void> {
    const sub = r.change?.subscription;
    if (!sub || sub.providerRef === null || !this.provider.changeSubscription) return;
    const catalog = await this.ledger.activeCatalog();
    const plan = own(catalog.body.plans, sub.plan);
    if (!plan) return;
    await this.provider.changeSubscription({
      accountId: sub.accountId,
      providerRef: sub.providerRef,
      change: 'upgrade',
      plan: { id: sub.plan, name: plan.name, priceCents: plan.priceCents },
      chargeCents: 0,
      currency: r.upgrade.currency,
      idempotencyKey: `plan:${sub.id}:upgrade:${r.upgrade.id}`,
    });
  }

  /**
   * Asks the provider for a checkout for every auto top-up purchase that has none yet (the
   * ledger created them inside the batch that crossed the threshold). With the manual provider
   * they then wait for an operator's confirm, like any purchase. Returns how many it started.
   */
  async checkoutAutoTopups(limit = 100): Promise<number> {
    let started = 0;
    for (const p of await this.ledger.autoTopupsAwaitingCheckout(limit)) {
      if (p.provider !== this.provider.name) continue;
      // A clocked account's top-up waits for an operator (it is never paid with real money).
      if (this.provider.live && (await this.ledger.getAccount(p.accountId)).testClockId) continue;
      const checkout = await this.provider.createCheckout({
        accountId: p.accountId,
        purchaseId: p.id,
        kind: 'pack',
        itemId: p.pack,
        description: `${p.credits} credits (${p.pack}, auto top-up)`,
        amountCents: p.priceCents,
        currency: p.currency,
      });
      await this.ledger.recordCheckout(p.id, checkout.providerRef);
      started += 1;
    }
    return started;
  }

  /**
   * A provider's webhook: verified by the provider, applied at most once per event id.
   * Returns what it did, for the HTTP layer to log.
   */
  async handleWebhook(rawBody: string | Buffer, signature: string | undefined): Promise<string> {
    const event: PaymentEvent | null = this.provider.parseWebhook(rawBody, signature);
    if (!event) return 'ignored';
    switch (event.type) {
      case 'checkout.completed':
        if (event.kind === 'upgrade') return this.upgradePaid(event);
        return event.kind === 'subscription' ? this.planPaid(event) : this.packPaid(event);
      case 'invoice.paid': {
        const r = await this.ledger.applyPaidInvoice(event);
        return r.replay ? 'already processed' : 'invoice recorded';
      }
      case 'charge.refunded':
        return this.refundedOutside(event);
    }
  }

  private async packPaid(event: CheckoutCompleted): Promise<string> {
    const r = await this.ledger.confirmPayment({
      purchaseId: event.purchaseId,
      paymentRef: event.paymentRef,
      eventId: event.eventId,
    });
    return r.replay ? 'already processed' : 'granted';
  }

  /** An upgrade's payment: it takes effect once (keyed by the upgrade and the event). */
  private async upgradePaid(event: CheckoutCompleted): Promise<string> {
    const r = await this.ledger.confirmUpgrade({
      upgradeId: event.purchaseId,
      paymentRef: event.paymentRef,
      eventId: event.eventId,
    });
    // A redelivery retries the provider's price move too: it is keyed, so it happens once.
    await this.moveProviderPrice(r);
    return r.replay ? 'already processed' : 'upgraded';
  }

  /** The first payment of a plan: the plan starts now (keyed by the checkout: once). */
  private async planPaid(event: CheckoutCompleted): Promise<string> {
    try {
      const r = await this.ledger.subscribe({
        accountId: event.accountId,
        plan: event.itemId,
        key: `checkout:${event.purchaseId}`,
        providerRef: event.paymentRef,
      });
      return r.replay ? 'already processed' : 'subscribed';
    } catch (e) {
      // Paid twice for a plan (two checkouts open at once): retrying cannot help, and the
      // operator refunds the second payment. Anything else is retried by the provider.
      if (isAmisiError(e) && e.code === 'subscription_exists') return 'ignored: already on a plan';
      throw e;
    }
  }

  /**
   * A refund made in the provider's dashboard: the unspent credits are reclaimed and the amount
   * the provider refunded is recorded. A refund we started ourselves is already refunding or
   * refunded here, so its event changes nothing.
   */
  private async refundedOutside(event: ChargeRefunded): Promise<string> {
    const p = await this.ledger.getPurchase(event.purchaseId);
    if (p.status !== 'paid') return 'already processed';
    await this.ledger.reclaimForRefund({
      purchaseId: p.id,
      key: `refund-event:${event.eventId}`,
      providerCents: event.amountRefundedCents,
    });
    await this.ledger.markRefunded(p.id, event.eventId);
    return 'refunded';
  }
}

type CheckoutCompleted = Extract<PaymentEvent, { type: 'checkout.completed' }>;
type ChargeRefunded = Extract<PaymentEvent, { type: 'charge.refunded' }>;
