import { parseCredits } from '../core/credits.js';
import { AmisiError } from '../core/errors.js';
import type { Attribution } from '../core/holds.js';
import type { QuoteItemRequest } from '../core/quote.js';

function bad(field: string, message: string, value: string): never {
  throw new AmisiError('invalid_argument', `${field} ${message}, got ${JSON.stringify(value)}`, {
    field,
    value,
  });
}

/** An ISO 8601 date or date-time ("2026-12-31", "2026-12-31T12:00:00Z") as epoch ms. */
export function parseTime(text: string, field: string): number {
  if (
    !/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)
  ) {
    bad(field, 'must be an ISO 8601 date or date-time', text);
  }
  // Times without an offset are UTC, like bare dates, whatever the machine's time zone.
  const hasOffset = /(Z|[+-]\d{2}:?\d{2})$/.test(text);
  const normalized = text.length === 10 ? `${text}T00:00:00Z` : hasOffset ? text : `${text}Z`;
  const ms = Date.parse(normalized.replace(' ', 'T'));
  if (!Number.isSafeInteger(ms)) bad(field, 'must be a real date', text);
  // Date.parse rolls 2027-02-31 over to March: refuse dates that do not exist.
  const [y, m, d] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  const check = new Date(Date.UTC(y, m - 1, d));
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d) {
    bad(field, 'must be a real date', text);
  }
  return ms;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration such as 90s, 15m, 2h, 7d. */
export function parseDuration(text: string, field: string): number {
  const m = /^(\d{1,9})(ms|s|m|h|d)$/.exec(text);
  if (!m) bad(field, 'must be a duration such as 30s, 15m, 2h or 7d', text);
  return Number(m[1]) * UNITS[m[2]!]!;
}

/** A duration in whole seconds (15m, 1h, 7d; not 1500ms). */
export function parseSeconds(text: string, field: string): number {
  const ms = parseDuration(text, field);
  if (ms % 1000 !== 0) bad(field, 'must be whole seconds', text);
  return ms / 1000;
}

/** A whole number typed by a person, at least `min` (0 for indexes and cycles, 1 for counts). */
export function parseCount(text: string, field: string, min = 0): number {
  // "-2" is a whole number, just too small: say so rather than "not a whole number".
  if (/^-[0-9]+$/.test(text) && min >= 0) bad(field, `must be at least ${min}`, text);
  if (!/^[0-9]{1,9}$/.test(text)) bad(field, 'must be a whole number', text);
  const n = Number(text);
  if (n < min) bad(field, `must be at least ${min}`, text);
  return n;
}

/**
 * An item's count: any whole number, signed, so that the catalog's range check says what is
 * wrong with -2 or 0 ("count must be from 1 to 100 for image.generate"), as over HTTP.
 */
export function parseItemCount(text: string): number {
  if (!/^-?[0-9]{1,9}$/.test(text)) bad('count', 'must be a whole number', text);
  return Number(text);
}

/** Repeated k=v options into an object; a key given twice is an error. */
export function parsePairs(list: readonly string[], field: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const i = item.indexOf('=');
    if (i <= 0) bad(field, 'must look like key=value', item);
    const k = item.slice(0, i);
    if (Object.hasOwn(out, k)) bad(field, `gives "${k}" twice`, item);
    out[k] = item.slice(i + 1);
  }
  return out;
}

export interface PricedOptions {
  readonly resolution?: string;
  readonly count?: string;
  readonly param?: string[];
  readonly credits?: string;
}

/** OPERATION [--resolution R] [--count N] [--param k=v]... or --credits N. */
export function amountFrom(
  operation: string | undefined,
  o: PricedOptions,
): { credits: number } | { items: QuoteItemRequest[] } {
  if (o.credits !== undefined) {
    if (
      operation !== undefined ||
      o.resolution !== undefined ||
      o.count !== undefined ||
      (o.param ?? []).length > 0
    ) {
      throw new AmisiError(
        'invalid_argument',
        'give either --credits or an operation with its parameters',
        {
          field: 'credits',
        },
      );
    }
    return { credits: parseCredits(o.credits) };
  }
  if (operation === undefined) {
    throw new AmisiError(
      'invalid_argument',
      'give an operation (see amisi catalog show) or --credits',
      {
        field: 'operation',
      },
    );
  }
  const params = parsePairs(o.param ?? [], 'param');
  if (o.resolution !== undefined) {
    if ('resolution' in params) bad('resolution', 'is given twice', o.resolution);
    params.resolution = o.resolution;
  }
  const item: QuoteItemRequest = {
    operation,
    params,
    ...(o.count === undefined ? {} : { count: parseItemCount(o.count) }),
  };
  return { items: [item] };
}

export interface AttributionOptions {
  readonly member?: string;
  readonly project?: string;
  readonly label?: string[];
}

export function attributionFrom(o: AttributionOptions): Partial<Attribution> {
  return {
    member: o.member ?? null,
    project: o.project ?? null,
    labels: parsePairs(o.label ?? [], 'label'),
  };
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
