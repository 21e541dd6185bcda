import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
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
    assert.match(bad.stderr, /scope must be operator or account:ID/);

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
