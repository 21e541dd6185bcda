import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BatchItemRequest, BatchView } from '../../src/core/batches.js';
import { isAmisiError, type AmisiError } from '../../src/core/errors.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { FakeClock } from '../../src/ledger/ports.js';
import type { Store } from '../../src/ledger/store.js';
import { verify } from '../../src/ledger/verify.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { defaultCatalog } from '../helpers.js';
import { BOTH_STORES, freshPostgresStore, postgresSkip } from '../pg-helpers.js';

/**
 * Request batches (issue 7, item 5) on both stores: quote a list, hold it all or nothing under
 * one key, capture or release item by item, release the rest, and the status at any time.
 */

const T0 = Date.UTC(2026, 5, 1);
const MINUTE = 60_000;
const A = 'studio';

const gen = (resolution: string, count?: number, more: Partial<BatchItemRequest> = {}) => ({
  operation: 'image.generate',
  params: { resolution },
  ...(count === undefined ? {} : { count }),
  ...more,
});

interface Env {
  readonly ledger: Ledger;
  readonly store: Store;
  readonly clock: FakeClock;
}

async function withLedger(
  open: () => Promise<{ store: Store; close: () => Promise<void> }>,
  fn: (env: Env) => Promise<void>,
): Promise<void> {
  const { store, close } = await open();
  const clock = new FakeClock(T0);
  const ledger = new Ledger({ store, clock });
  try {
    await ledger.loadCatalog(defaultCatalog());
    await fn({ ledger, store, clock });
    const report = await verify(store);
    assert.deepEqual(report.violations, [], 'verify is clean');
  } finally {
    await ledger.idle();
    await close();
  }
}

async function funded(ledger: Ledger, credits: number, accountId = A): Promise<void> {
  await ledger.createAccount({ accountId });
  await ledger.grant({ accountId, key: 'g', credits, source: 'purchase' });
}

async function refusal(p: Promise<unknown>): Promise<AmisiError> {
  try {
    await p;
  } catch (e) {
    if (isAmisiError(e)) return e;
    throw e;
  }
  assert.fail('expected a refusal');
}

/** What a refused write must leave as it was: balance, open holds, the whole journal. */
async function footprint(ledger: Ledger, store: Store, accountId = A) {
  const balance = await ledger.balance(accountId);
  const holds = (
    await store.find(
      'holds',
      { accountId: accountId, status: 'held' },
      { order: ['expiresAt', 'id'] },
    )
  )
    .map((h) => h.id)
    .sort();
  const journal = (await ledger.history({ accountId, limit: 500 })).transactions.map((t) => t.id);
  return { balance, holds, journal };
}

const statuses = (b: BatchView) => b.items.map((i) => i.status);
const figures = (b: {
  credits: number;
  held: number;
  captured: number;
  released: number;
  expired: number;
}) => [b.credits, b.held, b.captured, b.released, b.expired];

