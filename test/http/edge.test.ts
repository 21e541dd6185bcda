import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ManualProvider } from '../../src/service/payments/manual/manual-provider.js';
import type { Checkout, CheckoutRequest } from '../../src/service/payments/port.js';
import { BOTH_STORES } from '../pg-helpers.js';
import { ok, problem, startServer, type TestServer } from './http-helpers.js';

/**
 * The HTTP edge: what the server answers to input that is wrong below the level of any route
 * (bad text, paths, sizes, media types, slow clients). Every answer is a problem with a code.
 */

const json = (b: unknown) => b as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Raw HTTP/1.1 over a socket: what the server writes until it closes the connection. */
function rawExchange(url: string, chunks: readonly string[], gapMs = 0): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let answer = '';
    let timer: NodeJS.Timeout | undefined;
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (answer += d));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    socket.on('error', (e: NodeJS.ErrnoException) =>
      e.code === 'ECONNRESET' || e.code === 'EPIPE' ? undefined : reject(e),
    );
    let i = 0;
    const next = () => {
      if (socket.destroyed || i >= chunks.length) return;
      socket.write(chunks[i++]!);
      timer = setTimeout(next, gapMs);
    };
    socket.on('connect', next);
  });
}

/** The status and parsed problem of the last answer on a raw connection. */
function parsed(answers: string): { status: number; contentType: string; body: json } {
  const answer = answers.slice(answers.lastIndexOf('HTTP/1.1 '));
  const [head = '', ...rest] = answer.split('\r\n\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
  const contentType = /content-type: ([^\r\n]+)/i.exec(head)?.[1] ?? '';
  const text = rest.join('\r\n\r\n');
  try {
    return { status, contentType, body: JSON.parse(text) };
  } catch {
    throw new Error(`not one JSON body: ${JSON.stringify(answer)}`);
  }
}
type json = Record<string, unknown>;

const NUL = 'a\u0000b';
const LONE = 'x\ud800y';

for (const [storeName, open, skip] of BOTH_STORES) {
  describe(`bad text at the edge on ${storeName}`, { skip }, () => {
    let s: TestServer;
    let transactionId: string;
    let before_: string;
    before(async () => {
      s = await startServer({ open });
      ok(await s.call('POST', '/v1/accounts', { body: { id: 'ann' } }), 201);
      ok(
        await s.call('POST', '/v1/grants', {
          idem: 'g',
          body: { accountId: 'ann', credits: 100, source: 'promotion' },
        }),
        201,
      );
      const charge = json(
        ok(
          await s.call('POST', '/v1/charges', {
            idem: 'c',
            body: { accountId: 'ann', credits: 1 },
          }),
          201,
        ),
      );
      transactionId = charge.transactionId;
      before_ = JSON.stringify(await s.ledger.history({ accountId: 'ann' }));
    });
    after(async () => s?.close());

    it('a NUL or a lone surrogate in any string is invalid_argument naming the field', async () => {
      for (const bad of [NUL, LONE]) {
        const cases: [string, string, Record<string, unknown>, string][] = [
          [
            'POST',
            '/v1/grants',
            { accountId: 'ann', credits: 5, source: 'promotion', reason: bad },
            'reason',
          ],
          [
            'POST',
            '/v1/holds',
            { accountId: 'ann', credits: 1, attribution: { labels: { k: bad } } },
            'attribution.labels.k',
          ],
          [
            'POST',
            '/v1/charges',
            { accountId: 'ann', credits: 1, attribution: { labels: { k: bad } } },
            'attribution.labels.k',
          ],
          [
            'POST',
            '/v1/batches',
            {
              accountId: 'ann',
              items: [{ operation: 'image.generate' }],
              attribution: { labels: { k: bad } },
            },
            'attribution.labels.k',
          ],
          [
            'POST',
            '/v1/outcomes',
            { accountId: 'ann', transactionId, outcome: 'kept', labels: { concept: bad } },
            'labels.concept',
          ],
        ];
        for (const [method, path, body, field] of cases) {
          const p = problem(
            await s.call(method, path, { idem: `bad-${field}`, body }),
            400,
            'invalid_argument',
          );
          assert.equal(p.field, field, `${path}: ${JSON.stringify(p)}`);
        }
      }
      // A URL cannot carry a lone surrogate (it is UTF-8); a NUL it can.
      const search = problem(
        await s.call('GET', '/v1/accounts?search=a%00b'),
        400,
        'invalid_argument',
      );
      assert.equal(search.field, 'search');
      assert.equal(
        JSON.stringify(await s.ledger.history({ accountId: 'ann' })),
        before_,
        'nothing changed',
      );
    });

    it('the ledger refuses the same strings for library and CLI callers', async () => {
      await assert.rejects(
        s.ledger.grant({
          accountId: 'ann',
          key: 'lib',
          credits: 1,
          source: 'promotion',
          reason: NUL,
        }),
        (e: { code?: string; data?: { field?: string } }) =>
          e.code === 'invalid_argument' && e.data?.field === 'reason',
      );
      await assert.rejects(
        s.ledger.charge({
          accountId: 'ann',
          key: 'lib-c',
          credits: 1,
          attribution: { labels: { k: LONE } },
        }),
        (e: { code?: string; data?: { field?: string } }) =>
          e.code === 'invalid_argument' && e.data?.field === 'labels.k',
      );
    });

    it('ids of up to 128 characters work in every path; longer ones are refused', async () => {
      const id = `a${'b'.repeat(127)}`;
      ok(await s.call('POST', '/v1/accounts', { body: { id } }), 201);
      ok(
        await s.call('POST', '/v1/grants', {
          idem: 'long',
          body: { accountId: id, credits: 3, source: 'promotion' },
        }),
        201,
      );
      assert.equal(json(ok(await s.call('GET', `/v1/accounts/${id}/balance`))).available, 3);
      ok(await s.call('GET', `/v1/accounts/${id}/history`));
      const encoded = `a${'%40'.repeat(127)}`; // 128 characters, 382 when percent-encoded
      problem(await s.call('GET', `/v1/accounts/${encoded}`), 404, 'unknown_account');
      const tooLong = problem(
        await s.call('GET', `/v1/accounts/${id}b/balance`),
        400,
        'invalid_argument',
      );
      assert.equal(tooLong.field, 'accountId');
      problem(
        await s.call('POST', '/v1/accounts', { body: { id: `${id}b` } }),
        400,
        'invalid_argument',
      );
      problem(await s.call('GET', `/v1/accounts/${'a'.repeat(1000)}/balance`), 414, 'uri_too_long');
    });
  });
}

describe('low-level errors are problems too', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
    ok(await s.call('POST', '/v1/accounts', { body: { id: 'ann' } }), 201);
  });
  after(async () => s?.close());

  it('a path that is not valid percent-encoding is invalid_argument', async () => {
    for (const path of ['/v1/accounts/%ff', '/v1/accounts/%', '/v1/accounts/a%zzb/balance']) {
      const p = problem(await s.call('GET', path), 400, 'invalid_argument');
      assert.equal(p.field, 'path', path);
    }
  });

  it('a query string that is not valid percent-encoding is invalid_argument', async () => {
    const p = problem(await s.call('GET', '/v1/accounts?search=%ff'), 400, 'invalid_argument');
    assert.equal(p.field, 'search');
    assert.equal(p.in, 'query');
  });

  it('a very long query string is 431 header_too_large', async () => {
    const r = await s.call('GET', `/v1/accounts?search=${'a'.repeat(20_000)}`);
    problem(r, 431, 'header_too_large');
  });

  it('a body over 1 MiB is 413 payload_too_large', async () => {
    const r = await s.call('POST', '/v1/accounts', {
      raw: JSON.stringify({ id: 'big', name: 'x'.repeat(1024 * 1024) }),
      headers: { 'content-type': 'application/json' },
    });
    problem(r, 413, 'payload_too_large');
  });

  it('a body that is not sent as JSON is 415 unsupported_media_type', async () => {
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', null]) {
      const res = await fetch(`${s.url}/v1/accounts`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${s.operatorKey}`,
          ...(contentType === null ? {} : { 'content-type': contentType }),
        },
        body: contentType === null ? new Blob(['{"id":"x"}']) : '{"id":"x"}',
      });
      assert.equal(res.status, 415, `${contentType}`);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      const body = (await res.json()) as json;
      assert.equal(body.code, 'unsupported_media_type');
      assert.match(String(body.detail), /application\/json/);
    }
    problem(await s.call('GET', '/v1/accounts/x'), 404, 'unknown_account');
  });

  it('malformed HTTP is answered as a problem on the socket', async () => {
    const answer = parsed(await rawExchange(s.url, ['GET /healthz HTTP/1.1\r\nHost\r\n\r\n']));
    assert.equal(answer.status, 400);
    assert.match(answer.contentType, /^application\/problem\+json/);
    assert.equal(answer.body.code, 'invalid_argument');
  });
});

/** The manual provider, but each checkout waits until the test lets it go. */
class GatedProvider extends ManualProvider {
  entered!: () => void;
  readonly inside = new Promise<void>((resolve) => (this.entered = resolve));
  release!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.release = resolve));

  override async createCheckout(request: CheckoutRequest): Promise<Checkout> {
    this.entered();
    await this.gate;
    return super.createCheckout(request);
  }
}

describe('shutting down', () => {
  it('a request that reaches the server while it is closing is 503 shutting_down', async () => {
    const provider = new GatedProvider();
    const s = await startServer({ payments: provider });
    ok(await s.call('POST', '/v1/accounts', { body: { id: 'ann' } }), 201);
    // A purchase in flight keeps the server closing (not closed) while the test looks.
    const inFlight = s.call('POST', '/v1/purchases', {
      idem: 'buy',
      body: { accountId: 'ann', pack: 'pack-20' },
    });
    await provider.inside;
    // A second connection has sent part of its request when close() begins.
    const late = rawExchange(s.url, ['GET /v1/accounts HTTP/1.1\r\nHost: x\r\n', '\r\n'], 300);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closing = s.app.close();
    const answer = await late;
    provider.release();
    ok(await inFlight, 201);
    await closing;
    await s.close();
    const p = parsed(answer);
    assert.equal(p.status, 503, answer);
    assert.match(p.contentType, /^application\/problem\+json/);
    assert.equal(p.body.code, 'shutting_down');
    assert.match(answer, /connection: close/i);
  });
});

describe('slow clients are cut off', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ timeouts: { requestMs: 600, headersMs: 300, keepAliveMs: 300 } });
  });
  after(async () => s?.close());

  it('a body trickled past the request timeout gets 408 request_timeout and is closed', async () => {
    const head = (authorization: string) =>
      `POST /v1/accounts HTTP/1.1\r\nHost: x\r\n${authorization}Content-Type: application/json\r\nContent-Length: 100\r\n\r\n`;
    const trickle = Array.from({ length: 40 }, () => ' ');
    const keyed = await rawExchange(
      s.url,
      [head(`Authorization: Bearer ${s.operatorKey}\r\n`), ...trickle],
      100,
    );
    assert.equal(keyed.match(/HTTP\/1\.1 /g)?.length, 1, keyed);
    const answer = parsed(keyed);
    assert.equal(answer.status, 408);
    assert.match(answer.contentType, /^application\/problem\+json/);
    assert.equal(answer.body.code, 'request_timeout');
    // Without a key: refused at once (401), and the connection is still cut at the timeout.
    const anonymous = await rawExchange(s.url, [head(''), ...trickle], 100);
    assert.match(anonymous, /^HTTP\/1\.1 401/);
    assert.equal(parsed(anonymous).body.code, 'request_timeout');
  });

  it('headers trickled past the headers timeout get 408 request_timeout', async () => {
    const chunks = ['GET /healthz HTTP/1.1\r\n', ...Array.from({ length: 40 }, () => 'X-A: b\r\n')];
    const answer = parsed(await rawExchange(s.url, chunks, 50));
    assert.equal(answer.status, 408);
    assert.equal(answer.body.code, 'request_timeout');
  });

  it('an idle kept-alive connection is closed after the keep-alive timeout', async () => {
    const answer = await rawExchange(s.url, ['GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'], 0);
    // rawExchange resolves only when the server closes the connection.
    assert.match(answer, /^HTTP\/1\.1 200/);
  });
});
