import { own, type Catalog } from './catalog.js';
import { MAX_CREDITS, sumCredits } from './credits.js';
import { AmisiError, assert } from './errors.js';

/** Most items one quote (and so one hold) may carry: a named limit, not an accident. */
export const MAX_QUOTE_ITEMS = 100;

export interface QuoteItemRequest {
  readonly operation: string;
  readonly params?: Readonly<Record<string, string>>;
  readonly count?: number;
}

export interface QuoteLine {
  readonly operation: string;
  /** Every parameter of the operation, defaults filled in. */
  readonly params: Readonly<Record<string, string>>;
  readonly unit: string;
  readonly unitCredits: number;
  readonly count: number;
  readonly credits: number;
}

export interface Quote {
  readonly catalogVersion: string;
  readonly credits: number;
  readonly lines: readonly QuoteLine[];
}

/**
 * The catalog's spelling of a parameter value. Values match exactly, or else ignoring case
 * when exactly one value does ("4K" is the seed's "4k"), so a line always records the
 * catalog's spelling and prices, statements and audits never see two spellings of one value.
 */
export function catalogValue(values: readonly string[], value: string): string | undefined {
  if (values.includes(value)) return value;
  const folded = value.toLowerCase();
  const matches = values.filter((v) => v.toLowerCase() === folded);
  return matches.length === 1 ? matches[0] : undefined;
}

function priceLine(catalog: Catalog, item: QuoteItemRequest, index: number): QuoteLine {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    throw new AmisiError('invalid_argument', `item ${index} must be an object with an operation`, {
      field: 'items',
      item: index,
    });
  }
  const op =
    typeof item.operation === 'string' ? own(catalog.operations, item.operation) : undefined;
  if (!op) {
    throw new AmisiError('unknown_operation', `unknown operation "${item.operation}"`, {
      operation: item.operation,
      allowed: Object.keys(catalog.operations),
      item: index,
    });
  }
  const count = item.count ?? 1;
  if (!Number.isSafeInteger(count) || count < 1 || count > op.maxCount) {
    throw new AmisiError(
      'invalid_parameter',
      `count must be from 1 to ${op.maxCount} for ${item.operation}, got ${String(count)}`,
      { parameter: 'count', value: count, min: 1, max: op.maxCount, item: index },
    );
  }
  const given = item.params ?? {};
  for (const name of Object.keys(given)) {
    if (!own(op.params, name)) {
      throw new AmisiError('invalid_parameter', `${item.operation} takes no parameter "${name}"`, {
        parameter: name,
        allowedParameters: Object.keys(op.params),
        item: index,
      });
    }
  }
  const params: Record<string, string> = {};
  for (const [name, spec] of Object.entries(op.params)) {
    const value = own(given, name) ?? spec.default;
    if (value === undefined) {
      throw new AmisiError('invalid_parameter', `${item.operation} needs ${name}`, {
        parameter: name,
        allowed: spec.values,
        item: index,
      });
    }
    const allowed = typeof value === 'string' ? catalogValue(spec.values, value) : undefined;
    if (allowed === undefined) {
      throw new AmisiError(
        'invalid_parameter',
        `${name} "${String(value)}" is not one of ${spec.values.join(', ')}`,
        { parameter: name, value, allowed: spec.values, item: index },
      );
    }
    params[name] = allowed;
  }
  const { flat, by, table } = op.price;
  const unitCredits = by !== undefined && table ? own(table, params[by] ?? '') : flat;
  assert(unitCredits !== undefined, `catalog ${catalog.version} prices ${item.operation}`);
  const credits = unitCredits * count;
  assert(Number.isSafeInteger(credits), 'line credits are a safe integer');
  return { operation: item.operation, params, unit: op.unit, unitCredits, count, credits };
}

/** Prices a request line by line under one catalog version. Pure. */
export function quote(catalog: Catalog, items: readonly QuoteItemRequest[]): Quote {
  if (items.length === 0 || items.length > MAX_QUOTE_ITEMS) {
    throw new AmisiError(
      'invalid_argument',
      `a quote takes 1 to ${MAX_QUOTE_ITEMS} items, got ${items.length}`,
      { items: items.length, max: MAX_QUOTE_ITEMS },
    );
  }
  const lines = items.map((item, i) => priceLine(catalog, item, i));
  const credits = sumCredits(lines.map((l) => l.credits));
  if (credits > MAX_CREDITS) {
    throw new AmisiError(
      'invalid_parameter',
      `the request costs more than ${MAX_CREDITS} credits`,
      {
        parameter: 'count',
        credits,
        max: MAX_CREDITS,
      },
    );
  }
  return { catalogVersion: catalog.version, credits, lines };
}
