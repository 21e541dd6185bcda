import { errorFromAnswer, isProblem, AmisiApiError, AmisiNetworkError } from './errors.js';
import {
  DEFAULT_RETRIES,
  delayBeforeRetry,
  MAX_RETRIES,
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
  sleep,
} from './retry.js';

/**
 * One logical call over HTTP: its Idempotency-Key, its attempts, its errors. Only web platform
 * APIs (fetch, AbortController, URL, crypto.randomUUID), so the same code runs in Node and in a
 * browser.
 */

export interface ClientOptions {
  /** Where the API answers, e.g. https://credits.example.com (paths start with /v1). */
  readonly baseUrl: string;
  /** An API key from `amisi keys create`. */
  readonly apiKey: string;
  /** Defaults to globalThis.fetch. */
  readonly fetch?: typeof globalThis.fetch;
  /** Retries after the first attempt (default 2, at most 10); 0 turns retrying off. */
  readonly retries?: number;
  /** How long one attempt may take, answer body included (default 30 s). */
  readonly timeoutMs?: number;
}

export interface RequestOptions {
  /** Cancels the call, including any wait between attempts. A cancelled call is not retried. */
  readonly signal?: AbortSignal;
}

export interface WriteOptions extends RequestOptions {
  /**
   * The key for this logical call (default: a new random UUID). Pass your own job id to make a
   * call idempotent across processes: a retry, even after a crash, then never charges twice.
   */
  readonly idempotencyKey?: string;
}

export type QueryValue = string | number | boolean | readonly string[] | undefined;

