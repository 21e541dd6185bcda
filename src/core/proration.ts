import { assert } from './errors.js';

/**
 * Proration of an upgrade for the rest of a cycle. Money and credits are prorated the same
 * way: amount x remaining / length, rounded half up (to the nearest cent or credit; .5 goes
 * up). Integer arithmetic only (BigInt for the product), never floats.
 */
export function prorate(amount: number, remainingMs: number, lengthMs: number): number {
  assert(Number.isSafeInteger(amount) && amount >= 0, 'amount is a non-negative integer');
  assert(Number.isSafeInteger(lengthMs) && lengthMs > 0, 'cycle length is positive');
  assert(
    Number.isSafeInteger(remainingMs) && remainingMs >= 0 && remainingMs <= lengthMs,
    'remaining within the cycle',
  );
  const num = BigInt(amount) * BigInt(remainingMs) * 2n + BigInt(lengthMs);
  const result = Number(num / (2n * BigInt(lengthMs)));
  assert(result >= 0 && result <= amount, 'a prorated share never exceeds the whole');
  return result;
}

/**
 * Splits `total` in proportion to `weights` by largest remainder: the parts always sum to the
 * total, each part is floor(total x w / sum) plus at most one.
 */
export function splitByWeight(total: number, weights: readonly number[]): number[] {
  assert(Number.isSafeInteger(total) && total >= 0, 'total is a non-negative integer');
  const sum = weights.reduce((s, w) => s + w, 0);
  assert(
    sum > 0 && weights.every((w) => Number.isSafeInteger(w) && w >= 0),
    'weights are integers',
  );
  const parts = weights.map((w) => (BigInt(total) * BigInt(w)) / BigInt(sum));
  const rest = weights.map((w, i) => BigInt(total) * BigInt(w) - parts[i]! * BigInt(sum));
  let left = BigInt(total) - parts.reduce((s, p) => s + p, 0n);
  const order = weights
    .map((_, i) => i)
    .sort((a, b) => (rest[b]! > rest[a]! ? 1 : rest[b]! < rest[a]! ? -1 : a - b));
  for (const i of order) {
    if (left === 0n) break;
    parts[i]! += 1n;
    left -= 1n;
  }
  return parts.map(Number);
}
