import type { Ledger } from '../ledger/ledger.js';
import type { PurchaseResult } from '../ledger/purchase-commands.js';
import type { PaymentEvent, PaymentProvider } from './payments/port.js';

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

  /** A pending purchase and its checkout; the grant appears when the payment is confirmed. */
  async buy(input: { accountId: string; pack: string; key: string }) {
    const created = await this.ledger.createPurchase({ ...input, provider: this.provider.name });
    let purchase = created.purchase;
    let checkoutUrl: string | null = null;
    if (purchase.checkoutRef === null) {
      const checkout = await this.provider.createCheckout({
        accountId: purchase.accountId,
        purchaseId: purchase.id,
        kind: 'pack',
        itemId: purchase.pack,
        description: `${purchase.credits} credits (${purchase.pack})`,
        amountCents: purchase.priceCents,
        currency: purchase.currency,
      });
      purchase = await this.ledger.recordCheckout(purchase.id, checkout.providerRef);
      checkoutUrl = checkout.url;
    }
    return { purchase, checkoutUrl, replay: created.replay };
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
   * A provider's webhook: verified by the provider, applied at most once per event id.
   * Returns what it did, for the HTTP layer to log.
   */
  async handleWebhook(rawBody: string | Buffer, signature: string | undefined): Promise<string> {
    const event: PaymentEvent | null = this.provider.parseWebhook(rawBody, signature);
    if (!event) return 'ignored';
    if (event.type === 'checkout.completed') {
      const r = await this.ledger.confirmPayment({
        purchaseId: event.purchaseId,
        paymentRef: event.paymentRef,
        eventId: event.eventId,
      });
      return r.replay ? 'already processed' : 'granted';
    }
    // Invoices (subscription renewals paid through Stripe) and refunds started in the provider's
    // dashboard are not applied yet: see the issue notes.
    return 'ignored';
  }
}