for (const [name, open, skip] of BOTH_STORES) {
  describe(`batches: ${name}`, { skip }, () => {
    it('quotes a list: each item and the total; a bad item is named', () =>
      withLedger(open, async ({ ledger }) => {
        const q = await ledger.quoteBatch([
          gen('720p', 4, { ref: 'explore' }),
          gen('1080p', 2),
          gen('4k', 1, { ref: 'final' }),
          { operation: 'image.edit', count: 3 },
        ]);
        assert.equal(q.credits, 4 + 4 + 3 + 3);
        assert.deepEqual(
          q.items.map((i) => [i.index, i.ref, i.unitCredits, i.count, i.credits]),
          [
            [0, 'explore', 1, 4, 4],
            [1, null, 2, 2, 4],
            [2, 'final', 3, 1, 3],
            [3, null, 1, 3, 3],
          ],
        );
        assert.equal(q.items[1]!.params.resolution, '1080p');
        const bad = await refusal(ledger.quoteBatch([gen('720p'), gen('16k')]));
        assert.equal(bad.code, 'invalid_parameter');
        assert.equal(bad.data.item, 1);
        assert.match(bad.message, /^item 1: /);
        const unknown = await refusal(ledger.quoteBatch([{ operation: 'video.make' }]));
        assert.deepEqual([unknown.code, unknown.data.item], ['unknown_operation', 0]);
        const empty = await refusal(ledger.quoteBatch([]));
        assert.equal(empty.code, 'invalid_argument');
      }));

    it('holds every item or nothing; a batch that does not fit names the item and writes nothing', () =>
      withLedger(open, async ({ ledger, store }) => {
        await funded(ledger, 10);
        const before = await footprint(ledger, store);
        // 3 + 3 + 3 + 3 = 12 > 10: the fourth item is the first that does not fit.
        const e = await refusal(
          ledger.holdBatch({
            accountId: A,
            key: 'b1',
            items: [gen('4k'), gen('4k'), gen('4k'), gen('4k', 1, { ref: 'last' })],
          }),
        );
        assert.equal(e.code, 'insufficient_credits');
        assert.deepEqual([e.data.item, e.data.required, e.data.available], [3, 12, 10]);
        assert.match(e.message, /item 3 \(image\.generate, 3 credits\) is the first/);
        assert.deepEqual(await footprint(ledger, store), before, 'nothing written');
        // A bad item is refused before anything too, naming it.
        const bad = await refusal(
          ledger.holdBatch({ accountId: A, key: 'b1', items: [gen('720p'), gen('99p')] }),
        );
        assert.deepEqual([bad.code, bad.data.item], ['invalid_parameter', 1]);
        assert.deepEqual(await footprint(ledger, store), before, 'nothing written');
        // The key was not used by the refusals: the batch that fits goes through with it.
        const ok = await ledger.holdBatch({
          accountId: A,
          key: 'b1',
          items: [gen('4k'), gen('4k'), gen('4k')],
        });
        assert.equal(ok.replay, false);
        assert.deepEqual(statuses(ok.batch), ['held', 'held', 'held']);
        const b = await ledger.balance(A);
        assert.deepEqual([b.available, b.held], [1, 9]);
      }));

    it('a replay answers the same batch; the key with other items is refused', () =>
      withLedger(open, async ({ ledger }) => {
        await funded(ledger, 50);
        const input = {
          accountId: A,
          key: 'session-1',
          items: [gen('720p', 3, { ref: 'p1', labels: { concept: 'fox' } }), gen('1080p')],
          attribution: { labels: { phase: 'explore' } },
          ttlMs: 30 * MINUTE,
        };
        const first = await ledger.holdBatch(input);
        const again = await ledger.holdBatch({ ...input });
        assert.equal(again.replay, true);
        assert.deepEqual({ ...again, replay: false }, first);
        assert.deepEqual(first.batch.items[0]!.labels, { concept: 'fox', phase: 'explore' });
        assert.equal((await ledger.balance(A)).held, 5, 'held once');
        // Captured since: a replay still answers the batch as it was made.
        await ledger.captureBatchItem({ batchId: first.batch.id, index: 0, key: 'c0' });
        const later = await ledger.holdBatch(input);
        assert.deepEqual({ ...later, replay: false }, first);
        const reused = await refusal(
          ledger.holdBatch({ ...input, items: [gen('720p', 3, { ref: 'p1' }), gen('4k')] }),
        );
        assert.equal(reused.code, 'idempotency_key_reused');
        const holds = await ledger.history({ accountId: A, kinds: ['hold'], limit: 10 });
        assert.equal(holds.transactions.length, 2, 'one hold transaction per item, once');
        assert.ok(holds.transactions.every((t) => t.idempotencyKey === 'session-1'));
      }));

    it('captures item by item, releases the rest; the status figures are exact at every step', () =>
      withLedger(open, async ({ ledger, store }) => {
        await funded(ledger, 40);
        const { batch } = await ledger.holdBatch({
          accountId: A,
          key: 'b',
          items: [gen('720p', 4), gen('1080p', 2), gen('4k', 2), gen('8k')],
        });
        const id = batch.id;
        assert.deepEqual(figures(batch), [4 + 4 + 6 + 4, 18, 0, 0, 0]);
        assert.equal(batch.status, 'held');
        // Item 0 in full, item 2 in part (4 of 6: 2 come back).
        const c0 = await ledger.captureBatchItem({ batchId: id, index: 0, key: 'c0' });
        assert.deepEqual([c0.batchId, c0.index, c0.capturedCredits], [id, 0, 4]);
        const c2 = await ledger.captureBatchItem({ batchId: id, index: 2, key: 'c2', credits: 4 });
        assert.deepEqual([c2.capturedCredits, c2.releasedCredits], [4, 2]);
        let now = await ledger.getBatch(id);
        assert.equal(now.status, 'partial');
        assert.deepEqual(statuses(now), ['captured', 'held', 'captured', 'held']);
        assert.deepEqual(figures(now), [18, 8, 8, 2, 0]);
        assert.deepEqual(
          now.items.map((i) => figures(i)),
          [
            [4, 0, 4, 0, 0],
            [4, 4, 0, 0, 0],
            [6, 0, 4, 2, 0],
            [4, 4, 0, 0, 0],
          ],
        );
        assert.deepEqual(now.counts, { held: 2, captured: 2, released: 0, expired: 0 });
        // The rest goes back with one release of the batch.
        const rest = await ledger.releaseBatch({ batchId: id, key: 'rest' });
        assert.deepEqual([rest.released, rest.releasedCredits, rest.replay], [[1, 3], 8, false]);
        assert.equal(rest.batch.status, 'settled');
        assert.deepEqual(figures(rest.batch), [18, 0, 8, 10, 0]);
        now = await ledger.getBatch(id);
        assert.deepEqual(now, rest.batch);
        const b = await ledger.balance(A);
        assert.deepEqual([b.available, b.held], [40 - 8, 0]);
        // Replays answer the same; a new key finds nothing left to release.
        const replay = await ledger.releaseBatch({ batchId: id, key: 'rest' });
        assert.deepEqual({ ...replay, replay: false }, rest);
        const nothing = await ledger.releaseBatch({ batchId: id, key: 'rest-2' });
        assert.deepEqual([nothing.released, nothing.releasedCredits], [[], 0]);
        assert.deepEqual((await ledger.releaseBatch({ batchId: id, key: 'rest-2' })).replay, true);
        // A resolved item is refused with the hold's own codes; nothing changes.
        const before = await footprint(ledger, store);
        const released = await refusal(
          ledger.captureBatchItem({ batchId: id, index: 1, key: 'x1' }),
        );
        assert.equal(released.code, 'hold_already_released');
        const captured = await refusal(
          ledger.releaseBatchItem({ batchId: id, index: 0, key: 'x2' }),
        );
        assert.equal(captured.code, 'hold_already_captured');
        const missing = await refusal(
          ledger.captureBatchItem({ batchId: id, index: 4, key: 'x3' }),
        );
        assert.deepEqual([missing.code, missing.data.items], ['unknown_batch_item', 4]);
        const unknown = await refusal(ledger.getBatch('bat_nope'));
        assert.equal(unknown.code, 'unknown_batch');
        assert.equal(
          (await refusal(ledger.releaseBatch({ batchId: 'bat_nope', key: 'k' }))).code,
          'unknown_batch',
        );
        assert.deepEqual(await footprint(ledger, store), before);
        // Journal: each item's release names its batch; the batch release lists what it returned.
        const releases = await ledger.history({ accountId: A, kinds: ['release'], limit: 10 });
        assert.deepEqual(
          releases.transactions
            .map((t) => (t.kind === 'release' ? t.detail.batch : null))
            .reverse(),
          [
            { id, item: 1, released: [1, 3] },
            { id, item: 3 },
          ],
        );
      }));

    it('items release themselves with the ttl; the status says expired; releasing then finds none', () =>
      withLedger(open, async ({ ledger, clock }) => {
        await funded(ledger, 10);
        const { batch } = await ledger.holdBatch({
          accountId: A,
          key: 'b',
          items: [gen('720p'), gen('1080p')],
          ttlMs: 5 * MINUTE,
        });
        assert.equal(batch.expiresAt, T0 + 5 * MINUTE);
        await ledger.releaseBatchItem({ batchId: batch.id, index: 0, key: 'r0' });
        clock.advance(5 * MINUTE);
        const now = await ledger.getBatch(batch.id);
        assert.deepEqual(statuses(now), ['released', 'expired']);
        assert.deepEqual(figures(now), [3, 0, 0, 1, 2]);
        assert.equal(now.status, 'settled');
        const e = await refusal(ledger.captureBatchItem({ batchId: batch.id, index: 1, key: 'c' }));
        assert.equal(e.code, 'hold_expired');
        const r = await ledger.releaseBatch({ batchId: batch.id, key: 'late' });
        assert.deepEqual(r.released, []);
        assert.equal((await ledger.balance(A)).available, 10);
      }));

    it("an organization's budget covers the whole batch; a refusal names the item", () =>
      withLedger(open, async ({ ledger, store }) => {
        await ledger.createOrganization({ accountId: 'acme', name: 'Acme', owner: { id: 'own' } });
        await ledger.grant({ accountId: 'acme', key: 'g', credits: 100, source: 'promotion' });
        await ledger.setBudget({ accountId: 'acme', scope: 'member', target: 'own', limit: 10 });
        await ledger.hold({
          accountId: 'acme',
          key: 'h',
          credits: 3,
          attribution: { member: 'own' },
        });
        const before = await footprint(ledger, store, 'acme');
        const budget = async () =>
          (await ledger.budgets('acme')).find((b) => b.scope === 'member')!;
        const heldBefore = (await budget()).held;
        // Headroom 7: 2 + 4 = 6 fits, + 2 = 8 does not.
        const e = await refusal(
          ledger.holdBatch({
            accountId: 'acme',
            key: 'b',
            items: [gen('1080p'), gen('1080p', 2), gen('1080p')],
            attribution: { member: 'own' },
          }),
        );
        assert.equal(e.code, 'budget_exceeded');
        assert.deepEqual([e.data.item, e.data.requested, e.data.limit], [2, 8, 10]);
        assert.match(e.message, /item 2 is the first/);
        assert.deepEqual(await footprint(ledger, store, 'acme'), before);
        assert.equal((await budget()).held, heldBefore);
        const missing = await refusal(
          ledger.holdBatch({ accountId: 'acme', key: 'b', items: [gen('720p')] }),
        );
        assert.equal(missing.code, 'invalid_argument', 'an organization names the member');
        const ok = await ledger.holdBatch({
          accountId: 'acme',
          key: 'b',
          items: [gen('1080p'), gen('1080p', 2)],
          attribution: { member: 'own', project: null },
        });
        assert.equal(ok.batch.attribution.member, 'own');
        assert.equal((await budget()).held, heldBefore + 6, 'the budget holds the batch');
        await ledger.captureBatchItem({ batchId: ok.batch.id, index: 1, key: 'c' });
        await ledger.releaseBatch({ batchId: ok.batch.id, key: 'r' });
        const after = await budget();
        assert.deepEqual([after.held, after.used], [3, 4]);
      }));

    it('racing batches and single holds on a small balance: never overshoot, each batch whole or refused', () =>
      withLedger(open, async ({ ledger, store }) => {
        await race(ledger, [ledger], store);
      }));

    it('the same race with group commit off (maxBatch 1)', () =>
      withLedger(open, async ({ store, clock }) => {
        const ledger = new Ledger({ store, clock, committer: { maxBatch: 1 } });
        await ledger.loadCatalog(defaultCatalog());
        await race(ledger, [ledger], store);
        await ledger.idle();
      }));
  });
}

