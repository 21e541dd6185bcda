import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { errorTable } from '../../src/core/errors.js';
import { BOTH_STORES } from '../pg-helpers.js';
import { ok, startServer, type TestServer } from './http-helpers.js';

/**
 * Malformed input to every operation of the server's own /openapi.json, on both stores, with an
 * operator key and with an account key: wrong types, huge and negative numbers, NUL, lone
 * surrogates, 1 MB strings, bad JSON, bad paths, missing and wrong content types and
 * Idempotency-Keys. Every request is malformed by construction (a body is sent only when the
 * request schema refuses it), so each must be refused: never a 5xx, always a problem with a code
 * from the error table, a status the spec documents, and nothing changed (verify clean, the
 * seeded accounts' balances and history as before).
 *
 * Deterministic: the cases are enumerated, not drawn, so a failure names the exact request.
 */

type Schema = Record<string, unknown>;
type json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Parameter {
  readonly in: 'path' | 'query' | 'header';
  readonly name: string;
  readonly required?: boolean;
  readonly schema: Schema;
}

interface Operation {
  readonly parameters?: readonly Parameter[];
  readonly requestBody?: { readonly content: Record<string, { readonly schema: Schema }> };
  readonly security?: readonly unknown[];
}

interface Case {
  readonly label: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  /** A string body, or a Blob (sent with no content type at all). */
  readonly body?: string | Blob;
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;

const MEGABYTE = 'x'.repeat(1_000_000);
const NUL = 'a\u0000b';
const LONE = 'a\ud800b';
const HUGE_NUMBERS = [1e308, 2 ** 53, 2 ** 53 + 2, -1, 0.5, -1e308];
const BAD_VALUES: readonly unknown[] = [
  ...HUGE_NUMBERS,
  NUL,
  LONE,
  MEGABYTE,
  '',
  'a b',
  true,
  null,
  [],
  {},
  [NUL],
  { '\u0000': 1 },
];
const BAD_PATH_PARAMS = [
  '%ff',
  '%',
  'a%00b',
  '%ED%A0%80',
  '-x',
  'x'.repeat(129),
  'x'.repeat(2000),
  'a%2Fb',
];
const BAD_QUERY_VALUES = ['abc', '1e308', '9007199254740993', '-1', '0.5', 'a%00b', '%ff', ''];
const BAD_JSON = ['{', '{"a":', 'nul', '{"a":1,}', "{'a':1}", '\u0000'];

/** The seeded ids a path parameter names, so a request reaches the real resources. */
const PATH_VALUES: Readonly<Record<string, string>> = {
  accountId: 'ann',
  scope: 'member',
  target: 'm1',
  index: '0',
};

/** A body the schema probably accepts: required members with plain values. */
function sample(schema: Schema, resolve: (s: Schema) => Schema, name = ''): unknown {
  const s = resolve(schema);
  const options = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (options) {
    const first = options.map(resolve).find((o) => o.type !== 'null') ?? options[0]!;
    return sample(first, resolve, name);
  }
  if (Array.isArray(s.enum)) return s.enum[0];
  if ('const' in s) return s.const;
  switch (s.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const props = (s.properties ?? {}) as Record<string, Schema>;
      for (const key of (s.required ?? []) as string[]) {
        if (props[key]) out[key] = sample(props[key], resolve, key);
      }
      return out;
    }
    case 'array':
      return Array.from({ length: Number(s.minItems ?? 1) }, () =>
        sample((s.items ?? {}) as Schema, resolve, name),
      );
    case 'integer':
    case 'number':
      return Math.min(Number(s.maximum ?? 1e6), Math.max(Number(s.minimum ?? 1), 1));
    case 'boolean':
      return false;
    case 'string':
      if (name === 'accountId') return 'ann';
      if (name === 'operation') return 'image.generate';
      if (s.format === 'uri' || name === 'url') return 'https://example.com/hook';
      if (s.format === 'email' || name === 'email') return 'a@example.com';
      return 'zz1';
    default:
      return 'zz1';
  }
}

const NESTED_BAD: readonly unknown[] = [NUL, LONE, 2 ** 53, -1, 1e308, [], 'q'.repeat(300)];

