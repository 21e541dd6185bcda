import assert from 'node:assert/strict';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { errorTable, type ErrorCode } from '../../src/core/errors.js';

/**
 * Checks responses against the OpenAPI document the server itself serves: the status must be
 * documented for the operation, the content type documented for that status, and the body
 * valid against the documented schema (the spec's own component schemas, resolved in place).
 */

export interface Operation {
  readonly responses?: Record<
    string,
    {
      readonly description?: string;
      readonly content?: Record<string, { readonly schema?: unknown }>;
    }
  >;
}

export type Spec = {
  readonly paths: Record<string, Record<string, Operation>>;
} & Record<string, unknown>;

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;

/** A JSON pointer as a URI fragment: each part escaped (RFC 6901), then percent-encoded. */
function pointer(...parts: string[]): string {
  return parts.map((p) => encodeURIComponent(p.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/');
}

export class SpecChecker {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly templates: { template: string; regex: RegExp; params: number }[];
  /** Every (method path status) checked, for the coverage assertion. */
  readonly seen = new Set<string>();

  constructor(readonly spec: Spec) {
    addFormats(this.ajv);
    this.ajv.addSchema(spec, 'openapi');
    this.templates = Object.keys(spec.paths)
      .map((template) => ({
        template,
        regex: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
        params: (template.match(/\{/g) ?? []).length,
      }))
      // Literal paths win over templated ones (/v1/accounts over /v1/accounts/{accountId}).
      .sort((a, b) => a.params - b.params);
  }

  /** The documented path template of a request path, if any. */
  templateOf(path: string): string | undefined {
    return this.templates.find((t) => t.regex.test(path))?.template;
  }

  check(method: string, url: string, status: number, contentType: string, body: unknown): void {
    const path = new URL(url, 'http://x').pathname;
    const template = this.templateOf(path);
    if (template === undefined) {
      // Only the not-found answer may leave an undocumented path.
      assert.equal(status, 404, `${method} ${path}: an undocumented path answered ${status}`);
      return;
    }
    const m = method.toLowerCase();
    const operation = this.spec.paths[template]![m];
    if (operation === undefined) {
      assert.equal(status, 404, `${method} ${template}: an undocumented method answered ${status}`);
      return;
    }
    const response = operation.responses?.[String(status)];
    assert.ok(response, `${method} ${template}: status ${status} is not documented`);
    const media = contentType.split(';')[0]!.trim();
    if (status === 204) {
      // No Content: nothing to check but that the spec promises no body either.
      assert.equal(media, '', `${method} ${template} 204 has a body`);
      assert.equal(response.content, undefined, `${method} ${template} 204 documents content`);
      this.seen.add(`${m} ${template} ${status}`);
      return;
    }
    const content = response.content?.[media];
    assert.ok(content, `${method} ${template} ${status}: content type ${media} is not documented`);
    this.seen.add(`${m} ${template} ${status}`);
    if (!media.endsWith('json')) return;
    if (media === 'application/problem+json')
      this.checkCode(method, template, status, response, body);
    const ref = `openapi#/${pointer('paths', template, m, 'responses', String(status), 'content', media, 'schema')}`;
    let validate = this.compiled.get(ref);
    if (!validate) {
      validate = this.ajv.compile({ $ref: ref });
      this.compiled.set(ref, validate);
    }
    assert.ok(
      validate(body),
      `${method} ${path} ${status}: body does not match the spec: ${this.ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`,
    );
  }

  /**
   * A problem's code must be one the route documents for that status, and that status the
   * code's in the error table: the server writes them in the response's description
   * ("Problem: a, b"), from the codes its use-cases declare (src/ledger/problems.ts).
   */
  private checkCode(
    method: string,
    template: string,
    status: number,
    response: { readonly description?: string },
    body: unknown,
  ): void {
    const problem = body as { code?: unknown; status?: unknown } | null;
    const code = problem?.code;
    const documented = documentedCodes(response);
    assert.ok(
      typeof code === 'string' && documented.includes(code),
      `${method} ${template} ${status}: code ${String(code)} is not documented (${documented.join(', ')})`,
    );
    // The body's status is the answer's, and both are the one the error table gives the code.
    assert.equal(
      problem?.status,
      status,
      `${method} ${template}: ${code} says ${String(problem?.status)}`,
    );
    assert.equal(
      errorTable[code as ErrorCode]?.status,
      status,
      `${method} ${template}: ${code} answered ${status}, its status in the error table is ${errorTable[code as ErrorCode]?.status}`,
    );
  }
}

/** The codes a problem response documents ("Problem: a, b"). */
export function documentedCodes(response: { readonly description?: string }): string[] {
  return /^Problem: (.*)$/.exec(response.description ?? '')?.[1]?.split(', ') ?? [];
}

/** Every code an operation documents, with the status it is documented under. */
export function operationCodes(operation: Operation): Map<string, number> {
  const out = new Map<string, number>();
  for (const [status, response] of Object.entries(operation.responses ?? {})) {
    for (const code of documentedCodes(response)) out.set(code, Number(status));
  }
  return out;
}
