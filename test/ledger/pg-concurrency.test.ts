import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ledger } from '../../src/ledger/ledger.js';
import { verify } from '../../src/ledger/verify.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { defaultCatalog } from '../helpers.js';
import {
  deadlocksDetected,
  freshDatabase,
  otherSessionsEnded,
  postgresSkip,
} from '../pg-helpers.js';
import { fixture, killAll, WorkerProcess } from '../process-helpers.js';

const WORKERS = 4;
const HOLDERS = 64;
const CREDITS = 1000;

interface Held {
  key: string;
  accountId: string;
  holdId: string;
  credits: number;
  replay: boolean;
}

interface WorkerResult {
  worker: string;
  startedAt: number;
  ok: Held[];
  failures: Record<string, number>;
  unexpected: string[];
}

interface Race {
  /** The accounts, each funded by one grant of `creditsEach`. */
  readonly accounts: readonly string[];
  readonly creditsEach: number;
  /** Visits of each worker to each account (see test/fixtures/hold-worker.ts). */
  readonly visits: number;
  readonly maxBatch: number;
}

/** The accounts and their grants, written through a ledger like any client would. */
async function setUp(url: string, race: Race): Promise<void> {
  const store = new PostgresStore({ url });
  await store.migrate();
  const ledger = new Ledger({ store });
  try {
    await ledger.loadCatalog(defaultCatalog());
    await Promise.all(race.accounts.map((accountId) => ledger.createAccount({ accountId })));
    await Promise.all(
      race.accounts.map((accountId) =>
        ledger.grant({ accountId, key: 'grant-1', credits: race.creditsEach, source: 'purchase' }),
      ),
    );
  } finally {
    await ledger.close();
  }
}

/** Every hold transaction of the account, by idempotency key, page by page. */
async function holdKeys(ledger: Ledger, accountId: string): Promise<string[]> {
  const keys: string[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await ledger.history({
      accountId,
      kinds: ['hold'],
      limit: 500,
      ...(before === undefined ? {} : { before }),
    });
    for (const t of page.transactions) keys.push(t.idempotencyKey ?? `(no key: ${t.id})`);
    if (page.nextCursor === null) return keys;
    before = page.nextCursor;
  }
}

/** Runs `fn` over `items`, `width` at a time. */
async function inChunks<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>) {
  for (let i = 0; i < items.length; i += width)
    await Promise.all(items.slice(i, i + width).map(fn));
}

/**
 * WORKERS processes, HOLDERS concurrent holders each, race for the credits of `race.accounts`
 * on a fresh PostgreSQL database; then everything is read back through a fresh connection.
 */