/**
 * Places below the top level of a body to put a bad value: members of nested objects (also
 * optional ones, and a `k` in free-form records such as labels) and of array items.
 */
function nested(
  value: unknown,
  schema: Schema,
  resolve: (s: Schema) => Schema,
  path: readonly (string | number)[] = [],
): (readonly (string | number)[])[] {
  if (path.length > 4) return [];
  const s = resolve(schema);
  const options = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (options) {
    const first = options.map(resolve).find((o) => o.type !== 'null');
    return first ? nested(value, first, resolve, path) : [];
  }
  const out: (readonly (string | number)[])[] = [];
  if (s.type === 'object') {
    const props = (s.properties ?? {}) as Record<string, Schema>;
    for (const [key, child] of Object.entries(props)) {
      const childValue = (value as Record<string, unknown> | undefined)?.[key];
      if (path.length > 0) out.push([...path, key]);
      out.push(
        ...nested(childValue ?? sample(child, resolve, key), child, resolve, [...path, key]),
      );
    }
    if (typeof s.additionalProperties === 'object') out.push([...path, 'k']);
  } else if (s.type === 'array') {
    out.push(
      ...nested(Array.isArray(value) ? value[0] : undefined, (s.items ?? {}) as Schema, resolve, [
        ...path,
        0,
      ]),
    );
  }
  return out;
}

/** A copy of `value` with the member at `path` set (missing objects and arrays made). */
function setIn(value: unknown, path: readonly (string | number)[], bad: unknown): unknown {
  if (path.length === 0) return bad;
  const [head, ...rest] = path;
  if (typeof head === 'number') {
    const list = Array.isArray(value) ? [...(value as unknown[])] : [];
    list[head] = setIn(list[head], rest, bad);
    return list;
  }
  const object = typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {};
  return { ...object, [head!]: setIn((object as Record<string, unknown>)[head!], rest, bad) };
}

