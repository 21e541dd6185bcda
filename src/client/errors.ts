import type { ErrorCode } from '../core/errors.js';
import { isTransientStatus } from './retry.js';

/**
 * What the client throws. An answer from the API is an AmisiApiError with the server's stable
 * code; a request that never got an answer (connection refused or dropped, timeout) is an
 * AmisiNetworkError. Both carry the Idempotency-Key they were sent with, so a caller may retry
 * the same logical call later without risking a second charge.
 */

const API_ERROR = Symbol.for('amisi-credits.AmisiApiError');

/** Everything the answer said, besides the standard problem members. */
export type ProblemData = Readonly<Record<string, unknown>>;

export interface AmisiApiErrorInit {
  readonly code: ErrorCode;
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly type: string;
  readonly retryable: boolean;
  readonly requestId: string | null;
  readonly idempotencyKey: string | null;
  readonly data: ProblemData;
}

export class AmisiApiError extends Error {
  /** The stable code from the server's one error table (src/core/errors.ts). */
  readonly code: ErrorCode;
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  /** urn:amisi:error:<code> */
  readonly type: string;
  /** Whether the same call (same Idempotency-Key) may succeed later. */
  readonly retryable: boolean;
  /** The server's x-request-id, to find the request in its logs. */
  readonly requestId: string | null;
  readonly idempotencyKey: string | null;
  /** The members that explain the problem: field, available, required, report, ... */
  readonly data: ProblemData;

  constructor(init: AmisiApiErrorInit) {
    super(`${init.code}: ${init.detail}`);
    this.name = 'AmisiApiError';
    this.code = init.code;
    this.status = init.status;
    this.title = init.title;
    this.detail = init.detail;
    this.type = init.type;
    this.retryable = init.retryable;
    this.requestId = init.requestId;
    this.idempotencyKey = init.idempotencyKey;
    this.data = init.data;
  }

  // A brand as well as the class, so two copies of the SDK in one bundle still recognize
  // each other's errors.
  get [API_ERROR](): true {
    return true;
  }
}

/** The request got no answer: the outcome is unknown until it is retried with the same key. */
export class AmisiNetworkError extends Error {
  readonly idempotencyKey: string | null;
  /** How many times the request was sent. */
  readonly attempts: number;

  constructor(message: string, idempotencyKey: string | null, attempts: number, cause: unknown) {
    super(message, { cause });
    this.name = 'AmisiNetworkError';
    this.idempotencyKey = idempotencyKey;
    this.attempts = attempts;
  }
}

/** True for an error answered by the API, optionally with this code. */
export function isAmisiApiError<C extends ErrorCode>(
  e: unknown,
  code?: C,
): e is AmisiApiError & { readonly code: C } {
  if (typeof e !== 'object' || e === null) return false;
  const branded = e instanceof AmisiApiError || (e as Record<symbol, unknown>)[API_ERROR] === true;
  return branded && (code === undefined || (e as AmisiApiError).code === code);
}

export function isAmisiNetworkError(e: unknown): e is AmisiNetworkError {
  return e instanceof AmisiNetworkError;
}

/** The codes HTTP statuses stand for when an answer is not a problem (a proxy, a gateway). */
function codeForStatus(status: number): ErrorCode {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 429) return 'rate_limited';
  if (status >= 400 && status < 500) return 'invalid_argument';
  return 'internal';
}

const STANDARD = new Set(['type', 'title', 'status', 'detail', 'code', 'retryable']);

export interface Answer {
  readonly status: number;
  readonly statusText: string;
  readonly body: unknown;
  readonly requestId: string | null;
}

/** True when the body is an RFC 9457 problem from this API (it has a code). */
export function isProblem(body: unknown): body is Record<string, unknown> & { code: string } {
  return typeof body === 'object' && body !== null && typeof (body as Problemish).code === 'string';
}

interface Problemish {
  readonly code?: unknown;
}

/** The error for a non-2xx answer: the problem's own fields, or the status's meaning. */
export function errorFromAnswer(answer: Answer, idempotencyKey: string | null): AmisiApiError {
  const base = { status: answer.status, requestId: answer.requestId, idempotencyKey };
  if (!isProblem(answer.body)) {
    const code = codeForStatus(answer.status);
    const title = answer.statusText || `HTTP ${answer.status}`;
    const detail = `HTTP ${answer.status} ${title} without a problem body`;
    const retryable = isTransientStatus(answer.status);
    return new AmisiApiError({ ...base, code, title, detail, type: '', retryable, data: {} });
  }
  const b = answer.body;
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(b)) if (!STANDARD.has(k)) data[k] = v;
  return new AmisiApiError({
    ...base,
    // The server only sends codes of the closed union; the SDK trusts it rather than ship the table.
    code: b.code as ErrorCode,
    title: typeof b.title === 'string' ? b.title : b.code,
    detail: typeof b.detail === 'string' ? b.detail : '',
    type: typeof b.type === 'string' ? b.type : `urn:amisi:error:${b.code}`,
    retryable: b.retryable === true,
    data,
  });
}
