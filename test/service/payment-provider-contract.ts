import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AmisiError, type ErrorCode } from '../../src/core/errors.js';
import type {
  CheckoutRequest,
  PaymentProvider,
  RefundRequest,
} from '../../src/service/payments/port.js';

/**
 * What every PaymentProvider promises (STYLE.md: one interface, one shared suite). Each adapter's
 * test file runs it with a factory; `externalCalls` counts what reached the provider's outside
 * world, so the suite can check that bad input changes nothing.
 */
export interface ContractSubject {
  readonly provider: PaymentProvider;
  readonly externalCalls: () => number;
}

export const checkoutRequest: CheckoutRequest = {
  accountId: 'acct-1',
  purchaseId: 'pur-1',
  kind: 'pack',
  itemId: 'pack-50',
  description: '50 credits',
  amountCents: 1999,
  currency: 'usd',
};

export const refundRequest: RefundRequest = {
  accountId: 'acct-1',
  purchaseId: 'pur-1',
  paymentRef: 'pi_test_1',
  amountCents: 500,
  currency: 'usd',
  idempotencyKey: 'refund:pur-1:1',
};

export async function rejects(promise: Promise<unknown>, code: ErrorCode): Promise<AmisiError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof AmisiError, `expected AmisiError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected AmisiError ${code}, got success`);
}

export function throwsCode(run: () => unknown, code: ErrorCode): AmisiError {
  try {
    run();
  } catch (e) {
    assert.ok(e instanceof AmisiError, `expected AmisiError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected AmisiError ${code}, got a return`);
}

export function paymentProviderContract(name: string, make: () => ContractSubject): void {
  describe(`PaymentProvider contract: ${name}`, () => {
    it('a checkout names its provider and a non-empty ref; a retry gets the same ref', async () => {
      const { provider } = make();
      const first = await provider.createCheckout(checkoutRequest);
      assert.equal(first.provider, provider.name);
      assert.ok(first.providerRef.length > 0);
      assert.deepEqual(await provider.createCheckout(checkoutRequest), first);
    });

    it('a refund returns a non-empty ref', async () => {
      const { provider } = make();
      const refund = await provider.refund(refundRequest);
      assert.ok(refund.providerRef.length > 0);
    });

    const badCheckouts: [string, Partial<CheckoutRequest>][] = [
      ['zero amount', { amountCents: 0 }],
      ['negative amount', { amountCents: -100 }],
      ['fractional amount', { amountCents: 19.99 }],
      ['unsafe amount', { amountCents: Number.MAX_SAFE_INTEGER + 1 }],
      ['NaN amount', { amountCents: Number.NaN }],
      ['upper-case currency', { currency: 'USD' }],
      ['empty purchase id', { purchaseId: '' }],
      ['unknown kind', { kind: 'gift' as never }],
      ['blank description', { description: '  ' }],
    ];
    for (const [label, change] of badCheckouts) {
      it(`a checkout with ${label} is invalid_argument and calls nothing`, async () => {
        const { provider, externalCalls } = make();
        const before = externalCalls();
        await rejects(
          provider.createCheckout({ ...checkoutRequest, ...change }),
          'invalid_argument',
        );
        assert.equal(externalCalls(), before);
      });
    }

    const badRefunds: [string, Partial<RefundRequest>][] = [
      ['zero amount', { amountCents: 0 }],
      ['fractional amount', { amountCents: 0.5 }],
      ['empty payment ref', { paymentRef: '' }],
      ['empty idempotency key', { idempotencyKey: '' }],
    ];
    for (const [label, change] of badRefunds) {
      it(`a refund with ${label} is invalid_argument and calls nothing`, async () => {
        const { provider, externalCalls } = make();
        const before = externalCalls();
        await rejects(provider.refund({ ...refundRequest, ...change }), 'invalid_argument');
        assert.equal(externalCalls(), before);
      });
    }

    it('a webhook with a made-up signature is webhook_signature_invalid', () => {
      const { provider } = make();
      const body = JSON.stringify({ id: 'evt_1', object: 'event', type: 'charge.refunded' });
      throwsCode(() => provider.parseWebhook(body, 't=1,v1=00'), 'webhook_signature_invalid');
      throwsCode(() => provider.parseWebhook(body, undefined), 'webhook_signature_invalid');
    });
  });
}
