import { accountOf } from '../reads.js';
import { own } from '../../core/catalog.js';
import { addMonths } from '../../core/cycles.js';
import { periodStart, type AutoTopup, type AutoTopupPeriod } from '../../core/autotopup.js';
import { AmisiError, assert } from '../../core/errors.js';
import { pendingPurchase, planRefund, purchaseLines, type Purchase } from '../../core/purchases.js';
import type { AccountState, UnitOfWork } from '../unit-of-work.js';
import { onceRef, type Replayable } from '../idempotency.js';

/**
 * Purchases of packs: created pending, granted exactly once when the payment is confirmed,
 * refunded by reclaiming the unspent credits. Calls to the payment provider happen outside
 * these commands (src/service/purchases.ts), between commits.
 */

export interface PurchaseResult {
  readonly purchase: Purchase;
  /** The journal transaction of a grant or refund, when this step made one. */
  readonly transactionId: string | null;
}

async function purchaseIn(
  uow: UnitOfWork,
  purchaseId: string,
): Promise<{ state: AccountState; purchase: Purchase }> {
  const accountId = await accountOf(uow.read, 'purchases', purchaseId);
  if (!accountId) {
    throw new AmisiError('unknown_purchase', `unknown purchase "${purchaseId}"`, { purchaseId });
  }
  const state = await uow.account(accountId);
  const purchase = await uow.read.get('purchases', { accountId: accountId, id: purchaseId });
  assert(purchase, `purchase ${purchaseId} exists in its account`);
  return { state, purchase };
}

/**
 * The journal transaction that granted the purchase's credits ('grant') or reclaimed them for a
 * refund ('refund'), in this batch or before; null when it made none. A replay answers it, as
 * the first answer did. Both name the purchase's grant and come at or after its payment.
 */
async function purchaseTransaction(
  uow: UnitOfWork,
  purchase: Purchase,
  kind: 'grant' | 'refund',
): Promise<string | null> {
  const { grantId, paidAt, accountId } = purchase;
  if (grantId === null || paidAt === null) return null;
  const mine = (t: { kind: string; grantId: string | null }) =>
    t.kind === kind && t.grantId === grantId;
  const buffered = uow.bufferedTransactions(accountId).find(mine);
  if (buffered) return buffered.id;
  const stored = await uow.read.journal(
    { accountId: accountId, kind: [kind], createdAt: { gte: paidAt } },
    { order: ['createdAt', 'id'] },
  );
  return stored.find(mine)?.id ?? null;
}

export interface CreatePurchaseInput {
  readonly accountId: string;
  readonly key: string;
  /** One line per pack (distinct packs, counts from 1), checked by the API before. */
  readonly packs: readonly { readonly pack: string; readonly count: number }[];
  readonly provider: string;
}

/**
 * A pending purchase of one or more packs, one payment for all of them. A purchase of one
 * pack keeps the request it always had (`pack`), so its replays match the keys stored before
 * purchases had lines.
 */
export async function createPurchase(
  uow: UnitOfWork,
  input: CreatePurchaseInput,
): Promise<Replayable<PurchaseResult>> {
  await uow.account(input.accountId);
  const [only] = input.packs;
  const what =
    input.packs.length === 1 && only && only.count === 1
      ? { pack: only.pack }
      : { packs: input.packs };
  return onceRef(
    uow,
    input.accountId,
    input.key,
    { op: 'buy', accountId: input.accountId, ...what, provider: input.provider },
    async () => {
      const catalog = await uow.activeCatalog();
      const lines = purchaseLines(input.packs, (id) => {
        const pack = own(catalog.body.packs, id);
        if (!pack) {
          throw new AmisiError('unknown_pack', `unknown pack "${id}"`, {
            pack: id,
            allowed: Object.keys(catalog.body.packs),
          });
        }
        return pack;
      });
      const purchase = pendingPurchase({
        accountId: input.accountId,
        id: uow.newId('pur'),
        lines,
        currency: catalog.body.currency,
        provider: input.provider,
        origin: 'customer',
        now: uow.now,
      });
      await uow.insertPurchase(purchase);
      return { result: { purchase, transactionId: null }, ref: purchase.id };
    },
    async (ref) => {
      const p = await uow.read.get('purchases', { accountId: input.accountId, id: ref });
      assert(p, `purchase ${ref} exists`);
      return { purchase: p, transactionId: null };
    },
  );
}

/** Remembers the provider's checkout id (idempotent: the first one stays). */
export async function recordCheckout(
  uow: UnitOfWork,
  purchaseId: string,
  checkoutRef: string,
): Promise<Purchase> {
  const { purchase } = await purchaseIn(uow, purchaseId);
  if (purchase.checkoutRef !== null) return purchase;
  const updated = { ...purchase, checkoutRef };
  await uow.updatePurchase(updated);
  return updated;
}

