import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { ErrorCode } from '../../src/core/errors.js';
import type { App } from '../../src/http/app.js';
import { Metrics } from '../../src/http/metrics.js';
import { buildServer, type ServerOptions } from '../../src/http/server.js';
import { Ledger } from '../../src/ledger/ledger.js';
import type { Clock } from '../../src/ledger/ports.js';
import type { Store } from '../../src/ledger/store.js';
import { ApiKeys } from '../../src/service/api-keys.js';
import { ManualProvider } from '../../src/service/payments/manual/manual-provider.js';
import type { PaymentProvider } from '../../src/service/payments/port.js';
import { PurchaseService } from '../../src/service/purchases.js';
import { defaultCatalog } from '../helpers.js';
import { freshSqliteStore } from '../pg-helpers.js';
import { SpecChecker, type Spec } from './spec-check.js';

/**
 * A real server on 127.0.0.1 (port 0) over a fresh store, called with real fetch. Every
 * response that goes through `call` is checked against the server's own /openapi.json.
 */

export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly contentType: string;
  readonly text: string;
  /** The parsed JSON body (undefined when the body is not JSON). */
  readonly body: Record<string, unknown> & { code?: ErrorCode };
}

export interface CallOptions {
  readonly key?: string | null;
  readonly body?: unknown;
  /** Sent as Idempotency-Key. */
  readonly idem?: string;
  readonly headers?: Record<string, string>;
  /** A raw body sent as is (with headers.content-type). */
  readonly raw?: string;
}

export interface TestServer {
  readonly url: string;
  readonly app: App;
  readonly ledger: Ledger;
  readonly store: Store;
  readonly keys: ApiKeys;
  readonly metrics: Metrics;
  readonly checker: SpecChecker;
  /** Every log line the server wrote, parsed. */
  readonly logs: Record<string, unknown>[];
  readonly operatorKey: string;
  call(method: string, path: string, options?: CallOptions): Promise<Reply>;
  /** A new key for an account (or 'operator'), made while the server runs. */
  keyFor(scope: string, readOnly?: boolean): Promise<string>;
  close(): Promise<void>;
}

export interface StartOptions {
  readonly open?: () => Promise<{ store: Store; close: () => Promise<void> }>;
  readonly payments?: PaymentProvider;
  readonly rateLimit?: ServerOptions['rateLimit'];
  readonly timeouts?: ServerOptions['timeouts'];
  readonly allowPrivateWebhooks?: boolean;
  /** The built dashboard to serve (default dist/web). */
  readonly dashboardDir?: string;
  /** The ledger's clock (default the system's): a FakeClock moves time without waiting. */
  readonly clock?: Clock;
  /** The catalog loaded at start (default catalog/default.json). */
  readonly catalog?: unknown;
  /** LedgerOptions.accountsOnFirstUse (default off). */
  readonly accountsOnFirstUse?: boolean;
  /** ServerOptions.corsOrigins (default none). */
  readonly corsOrigins?: readonly string[];
}

function logCollector(logs: Record<string, unknown>[]): Writable {
  let partial = '';
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') logs.push(JSON.parse(line));
      done();
    },
  });
}

