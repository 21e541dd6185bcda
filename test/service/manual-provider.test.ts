import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualProvider } from '../../src/service/payments/manual/manual-provider.js';
import {
  checkoutRequest,
  paymentProviderContract,
  refundRequest,
  throwsCode,
} from './payment-provider-contract.js';

// The manual provider calls nothing outside, so the count of external calls is always 0.
paymentProviderContract('manual', () => ({
  provider: new ManualProvider(),
  externalCalls: () => 0,
}));

describe('ManualProvider', () => {
  const provider = new ManualProvider();

  it('a checkout is manual_<purchaseId> with no URL: an operator confirms it', async () => {
    assert.deepEqual(await provider.createCheckout({ ...checkoutRequest, purchaseId: 'p-42' }), {
      provider: 'manual',
      providerRef: 'manual_p-42',
      url: null,
    });
  });

  it('a subscription checkout is the same: manual, no URL', async () => {
    const checkout = await provider.createCheckout({ ...checkoutRequest, kind: 'subscription' });
    assert.equal(checkout.url, null);
    assert.equal(checkout.providerRef, `manual_${checkoutRequest.purchaseId}`);
  });

  it('a refund ref comes from its idempotency key: a retry gets the same ref, two refunds differ', async () => {
    const first = await provider.refund(refundRequest);
    assert.deepEqual(await provider.refund(refundRequest), first);
    const second = await provider.refund({ ...refundRequest, idempotencyKey: 'refund:pur-1:2' });
    assert.notEqual(second.providerRef, first.providerRef);
    assert.equal(first.providerRef, 'manual_refund_refund:pur-1:1');
  });

  it('refuses every webhook, signed or not, string or Buffer', () => {
    const body = JSON.stringify({ id: 'evt_1', type: 'checkout.session.completed' });
    for (const signature of [undefined, '', 't=1,v1=abc']) {
      const e = throwsCode(
        () => provider.parseWebhook(body, signature),
        'webhook_signature_invalid',
      );
      assert.equal(e.data['provider'], 'manual');
    }
    throwsCode(() => provider.parseWebhook(Buffer.from(body), 'x'), 'webhook_signature_invalid');
  });
});