export interface ConfirmInput {
  readonly purchaseId: string;
  readonly paymentRef: string;
  /** The provider's event id: a redelivered event changes nothing. */
  readonly eventId?: string;
}

/**
 * The payment arrived: grant the credits of every line (one grant), exactly once per purchase.
 * A cancelled purchase that is paid anyway is granted: money paid buys what it was paid for
 * (as a cancelled plan upgrade that is paid is applied).
 */
export async function confirmPayment(
  uow: UnitOfWork,
  input: ConfirmInput,
): Promise<Replayable<PurchaseResult>> {
  const { state, purchase } = await purchaseIn(uow, input.purchaseId);
  if (
    input.eventId !== undefined &&
    !(await uow.markPaymentEvent(state.account.id, input.eventId))
  ) {
    return {
      purchase,
      transactionId: await purchaseTransaction(uow, purchase, 'grant'),
      replay: true,
    };
  }
  if (purchase.status !== 'pending' && purchase.status !== 'cancelled') {
    return {
      purchase,
      transactionId: await purchaseTransaction(uow, purchase, 'grant'),
      replay: true,
    };
  }
  const catalog = await uow.activeCatalog();
  // Pack credits expire 12 months after purchase unless the catalog says otherwise; the one
  // grant of a combination takes its lines' shortest expiry (never longer than any pack's).
  const months = Math.min(
    ...purchase.lines.map((l) => own(catalog.body.packs, l.pack)?.expiresAfterMonths ?? 12),
  );
  const g = uow.newGrant(
    state.account.id,
    'purchase',
    purchase.credits,
    uow.now,
    addMonths(uow.now, months),
  );
  const entries = await uow.issueGrant(state, g);
  const transactionId = await uow.append(state.account.id, {
    kind: 'grant',
    grantId: g.id,
    detail: {
      source: 'purchase',
      purchaseId: purchase.id,
      pack: purchase.pack,
      priceCents: purchase.priceCents,
      currency: purchase.currency,
      paymentRef: input.paymentRef,
    },
    entries,
  });
  const paid: Purchase = {
    ...purchase,
    status: 'paid',
    paymentRef: input.paymentRef,
    grantId: g.id,
    paidAt: uow.now,
  };
  await uow.updatePurchase(paid);
  await uow.outbox.emit(state.account.id, 'purchase.completed', { purchase: paid, transactionId });
  return { purchase: paid, transactionId, replay: false };
}

/**
 * The customer no longer wants a pending purchase: it is cancelled (again: the same answer, a
 * replay). No credits move, ever: none were granted. A paid, refunding or refunded purchase
 * answers purchase_not_pending. The service then closes the provider's checkout.
 */
export async function cancelPurchase(
  uow: UnitOfWork,
  purchaseId: string,
): Promise<Replayable<PurchaseResult>> {
  const { purchase } = await purchaseIn(uow, purchaseId);
  if (purchase.status === 'cancelled') return { purchase, transactionId: null, replay: true };
  if (purchase.status !== 'pending') {
    throw new AmisiError(
      'purchase_not_pending',
      `purchase ${purchaseId} is ${purchase.status}: only a pending purchase can be cancelled`,
      { purchaseId, status: purchase.status },
    );
  }
  const cancelled: Purchase = { ...purchase, status: 'cancelled', cancelledAt: uow.now };
  await uow.updatePurchase(cancelled);
  return { purchase: cancelled, transactionId: null, replay: false };
}

export interface RefundInput {
  readonly purchaseId: string;
  readonly key: string;
  /** Refund the whole price, not only the unspent share. */
  readonly full: boolean;
  /**
   * The money the provider says it refunded, when the refund started there (its dashboard):
   * recorded as is; the unspent credits are reclaimed all the same.
   */
  readonly providerCents?: number;
}

/**
 * Reclaims the purchase's unspent credits (never spent or held ones) to the refunded book and
 * marks it refunding; the service then asks the provider for the money and marks it refunded.
 */
