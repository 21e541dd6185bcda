// The concurrency test on both stores: worker processes race for the credits of one or many
// accounts at once; exactly as many holds succeed as there are credits, every other one is
// refused, and what the journal and the holds say afterwards is exactly what was acknowledged.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ledger } from '../../src/ledger/ledger.js';
import { verify } from '../../src/ledger/verify.js';
import type { Store } from '../../src/ledger/store.js';
import { defaultCatalog } from '../helpers.js';
import { SHARED_DATABASES, type SharedDatabase } from '../pg-helpers.js';
import { fixture, killAll, WorkerProcess } from '../process-helpers.js';

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

/** How each worker holds (test/fixtures/hold-worker.ts), 1 credit per hold. */
type Holding =
  /** `holds` concurrent holds on the one account, one attempt each. */
  | { readonly holds: number }
  /** `holders` concurrent holders; each visit to an account holds there until refused. */
  | { readonly holders: number; readonly visits: number };

interface Race {
  readonly workers: number;
  /** The accounts, each funded by one grant of `creditsEach`. */
  readonly accounts: readonly string[];
  readonly creditsEach: number;
  readonly holding: Holding;
  readonly maxBatch: number;
}

/** The accounts and their grants, written through a ledger like any client would. */
async function setUp(store: Store, race: Race): Promise<void> {
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

/** The holds refused when all is well. */
function refusals(race: Race): number {
  const total = race.accounts.length * race.creditsEach;
  // One attempt per hold: every attempt past the credits is refused.
  if ('holds' in race.holding) return race.workers * race.holding.holds - total;
  // Each visit ends with exactly one refusal: the hold that found the account empty.
  return race.workers * race.accounts.length * race.holding.visits;
}

/** Starts the workers, lets them all go at once, and returns what each reported. */
async function runRace(db: SharedDatabase, race: Race, workers: WorkerProcess[]) {
  const holding =
    'holds' in race.holding
      ? [`--holds=${race.holding.holds}`]
      : [`--holders=${race.holding.holders}`, `--visits=${race.holding.visits}`];
  for (let w = 0; w < race.workers; w++) {
    workers.push(
      new WorkerProcess(`worker ${w}`, fixture('hold-worker'), [
        ...db.args,
        `--account=${race.accounts.join(',')}`,
        `--worker=${w}`,
        ...holding,
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
  return { results, doneMs: Date.now() - wentAt };
}

/** Exactly as many holds succeed as there are credits; the rest are refused, no deadlock. */
async function checkOutcomes(db: SharedDatabase, race: Race, results: WorkerResult[]) {
  const total = race.accounts.length * race.creditsEach;
  const ok = results.flatMap((r) => r.ok);
  const failures: Record<string, number> = {};
  for (const r of results) {
    for (const [code, n] of Object.entries(r.failures)) failures[code] = (failures[code] ?? 0) + n;
  }
  assert.deepEqual(
    { succeeded: ok.length, failures },
    { succeeded: total, failures: { insufficient_credits: refusals(race) } },
    `exactly as many holds succeed as there are credits; every other one is refused. Other errors: ${JSON.stringify(results.flatMap((r) => r.unexpected).slice(0, 5))}`,
  );
  // Batches lock their accounts in id order, so they queue and never deadlock (a deadlock
  // would only show as a retry inside the committer).
  await db.settled();
  assert.equal(await db.deadlocks(), 0, 'no deadlock between batches');
  assert.ok(ok.every((h) => h.credits === 1 && !h.replay));
  assert.equal(new Set(ok.map((h) => h.holdId)).size, total, 'hold ids are unique');
  assert.equal(new Set(ok.map((h) => h.key)).size, total, 'keys are unique');
  return ok;
}

/** Read back through a fresh connection, as any other process would. */
async function checkReadBack(store: Store, race: Race, ok: readonly Held[]): Promise<void> {
  const ledger = new Ledger({ store });
  try {
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
      const open = await store.find(
        'holds',
        { accountId: accountId, status: 'held' },
        { order: ['expiresAt', 'id'] },
      );
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
    await checkVerify(store, race);
  } finally {
    await ledger.close();
  }
}

async function checkVerify(store: Store, race: Race): Promise<void> {
  const total = race.accounts.length * race.creditsEach;
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
}

/** A race on a fresh database of the store, checked from the outcomes to the journal. */
async function contend(
  shared: () => Promise<SharedDatabase>,
  race: Race,
  diagnostic: (message: string) => void,
): Promise<void> {
  const db = await shared();
  const workers: WorkerProcess[] = [];
  try {
    await setUp(db.open(), race);
    const { results, doneMs } = await runRace(db, race, workers);
    const starts = results.map((r) => r.startedAt);
    diagnostic(
      `${race.accounts.length} account(s), maxBatch ${race.maxBatch}: holds won per worker ` +
        `${results.map((r) => r.ok.length).join(' ')}, starts spread over ` +
        `${Math.max(...starts) - Math.min(...starts)} ms, all done ${doneMs} ms after go`,
    );
    const ok = await checkOutcomes(db, race, results);
    await checkReadBack(db.open(), race, ok);
  } finally {
    await killAll(workers);
    await db.remove();
  }
}

const ONE_ACCOUNT = ['acct_contended'];
const MANY_ACCOUNTS = Array.from({ length: 1000 }, (_, i) => `acct_${String(i).padStart(4, '0')}`);

/** A race and the stores it runs on. */
interface Scenario {
  readonly name: string;
  readonly race: Race;
  readonly stores: readonly string[];
}

const BOTH = ['sqlite', 'postgres'];
/**
 * The holder races run on PostgreSQL only, as before the two files were folded: SQLite has one
 * write lock for the whole file, so 4 processes x 64 holders, or batches over 1000 accounts,
 * only queue longer on that one lock than the 8-process race already makes them; on PostgreSQL
 * they exercise row locks taken in id order by overlapping batches (no deadlock).
 */
const POSTGRES = ['postgres'];

function scenarios(): Scenario[] {
  const few = { workers: 8, accounts: ONE_ACCOUNT, creditsEach: 100, holding: { holds: 50 } };
  const holders = { holders: 64, visits: 64 };
  const many = { workers: 4, accounts: MANY_ACCOUNTS, creditsEach: 1 };
  const one = { workers: 4, accounts: ONE_ACCOUNT, creditsEach: 1000, holding: holders };
  const list: [string, Omit<Race, 'maxBatch'>, readonly string[]][] = [
    ['8 processes x 50 holds race for 100 credits on one account', few, BOTH],
    ['4 processes x 64 holders race for 1000 credits on one account', one, POSTGRES],
    [
      `4 processes x 64 holders race for ${MANY_ACCOUNTS.length} accounts of 1 credit`,
      { ...many, holding: { holders: 64, visits: 1 } },
      POSTGRES,
    ],
  ];
  return list.flatMap(([name, race, stores]) => [
    { name: `${name}, group commit`, race: { ...race, maxBatch: 1000 }, stores },
    { name: `${name}, group commit off (maxBatch 1)`, race: { ...race, maxBatch: 1 }, stores },
  ]);
}

for (const [store, shared, skip] of SHARED_DATABASES) {
  describe(`concurrency on ${store}: processes race for the credits`, { skip }, () => {
    for (const { name, race, stores } of scenarios()) {
      if (!stores.includes(store)) continue;
      it(`${name}: exactly as many holds succeed as there are credits`, async (t) => {
        await contend(shared, race, (m) => t.diagnostic(m));
      });
    }
  });
}
