import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { amisi, BIN } from '../cli/cli-helpers.js';
import { tempDir } from '../helpers.js';
import { WorkerProcess } from '../process-helpers.js';

/** The real binary: `amisi serve` on a fresh folder, `amisi keys`, and SIGTERM. */

const { dir, cleanup } = tempDir('amisi-serve-');
after(cleanup);

/** `amisi serve` as a child process (stdout: JSON log lines), always on SQLite. */
function serve(db: string): WorkerProcess {
  // The child inherits this process's environment when spawned: without the test run's
  // DATABASE_URL, so --db (the path under test) is what it opens.
  const url = process.env.DATABASE_URL;
  delete process.env.DATABASE_URL;
  try {
    return new WorkerProcess('amisi serve', BIN, ['--db', db, 'serve', '--port', '0']);
  } finally {
    if (url !== undefined) process.env.DATABASE_URL = url;
  }
}

function listeningUrl(worker: WorkerProcess): string | undefined {
  for (const line of worker.lines) {
    const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
    if (m) return m[1];
  }
  return undefined;
}

describe('amisi serve (the binary)', () => {
  it('on a fresh folder creates the database with the default catalog and answers at once', async () => {
    const db = join(dir, 'fresh.db');
    assert.equal(existsSync(db), false);
    const worker = serve(db);
    try {
      await worker.waitFor(() => listeningUrl(worker) !== undefined, 'listening');
      const url = listeningUrl(worker)!;
      const ready = (await (await fetch(`${url}/readyz`)).json()) as { ready: boolean };
      assert.equal(ready.ready, true);
      // The package's built dashboard (dist/web), at once and without a key.
      const dashboard = await fetch(`${url}/`);
      assert.equal(dashboard.status, 200);
      assert.match(await dashboard.text(), /src="\/assets\/index-[\s\S]*<div id="root"><\/div>/);
      await worker.waitFor(
        () => worker.lines.some((l) => l.includes('keys create --scope operator')),
        'the first-key hint',
      );

      // The first operator key is made with the CLI against the same database.
      const created = amisi(db, [
        '--json',
        'keys',
        'create',
        '--scope',
        'operator',
        '--name',
        'ops',
      ]);
      assert.equal(created.status, 0, created.stderr);
      const { key, id } = created.json<{ key: string; id: string }>();
      assert.match(key, /^amk_[0-9a-z]{12}_[A-Za-z0-9_-]{43}$/);
      const auth = { authorization: `Bearer ${key}` };
      const catalog = await fetch(`${url}/v1/catalog`, { headers: auth });
      assert.equal(catalog.status, 200);
      const account = await fetch(`${url}/v1/accounts`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'alice' }),
      });
      assert.equal(account.status, 201);

      const listed = amisi(db, ['--json', 'keys', 'list']).json<{ id: string; scope: string }[]>();
      assert.deepEqual(
        listed.map((k) => [k.id, k.scope]),
        [[id, 'operator']],
      );
      assert.ok(!JSON.stringify(listed).includes(key.slice(17)), 'listing never shows a secret');

      worker.kill('SIGTERM');
      const exit = await worker.exited;
      assert.deepEqual(exit, { code: 0, signal: null }, worker.stderr);
      assert.ok(worker.lines.some((l) => l.includes('shutting down')));
      assert.ok(!worker.lines.join('\n').includes(key), 'the key never reaches the log');
    } finally {
      worker.kill('SIGKILL');
      await worker.exited;
    }
  });

  it('bad settings are refused before a database file is made', () => {
    const db = join(dir, 'never.db');
    const r = amisi(db, ['serve', '--port', '70000']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /error \[invalid_argument\]: port must be a whole number/);
    assert.equal(existsSync(db), false);
    const level = amisi(db, ['serve', '--log-level', 'loud']);
    assert.equal(level.status, 2);
    assert.equal(existsSync(db), false);
  });
});

