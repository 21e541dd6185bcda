import { AmisiError } from '../../core/errors.js';
import type { CheckoutRequest, RefundRequest } from './port.js';

/**
 * Checks shared by every provider, so that bad input gets the same clear error whichever
 * provider is configured, and no provider is called with it.
 */

/** The catalog's currency format (core/catalog.ts): ISO 4217, lower case. */
const CURRENCY = /^[a-z]{3}$/;
/** Stripe's limit on a metadata value; ids travel in metadata, so they keep to it everywhere. */
const MAX_ID_LENGTH = 500;

export function checkCheckoutRequest(request: CheckoutRequest): void {
  checkId('accountId', request.accountId);
  checkId('purchaseId', request.purchaseId);
  checkId('itemId', request.itemId);
  if (!['pack', 'subscription', 'upgrade'].includes(request.kind)) {
    throw invalid('kind', request.kind, "kind is 'pack', 'subscription' or 'upgrade'");
  }
  if (typeof request.description !== 'string' || request.description.trim() === '') {
    throw invalid('description', request.description, 'description is a non-empty string');
  }
  checkCents('amountCents', request.amountCents);
  checkCurrency(request.currency);
  if (request.lines !== undefined) checkLines(request.lines, request.amountCents);
}

/** A checkout's line items: each a quantity from 1 and a unit price, together the amount. */
function checkLines(lines: NonNullable<CheckoutRequest['lines']>, amountCents: number): void {
  if (lines.length < 1) throw invalid('lines', lines.length, 'lines has at least one line');
  let total = 0;
  for (const line of lines) {
    if (typeof line.description !== 'string' || line.description.trim() === '') {
      throw invalid('lines', line.description, 'each line has a description');
    }
    if (!Number.isSafeInteger(line.quantity) || line.quantity < 1) {
      throw invalid('lines', line.quantity, 'each line has a whole quantity from 1');
    }
    checkCents('lines', line.unitAmountCents);
    total += line.quantity * line.unitAmountCents;
  }
  if (total !== amountCents) {
    throw invalid('lines', total, `the lines sum to ${total}, not amountCents ${amountCents}`);
  }
}

export function checkRefundRequest(request: RefundRequest): void {
  checkId('accountId', request.accountId);
  checkId('purchaseId', request.purchaseId);
  checkId('paymentRef', request.paymentRef);
  checkId('idempotencyKey', request.idempotencyKey);
  checkCents('amountCents', request.amountCents);
  checkCurrency(request.currency);
}

function checkId(field: string, value: unknown): void {
  if (typeof value !== 'string' || value === '' || value.length > MAX_ID_LENGTH) {
    throw invalid(field, value, `${field} is a string of 1 to ${MAX_ID_LENGTH} characters`);
  }
}

/** Money is integer minor units; a payment or refund of nothing is a mistake. */
function checkCents(field: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw invalid(field, value, `${field} is a whole number of minor units greater than zero`);
  }
}

function checkCurrency(value: unknown): void {
  if (typeof value !== 'string' || !CURRENCY.test(value)) {
    throw invalid('currency', value, 'currency is a lower-case ISO 4217 code such as "usd"');
  }
}

function invalid(field: string, value: unknown, rule: string): AmisiError {
  return new AmisiError('invalid_argument', rule, { field, value });
}