export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const opened = await (options.open ?? freshSqliteStore)();
  const metrics = new Metrics();
  const ledger = new Ledger({
    store: opened.store,
    committer: { onCommit: metrics.onCommit },
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    accountsOnFirstUse: options.accountsOnFirstUse ?? false,
  });
  await ledger.loadCatalog(options.catalog ?? defaultCatalog());
  // No cache: a revoked key is refused at once in the tests.
  const keys = new ApiKeys(ledger, {
    cacheMs: 0,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  const purchases = new PurchaseService(ledger, options.payments ?? new ManualProvider());
  const logs: Record<string, unknown>[] = [];
  const app = await buildServer(
    {
      ledger,
      purchases,
      keys,
      metrics,
      allowPrivateWebhooks: options.allowPrivateWebhooks ?? false,
    },
    {
      logLevel: 'info',
      rateLimit: options.rateLimit ?? { max: 0, windowMs: 60_000 },
      trustProxy: false,
      logStream: logCollector(logs),
      ...(options.timeouts === undefined ? {} : { timeouts: options.timeouts }),
      ...(options.dashboardDir === undefined ? {} : { dashboardDir: options.dashboardDir }),
      ...(options.corsOrigins === undefined ? {} : { corsOrigins: options.corsOrigins }),
    },
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const spec = (await (await fetch(`${url}/openapi.json`)).json()) as Spec;
  const checker = new SpecChecker(spec);
  const operatorKey = (await keys.create({ scope: 'operator', name: 'test operator' })).key;

  async function call(method: string, path: string, o: CallOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...o.headers };
    const key = o.key === undefined ? operatorKey : o.key;
    if (key !== null) headers.authorization = `Bearer ${key}`;
    if (o.idem !== undefined) headers['idempotency-key'] = o.idem;
    let body: string | undefined = o.raw;
    if (o.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = JSON.stringify(o.body);
    }
    const res = await fetch(`${url}${path}`, { method, headers, ...(body ? { body } : {}) });
    const text = await res.text();
    const contentType = res.headers.get('content-type') ?? '';
    const parsed = contentType.includes('json') && text !== '' ? JSON.parse(text) : undefined;
    checker.check(method, path, res.status, contentType, parsed);
    return { status: res.status, headers: res.headers, contentType, text, body: parsed };
  }

  return {
    url,
    app,
    ledger,
    store: opened.store,
    keys,
    metrics,
    checker,
    logs,
    operatorKey,
    call,
    async keyFor(scope, readOnly = false) {
      const input = scope === 'operator' ? 'operator' : { accountId: scope };
      return (await keys.create({ scope: input, readOnly })).key;
    },
    async close() {
      await app.close();
      // The store is closed by its opener (which also removes its database).
      await ledger.idle();
      await opened.close();
    },
  };
}

/** Asserts a problem+json answer with this status and code; returns its body. */
export function problem(reply: Reply, status: number, code: ErrorCode) {
  assert.equal(
    reply.status,
    status,
    `expected ${status} ${code}, got ${reply.status} ${reply.text}`,
  );
  assert.match(reply.contentType, /^application\/problem\+json/);
  assert.equal(reply.body.code, code);
  assert.equal(reply.body.type, `urn:amisi:error:${code}`);
  assert.equal(reply.body.status, status);
  assert.equal(typeof reply.body.detail, 'string');
  return reply.body;
}

export function ok(reply: Reply, status = 200) {
  assert.equal(reply.status, status, `expected ${status}, got ${reply.status} ${reply.text}`);
  return reply.body;
}

/** What createOrganization makes: a plan gives the team access that members need. */
export interface OrganizationSeed {
  readonly id: string;
  readonly name: string;
  readonly owner: { readonly id: string; readonly name?: string; readonly email?: string };
  /** Subscribed under the Idempotency-Key `sub-<id>`. */
  readonly plan?: string;
  /** [member, role, name?], each PUT as an active member. */
  readonly members?: readonly (readonly [string, 'owner' | 'admin' | 'member', string?])[];
  /** [project, name], each PUT. */
  readonly projects?: readonly (readonly [string, string])[];
}

/** An organization made through the API, as many tests start: owner, plan, members, projects. */
export async function createOrganization(s: TestServer, org: OrganizationSeed): Promise<void> {
  const base = `/v1/accounts/${org.id}`;
  ok(
    await s.call('POST', '/v1/orgs', { body: { id: org.id, name: org.name, owner: org.owner } }),
    201,
  );
  if (org.plan !== undefined) {
    ok(
      await s.call('POST', `${base}/subscription`, {
        idem: `sub-${org.id}`,
        body: { plan: org.plan },
      }),
      201,
    );
  }
  for (const [id, role, name] of org.members ?? []) {
    const body = name === undefined ? { role } : { role, name };
    ok(await s.call('PUT', `${base}/members/${id}`, { body }), 201);
  }
  for (const [id, name] of org.projects ?? []) {
    const r = await s.call('PUT', `${base}/projects/${id}`, { body: { name } });
    assert.ok(r.status < 300, r.text);
  }
}