class Fuzzer {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: false, validateSchema: false });
  private readonly query = new Ajv2020({
    strict: false,
    validateSchema: false,
    coerceTypes: 'array',
  });
  private seq = 0;

  constructor(private readonly spec: json) {
    addFormats(this.ajv);
    addFormats(this.query);
    this.ajv.addSchema(spec, 'openapi');
    this.query.addSchema(spec, 'openapi');
  }

  resolve = (s: Schema): Schema => {
    const ref = s.$ref;
    if (typeof ref !== 'string') return s;
    const name = ref.split('/').pop()!;
    return this.resolve(this.spec.components.schemas[name] as Schema);
  };

  private bodyValidator(template: string, method: string): ValidateFunction {
    const ptr = ['paths', template, method, 'requestBody', 'content', 'application/json', 'schema']
      .map((p) => encodeURIComponent(p.replace(/~/g, '~0').replace(/\//g, '~1')))
      .join('/');
    return this.ajv.getSchema(`openapi#/${ptr}`) ?? this.ajv.compile({ $ref: `openapi#/${ptr}` });
  }

  /** Whether a path or query value (percent-encoded) is refused by its parameter's schema. */
  private refuses(schema: Schema, encoded: string): boolean {
    let value: string;
    try {
      value = decodeURIComponent(encoded);
    } catch {
      return true; // not valid percent-encoding of UTF-8
    }
    if (value.includes('\u0000') || value.length > 128) return true;
    return !this.query.validate(
      { type: 'object', properties: { v: schema }, required: ['v'] },
      { v: value },
    );
  }

  /** Every malformed request for one operation. */
  cases(template: string, method: string, op: Operation): Case[] {
    const params = op.parameters ?? [];
    const pathParams = params.filter((p) => p.in === 'path');
    const queryParams = params.filter((p) => p.in === 'query');
    const idem = params.find((p) => p.in === 'header' && p.name === 'idempotency-key');
    const schema = op.requestBody?.content['application/json']?.schema;
    const validBody = schema === undefined ? undefined : sample(schema, this.resolve);
    const validPath = (over: Record<string, string> = {}) =>
      template.replace(
        /\{([^}]+)\}/g,
        (_, name: string) => over[name] ?? PATH_VALUES[name] ?? 'zz1',
      );
    const headers = (extra: Record<string, string> = {}) => ({
      'idempotency-key': `fuzz-${this.seq++}`,
      ...extra,
    });
    const jsonHeaders = () => headers({ 'content-type': 'application/json' });
    const M = method.toUpperCase();
    const out: Case[] = [];
    const add = (label: string, c: Omit<Case, 'label' | 'method'>) =>
      out.push({ label: `${M} ${template} ${label}`, method: M, ...c });
    const withBody = validBody === undefined ? {} : { body: JSON.stringify(validBody) };

    for (const p of pathParams) {
      const schemaOf = this.resolve(p.schema);
      for (const bad of BAD_PATH_PARAMS) {
        // A value the parameter accepts is not malformed.
        if (!this.refuses(schemaOf, bad)) continue;
        add(`path ${p.name}=${bad.slice(0, 20)}`, {
          path: validPath({ [p.name]: bad }),
          headers: validBody === undefined ? headers() : jsonHeaders(),
          ...withBody,
        });
      }
    }
    for (const p of queryParams) {
      const schemaOf = this.resolve(p.schema);
      for (const bad of [...BAD_QUERY_VALUES, 'q'.repeat(20_000)]) {
        // Long ones never reach the parameter: the headers are too large (431).
        if (bad.length < 20_000 && !this.refuses(schemaOf, bad)) continue;
        add(`query ${p.name}=${bad.slice(0, 20)}`, {
          path: `${validPath()}?${p.name}=${bad}`,
          headers: validBody === undefined ? headers() : jsonHeaders(),
          ...withBody,
        });
      }
    }
    if (schema !== undefined && validBody !== undefined) {
      const validate = this.bodyValidator(template, method);
      const props = Object.keys(this.resolve(schema).properties ?? {});
      const bodies: [string, unknown][] = [];
      for (const [i, key] of [...props, 'unknownField'].entries()) {
        for (const bad of BAD_VALUES) {
          // 1 MB strings in the first two members only: enough to see them refused, and fast.
          if (bad === MEGABYTE && i >= 2) continue;
          bodies.push([
            `${key}=${JSON.stringify(bad).slice(0, 20)}`,
            { ...(validBody as object), [key]: bad },
          ]);
        }
      }
      for (const path of nested(validBody, schema, this.resolve)) {
        for (const bad of NESTED_BAD)
          bodies.push([
            `${path.join('.')}=${JSON.stringify(bad).slice(0, 20)}`,
            setIn(validBody, path, bad),
          ]);
      }
      for (const whole of [null, [], 'x', 1, [validBody]])
        bodies.push([`body=${JSON.stringify(whole)}`, whole]);
      for (const [label, body] of bodies) {
        if (validate(body)) continue; // not malformed
        add(`body ${label}`, {
          path: validPath(),
          headers: jsonHeaders(),
          body: JSON.stringify(body),
        });
      }
      for (const text of BAD_JSON) {
        add(`json ${JSON.stringify(text)}`, {
          path: validPath(),
          headers: jsonHeaders(),
          body: text,
        });
      }
      const text = JSON.stringify(validBody);
      for (const type of [
        'text/plain',
        'application/xml',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
      ]) {
        add(`content-type ${type}`, {
          path: validPath(),
          headers: headers({ 'content-type': type }),
          body: text,
        });
      }
      add('no content-type', { path: validPath(), headers: headers(), body: new Blob([text]) });
      add('1 MiB body', {
        path: validPath(),
        headers: jsonHeaders(),
        body: JSON.stringify({ ...(validBody as object), pad: 'y'.repeat(1024 * 1024) }),
      });
      if (idem?.required) {
        for (const key of [undefined, '', 'a b', 'k'.repeat(256), 'é']) {
          const h: Record<string, string> = { 'content-type': 'application/json' };
          if (key !== undefined) h['idempotency-key'] = key;
          add(`idempotency-key ${JSON.stringify(key)?.slice(0, 10)}`, {
            path: validPath(),
            headers: h,
            body: text,
          });
        }
      }
    } else if (M !== 'GET' && M !== 'HEAD') {
      // A write without a body schema: unparsable JSON and bodies that are not JSON.
      for (const text of BAD_JSON.slice(0, 3)) {
        add(`json ${JSON.stringify(text)}`, {
          path: validPath(),
          headers: jsonHeaders(),
          body: text,
        });
      }
      add('content-type text/plain', {
        path: validPath(),
        headers: headers({ 'content-type': 'text/plain' }),
        body: 'x',
      });
    }
    return out;
  }
}

async function snapshot(s: TestServer): Promise<string> {
  const report = await s.ledger.verify();
  const accounts = await s.ledger.accountIds(null, 1000);
  const state: Record<string, unknown> = { ok: report.ok, violations: report.violations, accounts };
  for (const id of ['ann', 'ben']) {
    state[id] = {
      balance: { ...(await s.ledger.balance(id)), asOf: 'when read' },
      history: await s.ledger.history({ accountId: id, limit: 500 }),
    };
  }
  state.webhooks = (await s.call('GET', '/v1/webhooks')).body;
  return JSON.stringify(state);
}

async function send(s: TestServer, key: string, c: Case): Promise<string | null> {
  const res = await fetch(`${s.url}${c.path}`, {
    method: c.method,
    headers: { authorization: `Bearer ${key}`, ...c.headers },
    ...(c.body === undefined ? {} : { body: c.body }),
  });
  const text = await res.text();
  const contentType = res.headers.get('content-type') ?? '';
  const where = `${c.label}: ${res.status} ${text.slice(0, 300)}`;
  if (res.status >= 500) return where;
  if (res.status < 400) return `accepted: ${where}`;
  if (!contentType.startsWith('application/problem+json')) return `not a problem: ${where}`;
  const body = JSON.parse(text) as json;
  if (!(body.code in errorTable)) return `unknown code: ${where}`;
  if (body.status !== res.status) return `status mismatch: ${where}`;
  try {
    s.checker.check(c.method, c.path, res.status, contentType, body);
  } catch (e) {
    return `${(e as Error).message.split('\n')[0]}: ${where}`;
  }
  return null;
}

for (const [storeName, open, skip] of BOTH_STORES) {
  describe(`fuzz: malformed input to every operation on ${storeName}`, { skip }, () => {
    let s: TestServer;
    let accountKey: string;
    let fuzzer: Fuzzer;
    let spec: json;
    before(async () => {
      s = await startServer({ open });
      for (const id of ['ann', 'ben']) {
        ok(await s.call('POST', '/v1/accounts', { body: { id } }), 201);
        ok(
          await s.call('POST', '/v1/grants', {
            idem: `g-${id}`,
            body: { accountId: id, credits: 100, source: 'promotion' },
          }),
          201,
        );
      }
      ok(
        await s.call('POST', '/v1/holds', {
          idem: 'h',
          body: { accountId: 'ann', credits: 5, ttlMs: 86_400_000 },
        }),
        201,
      );
      ok(
        await s.call('POST', '/v1/charges', { idem: 'c', body: { accountId: 'ann', credits: 1 } }),
        201,
      );
      accountKey = await s.keyFor('ann');
      spec = (await (await fetch(`${s.url}/openapi.json`)).json()) as json;
      fuzzer = new Fuzzer(spec);
    });
    after(async () => s?.close());

    it('never a 5xx, always a documented problem with a stable code, nothing changed', async () => {
      const before_ = await snapshot(s);
      const failures: string[] = [];
      let sent = 0;
      for (const [template, ops] of Object.entries(spec.paths as Record<string, json>)) {
        for (const [method, op] of Object.entries(ops)) {
          const cases = fuzzer.cases(template, method, op as Operation);
          for (const [i, c] of cases.entries()) {
            // Every case with the operator key; every fourth with the account key too.
            for (const key of i % 4 === 0 ? [s.operatorKey, accountKey] : [s.operatorKey]) {
              sent++;
              const failure = await send(s, key, c);
              if (failure) failures.push(`${key === accountKey ? '[account key] ' : ''}${failure}`);
            }
          }
        }
      }
      await s.ledger.idle();
      console.log(`fuzz on ${storeName}: ${sent} requests, ${failures.length} failures`);
      assert.deepEqual(failures.slice(0, 40), [], `${failures.length} failures`);
      assert.ok(sent > 1000, `${sent} requests`);
      assert.equal(await snapshot(s), before_, 'nothing changed');
    });
  });
}
