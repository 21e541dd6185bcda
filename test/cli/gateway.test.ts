import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startImageUpstream, type ImageUpstream } from '../fixtures/image-upstream.js';
import { openaiRoutes, UPSTREAM_SECRET } from '../gateway/gateway-helpers.js';
import { tempDir } from '../helpers.js';
import { freePort, killAll, WorkerProcess } from '../process-helpers.js';
import { amisi, BIN } from './cli-helpers.js';

/**
 * `amisi gateway` as a platform runs it: the real binary on a SQLite file, a real upstream on
 * loopback. A gateway killed between the upstream's answer and the capture settles as
 * docs/gateway.md says: the hold expires into a release, and the client's retry is charged once.
 */

const GENERATIONS = '/v1/images/generations';
/** The route's timeout, and how long after it a hold still held is known to be a lost answer. */
const TIMEOUT_MS = 1000;
const LOST_AFTER_MS = TIMEOUT_MS + 5000;

describe('amisi gateway', () => {
  const { dir, cleanup } = tempDir();
  const db = join(dir, 'gw.db');
  const routesFile = join(dir, 'routes.json');
  let upstream: ImageUpstream;
  let key = '';
  const running: WorkerProcess[] = [];
  const { DATABASE_URL: _unused, ...inherited } = process.env;
  const env = { ...inherited, AMISI_UPSTREAM_AUTHORIZATION: UPSTREAM_SECRET };

  const start = async (port: number) => {
    const args = ['--db', db, 'gateway', '--upstream', upstream.url, '--routes', routesFile];
    const gw = new WorkerProcess('gateway', BIN, [...args, '--port', String(port)], env);
    running.push(gw);
    await gw.waitFor(() => gw.messages().some((m) => m.msg === 'amisi gateway: ready'), 'ready');
    return gw;
  };
  const post = (port: number, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`http://127.0.0.1:${port}${GENERATIONS}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
      body: JSON.stringify(body),
    });

  before(async () => {
    upstream = await startImageUpstream();
    writeFileSync(
      routesFile,
      JSON.stringify(openaiRoutes({ timeoutMs: TIMEOUT_MS, holdTtlMs: 60_000 })),
    );
    assert.equal(amisi(db, ['init']).status, 0);
    assert.equal(amisi(db, ['accounts', 'create', 'pix']).status, 0);
    assert.equal(amisi(db, ['grant', 'pix', '20', '--source', 'purchase', '--key', 'g']).status, 0);
    const made = amisi(db, ['--json', 'keys', 'create', '--scope', 'account:pix']);
    key = made.json<{ key: string }>().key;
  });
  after(async () => {
    await killAll(running);
    await upstream?.close();
    cleanup();
  });

  it('a routes file that does not fit the catalog: exit 6 naming the path; no upstream: exit 2', () => {
    const bad = join(dir, 'bad.json');
    const routes = openaiRoutes() as {
      routes: { params: { resolution: { map: Record<string, string> } } }[];
    };
    routes.routes[0]!.params.resolution.map['1024x1024'] = '2k';
    writeFileSync(bad, JSON.stringify(routes));
    const r = amisi(db, ['gateway', '--upstream', 'http://127.0.0.1:9', '--routes', bad], env);
    assert.equal(r.status, 6, r.stderr);
    assert.match(r.stderr, /routes_invalid/);
    assert.match(
      r.stderr,
      /\/routes\/0\/params\/resolution\/map\/1024x1024: "2k" is not a resolution/,
    );
    const none = amisi(db, ['gateway', '--routes', bad], { ...env, AMISI_GATEWAY_UPSTREAM: '' });
    assert.equal(none.status, 2, none.stderr);
    assert.match(none.stderr, /--upstream/);
  });

  it('SIGKILL mid-request, its answer lost with it: released, and the retry charged once', async () => {
    const port = await freePort();
    const first = await start(port);
    const headers = { 'idempotency-key': 'killed-1' };
    const heldAt = Date.now();
    const lost = post(port, { prompt: 'wait', n: 1 }, headers).catch((e: unknown) => e);
    await upstream.waiting();
    first.kill('SIGKILL');
    await first.exited;
    upstream.release();
    assert.ok((await lost) instanceof Error, 'the client lost its answer with the gateway');
    const held = amisi(db, ['--json', 'balance', 'pix']).json<{
      available: number;
      held: number;
    }>();
    assert.deepEqual([held.available, held.held], [18, 2], 'the killed request is still held');

    const second = await start(port);
    const early = await post(port, { prompt: 'wait', n: 1 }, headers);
    assert.equal(early.status, 409, 'within its timeout the killed attempt may still be running');
    await new Promise((r) => setTimeout(r, heldAt + LOST_AFTER_MS + 500 - Date.now()));
    const calls = upstream.count();
    const retry = await post(port, { prompt: 'fine', n: 1 }, { 'idempotency-key': 'killed-2' });
    assert.equal(retry.status, 200);
    const pending = post(port, { prompt: 'wait', n: 1 }, headers);
    await upstream.waiting();
    upstream.release();
    const again = await pending;
    assert.equal(again.status, 200, 'past its timeout, the lost attempt is released: a new one');
    assert.equal(upstream.count(), calls + 2);
    second.kill('SIGTERM');
    assert.deepEqual(await second.exited, { code: 0, signal: null });

    const after = amisi(db, ['--json', 'balance', 'pix']).json<{
      available: number;
      held: number;
    }>();
    assert.deepEqual([after.available, after.held], [16, 0], 'the lost answer cost nothing');
    const released = amisi(db, ['--json', 'history', 'pix', '--kind', 'release']);
    assert.equal(released.json<{ transactions: unknown[] }>().transactions.length, 1);
    const verify = amisi(db, ['verify']);
    assert.equal(verify.status, 0, verify.stdout);
  });

  it('inside amisi serve: the API and the gateway on one ledger', async () => {
    const [api, gw] = [await freePort(), await freePort()];
    const args = ['--db', db, 'serve', '--port', String(api), '--gateway-port', String(gw)];
    const flags = ['--gateway-routes', routesFile, '--gateway-upstream', upstream.url];
    const serve = new WorkerProcess('serve', BIN, [...args, ...flags], env);
    running.push(serve);
    const ready = 'amisi serve: the metering gateway is ready';
    await serve.waitFor(() => serve.messages().some((m) => m.msg === ready), 'the gateway');
    const before = amisi(db, ['--json', 'balance', 'pix']).json<{ available: number }>();
    const res = await post(gw, { prompt: 'inside', n: 2, size: '512x512' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('amisi-credits'), '2');
    const health = await fetch(`http://127.0.0.1:${api}/healthz`);
    assert.equal(health.status, 200);
    serve.kill('SIGTERM');
    assert.deepEqual(await serve.exited, { code: 0, signal: null });
    const after = amisi(db, ['--json', 'balance', 'pix']).json<{ available: number }>();
    assert.equal(after.available, before.available - 2);
  });
});
