import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Ledger } from '../../src/ledger/ledger.js';
import { verify } from '../../src/ledger/verify.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { defaultCatalog, tempDir } from '../helpers.js';
import { fixture, killAll, WorkerProcess } from '../process-helpers.js';

const WORKERS = 8;
const HOLDS_PER_WORKER = 50;
const CREDITS = 100;
const ACCOUNT = 'acct_contended';

interface WorkerResult {
  worker: string;
  startedAt: number;
  ok: { key: string; holdId: string; credits: number; replay: boolean }[];
  failures: Record<string, number>;
  unexpected: string[];
}

/** One SQLite file, one account with exactly CREDITS credits from a single grant. */
async function setUp(path: string): Promise<void> {
  const store = new SqliteStore({ path });
  await store.migrate();
  const ledger = new Ledger({ store });
  try {
    await ledger.loadCatalog(defaultCatalog());
    await ledger.createAccount({ accountId: ACCOUNT });
    await ledger.grant({
      accountId: ACCOUNT,
      key: 'grant-1',
      credits: CREDITS,
      source: 'purchase',
    });
  } finally {
    await ledger.close();
  }
}

async function contend(maxBatch: number, diagnostic: (message: string) => void) {
  const { dir, cleanup } = tempDir('amisi-concurrency-');
  const path = join(dir, 'ledger.db');
  const workers: WorkerProcess[] = [];
  try {
    await setUp(path);
    for (let w = 0; w < WORKERS; w++) {
      workers.push(
        new WorkerProcess(`worker ${w}`, fixture('hold-worker'), [
          `--db=${path}`,
          `--account=${ACCOUNT}`,
          `--worker=${w}`,
          `--holds=${HOLDS_PER_WORKER}`,
          `--max-batch=${maxBatch}`,
        ]),
      );
    }
    // Every process has its connections open before any of them starts: then all go at once.
    await Promise.all(
      workers.map((w) => w.waitFor(() => w.messages().some((m) => m.type === 'ready'), 'ready')),
    );
    for (const w of workers) w.send('go');
    const exits = await Promise.all(workers.map((w) => w.exited));
    exits.forEach((e, i) =>
      assert.equal(e.code, 0, `${workers[i]!.name}: ${workers[i]!.describeExit()}`),
    );

    const results = workers.map((w) => {
      const r = w.messages().find((m) => m.type === 'result');
      assert.ok(r, `${w.name} reported no result`);
      return r as unknown as WorkerResult;
    });
    const starts = results.map((r) => r.startedAt);
    diagnostic(
      `maxBatch ${maxBatch}: holds won per worker ${results.map((r) => r.ok.length).join(' ')}, ` +
        `starts spread over ${Math.max(...starts) - Math.min(...starts)} ms`,
    );

    const ok = results.flatMap((r) => r.ok);
    const failures: Record<string, number> = {};
    for (const r of results) {
      for (const [code, n] of Object.entries(r.failures))
        failures[code] = (failures[code] ?? 0) + n;
    }
    assert.deepEqual(
      { succeeded: ok.length, failures },
      {
        succeeded: CREDITS,
        failures: { insufficient_credits: WORKERS * HOLDS_PER_WORKER - CREDITS },
      },
      `exactly as many holds succeed as there are credits; the rest are refused. Other errors: ${JSON.stringify(results.flatMap((r) => r.unexpected).slice(0, 5))}`,
    );
    assert.ok(ok.every((h) => h.credits === 1 && !h.replay));
    assert.equal(new Set(ok.map((h) => h.holdId)).size, CREDITS, 'hold ids are unique');

    // Read back through a fresh connection, as any other process would.
    const store = new SqliteStore({ path });
    const ledger = new Ledger({ store });
    try {
      const balance = await ledger.balance(ACCOUNT);
      assert.equal(balance.available, 0);
      assert.equal(balance.held, CREDITS);
      assert.deepEqual(
        balance.grants.map((g) => [g.amount, g.remaining, g.held]),
        [[CREDITS, 0, CREDITS]],
      );
      const open = await store.openHolds(ACCOUNT);
      assert.deepEqual(
        open.map((h) => h.id).sort(),
        ok.map((h) => h.holdId).sort(),
        'the open holds are exactly the acknowledged ones',
      );
      const journal = await ledger.history({ accountId: ACCOUNT, kinds: ['hold'], limit: 500 });
      assert.deepEqual(
        journal.transactions.map((t) => t.idempotencyKey).sort(),
        ok.map((h) => h.key).sort(),
        'one hold transaction per acknowledged hold, none for a refused one',
      );
      const report = await verify(store);
      assert.deepEqual(report.violations, []);
      assert.equal(report.ok, true);
      assert.equal(report.totals.held, CREDITS);
      assert.equal(report.totals.available, 0);
    } finally {
      await ledger.close();
    }
  } finally {
    await killAll(workers);
    cleanup();
  }
}

describe('concurrency: 8 processes race for 100 credits on one SQLite file', () => {
  it('with group commit, exactly 100 of 400 holds succeed', async (t) => {
    await contend(1000, (m) => t.diagnostic(m));
  });

  it('with group commit off (maxBatch 1), exactly 100 of 400 holds succeed', async (t) => {
    await contend(1, (m) => t.diagnostic(m));
  });
});