describe('amisi serve delivers webhooks by itself', () => {
  it('a failed delivery is retried with backoff, also after a restart of the server', async () => {
    const db = join(dir, 'hooks.db');
    assert.equal(amisi(db, ['init']).status, 0);
    const { key } = amisi(db, ['--json', 'keys', 'create', '--scope', 'operator']).json<{
      key: string;
    }>();
    let failures = 1;
    const received: { status: number; eventId: string; at: number }[] = [];
    const receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const status = failures > 0 ? 503 : 200;
        failures -= 1;
        received.push({ status, eventId: String(req.headers['amisi-event-id']), at: Date.now() });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    const add = amisi(db, [
      '--json',
      'webhooks',
      'add',
      hookUrl,
      '--events',
      'charge.created',
      '--key',
      'hook-1',
    ]);
    assert.equal(add.status, 0, add.stderr);
    let worker = serve(db);
    try {
      await worker.waitFor(() => listeningUrl(worker) !== undefined, 'listening');
      const url = listeningUrl(worker)!;
      const post = (path: string, idem: string, body: unknown) =>
        fetch(`${url}${path}`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${key}`,
            'content-type': 'application/json',
            'idempotency-key': idem,
          },
          body: JSON.stringify(body),
        });
      assert.equal((await post('/v1/accounts', 'a', { id: 'alice' })).status, 201);
      const grant = { accountId: 'alice', credits: 10, source: 'promotion' };
      assert.equal((await post('/v1/grants', 'g', grant)).status, 201);
      assert.equal(
        (await post('/v1/charges', 'c', { accountId: 'alice', credits: 2 })).status,
        201,
      );
      await waitUntil(() => received.length === 1, 'the first attempt');
      assert.equal(received[0]!.status, 503);
      // Stop before the retry (10 s later) and start again: the retry still happens.
      worker.kill('SIGTERM');
      assert.deepEqual(await worker.exited, { code: 0, signal: null }, worker.stderr);
      worker = serve(db);
      await worker.waitFor(() => listeningUrl(worker) !== undefined, 'listening again');
      await waitUntil(() => received.length === 2, 'the retry', 30_000);
      assert.equal(received[1]!.status, 200);
      assert.equal(received[1]!.eventId, received[0]!.eventId, 'the same event');
      assert.ok(received[1]!.at - received[0]!.at >= 9_000, 'after the backoff');
      const shown = amisi(db, ['--json', 'webhooks', 'deliveries']).json<
        { status: string; attempts: number }[]
      >();
      assert.deepEqual(
        shown.map((d) => [d.status, d.attempts]),
        [['delivered', 2]],
      );
    } finally {
      worker.kill('SIGKILL');
      await worker.exited;
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
});

async function waitUntil(ok: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('amisi keys', () => {
  const db = join(dir, 'keys.db');

  it('create (operator or account, read-only), list, revoke; bad scopes and ids are refused', () => {
    assert.equal(amisi(db, ['init']).status, 0);
    assert.equal(amisi(db, ['accounts', 'create', 'ann']).status, 0);
    const human = amisi(db, ['keys', 'create', '--scope', 'account:ann', '--read-only']);
    assert.equal(human.status, 0, human.stderr);
    assert.match(human.stdout, /only time the key is shown/);
    const k = amisi(db, ['--json', 'keys', 'create', '--scope', 'operator']).json<{ id: string }>();

    const unknown = amisi(db, ['keys', 'create', '--scope', 'account:nobody']);
    assert.equal(unknown.status, 3);
    assert.match(unknown.stderr, /unknown_account/);
    const bad = amisi(db, ['keys', 'create', '--scope', 'root']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /scope must be operator, account:ID or member:ORG\/MEMBER/);

    const list = amisi(db, ['keys', 'list']);
    assert.match(list.stdout, /account:ann\s+yes/);
    const revoked = amisi(db, ['--json', 'keys', 'revoke', k.id]).json<{ revoked: boolean }>();
    assert.equal(revoked.revoked, true);
    assert.match(amisi(db, ['keys', 'revoke', k.id]).stdout, /already revoked/);
    const none = amisi(db, ['keys', 'revoke', 'zzzzzzzzzzzz']);
    assert.equal(none.status, 3);
    assert.match(none.stderr, /unknown_api_key/);
  });
});
