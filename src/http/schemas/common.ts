import {
  Type,
  type SchemaOptions,
  type Static,
  type StringOptions,
  type TSchema,
  type TUnsafe,
} from '@sinclair/typebox';
import { MAX_CREDITS } from '../../core/credits.js';
import { errorTable, type ErrorCode } from '../../core/errors.js';
import { ID, KEY } from '../../ledger/validate.js';

/**
 * Building blocks of the route schemas. Schemas with an `$id` are OpenAPI components and are
 * only ever used through `ref`, never inlined (a JSON schema may define an $id once).
 */

/** A reference to a component, typed as the component. */
export function ref<T extends TSchema>(schema: T): TUnsafe<Static<T>> {
  return Type.Unsafe<Static<T>>(Type.Ref(schema.$id!));
}

/** An array typed readonly, so domain objects (readonly arrays) are accepted as they are. */
export function list<T extends TSchema>(item: T, options: SchemaOptions = {}) {
  return Type.Unsafe<readonly Static<T>[]>(Type.Array(item, options));
}

/** A string from a closed set, as a plain JSON schema `enum` (clearer in OpenAPI than anyOf). */
export function oneOf<const V extends readonly string[]>(values: V, options: SchemaOptions = {}) {
  return Type.Unsafe<V[number]>({ ...options, type: 'string', enum: [...values] });
}

export function nullable<T extends TSchema>(schema: T) {
  return Type.Union([schema, Type.Null()]);
}

/** Ids of accounts, holds, purchases, plans, packs: what the ledger accepts (validate.ts). */
export function Id(description: string, options: StringOptions = {}) {
  return Type.String({ pattern: ID.source, maxLength: 128, description, ...options });
}

export const Credits = (description = 'Whole credits, at least 1.') =>
  Type.Integer({ minimum: 1, maximum: MAX_CREDITS, description });

/** Every time in the API is epoch milliseconds (UTC), as everywhere in the ledger. */
export const Time = (description: string) =>
  Type.Integer({ minimum: 0, maximum: 8_640_000_000_000_000, description });

export const Cents = (description: string) => Type.Integer({ minimum: 0, description });

export const Replay = Type.Boolean({
  description:
    'true when this answer is the original result of an earlier request with the same Idempotency-Key.',
});

export const IDEMPOTENCY_HEADER = 'idempotency-key';

const idempotencyKey = Type.String({
  pattern: KEY.source,
  description:
    'One key per logical request (1-255 printable characters, no spaces). A retry with the same key and body answers the original result and changes nothing; the same key with another body is idempotency_key_reused.',
});

/** Required on every POST that moves credits or money. */
export const IdempotencyHeaders = Type.Object({ [IDEMPOTENCY_HEADER]: idempotencyKey });

/** On a write that is idempotent by itself and takes a key only for part of what it does. */
export const OptionalIdempotencyHeaders = Type.Object({
  [IDEMPOTENCY_HEADER]: Type.Optional(idempotencyKey),
});

export const ERROR_CODES = Object.keys(errorTable) as ErrorCode[];

export const Problem = Type.Object(
  {
    type: Type.String({ description: 'urn:amisi:error:<code>' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String({ description: 'What went wrong, for people.' }),
    code: oneOf(ERROR_CODES, { description: 'The stable error code (src/core/errors.ts).' }),
    retryable: Type.Boolean({
      description: 'Whether the same request (same Idempotency-Key) may succeed later.',
    }),
  },
  {
    $id: 'Problem',
    additionalProperties: true,
    description:
      'An RFC 9457 problem. Further members carry the numbers that explain it (field, required, available, ...).',
  },
);

export const AccountParams = Type.Object({ accountId: Id('The account.') });
