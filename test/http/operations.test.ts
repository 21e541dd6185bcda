import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { drain } from '../../src/http/lifecycle.js';
import { ManualProvider } from '../../src/service/payments/manual/manual-provider.js';
import type { Checkout, CheckoutRequest } from '../../src/service/payments/port.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { tempDir } from '../helpers.js';
import { ok, problem, startServer, type TestServer } from './http-helpers.js';

/** Health, readiness, metrics, logs, internal errors, verify, graceful shutdown. */

const json = (b: unknown) => b as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A SQLite store whose file the test can also open (to break it on purpose). */
function sqliteAt(path: string, cleanup: () => void) {
  return async () => {
    const store = new SqliteStore({ path });
    await store.migrate();
    return {
      store,
      async close() {
        await store.close();
        cleanup();
      },
    };
  };
}

describe('operations', () => {
  let s: TestServer;
  let path: string;
  before(async () => {
    const { dir, cleanup } = tempDir('amisi-http-');
    path = join(dir, 'ops.db');
    s = await startServer({ open: sqliteAt(path, cleanup) });
    ok(await s.call('POST', '/v1/accounts', { body: { id: 'ann' } }), 201);
    ok(
      await s.call('POST', '/v1/grants', {
        idem: 'g',
        body: { accountId: 'ann', credits: 10, source: 'promotion' },
      }),
      201,
    );
  });
  after(async () => s?.close());

  it('healthz and readyz answer; metrics show latency by route, batch sizes and open holds', async () => {
    assert.deepEqual(ok(await s.call('GET', '/healthz', { key: null })), { status: 'ok' });
    assert.deepEqual(ok(await s.call('GET', '/readyz', { key: null })), {
      ready: true,
      checks: { store: 'ok', catalog: 'active' },
    });
    ok(
      await s.call('POST', '/v1/holds', { idem: 'h', body: { accountId: 'ann', credits: 2 } }),
      201,
    );
    ok(
      await s.call('POST', '/v1/charges', { idem: 'c', body: { accountId: 'ann', credits: 1 } }),
      201,
    );
    const metrics = await s.call('GET', '/metrics', { key: null });
    assert.match(metrics.contentType, /^text\/plain/);
    assert.match(
      metrics.text,
      /amisi_http_request_duration_seconds_count\{method="POST",route="\/v1\/charges",status_code="201"\} 1/,
    );
    const batches = /amisi_ledger_commit_batch_commands_count (\d+)/.exec(metrics.text);
    assert.ok(batches && Number(batches[1]) >= 4, 'every committed batch is observed');
    assert.match(metrics.text, /amisi_holds_open 1\n/);
    assert.match(metrics.text, /amisi_process_resident_memory_bytes/);
  });

  it('logs carry request ids and never a key or a signature', async () => {
    const secret = 'whsec_never_logged';
    const r = await s.call('GET', '/v1/accounts/ann', { headers: { 'x-request-id': 'req-abc-1' } });
    assert.equal(r.headers.get('x-request-id'), 'req-abc-1');
    await s.call('POST', '/v1/payments/stripe/webhook', {
      key: null,
      raw: '{"id":"evt_1"}',
      headers: { 'content-type': 'application/json', 'stripe-signature': `t=1,v1=${secret}` },
    });
    const mine = s.logs.filter((l) => l.reqId === 'req-abc-1');
    assert.ok(mine.length >= 2, 'request and response logged under the request id');
    const all = JSON.stringify(s.logs);
    assert.ok(!all.includes(s.operatorKey), 'no API key in the logs');
    assert.ok(!all.includes(s.operatorKey.slice(17)), 'not even the secret part');
    assert.ok(!all.includes(secret), 'no webhook signature in the logs');
  });

  it('verify answers 500 verify_failed with the report when the journal and rows disagree', async () => {
    assert.equal(json(ok(await s.call('GET', '/v1/verify'))).ok, true);
    const db = new Database(path);
    db.prepare("UPDATE grants SET remaining = remaining - 1 WHERE account_id = 'ann'").run();
    db.close();
    const body = problem(await s.call('GET', '/v1/verify'), 500, 'verify_failed');
    const report = json(body.report);
    assert.equal(report.ok, false);
    assert.ok(report.violations.length >= 1);
  });

  it('an unexpected failure is 500 internal: logged, with no stack or message to the client', async () => {
    await s.store.close(); // the database goes away under the running server
    const r = await s.call('GET', '/v1/accounts/ann/balance');
    const body = problem(r, 500, 'internal');
    assert.doesNotMatch(r.text, /at |database|sqlite|stack/i);
    assert.equal(body.requestId, r.headers.get('x-request-id'));
    assert.ok(s.logs.some((l) => l.level === 50 && l.reqId === body.requestId && l.err));
    const ready = await s.call('GET', '/readyz', { key: null });
    assert.equal(ready.status, 503);
    assert.equal(json(ready.body).checks.store, 'unreachable');
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

describe('graceful shutdown', () => {
  it('stops accepting, lets the in-flight request finish and commit, then closes', async () => {
    const provider = new GatedProvider();
    const s = await startServer({ payments: provider });
    try {
      ok(await s.call('POST', '/v1/accounts', { body: { id: 'ann' } }), 201);
      const inFlight = fetch(`${s.url}/v1/purchases`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${s.operatorKey}`,
          'content-type': 'application/json',
          'idempotency-key': 'buy-during-shutdown',
        },
        body: JSON.stringify({ accountId: 'ann', pack: 'pack-20' }),
      });
      await provider.inside;
      const draining = drain(s.app, 10_000);
      // A new request is refused (no listener, or 503 on a kept-alive connection).
      const late = await fetch(`${s.url}/healthz`).then(
        (r) => r.status,
        () => 'refused',
      );
      assert.ok(late === 'refused' || late === 503, `late request: ${late}`);
      provider.release();
      const res = await inFlight;
      assert.equal(res.status, 201);
      const body = (await res.json()) as { purchase: { id: string; checkoutRef: string | null } };
      assert.equal(await draining, 'drained');
      await s.ledger.idle();
      const stored = await s.store.get('purchases', { id: body.purchase.id });
      assert.equal(stored?.checkoutRef, `manual_${body.purchase.id}`, 'its last commit landed');
    } finally {
      provider.release();
      await s.close();
    }
  });
});
