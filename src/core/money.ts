import { assert } from './errors.js';

/** Money is integer minor units with an ISO currency code; formatting never uses floats. */
export function formatMoney(cents: number, currency: string): string {
  assert(Number.isSafeInteger(cents), 'money is an integer number of minor units');
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const whole = (abs - (abs % 100)) / 100;
  return `${sign}${whole}.${String(abs % 100).padStart(2, '0')} ${currency.toUpperCase()}`;
}
