import { requireCredits } from '../core/credits.js';
import { AmisiError } from '../core/errors.js';
import { GRANT_SOURCES, type GrantSource } from '../core/grants.js';
import {
  HOLD_TTL_MAX_MS,
  HOLD_TTL_MIN_MS,
  MAX_LABELS,
  NO_ATTRIBUTION,
  type Attribution,
} from '../core/holds.js';
import { MAX_QUOTE_ITEMS, type QuoteItemRequest } from '../core/quote.js';

/** Checks on input shape, run before a command is queued: bad input never reaches a batch. */

/**
 * The longest id (accounts, holds, purchases, plans, packs, members, ...). The HTTP schemas and
 * the router's path parameter limit derive from it (src/http/schemas/common.ts, server.ts).
 */
export const MAX_ID_LENGTH = 128;

/** Ids and idempotency keys; the HTTP schemas reuse these patterns (src/http/schemas). */
export const ID = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._:@-]{0,${MAX_ID_LENGTH - 1}}$`);
export const KEY = /^[\x21-\x7e]{1,255}$/;
const LABEL_KEY = /^[a-z0-9][a-z0-9._-]{0,63}$/;

function invalid(field: string, message: string, value: unknown): never {
  throw new AmisiError('invalid_argument', `${field} ${message}`, {
    field,
    value: typeof value === 'string' || typeof value === 'number' ? value : String(value),
  });
}

/**
 * A NUL character or a lone UTF-16 surrogate: text that PostgreSQL cannot store (text and jsonb
 * refuse NUL, jsonb refuses an unpaired \uD800) and that no person means to send. Refused for
 * every store alike, so SQLite and PostgreSQL answer the same. With the u flag a surrogate pair
 * is one code point, so the class matches lone halves only.
 */
// eslint-disable-next-line no-control-regex -- a NUL is what this looks for
const UNSTORABLE = /[\u0000\uD800-\uDFFF]/u;

/** Whether a string can be stored as it is (no NUL, no lone surrogate). */
export function isStorableText(value: string): boolean {
  return !UNSTORABLE.test(value);
}

/** The first string under `value` that cannot be stored, by its dotted path (null: none). */
export function unstorableField(value: unknown, path = ''): string | null {
  if (typeof value === 'string') return isStorableText(value) ? null : path;
  if (typeof value !== 'object' || value === null || Buffer.isBuffer(value)) return null;
  for (const [k, v] of Object.entries(value)) {
    if (!isStorableText(k)) return path === '' ? k : `${path}.${k}`;
    const found = unstorableField(v, path === '' ? k : `${path}.${k}`);
    if (found !== null) return found;
  }
  return null;
}

function refuseUnstorable(field: string): never {
  throw new AmisiError(
    'invalid_argument',
    `${field} must not contain NUL characters or unpaired UTF-16 surrogates`,
    { field },
  );
}

/** Free text (a reason, a label, a search): a string of at most `max` storable characters. */
export function requireString(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string' || value.length > max) {
    invalid(field, `is a string of ${max} characters at most`, value);
  }
  if (!isStorableText(value)) refuseUnstorable(field);
  return value;
}

export function requireId(value: unknown, field: string): string {
  if (typeof value !== 'string' || !ID.test(value)) {
    invalid(
      field,
      'must be 1-128 letters, digits or . _ : @ - (starting with a letter or digit)',
      value,
    );
  }
  return value;
}

export function requireKey(value: unknown): string {
  if (typeof value !== 'string' || !KEY.test(value)) {
    invalid('key', 'is required: 1-255 printable characters without spaces', value);
  }
  return value;
}

export function requireSource(value: unknown): GrantSource {
  if (typeof value !== 'string' || !(GRANT_SOURCES as readonly string[]).includes(value)) {
    throw new AmisiError('invalid_argument', `source must be one of ${GRANT_SOURCES.join(', ')}`, {
      field: 'source',
      value: String(value),
      allowed: GRANT_SOURCES,
    });
  }
  return value as GrantSource;
}

export function requireTime(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    invalid(field, 'must be a time (epoch milliseconds)', value);
  }
  return value;
}

export function requireTtl(value: unknown): number {
  if (
    typeof value !== 'number' ||
    !Number.isSafeInteger(value) ||
    value < HOLD_TTL_MIN_MS ||
    value > HOLD_TTL_MAX_MS
  ) {
    invalid(
      'ttl',
      `must be from ${HOLD_TTL_MIN_MS / 1000}s to ${HOLD_TTL_MAX_MS / 86_400_000}d`,
      value,
    );
  }
  return value;
}

export function requireAttribution(value: Partial<Attribution> | undefined): Attribution {
  if (value === undefined) return NO_ATTRIBUTION;
  const member = value?.member ?? null;
  const project = value?.project ?? null;
  if (member !== null) requireId(member, 'member');
  if (project !== null) requireId(project, 'project');
  const labels = value?.labels ?? {};
  const entries = Object.entries(labels);
  if (entries.length > MAX_LABELS)
    invalid('labels', `takes at most ${MAX_LABELS} labels`, entries.length);
  for (const [k, v] of entries) {
    if (!LABEL_KEY.test(k)) invalid('labels', 'keys are lower-case names (a-z 0-9 . _ -)', k);
    requireString(v, `labels.${k}`, 256);
  }
  return {
    member,
    project,
    labels: Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : 1))),
  };
}

/** What a hold or charge is for: explicit credits, or items priced by the catalog. */
export type Amount =
  | { readonly credits: number; readonly items?: undefined }
  | { readonly items: readonly QuoteItemRequest[]; readonly credits?: undefined };

export function requireAmount(input: { credits?: unknown; items?: unknown }): Amount {
  if ((input.credits === undefined) === (input.items === undefined)) {
    throw new AmisiError('invalid_argument', 'give either credits or items to price', {
      field: 'credits',
    });
  }
  if (input.credits !== undefined) return { credits: requireCredits(input.credits) };
  const items = input.items;
  if (!Array.isArray(items) || items.length === 0 || items.length > MAX_QUOTE_ITEMS) {
    invalid(
      'items',
      `must be a list of 1 to ${MAX_QUOTE_ITEMS} items`,
      Array.isArray(items) ? items.length : items,
    );
  }
  // Sorted parameters make equal requests fingerprint equally (idempotency).
  return {
    items: (items as QuoteItemRequest[]).map((item) => ({
      operation: item.operation,
      params: Object.fromEntries(
        Object.entries(item.params ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      ),
      ...(item.count === undefined ? {} : { count: item.count }),
    })),
  };
}

/** One of a closed set of strings (a role, a scope, a mode). */
export function requireOneOf<T extends string>(
  value: unknown,
  allowed: readonly T[],
  field: string,
): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new AmisiError('invalid_argument', `${field} must be one of ${allowed.join(', ')}`, {
      field,
      value: String(value),
      allowed,
    });
  }
  return value as T;
}

/** Free text shown to people (a name): 1-100 characters, no control characters. */
export function requireText(value: unknown, field: string, max = 100): string {
  const control =
    typeof value === 'string' &&
    [...value].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
  if (typeof value !== 'string' || value.length === 0 || value.length > max || control) {
    invalid(field, `must be 1-${max} characters without control characters`, value);
  }
  if (!isStorableText(value)) refuseUnstorable(field);
  return value;
}

/** An e-mail address, checked for shape only (someone@somewhere). */
export function requireEmail(value: unknown): string {
  if (typeof value !== 'string' || value.length > 254 || !/^[^\s@]+@[^\s@]+$/.test(value)) {
    invalid('email', 'must look like name@example.com', value);
  }
  return value;
}

/** A budget limit: a whole number of credits, 0 (nothing may be spent) or more. */
export function requireLimit(value: unknown): number {
  if (value === 0) return 0;
  return requireCredits(value, 'limit');
}
