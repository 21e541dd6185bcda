import { assert } from './errors.js';

/**
 * Monthly cycles anchored on a start instant. The n-th boundary is n calendar months after the
 * anchor, on the anchor's day of month clamped to the month's length, at the anchor's time of
 * day (UTC): a plan started on Jan 31 renews on Feb 28 (29 in leap years), then Mar 31.
 * Boundaries are computed from the anchor each time, never from the previous boundary, so a
 * clamp in February never drags later months to the 28th.
 */

function daysInMonth(year: number, monthIndex: number): number {
  return new Date(Date.UTC(year, monthIndex + 1, 0)).getUTCDate();
}

/** The instant `months` calendar months after `anchorMs`, day clamped to the month's end. */
export function addMonths(anchorMs: number, months: number): number {
  assert(Number.isSafeInteger(anchorMs) && Number.isSafeInteger(months), 'integer inputs');
  const a = new Date(anchorMs);
  const totalMonths = a.getUTCFullYear() * 12 + a.getUTCMonth() + months;
  const year = Math.floor(totalMonths / 12);
  const month = totalMonths - year * 12;
  const day = Math.min(a.getUTCDate(), daysInMonth(year, month));
  return Date.UTC(
    year,
    month,
    day,
    a.getUTCHours(),
    a.getUTCMinutes(),
    a.getUTCSeconds(),
    a.getUTCMilliseconds(),
  );
}

/** Start of cycle `index` (0 = the first cycle, starting at the anchor). */
export function cycleStart(anchorMs: number, index: number): number {
  assert(index >= 0, 'cycle index is not negative');
  return addMonths(anchorMs, index);
}

export interface Cycle {
  readonly index: number;
  readonly startsAt: number;
  readonly endsAt: number;
}

export function cycle(anchorMs: number, index: number): Cycle {
  return { index, startsAt: cycleStart(anchorMs, index), endsAt: cycleStart(anchorMs, index + 1) };
}

/** The cycle that contains `at` (at or after the anchor). */
export function cycleAt(anchorMs: number, at: number): Cycle {
  assert(at >= anchorMs, 'a time inside the subscription');
  const a = new Date(anchorMs);
  const t = new Date(at);
  let index = (t.getUTCFullYear() - a.getUTCFullYear()) * 12 + (t.getUTCMonth() - a.getUTCMonth());
  index = Math.max(0, index);
  while (index > 0 && cycleStart(anchorMs, index) > at) index -= 1;
  while (cycleStart(anchorMs, index + 1) <= at) index += 1;
  return cycle(anchorMs, index);
}
