import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local HTTP server on 127.0.0.1 that plays Stripe's API for the calls the Stripe provider
 * makes: it records each request (path, form body, Idempotency-Key) and answers JSON shaped
 * like Stripe's. Like Stripe, it replays the first answer for a repeated idempotency key and
 * refuses the key when the parameters differ.
 */

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  /** The form body as Stripe's SDK encodes it: keys like `line_items[0][price_data][currency]`. */
  readonly form: Readonly<Record<string, string>>;
  readonly idempotencyKey: string | undefined;
  readonly authorization: string | undefined;
}

export interface FakeReply {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Answers one request; return undefined to get the default Stripe-like answer. */
export type Route = (request: RecordedRequest, index: number) => FakeReply | undefined;

export interface FakeStripe {
  readonly port: number;
  /** Every request that reached the server, replays included. */
  readonly requests: RecordedRequest[];
  route: Route;
  /**
   * The Checkout Sessions made, by id, as the API would return them: a test sets a status
   * ('complete', say) to play the customer paying at Stripe.
   */
  readonly sessions: Map<string, Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startFakeStripe(): Promise<FakeStripe> {
  const requests: RecordedRequest[] = [];
  const replays = new Map<string, { body: string; reply: FakeReply }>();
  const fake: FakeStripe = {
    port: 0,
    requests,
    route: () => undefined,
    sessions: new Map(),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const request = record(req, body);
      requests.push(request);
      const key = request.idempotencyKey;
      const earlier = key === undefined ? undefined : replays.get(`${request.path} ${key}`);
      if (earlier !== undefined) {
        const reply = earlier.body === body ? earlier.reply : idempotencyError(key ?? '');
        send(res, { ...reply, headers: { ...reply.headers, 'idempotent-replayed': 'true' } });
        return;
      }
      const index = requests.length - 1;
      const reply = fake.route(request, index) ?? defaultReply(request, index, fake.sessions);
      // Stripe keeps the answer for a key unless the request may be retried (5xx, 409).
      if (key !== undefined && reply.status < 500 && reply.status !== 409) {
        replays.set(`${request.path} ${key}`, { body, reply });
      }
      send(res, reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(fake, { port: (server.address() as AddressInfo).port });
}

/** A Stripe error answer, as the API shapes it. */
export function stripeError(
  status: number,
  error: { type: string; message: string; code?: string; decline_code?: string; param?: string },
  headers?: Record<string, string>,
): FakeReply {
  return { status, body: { error }, ...(headers === undefined ? {} : { headers }) };
}

function defaultReply(
  request: RecordedRequest,
  index: number,
  sessions: Map<string, Record<string, unknown>>,
): FakeReply {
  const n = String(index + 1).padStart(4, '0');
  if (request.method === 'POST' && request.path === '/v1/checkout/sessions') {
    const id = `cs_test_${n}`;
    const session = {
      id,
      object: 'checkout.session',
      mode: request.form['mode'],
      status: 'open',
      payment_status: 'unpaid',
      client_reference_id: request.form['client_reference_id'] ?? null,
      currency: request.form['line_items[0][price_data][currency]'] ?? null,
      amount_total: amountTotal(request.form),
      metadata: metadataOf(request.form, 'metadata'),
      url: `https://checkout.stripe.com/c/pay/${id}`,
    };
    sessions.set(id, session);
    return { status: 200, body: session };
  }
  const sessionPath = /^\/v1\/checkout\/sessions\/([^/]+)(\/expire)?$/.exec(request.path);
  if (sessionPath?.[1] !== undefined) {
    const session = sessions.get(sessionPath[1]);
    if (!session) {
      return stripeError(404, {
        type: 'invalid_request_error',
        code: 'resource_missing',
        message: `No such checkout.session: '${sessionPath[1]}'`,
      });
    }
    if (request.method === 'GET' && sessionPath[2] === undefined) {
      return { status: 200, body: session };
    }
    if (request.method === 'POST' && sessionPath[2] === '/expire') {
      // Stripe expires only an open session.
      if (session.status !== 'open') {
        return stripeError(400, {
          type: 'invalid_request_error',
          message: `Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of "${String(session.status)}".`,
        });
      }
      session.status = 'expired';
      session.url = null;
      return { status: 200, body: session };
    }
  }
  if (request.method === 'POST' && request.path === '/v1/refunds') {
    return {
      status: 200,
      body: {
        id: `re_test_${n}`,
        object: 'refund',
        amount: Number(request.form['amount']),
        payment_intent: request.form['payment_intent'] ?? null,
        status: 'succeeded',
        metadata: metadataOf(request.form, 'metadata'),
      },
    };
  }
  return stripeError(404, {
    type: 'invalid_request_error',
    message: `Unrecognized request URL (${request.method}: ${request.path}).`,
  });
}

/** The sum of the line items, as Stripe totals them (quantity x unit amount). */
function amountTotal(form: Readonly<Record<string, string>>): number {
  let total = 0;
  for (let i = 0; form[`line_items[${i}][price_data][unit_amount]`] !== undefined; i += 1) {
    const unit = Number(form[`line_items[${i}][price_data][unit_amount]`]);
    total += unit * Number(form[`line_items[${i}][quantity]`] ?? 1);
  }
  return total;
}

function idempotencyError(key: string): FakeReply {
  return stripeError(400, {
    type: 'idempotency_error',
    message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
  });
}

function metadataOf(form: Readonly<Record<string, string>>, prefix: string) {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(form)) {
    const m = new RegExp(`^${prefix}\\[([^\\]]+)\\]$`).exec(k);
    if (m?.[1] !== undefined) out[m[1]] = v;
  }
  return out;
}

function record(req: IncomingMessage, body: string): RecordedRequest {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const header = (name: string) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  return {
    method: req.method ?? 'GET',
    path: url.pathname,
    form: Object.fromEntries(new URLSearchParams(body)),
    idempotencyKey: header('idempotency-key'),
    authorization: header('authorization'),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, reply: FakeReply): void {
  const body = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'request-id': `req_fake_${Date.now()}`,
    ...reply.headers,
  });
  res.end(body);
}
