import { Ajv, type Options } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';

/**
 * Request validation with two Ajv instances. Bodies are JSON and must be exactly what the
 * schema says: no type coercion ("5" is not 5) and unknown fields are refused rather than
 * dropped (a misspelt `expiresAt` must not silently grant credits that never expire).
 * Query strings, path parameters and headers are text, so they are coerced ("10" -> 10, one
 * `kind` -> [kind]) and get their defaults.
 */

const common: Options = { allErrors: true, strict: false, removeAdditional: false };

export function validatorCompiler(): FastifySchemaCompiler<unknown> {
  const body = new Ajv({ ...common, coerceTypes: false, useDefaults: false });
  const text = new Ajv({ ...common, coerceTypes: 'array', useDefaults: true });
  return ({ schema, httpPart }) =>
    (httpPart === 'body' ? body : text).compile(schema as object) as ReturnType<
      FastifySchemaCompiler<unknown>
    >;
}
