import { AmisiError } from '../../core/errors.js';
import { ManualProvider } from './manual/manual-provider.js';
import type { PaymentProvider } from './port.js';
import { StripeProvider } from './stripe/stripe-provider.js';

/** AMISI_PAYMENTS=manual (default) or stripe (with STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET). */
export function providerFromEnv(env: NodeJS.ProcessEnv = process.env): PaymentProvider {
  const name = env.AMISI_PAYMENTS ?? 'manual';
  if (name === 'manual') return new ManualProvider();
  if (name === 'stripe') {
    const secretKey = env.STRIPE_SECRET_KEY;
    const webhookSecret = env.STRIPE_WEBHOOK_SECRET;
    if (!secretKey || !webhookSecret) {
      throw new AmisiError(
        'invalid_argument',
        'AMISI_PAYMENTS=stripe needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET',
        {
          field: 'AMISI_PAYMENTS',
        },
      );
    }
    return new StripeProvider({ secretKey, webhookSecret });
  }
  throw new AmisiError('invalid_argument', `AMISI_PAYMENTS must be manual or stripe, got ${name}`, {
    field: 'AMISI_PAYMENTS',
  });
}
