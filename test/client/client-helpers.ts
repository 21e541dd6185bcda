import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createClient,
  isAmisiApiError,
  type AmisiClient,
  type ClientOptions,
} from '../../src/client/index.js';
import { startServer, type StartOptions, type TestServer } from '../http/http-helpers.js';

/**
 * The SDK against a real server (test/http/http-helpers.ts) on 127.0.0.1. Every answer the
 * SDK receives is also checked against the server's own /openapi.json; a mismatch is recorded
 * rather than thrown inside fetch (where the SDK would take it for a network error).
 */

export interface SdkServer {
  readonly s: TestServer;
  /** A client with the operator key (or the given key), its fetch checked against the spec. */
  client(apiKey?: string, options?: Partial<ClientOptions>): AmisiClient;
  /** Answers that did not match the spec, as messages. */
  readonly specViolations: string[];
  /** Every request the SDK sent, in order. */
  readonly sent: { method: string; url: string; idempotencyKey: string | null }[];
  close(): Promise<void>;
}

export async function startSdkServer(options: StartOptions = {}): Promise<SdkServer> {
  const s = await startServer(options);
  const specViolations: string[] = [];
  const sent: SdkServer['sent'] = [];
  const checked: typeof fetch = async (input, init) => {
    const url = String(input);
    const method = init?.method ?? 'GET';
    const key = new Headers(init?.headers).get('idempotency-key');
    sent.push({ method, url, idempotencyKey: key });
    const res = await fetch(input, init);
    const text = await res.clone().text();
    const contentType = res.headers.get('content-type') ?? '';
    const parsed = contentType.includes('json') && text !== '' ? JSON.parse(text) : undefined;
    try {
      s.checker.check(method, url, res.status, contentType, parsed);
    } catch (e) {
      specViolations.push(e instanceof Error ? e.message : String(e));
    }
    return res;
  };
  return {
    s,
    specViolations,
    sent,
    client: (apiKey = s.operatorKey, extra = {}) =>
      createClient({ baseUrl: s.url, apiKey, fetch: checked, ...extra }),
    close: () => s.close(),
  };
}

/**
 * What the proxy does with the n-th request: pass it on; answer it itself (without passing
 * it on); or pass it on and then drop the connection before the answer reaches the client,
 * the case where only a retry with the same Idempotency-Key can tell what happened.
 */
export type Step =
  | 'forward'
  | 'drop-after-forward'
  | 'drop-before-forward'
  | { readonly status: number; readonly headers?: Record<string, string>; readonly body?: string };

export interface Proxy {
  readonly url: string;
  /** Every request that reached the proxy, in order. */
  readonly requests: { method: string; path: string; idempotencyKey: string | null }[];
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'content-encoding',
  'host',
]);

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function forwardHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string' && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

async function forward(target: string, req: IncomingMessage, body: Buffer) {
  return fetch(`${target}${req.url ?? '/'}`, {
    method: req.method ?? 'GET',
    headers: forwardHeaders(req),
    ...(body.length > 0 ? { body } : {}),
  });
}

async function relay(res: ServerResponse, answer: Response): Promise<void> {
  const headers: Record<string, string> = {};
  answer.headers.forEach((value, name) => {
    if (!HOP_BY_HOP.has(name)) headers[name] = value;
  });
  const body = Buffer.from(await answer.arrayBuffer());
  res.writeHead(answer.status, headers).end(body);
}

/** A tiny HTTP proxy on 127.0.0.1 in front of target: the network edge, faked. */
export async function startProxy(target: string, plan: readonly Step[]): Promise<Proxy> {
  const requests: Proxy['requests'] = [];
  const server = createServer((req, res) => {
    const step = plan[requests.length] ?? 'forward';
    const key = req.headers['idempotency-key'];
    requests.push({
      method: req.method ?? '',
      path: req.url ?? '',
      idempotencyKey: typeof key === 'string' ? key : null,
    });
    void handle(step, target, req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(step: Step, target: string, req: IncomingMessage, res: ServerResponse) {
  const body = await readBody(req);
  if (step === 'drop-before-forward') return void req.socket.destroy();
  if (typeof step === 'object') {
    return void res.writeHead(step.status, step.headers ?? {}).end(step.body ?? '');
  }
  const answer = await forward(target, req, body);
  if (step === 'drop-after-forward') {
    // The server has applied the request; the client never hears about it.
    await answer.arrayBuffer();
    return void req.socket.destroy();
  }
  await relay(res, answer);
}

/** Collects an async iterable into an array. */
export async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

/** Runs fn, which must reject; returns what it rejected with. */
export async function rejection(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

/** Runs fn, which must reject with an API problem; returns its status, code, detail and data. */
export async function problem(fn: () => Promise<unknown>) {
  const e = await rejection(fn);
  if (!isAmisiApiError(e)) throw new Error(`expected an API problem, got ${String(e)}`);
  return { status: e.status, code: e.code, detail: e.detail, data: e.data };
}
