// The crash test on both stores: worker processes charge through group commit and are killed
// with SIGKILL mid-stream; every acknowledged charge must be in the journal as acknowledged,
// and a retry of any charge, acknowledged or not, must replay it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ledger } from '../../src/ledger/ledger.js';
import { verify } from '../../src/ledger/verify.js';
import { chargesInJournal, defaultCatalog } from '../helpers.js';
import { SHARED_DATABASES, type SharedDatabase } from '../pg-helpers.js';
import { fixture, killAll, WorkerProcess } from '../process-helpers.js';

const ACCOUNT = 'acct_crash';
const CREDITS = 1_000_000;
const ROUNDS = 3;
/**
 * Charges in flight per worker, as each store's own test had them before they were folded
 * here: PostgreSQL's committer writes up to two batches at once (writeConcurrency), SQLite's
 * one, so PostgreSQL gets twice the lanes to keep as many charges per batch.
 */
const LANES: Readonly<Record<string, number>> = { sqlite: 16, postgres: 32 };

interface Ack {
  key: string;
  transactionId: string;
  replay: boolean;
}

/** The account and its one grant, written through a ledger like any client would. */
async function setUp(db: SharedDatabase): Promise<void> {
  const store = db.open();
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

/** Starts a worker, kills it after `killAfter` acknowledgements, and returns them. */
async function killedRound(
  db: SharedDatabase,
  round: number,
  lanes: number,
  workers: WorkerProcess[],
): Promise<Ack[]> {
  // Kill at a different depth each round: 300, 500, 700 acknowledgements (or a few more).
  const killAfter = 300 + 200 * round;
  const worker = new WorkerProcess(`charge worker ${round}`, fixture('charge-worker'), [
    ...db.args,
    `--account=${ACCOUNT}`,
    `--prefix=r${round}`,
    `--lanes=${lanes}`,
  ]);
  workers.push(worker);
  await worker.waitFor(() => worker.lines.length >= killAfter, `${killAfter} acknowledgements`);
  worker.kill('SIGKILL');
  const exit = await worker.exited;
  assert.equal(exit.signal, 'SIGKILL', `killed mid-stream, not stopped: ${worker.describeExit()}`);
  // Every complete line, including those still in the pipe at the kill, is an acknowledgement.
  const acks = worker.messages() as unknown as Ack[];
  assert.ok(acks.length >= killAfter);
  assert.ok(acks.every((a) => a.replay === false && a.key.startsWith(`r${round}-`)));
  // The killed worker's sessions end: whatever they had in flight is final now.
  await db.settled();
  return acks;
}

/** After a kill: the journal holds every acknowledgement as made, and every retry replays. */
async function checkAfterKill(
  db: SharedDatabase,
  acked: readonly Ack[],
  acks: readonly Ack[],
  diagnostic: (message: string) => void,
): Promise<void> {
  // Reopen the database, as the restarted service would.
  const store = db.open();
  assert.equal(await store.migrate(), 0, 'nothing to migrate on reopen');
  const ledger = new Ledger({ store });
  try {
    const journal = await chargesInJournal(ledger, ACCOUNT);
    const missing = acked.filter((a) => journal.get(a.key) !== a.transactionId);
    assert.deepEqual(missing, [], 'every acknowledged charge is in the journal, as acknowledged');
    // The journal may hold a few more: committed, then killed before the line was written.
    const ackedKeys = new Set(acked.map((a) => a.key));
    const unacked = [...journal.keys()].filter((k) => !ackedKeys.has(k));
    assert.equal(unacked.length, journal.size - acked.length);
    assert.ok(unacked.length >= 0 && unacked.length < 10_000);
    diagnostic(
      `${acks.length} acknowledged, ${unacked.length} committed without acknowledgement so far`,
    );

    const report = await verify(store);
    assert.deepEqual(report.violations, []);
    assert.equal(report.ok, true);
    assert.equal(report.totals.consumed, journal.size);

    const before = await ledger.balance(ACCOUNT);
    assert.equal(before.available, CREDITS - journal.size, 'one credit per charge in the journal');
    assert.equal(before.held, 0);

    // A client that never saw the answer retries with the same key: the stored answer, for
    // every acknowledged charge of this round and every unacknowledged one so far.
    const retried = [...acks, ...unacked.map((key) => ({ key, transactionId: journal.get(key)! }))];
    const again = await Promise.all(
      retried.map((a) => ledger.charge({ accountId: ACCOUNT, key: a.key, credits: 1 })),
    );
    retried.forEach((a, i) => {
      assert.equal(again[i]!.replay, true, `${a.key} replays`);
      assert.equal(again[i]!.transactionId, a.transactionId, `${a.key}: the same answer`);
    });
    const after = await ledger.balance(ACCOUNT);
    assert.equal(after.available, before.available, 'a replay charges nothing');
    assert.equal((await chargesInJournal(ledger, ACCOUNT)).size, journal.size);
    assert.equal((await verify(store)).ok, true);
  } finally {
    await ledger.close();
  }
}

for (const [name, shared, skip] of SHARED_DATABASES) {
  describe(`crash on ${name}: SIGKILL during a stream of group-committed charges`, { skip }, () => {
    it('loses no acknowledged charge and replays each without charging again', async (t) => {
      const db = await shared();
      const workers: WorkerProcess[] = [];
      try {
        await setUp(db);
        const acked: Ack[] = [];
        for (let round = 0; round < ROUNDS; round++) {
          const acks = await killedRound(db, round, LANES[name]!, workers);
          acked.push(...acks);
          await checkAfterKill(db, acked, acks, (m) => t.diagnostic(`round ${round}: ${m}`));
        }
      } finally {
        await killAll(workers);
        await db.remove();
      }
    });
  });
}