export interface Call {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path with its parameters already encoded. */
  readonly path: string;
  readonly query?: Readonly<Record<string, QueryValue>>;
  readonly body?: object;
  /** Sends an Idempotency-Key: the route changes credits or money. */
  readonly keyed?: boolean;
  /**
   * A non-2xx status whose JSON body is still the answer when it has this member (readiness
   * answers 503 with `ready: false`; a server shutting down answers 503 with something else).
   */
  readonly alsoAnswers?: { readonly status: number; readonly member: string };
  /** The answer is text, not JSON (metrics). */
  readonly text?: boolean;
  /**
   * Applying the call twice does two things (a POST without an Idempotency-Key, such as
   * registering a webhook endpoint). It is then retried only when the server says it did
   * nothing (429, or a retryable problem), never after a lost answer.
   */
  readonly unsafe?: boolean;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

interface Received {
  readonly kind: 'received';
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  readonly text: string;
}

interface Failed {
  readonly kind: 'failed';
  readonly error: unknown;
}

type Verdict =
  | { readonly ok: true; readonly value: unknown }
  | {
      readonly ok: false;
      readonly error: Error;
      readonly retry: boolean;
      readonly retryAfterMs: number | null;
    };

/**
 * A random UUID (v4). crypto.randomUUID exists only in secure contexts, so a dashboard opened
 * over plain http on a LAN address makes one from crypto.getRandomValues, which exists in every
 * context.
 */
export function newIdempotencyKey(): string {
  const c = globalThis.crypto;
  if (typeof c.randomUUID === 'function') return c.randomUUID();
  const b = c.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function checkOptions(options: ClientOptions): void {
  // new URL throws on anything that is not an absolute URL: better now than on the first call.
  new URL(options.baseUrl);
  if (typeof options.apiKey !== 'string' || options.apiKey === '') {
    throw new TypeError('apiKey is required');
  }
  const retries = options.retries ?? DEFAULT_RETRIES;
  if (!Number.isSafeInteger(retries) || retries < 0 || retries > MAX_RETRIES) {
    throw new RangeError(`retries must be a whole number from 0 to ${MAX_RETRIES}`);
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) {
    throw new RangeError('timeoutMs must be a whole number of milliseconds, at least 1');
  }
}

function queryString(query: Readonly<Record<string, QueryValue>> | undefined): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) params.append(name, String(v));
    else params.append(name, String(value));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

function parseBody(text: string, contentType: string): unknown {
  if (text === '' || !/json/i.test(contentType)) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export class Transport {
  private readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly fetch: typeof globalThis.fetch;
  private readonly retries: number;
  private readonly timeoutMs: number;

  constructor(options: ClientOptions) {
    checkOptions(options);
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    // Bound to globalThis: some browsers refuse a fetch called as a method of another object.
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.retries = options.retries ?? DEFAULT_RETRIES;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** Sends the call until it is answered, fails for good, or runs out of retries. */
  async send<T>(call: Call, options: WriteOptions = {}): Promise<T> {
    const key = call.keyed ? (options.idempotencyKey ?? newIdempotencyKey()) : null;
    if (key !== null && !KEY_PATTERN.test(key)) {
      throw new RangeError('idempotencyKey must be 1-255 printable ASCII characters, no spaces');
    }
    const url = `${this.baseUrl}${call.path}${queryString(call.query)}`;
    const init = this.requestInit(call, key);
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.attempt(url, init, options.signal);
      const verdict = this.judge(outcome, call, key, attempt + 1);
      if (verdict.ok) return verdict.value as T;
      if (!verdict.retry || attempt >= this.retries) throw verdict.error;
      await sleep(delayBeforeRetry(attempt, verdict.retryAfterMs), options.signal);
    }
  }

  private requestInit(call: Call, key: string | null): RequestInit {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.apiKey}`,
      accept: call.text ? 'text/plain' : 'application/json, application/problem+json',
    };
    if (key !== null) headers['idempotency-key'] = key;
    if (call.method === 'GET' || call.method === 'DELETE') return { method: call.method, headers };
    // Every POST and PUT sends a JSON body, {} when there is nothing to say: the server refuses
    // a JSON content type with an empty body.
    headers['content-type'] = 'application/json';
    return { method: call.method, headers, body: JSON.stringify(call.body ?? {}) };
  }

  /** One attempt under its own timeout; the answer's body is read inside it too. */
  private async attempt(
    url: string,
    init: RequestInit,
    signal: AbortSignal | undefined,
  ): Promise<Received | Failed> {
    signal?.throwIfAborted();
    const controller = new AbortController();
    const timer = setTimeout(() => {
      controller.abort(new Error(`no answer within ${this.timeoutMs} ms`));
    }, this.timeoutMs);
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const res = await this.fetch(url, { ...init, signal: controller.signal });
      const text = await res.text();
      const { status, statusText, headers } = res;
      return { kind: 'received', status, statusText, headers, text };
    } catch (error) {
      // The caller's cancellation is final; anything else may be retried with the same key.
      if (signal?.aborted) throw signal.reason;
      return { kind: 'failed', error };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private judge(
    outcome: Received | Failed,
    call: Call,
    key: string | null,
    attempts: number,
  ): Verdict {
    if (outcome.kind === 'failed') {
      const why = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
      const message = `${call.method} ${call.path}: no answer after ${attempts} attempt(s): ${why}`;
      const error = new AmisiNetworkError(message, key, attempts, outcome.error);
      return { ok: false, error, retry: call.unsafe !== true, retryAfterMs: null };
    }
    const contentType = outcome.headers.get('content-type') ?? '';
    const body = parseBody(outcome.text, contentType);
    const success = outcome.status >= 200 && outcome.status < 300;
    if (success && call.text) return { ok: true, value: outcome.text };
    if (outcome.status === 204) return { ok: true, value: undefined };
    if (success && typeof body === 'object' && body !== null) return { ok: true, value: body };
    if (isAlsoAnswer(call, outcome.status, body)) return { ok: true, value: body };
    const requestId = outcome.headers.get('x-request-id');
    const answer = { status: outcome.status, statusText: outcome.statusText, body, requestId };
    const error = success
      ? unreadable(outcome.status, requestId, key)
      : errorFromAnswer(answer, key);
    return { ok: false, error, ...retryability(error, outcome, isProblem(body), call) };
  }
}

function isAlsoAnswer(call: Call, status: number, body: unknown): boolean {
  const also = call.alsoAnswers;
  return (
    also !== undefined &&
    also.status === status &&
    typeof body === 'object' &&
    body !== null &&
    also.member in body
  );
}

/** A success status whose body is not the JSON the route promises (a misrouted proxy, say). */
function unreadable(status: number, requestId: string | null, key: string | null) {
  return new AmisiApiError({
    code: 'internal',
    status,
    title: 'Unreadable answer',
    detail: `HTTP ${status} answered without the JSON body the API promises`,
    type: '',
    retryable: false,
    requestId,
    idempotencyKey: key,
    data: {},
  });
}

/**
 * A problem says itself whether it may be retried: store_busy, rate_limited and
 * payment_provider_error do, input errors never do, and a retryable problem means nothing was
 * applied. An answer without a problem is retried only for 429 and a gateway's 502-504, after
 * which the outcome is unknown, so an unsafe call is not. Retry-After is honoured, and a wait
 * longer than MAX_RETRY_AFTER_MS is not retried at all.
 */
function retryability(error: AmisiApiError, outcome: Received, problem: boolean, call: Call) {
  const retryAfterMs = parseRetryAfter(outcome.headers.get('retry-after'));
  const nothingApplied = outcome.status === 429 || (problem && error.retryable);
  const retry =
    (nothingApplied || (error.retryable && call.unsafe !== true)) &&
    (retryAfterMs === null || retryAfterMs <= MAX_RETRY_AFTER_MS);
  return { retry, retryAfterMs };
}
