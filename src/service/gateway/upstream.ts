import http, {
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from 'node:http';
import https from 'node:https';
import { AmisiError } from '../../core/errors.js';

/** Headers of one hop only (RFC 9110 7.6.1), never forwarded either way. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Connections to the upstream kept open and reused; a named limit on how many. */
export const UPSTREAM_MAX_SOCKETS = 512;

/**
 * The API behind the gateway: its base URL (a path prefix is kept) and one keep-alive agent, so
 * a request does not pay for a new connection.
 */
export class Upstream {
  readonly base: URL;
  private readonly agent: http.Agent;
  private readonly client: typeof http | typeof https;

  constructor(url: string) {
    let base: URL;
    try {
      base = new URL(url);
    } catch {
      throw new AmisiError('invalid_argument', `--upstream ${url} is not a URL`, {
        field: 'upstream',
      });
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new AmisiError('invalid_argument', '--upstream must be an http:// or https:// URL', {
        field: 'upstream',
        value: url,
      });
    }
    this.base = base;
    this.client = base.protocol === 'https:' ? https : http;
    const options = {
      keepAlive: true,
      maxSockets: UPSTREAM_MAX_SOCKETS,
      scheduling: 'lifo' as const,
    };
    this.agent = base.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
  }

  /** The upstream's path for a request's path and query (the base's path is a prefix). */
  pathOf(requestUrl: string): string {
    const prefix = this.base.pathname.replace(/\/$/, '');
    return prefix + requestUrl;
  }

  /**
   * Sends a request and answers its response once the headers are in. `deadline` bounds the
   * whole exchange, the answer's body included: past it the response is destroyed with
   * `upstream_timeout`. `body` is a buffer (priced requests: read whole first) or the client's
   * stream (forwarded unmetered).
   */
  send(
    method: string,
    requestUrl: string,
    headers: OutgoingHttpHeaders,
    body: Buffer | IncomingMessage | null,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = this.client.request({
        protocol: this.base.protocol,
        hostname: this.base.hostname,
        port: this.base.port,
        method,
        path: this.pathOf(requestUrl),
        headers,
        agent: this.agent,
      });
      let response: IncomingMessage | undefined;
      const timer = setTimeout(() => {
        const late = new AmisiError(
          'upstream_timeout',
          `the upstream did not answer within ${timeoutMs} ms`,
          { timeoutMs },
        );
        // Once the headers are in, the body is what is late: its reader sees this error.
        if (response) response.destroy(late);
        else req.destroy(late);
      }, timeoutMs);
      const onAbort = () => req.destroy(new Error('the client went away'));
      signal.addEventListener('abort', onAbort, { once: true });
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      };
      req.on('error', (e) => {
        done();
        reject(asUpstreamError(e));
      });
      req.on('response', (res) => {
        response = res;
        res.on('close', done);
        resolve(res);
      });
      if (body === null) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else body.pipe(req);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Any failure to reach the upstream, as the gateway answers it: 502, or 504 past the deadline. */
export function asUpstreamError(e: unknown): AmisiError {
  if (e instanceof AmisiError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  return new AmisiError(
    'upstream_unavailable',
    `the upstream did not answer (${code ?? String(e)})`,
    {
      cause: code ?? 'error',
    },
  );
}

/**
 * The headers to forward: the client's, minus hop-by-hop ones, the ones the gateway consumes
 * (an Amisi key), and those it sets itself (the upstream's own credentials); `host` becomes
 * the upstream's.
 */
export function forwardedHeaders(
  incoming: IncomingHttpHeaders,
  drop: ReadonlySet<string>,
  set: Readonly<Record<string, string>>,
  host: string,
  bodyBytes: number | null,
): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const listed = connectionListed(incoming.connection);
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name) || drop.has(name)) continue;
    out[name] = value;
  }
  for (const [name, value] of Object.entries(set)) out[name] = value;
  out.host = host;
  if (bodyBytes !== null) {
    // The body is whole in hand: nothing for the upstream to wait for or continue.
    delete out.expect;
    delete out['transfer-encoding'];
    out['content-length'] = String(bodyBytes);
  }
  return out;
}

/** The upstream's answer headers for the client: hop-by-hop ones left out. */
export function answerHeaders(incoming: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const listed = connectionListed(incoming.connection);
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name)) continue;
    out[name] = value;
  }
  return out;
}

function connectionListed(value: string | string[] | undefined): Set<string> {
  if (value === undefined) return new Set();
  const text = Array.isArray(value) ? value.join(',') : value;
  return new Set(text.split(',').map((s) => s.trim().toLowerCase()));
}

/** The whole answer body, at most `limitBytes`. */
export async function readAnswer(res: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limitBytes) {
        res.destroy();
        throw new AmisiError(
          'upstream_unavailable',
          `the upstream's answer is over the ${limitBytes} bytes the gateway reads`,
          { limitBytes },
        );
      }
      chunks.push(chunk);
    }
  } catch (e) {
    throw asUpstreamError(e);
  }
  if (!res.complete) {
    throw new AmisiError('upstream_unavailable', 'the upstream closed the connection mid-answer', {
      cause: 'aborted',
    });
  }
  return Buffer.concat(chunks, size);
}
