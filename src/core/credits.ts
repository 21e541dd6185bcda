import { AmisiError } from './errors.js';

/** Largest credit amount accepted anywhere: keeps sums far inside Number.MAX_SAFE_INTEGER. */
export const MAX_CREDITS = 1_000_000_000_000;

/** Asserts a credit amount coming in from outside: a positive safe integer. */
export function requireCredits(value: unknown, field = 'credits'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new AmisiError(
      'invalid_credits',
      `${field} must be a whole number greater than zero, got ${JSON.stringify(value)}`,
      { field, value: typeof value === 'number' ? value : String(value) },
    );
  }
  if (value > MAX_CREDITS) {
    throw new AmisiError('invalid_credits', `${field} must be at most ${MAX_CREDITS}`, {
      field,
      value,
      max: MAX_CREDITS,
    });
  }
  return value;
}

/**
 * Parses a credit amount typed by a person ("12"). Rejects "1.5", "1e3", "-2", "0x10", "".
 */
export function parseCredits(text: string, field = 'credits'): number {
  if (!/^[0-9]+$/.test(text)) {
    throw new AmisiError(
      'invalid_credits',
      `${field} must be a whole number greater than zero, got ${JSON.stringify(text)}`,
      { field, value: text },
    );
  }
  return requireCredits(Number(text), field);
}

/** Sum of integers, asserting that the result stays a safe integer. */
export function sumCredits(values: Iterable<number>): number {
  let total = 0;
  for (const v of values) total += v;
  if (!Number.isSafeInteger(total)) throw new Error('invariant violated: credit sum overflow');
  return total;
}