describe('batches: postgres, two servers racing on one database', { skip: postgresSkip }, () => {
  it('never overshoot across servers; each batch whole or refused', async () => {
    const first = await freshPostgresStore();
    const second = new PostgresStore({ url: first.url });
    const clock = new FakeClock(T0);
    const one = new Ledger({ store: first.store, clock });
    const two = new Ledger({ store: second, clock, committer: { maxBatch: 7 } });
    try {
      await one.loadCatalog(defaultCatalog());
      await race(one, [one, two], first.store);
      const report = await verify(first.store);
      assert.deepEqual(report.violations, []);
    } finally {
      await one.idle();
      await two.idle();
      await second.close();
      await first.close();
    }
  });
});

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CREDITS = 60;
const RESOLUTIONS = ['720p', '1080p', '4k', '8k'];

/**
 * 40 batches of 2-6 items and 40 single holds race for 60 credits through `ledgers` (one, or
 * two sharing a database). Each batch is either wholly held (every item held, one hold per item)
 * or refused with insufficient_credits and nothing of it written; the credits held never pass
 * what was granted, and the journal has exactly the acknowledged holds.
 */
async function race(setUp: Ledger, ledgers: readonly Ledger[], store: Store): Promise<void> {
  await funded(setUp, CREDITS, 'contended');
  const rand = random(7);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  type Outcome =
    | { kind: 'batch'; key: string; items: number; batch?: BatchView; code?: string }
    | { kind: 'hold'; key: string; credits?: number; code?: string };
  const attempts: Promise<Outcome>[] = [];
  for (let i = 0; i < 80; i++) {
    const ledger = ledgers[i % ledgers.length]!;
    if (i % 2 === 0) {
      const items = Array.from({ length: 2 + Math.floor(rand() * 5) }, () =>
        gen(pick(RESOLUTIONS), 1 + Math.floor(rand() * 2)),
      );
      const key = `batch-${i}`;
      attempts.push(
        ledger.holdBatch({ accountId: 'contended', key, items }).then(
          (r) => ({ kind: 'batch', key, items: items.length, batch: r.batch }),
          (e: unknown) => {
            if (!isAmisiError(e)) throw e;
            return { kind: 'batch', key, items: items.length, code: e.code };
          },
        ),
      );
    } else {
      const key = `hold-${i}`;
      const credits = 1 + Math.floor(rand() * 3);
      attempts.push(
        ledger.hold({ accountId: 'contended', key, credits }).then(
          (r) => ({ kind: 'hold', key, credits: r.hold.credits }),
          (e: unknown) => {
            if (!isAmisiError(e)) throw e;
            return { kind: 'hold', key, code: e.code };
          },
        ),
      );
    }
  }
  const outcomes = await Promise.all(attempts);
  const refusedCodes = new Set(outcomes.flatMap((o) => (o.code ? [o.code] : [])));
  assert.deepEqual([...refusedCodes], ['insufficient_credits'], 'only refusals for credits');
  let held = 0;
  let holdTransactions = 0;
  const wonBatches = outcomes.filter((o) => o.kind === 'batch' && o.batch);
  assert.ok(wonBatches.length >= 2, `some batches won (${wonBatches.length})`);
  assert.ok(
    outcomes.some((o) => o.kind === 'batch' && o.code),
    'some batches were refused',
  );
  for (const o of outcomes) {
    if (o.kind === 'hold' && o.credits !== undefined) {
      held += o.credits;
      holdTransactions += 1;
    }
    if (o.kind === 'batch' && o.batch) {
      // Wholly held: every item, read back now.
      const now = await setUp.getBatch(o.batch.id);
      assert.equal(now.items.length, o.items);
      assert.ok(
        now.items.every((i) => i.status === 'held'),
        `${o.key}: every item held`,
      );
      assert.equal(now.held, now.credits);
      held += now.credits;
      holdTransactions += o.items;
    }
  }
  assert.ok(held <= CREDITS, `held ${held} of ${CREDITS}`);
  const balance = await setUp.balance('contended');
  assert.deepEqual([balance.held, balance.available], [held, CREDITS - held]);
  // Nothing of a refused batch was written: the journal's holds are the acknowledged ones.
  const journal = await setUp.history({ accountId: 'contended', kinds: ['hold'], limit: 500 });
  assert.equal(journal.transactions.length, holdTransactions);
  const won = new Set(
    outcomes
      .filter((o) => (o.kind === 'batch' ? o.batch : o.credits) !== undefined)
      .map((o) => o.key),
  );
  assert.ok(journal.transactions.every((t) => won.has(t.idempotencyKey ?? '')));
  assert.equal(
    (
      await store.find(
        'holds',
        { accountId: 'contended', status: 'held' },
        { order: ['expiresAt', 'id'] },
      )
    ).length,
    holdTransactions,
  );
  const report = await verify(store);
  assert.deepEqual(report.violations, []);
}