async function contend(race: Race, diagnostic: (message: string) => void): Promise<void> {
  const db = await freshDatabase();
  const workers: WorkerProcess[] = [];
  let reader: Ledger | undefined;
  try {
    await setUp(db.url, race);
    const total = race.accounts.length * race.creditsEach;
    for (let w = 0; w < WORKERS; w++) {
      workers.push(
        new WorkerProcess(`worker ${w}`, fixture('hold-worker'), [
          `--database-url=${db.url}`,
          `--account=${race.accounts.join(',')}`,
          `--worker=${w}`,
          `--holders=${HOLDERS}`,
          `--visits=${race.visits}`,
          `--max-batch=${race.maxBatch}`,
        ]),
      );
    }
    // Every process has its connections open before any of them starts: then all go at once.
    await Promise.all(
      workers.map((w) => w.waitFor(() => w.messages().some((m) => m.type === 'ready'), 'ready')),
    );
    const wentAt = Date.now();
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
      `${race.accounts.length} account(s), maxBatch ${race.maxBatch}: holds won per worker ` +
        `${results.map((r) => r.ok.length).join(' ')}, starts spread over ` +
        `${Math.max(...starts) - Math.min(...starts)} ms, all done ${Date.now() - wentAt} ms after go`,
    );

    const ok = results.flatMap((r) => r.ok);
    const failures: Record<string, number> = {};
    for (const r of results) {
      for (const [code, n] of Object.entries(r.failures))
        failures[code] = (failures[code] ?? 0) + n;
    }
    // Each visit ends with exactly one refusal: the hold that found the account empty.
    const visits = WORKERS * race.accounts.length * race.visits;
    assert.deepEqual(
      { succeeded: ok.length, failures },
      { succeeded: total, failures: { insufficient_credits: visits } },
      `exactly as many holds succeed as there are credits; every other one is refused. Other errors: ${JSON.stringify(results.flatMap((r) => r.unexpected).slice(0, 5))}`,
    );
    // Batches lock their accounts in id order, so they queue and never deadlock (a deadlock
    // would only show as a retry inside the committer).
    await otherSessionsEnded(db.url);
    assert.equal(await deadlocksDetected(db.url), 0, 'no deadlock between batches');
    assert.ok(ok.every((h) => h.credits === 1 && !h.replay));
    assert.equal(new Set(ok.map((h) => h.holdId)).size, total, 'hold ids are unique');
    assert.equal(new Set(ok.map((h) => h.key)).size, total, 'keys are unique');

    // Read back through a fresh connection, as any other process would.
    const store = new PostgresStore({ url: db.url });
    reader = new Ledger({ store });
    const ledger = reader;
    const acked = new Map<string, Held[]>(race.accounts.map((a) => [a, []]));
    for (const h of ok) acked.get(h.accountId)!.push(h);
    await inChunks(race.accounts, 25, async (accountId) => {
      const mine = acked.get(accountId)!;
      assert.equal(mine.length, race.creditsEach, `${accountId}: one hold per credit`);
      const balance = await ledger.balance(accountId);
      assert.deepEqual(
        {
          available: balance.available,
          held: balance.held,
          grants: balance.grants.map((g) => [g.amount, g.remaining, g.held]),
        },
        {
          available: 0,
          held: race.creditsEach,
          grants: [[race.creditsEach, 0, race.creditsEach]],
        },
        `${accountId}: everything held, nothing available`,
      );
      const open = await store.openHolds(accountId);
      assert.deepEqual(
        open.map((h) => h.id).sort(),
        mine.map((h) => h.holdId).sort(),
        `${accountId}: the open holds are exactly the acknowledged ones`,
      );
      assert.deepEqual(
        (await holdKeys(ledger, accountId)).sort(),
        mine.map((h) => h.key).sort(),
        `${accountId}: one hold transaction per acknowledged hold, none for a refused one`,
      );
    });
    const report = await verify(store);
    assert.deepEqual(report.violations, []);
    assert.equal(report.ok, true);
    assert.equal(report.accounts, race.accounts.length);
    assert.deepEqual(
      {
        granted: report.totals.granted,
        held: report.totals.held,
        available: report.totals.available,
      },
      { granted: total, held: total, available: 0 },
    );
  } finally {
    await killAll(workers);
    await reader?.close();
    await db.drop();
  }
}

const ONE_ACCOUNT = ['acct_contended'];
const MANY_ACCOUNTS = Array.from({ length: 1000 }, (_, i) => `acct_${String(i).padStart(4, '0')}`);

describe(
  `concurrency on PostgreSQL: ${WORKERS} processes x ${HOLDERS} holders race for ${CREDITS} credits`,
  { skip: postgresSkip },
  () => {
    // Every holder holds on the one account until refused: 256 refusals, one each.
    it(`one account of ${CREDITS} credits, group commit: exactly ${CREDITS} holds succeed`, async (t) => {
      const race = { accounts: ONE_ACCOUNT, creditsEach: CREDITS, visits: HOLDERS, maxBatch: 1000 };
      await contend(race, (m) => t.diagnostic(m));
    });

    it(`one account of ${CREDITS} credits, group commit off (maxBatch 1): exactly ${CREDITS} holds succeed`, async (t) => {
      const race = { accounts: ONE_ACCOUNT, creditsEach: CREDITS, visits: HOLDERS, maxBatch: 1 };
      await contend(race, (m) => t.diagnostic(m));
    });

    // Each process visits every account once, in its own shuffled order, and holds there until
    // refused; a batch locks many accounts, overlapping other processes' batches.
    it(`${MANY_ACCOUNTS.length} accounts of 1 credit, group commit: each ends with 1 held`, async (t) => {
      const race = { accounts: MANY_ACCOUNTS, creditsEach: 1, visits: 1, maxBatch: 1000 };
      await contend(race, (m) => t.diagnostic(m));
    });

    it(`${MANY_ACCOUNTS.length} accounts of 1 credit, group commit off (maxBatch 1): each ends with 1 held`, async (t) => {
      const race = { accounts: MANY_ACCOUNTS, creditsEach: 1, visits: 1, maxBatch: 1 };
      await contend(race, (m) => t.diagnostic(m));
    });
  },
);
