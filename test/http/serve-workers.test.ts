import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ledger } from '../../src/ledger/ledger.js';
import { verify } from '../../src/ledger/verify.js';
import { ApiKeys } from '../../src/service/api-keys.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { amisi, BIN } from '../cli/cli-helpers.js';
import { chargesInJournal, defaultCatalog, tempDir } from '../helpers.js';
import { freshDatabase, postgresSkip } from '../pg-helpers.js';
import { freePort, WorkerProcess } from '../process-helpers.js';

/**
 * `amisi serve --workers 2` on PostgreSQL, the real binary: two processes share the port and
 * both answer; many charges at once never overspend; SIGKILL of a worker under load loses no
 * acknowledged charge and the primary starts another; SIGTERM drains every worker and exits 0.
 * And SQLite refuses more than one worker.
 */

interface Answer {
  key: string;
  status: number;
  transactionId?: string;
  code?: string;
  replayed?: boolean;
}

describe('amisi serve --workers (PostgreSQL)', { skip: postgresSkip }, () => {
  let db: { url: string; drop: () => Promise<void> };
  let key: string;
  let base: string;
  let server: WorkerProcess;

  /** The serve command's processes: the primary (role) and each worker's ready line. */
  const ready = (s: WorkerProcess) =>
    s.messages().filter((m) => m.role === 'primary' && m.msg === 'amisi serve: 2 workers ready');
  const workerPids = (s: WorkerProcess) =>
    new Map(
      s
        .messages()
        .filter(
          (m) => typeof m.worker === 'number' && String(m.msg).startsWith('amisi serve: ready'),
        )
        .map((m) => [m.worker as number, m.pid as number]),
    );

  async function charge(accountId: string, k: string): Promise<Answer> {
    const r = await fetch(`${base}/v1/charges`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        'idempotency-key': k,
      },
      body: JSON.stringify({ accountId, credits: 1 }),
    });
    const body = (await r.json()) as { transactionId?: string; code?: string };
    return {
      key: k,
      status: r.status,
      replayed: r.headers.get('idempotent-replayed') === 'true',
      ...body,
    };
  }

  /** Runs `count` charges, `lanes` at a time; a refused connection is recorded as status 0. */
  async function load(
    accountId: string,
    prefix: string,
    count: number,
    lanes: number,
    onAnswer: (a: Answer, all: Answer[]) => void = () => undefined,
  ): Promise<Answer[]> {
    const answers: Answer[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: lanes }, async () => {
        while (next < count) {
          const k = `${prefix}-${next++}`;
          const a = await charge(accountId, k).catch(() => ({ key: k, status: 0 }));
          answers.push(a);
          onAnswer(a, answers);
        }
      }),
    );
    return answers;
  }

  function start(port: number): WorkerProcess {
    const url = process.env.DATABASE_URL;
    delete process.env.DATABASE_URL;
    try {
      return new WorkerProcess('amisi serve --workers 2', BIN, [
        '--database-url',
        db.url,
        'serve',
        '--port',
        String(port),
        '--workers',
        '2',
      ]);
    } finally {
      if (url !== undefined) process.env.DATABASE_URL = url;
    }
  }

  before(async () => {
    db = await freshDatabase();
    const store = new PostgresStore({ url: db.url });
    await store.migrate();
    const ledger = new Ledger({ store });
    await ledger.loadCatalog(defaultCatalog());
    for (const [accountId, credits] of [
      ['alice', 100],
      ['bob', 1_000_000],
    ] as const) {
      await ledger.createAccount({ accountId });
      await ledger.grant({ accountId, key: 'seed', credits, source: 'purchase' });
    }
    key = (await new ApiKeys(ledger).create({ scope: 'operator', name: 'workers' })).key;
    await ledger.close();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = start(port);
    await server.waitFor(() => ready(server).length === 1, 'two workers ready');
  });
  after(async () => {
    server?.kill('SIGKILL');
    await server?.exited;
    await db?.drop();
  });

  it('both workers answer, and 300 charges at once on 100 credits charge exactly 100', async () => {
    const answers = await load('alice', 'a', 300, 48);
    const statuses = answers.map((a) => a.status);
    assert.equal(statuses.filter((s) => s === 201 || s === 200).length, 100, String(statuses));
    assert.equal(
      answers.filter((a) => a.status === 402 && a.code === 'insufficient_credits').length,
      200,
    );
    // Both processes answered requests (each logs its own, with its pid).
    const pids = new Set(
      server
        .messages()
        .filter((m) => m.msg === 'request completed')
        .map((m) => m.pid),
    );
    assert.equal(pids.size, 2, `requests answered by ${[...pids].join(', ')}`);
    assert.equal(workerPids(server).size, 2);
  });

  it('SIGKILL of a worker under load loses no acknowledged charge; the primary starts another', async () => {
    const pid = workerPids(server).get(0)!;
    let killed = false;
    const answers = await load('bob', 'b', 600, 32, (_answer, all) => {
      if (!killed && all.length >= 150) {
        killed = true;
        process.kill(pid, 'SIGKILL');
      }
    });
    assert.ok(killed);
    // Requests on the killed worker's connections fail; none is answered 5xx.
    assert.deepEqual(
      answers.filter((a) => a.status >= 500),
      [],
    );
    await server.waitFor(
      () => server.messages().some((m) => m.msg === 'a worker died: starting another'),
      'a replacement worker',
    );
    await server.waitFor(() => ready(server).length === 2, 'two workers ready again');
    const acked = answers.filter((a) => a.status === 201 || a.status === 200);
    assert.ok(acked.length >= 150, `${acked.length} acknowledged`);
    // Every acknowledged charge is there: its retry replays it, with the same transaction.
    for (const a of acked) {
      const again = await charge('bob', a.key);
      assert.deepEqual(
        [again.status, again.replayed, again.transactionId],
        [a.status, true, a.transactionId],
        a.key,
      );
    }
    const store = new PostgresStore({ url: db.url });
    try {
      assert.equal((await verify(store)).ok, true);
    } finally {
      await store.close();
    }
  });

  it('SIGTERM drains both workers: requests in flight are answered, then the command exits 0', async () => {
    let sent = false;
    const loading = load('bob', 'c', 400, 32, (_answer, all) => {
      if (!sent && all.length >= 40) {
        sent = true;
        server.kill('SIGTERM');
      }
    });
    const [answers, exit] = await Promise.all([loading, server.exited]);
    assert.deepEqual(exit, { code: 0, signal: null }, server.describeExit());
    // Answered (a charge, or 503 shutting_down on a kept-alive connection) or refused at the
    // door once the port closed; never a 5xx of another kind.
    assert.deepEqual(
      answers.filter((a) => a.status >= 500 && a.code !== 'shutting_down'),
      [],
    );
    const acked = answers.filter((a) => a.status === 201);
    assert.ok(acked.length >= 40);
    const store = new PostgresStore({ url: db.url });
    const ledger = new Ledger({ store });
    try {
      const keys = await chargesInJournal(ledger, 'bob');
      for (const a of acked) assert.ok(keys.has(a.key), `${a.key} is in the journal`);
    } finally {
      await ledger.close();
    }
  });
});

describe('amisi serve --workers (SQLite)', () => {
  const { dir, cleanup } = tempDir('amisi-serve-workers-');
  after(cleanup);

  it('refuses more than one worker, and bad counts, naming the setting', () => {
    for (const [workers, pattern] of [
      ['2', /more than one worker needs PostgreSQL/],
      ['0', /workers must be auto or a whole number from 1 to 256/],
      ['two', /workers must be auto or a whole number from 1 to 256/],
    ] as const) {
      const r = amisi(`${dir}/w.db`, ['serve', '--port', '0', '--workers', workers]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /^error \[invalid_argument\]/);
      assert.match(r.stderr, pattern);
    }
  });
});