export async function reclaimForRefund(
  uow: UnitOfWork,
  input: RefundInput,
): Promise<Replayable<PurchaseResult>> {
  const { state, purchase } = await purchaseIn(uow, input.purchaseId);
  const { key, ...request } = input;
  return onceRef(
    uow,
    state.account.id,
    key,
    { op: 'refund', ...request },
    async () => {
      if (purchase.status !== 'paid' || purchase.grantId === null) {
        throw new AmisiError(
          'purchase_not_refundable',
          `purchase ${purchase.id} is ${purchase.status}`,
          {
            purchaseId: purchase.id,
            status: purchase.status,
          },
        );
      }
      const grant =
        state.grants.get(purchase.grantId) ??
        (await uow.read.get('grants', { accountId: state.account.id, id: purchase.grantId }));
      assert(grant, `grant ${purchase.grantId} of purchase ${purchase.id} exists`);
      const plan = planRefund(purchase, grant.remaining, input.full, input.providerCents);
      let transactionId: string | null = null;
      if (plan.credits > 0) {
        await uow.setRemaining(state, grant, 0);
        transactionId = await uow.append(state.account.id, {
          kind: 'refund',
          grantId: grant.id,
          detail: {
            purchaseId: purchase.id,
            credits: plan.credits,
            cents: plan.cents,
            currency: purchase.currency,
            full: input.full,
          },
          entries: [
            { book: 'grant', grantId: grant.id, holdId: null, credits: -plan.credits },
            { book: 'refunded', grantId: grant.id, holdId: null, credits: plan.credits },
          ],
        });
      }
      const refunding: Purchase = {
        ...purchase,
        status: 'refunding',
        refundedCredits: plan.credits,
        refundedCents: plan.cents,
      };
      await uow.updatePurchase(refunding);
      return { result: { purchase: refunding, transactionId }, ref: purchase.id };
    },
    async () => {
      const p = await uow.read.get('purchases', { accountId: state.account.id, id: purchase.id });
      assert(p, `purchase ${purchase.id} exists`);
      return { purchase: p, transactionId: await purchaseTransaction(uow, p, 'refund') };
    },
  );
}

/** The provider refunded the money. */
export async function markRefunded(
  uow: UnitOfWork,
  purchaseId: string,
  refundRef: string,
): Promise<Purchase> {
  const { purchase } = await purchaseIn(uow, purchaseId);
  if (purchase.status !== 'refunding') return purchase;
  const done: Purchase = { ...purchase, status: 'refunded', refundRef };
  await uow.updatePurchase(done);
  await uow.outbox.emit(done.accountId, 'refund.completed', { purchase: done });
  return done;
}

export interface AutoTopupInput {
  readonly accountId: string;
  readonly pack: string;
  readonly thresholdCredits: number;
  readonly maxPerPeriod: number;
  readonly period: AutoTopupPeriod;
  readonly provider: string;
}

/**
 * Sets the account's auto top-up rule (a replace: setting the same rule twice is harmless).
 * It starts armed, so an account already below the threshold buys a pack at the end of this
 * batch; the count of the current period carries over when a rule is replaced, so editing a
 * rule cannot be used to exceed the cap.
 */
export async function setAutoTopup(uow: UnitOfWork, input: AutoTopupInput): Promise<AutoTopup> {
  const state = await uow.account(input.accountId);
  const catalog = await uow.activeCatalog();
  if (!own(catalog.body.packs, input.pack)) {
    throw new AmisiError('unknown_pack', `unknown pack "${input.pack}"`, {
      pack: input.pack,
      allowed: Object.keys(catalog.body.packs),
    });
  }
  const previous = state.autoTopup;
  const start = periodStart(input.period, uow.now);
  const carried =
    previous && previous.period === input.period && previous.periodStartsAt === start
      ? previous.firedInPeriod
      : 0;
  const rule: AutoTopup = {
    ...input,
    armed: previous?.armed ?? true,
    periodStartsAt: start,
    firedInPeriod: carried,
    lastFiredAt: previous?.lastFiredAt ?? null,
    updatedAt: uow.now,
  };
  await uow.setAutoTopup(state, rule);
  return rule;
}

/** Removes the rule; a pending auto top-up purchase stays (it can still be paid). */
export async function clearAutoTopup(uow: UnitOfWork, accountId: string): Promise<boolean> {
  const state = await uow.account(accountId);
  if (!state.autoTopup) return false;
  await uow.setAutoTopup(state, undefined);
  return true;
}

export interface PaidInvoiceInput {
  readonly accountId: string;
  readonly eventId: string;
}

/**
 * A subscription invoice was paid in the provider. Renewals run on our clock (the batch has
 * already caught the account up to now when it loaded it), so this records the event once and
 * reports what the account's plan looks like; a redelivery is a replay.
 */
export async function applyPaidInvoice(
  uow: UnitOfWork,
  input: PaidInvoiceInput,
): Promise<{ replay: boolean; cycleIndex: number | null }> {
  const state = await uow.account(input.accountId);
  const fresh = await uow.markPaymentEvent(state.account.id, input.eventId);
  return { replay: !fresh, cycleIndex: state.subscription?.cycleIndex ?? null };
}
