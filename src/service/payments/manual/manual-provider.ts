import { AmisiError } from '../../../core/errors.js';
import type {
  Checkout,
  CheckoutRequest,
  PaymentEvent,
  PaymentProvider,
  Refund,
  RefundRequest,
} from '../port.js';
import { checkCheckoutRequest, checkRefundRequest } from '../validate.js';

/**
 * The default provider for self-hosting and tests: no money moves through it. A checkout waits
 * for an operator to confirm the payment by hand (a CLI command), and a refund is whatever the
 * operator did outside. Refs are derived from our own ids, so a retry gets the same ref.
 */
export class ManualProvider implements PaymentProvider {
  readonly name = 'manual';

  async createCheckout(request: CheckoutRequest): Promise<Checkout> {
    checkCheckoutRequest(request);
    return { provider: this.name, providerRef: `manual_${request.purchaseId}`, url: null };
  }

  /** The idempotency key names the refund, so two partial refunds of one purchase differ. */
  async refund(request: RefundRequest): Promise<Refund> {
    checkRefundRequest(request);
    return { providerRef: `manual_refund_${request.idempotencyKey}` };
  }

  /** Nothing can sign a manual webhook, so every one is refused. */
  parseWebhook(_rawBody: string | Buffer, _signature: string | undefined): PaymentEvent | null {
    throw new AmisiError(
      'webhook_signature_invalid',
      'the manual provider has no webhooks; confirm payments with the CLI',
      { provider: this.name },
    );
  }
}
