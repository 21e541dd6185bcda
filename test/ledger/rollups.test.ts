/**
 * Rollups (core/rollups.ts, kept by the batch) against a recomputation from the journal: a
 * property test over random workloads of grants, charges, holds, captures, releases, clock moves
 * (lazy and swept expiry of holds and grants), plans with their renewals and upgrades, pack
 * purchases and refunds. After each workload, on each store:
 *
 * - every hour's rollups equal the journal's transactions of that hour, folded;
 * - exact windows (random bounds, off the hour) equal the journal of [from, to) and before it;
 * - the flows add up to the balance (granted - consumed - expired - refunded = available + held);
 * - a rebuild from the journal gives the same rollups again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as fc from 'fast-check';
import { isAmisiError } from '../../src/core/errors.js';
import type { Hold } from '../../src/core/holds.js';
import type { JournalTransaction } from '../../src/core/journal.js';
import {
  exactWindow,
  hourOf,
  HOUR_MS,
  rangeTotals,
  RollupAccumulator,
  rollupOf,
  sumFlows,
  sumUsage,
  type FlowRow,
  type RollupLookup,
  type UsageRow,
} from '../../src/core/rollups.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { FakeClock } from '../../src/ledger/ports.js';
import type { Store } from '../../src/ledger/store.js';
import { defaultCatalog } from '../helpers.js';
import { freshPostgresStore, postgresSkip } from '../pg-helpers.js';
import { openModelStore } from './model-stores.js';

const SEED = Number(process.env.AMISI_PROPERTY_SEED ?? 0x2011_0077);
const RUNS = Number(process.env.AMISI_ROLLUP_RUNS ?? 60);
const MINUTE = 60_000;
const DAY = 24 * HOUR_MS;

type Step =
  | { op: 'grant'; credits: number; source: 'promotion' | 'adjustment'; expiresIn: number | null }
  | { op: 'charge'; amount: Amount; member: string | null; project: string | null }
  | { op: 'hold'; amount: Amount; ttlMinutes: number; member: string | null }
  | { op: 'capture'; pick: number; percent: number }
  | { op: 'release'; pick: number }
  | { op: 'advance'; ms: number }
  | { op: 'subscribe'; plan: 'free' | 'starter' | 'pro' }
  | { op: 'upgrade'; plan: 'pro' | 'business' }
  | { op: 'cancel' }
  | { op: 'buy'; pack: 'pack-20' | 'pack-50' }
  | { op: 'refund'; pick: number }
  | { op: 'sweep' };

type Amount =
  | { credits: number }
  | { items: { operation: string; params?: Record<string, string>; count?: number }[] };

const item = fc.oneof(
  fc.record({
    operation: fc.constant('image.generate'),
    params: fc.record({ resolution: fc.constantFrom('720p', '1080p', '4k', '8k') }),
    count: fc.integer({ min: 1, max: 4 }),
  }),
  fc.record({
    operation: fc.constant('image.upscale'),
    params: fc.record({ target: fc.constantFrom('1080p', '4k', '8k') }),
  }),
  fc.record({ operation: fc.constant('image.edit'), count: fc.integer({ min: 1, max: 3 }) }),
);
const amount: fc.Arbitrary<Amount> = fc.oneof(
  fc.record({ credits: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ items: fc.array(item, { minLength: 1, maxLength: 3 }) }),
);
const who = fc.constantFrom(null, 'mia', 'adam');

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('grant' as const),
      credits: fc.integer({ min: 1, max: 60 }),
      source: fc.constantFrom('promotion' as const, 'adjustment' as const),
      expiresIn: fc.option(fc.integer({ min: 10 * MINUTE, max: 40 * DAY }), { nil: null }),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('charge' as const),
      amount,
      member: who,
      project: fc.constantFrom(null, 'launch'),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('hold' as const),
      amount,
      ttlMinutes: fc.integer({ min: 1, max: 240 }),
      member: who,
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('capture' as const),
      pick: fc.nat(),
      percent: fc.integer({ min: 1, max: 100 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('release' as const), pick: fc.nat() }) },
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('advance' as const),
      ms: fc.oneof(
        fc.integer({ min: 1, max: 90 * MINUTE }),
        fc.integer({ min: HOUR_MS, max: 3 * DAY }),
        fc.integer({ min: 10 * DAY, max: 40 * DAY }),
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('subscribe' as const),
      plan: fc.constantFrom('free' as const, 'starter' as const, 'pro' as const),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('upgrade' as const),
      plan: fc.constantFrom('pro' as const, 'business' as const),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'cancel' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('buy' as const),
      pack: fc.constantFrom('pack-20' as const, 'pack-50' as const),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('refund' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ op: 'sweep' as const }) },
);

const workload = fc.record({
  steps: fc.array(step, { minLength: 5, maxLength: 40 }),
  windows: fc.array(fc.tuple(fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 0, max: 1e6 })), {
    minLength: 3,
    maxLength: 3,
  }),
});

interface Env {
  readonly ledger: Ledger;
  readonly store: Store;
  readonly clock: FakeClock;
  accounts: number;
}

/** Runs the steps on a fresh account; refusals (no credits, no plan...) are part of the game. */
async function play(
  env: Env,
  steps: readonly Step[],
): Promise<{ accountId: string; start: number }> {
  const { ledger, clock } = env;
  env.accounts += 1;
  const accountId = `acct-${env.accounts}`;
  const start = clock.now();
  await ledger.createAccount({ accountId });
  await ledger.grant({ accountId, key: 'seed', credits: 40, source: 'purchase', expiresAt: null });
  const holds: string[] = [];
  const purchases: string[] = [];
  let key = 0;
  const k = () => `k${++key}`;
  for (const s of steps) {
    try {
      switch (s.op) {
        case 'grant':
          await ledger.grant({
            accountId,
            key: k(),
            credits: s.credits,
            source: s.source,
            expiresAt: s.expiresIn === null ? null : clock.now() + s.expiresIn,
          });
          break;
        case 'charge':
          await ledger.charge({
            accountId,
            key: k(),
            ...s.amount,
            attribution: { member: s.member, project: s.project },
          });
          break;
        case 'hold': {
          const r = await ledger.hold({
            accountId,
            key: k(),
            ...s.amount,
            ttlMs: s.ttlMinutes * MINUTE,
            attribution: { member: s.member },
          });
          holds.push(r.hold.id);
          break;
        }
        case 'capture': {
          if (holds.length === 0) break;
          const id = holds[s.pick % holds.length]!;
          const h = await ledger.getHold(id);
          const credits = Math.max(1, Math.floor((h.credits * s.percent) / 100));
          await ledger.capture({ holdId: id, key: k(), credits });
          break;
        }
        case 'release':
          if (holds.length === 0) break;
          await ledger.release({ holdId: holds[s.pick % holds.length]!, key: k() });
          break;
        case 'advance':
          clock.advance(s.ms);
          break;
        case 'subscribe':
          await ledger.subscribe({ accountId, key: k(), plan: s.plan });
          break;
        case 'upgrade':
          await ledger.changePlan({ accountId, key: k(), plan: s.plan });
          break;
        case 'cancel':
          await ledger.cancelPlan({ accountId, key: k() });
          break;
        case 'buy': {
          const r = await ledger.createPurchase({
            accountId,
            key: k(),
            pack: s.pack,
            provider: 'manual',
          });
          await ledger.confirmPayment({
            purchaseId: r.purchase.id,
            paymentRef: `pay-${r.purchase.id}`,
          });
          purchases.push(r.purchase.id);
          break;
        }
        case 'refund':
          if (purchases.length === 0) break;
          await ledger.reclaimForRefund({
            purchaseId: purchases[s.pick % purchases.length]!,
            key: k(),
          });
          break;
        case 'sweep':
          await ledger.sweep();
          break;
      }
    } catch (e) {
      if (!isAmisiError(e)) throw e;
    }
  }
  // Settle what is due (holds past their ttl, expired grants, renewals) before comparing.
  await ledger.balance(accountId);
  return { accountId, start };
}

/** The account's whole journal, oldest first, and a lookup built from its rows. */
async function journalOf(store: Store, ledger: Ledger, accountId: string) {
  const journal: JournalTransaction[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await ledger.history({
      accountId,
      limit: 500,
      ...(cursor ? { before: cursor } : {}),
    });
    journal.push(...page.transactions);
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  journal.reverse();
  const sources = new Map(
    (
      await store.find('grants', { accountId: accountId }, { order: ['createdAt desc', 'id desc'] })
    ).map((g) => [g.id, g.source]),
  );
  const holds = new Map<string, Hold>();
  for (const t of journal) {
    if (t.kind === 'capture' && t.holdId && !holds.has(t.holdId))
      holds.set(t.holdId, (await store.get('holds', { id: t.holdId }))!);
  }
  const lookup: RollupLookup = {
    grantSource: (id) => sources.get(id)!,
    holdLines: (id) => holds.get(id)?.quote?.lines ?? [],
  };
  return { journal, lookup };
}

function fold(
  journal: readonly JournalTransaction[],
  lookup: RollupLookup,
  keep: (t: JournalTransaction) => boolean,
) {
  const usage: UsageRow[] = [];
  const flows: FlowRow[] = [];
  for (const t of journal) {
    if (!keep(t)) continue;
    const r = rollupOf(t, lookup);
    usage.push(...r.usage);
    flows.push(...r.flows);
  }
  return { usage: sumUsage(usage), flows: sumFlows(flows) };
}

async function hourRead(store: Store, accountId: string, hour: number) {
  const read = await store.rollupWindow({
    accountId,
    hoursFrom: hour,
    hoursTo: hour + HOUR_MS,
    before: false,
    usage: true,
    journal: [],
  });
  return { usage: sumUsage(read.usage), flows: sumFlows(read.flows) };
}

/** Journal kinds the workloads reached (the test checks it reached them all). */
const kindsSeen = new Set<string>();

async function checkRollups(
  env: Env,
  accountId: string,
  start: number,
  windows: readonly [number, number][],
) {
  const { store, ledger } = env;
  const { journal, lookup } = await journalOf(store, ledger, accountId);
  for (const t of journal) kindsSeen.add(t.kind);
  const expected = new RollupAccumulator();
  for (const t of journal) expected.add(t, lookup);
  const hours = new Set(
    [...expected.flows.values(), ...expected.usage.values()].map((r) => r.hour),
  );
  for (const hour of hours) {
    const want = fold(journal, lookup, (t) => hourOf(t.createdAt) === hour);
    assert.deepEqual(
      await hourRead(store, accountId, hour),
      want,
      `${accountId}: hour ${new Date(hour).toISOString()}`,
    );
  }
  // Nothing in hours the journal has nothing for: everything at once equals the whole journal.
  const everything = await store.rollupWindow({
    accountId,
    hoursFrom: 0,
    hoursTo: env.clock.now() + DAY,
    before: false,
    usage: true,
    journal: [],
  });
  const all = fold(journal, lookup, () => true);
  assert.deepEqual(
    { usage: sumUsage(everything.usage), flows: sumFlows(everything.flows) },
    all,
    `${accountId}: all hours`,
  );
  // Conservation: the flows add up to what the account holds.
  const net = (rows: readonly FlowRow[]) =>
    rows.reduce(
      (s, r) =>
        s +
        (r.flow === 'granted'
          ? r.credits
          : ['consumed', 'expired', 'refunded'].includes(r.flow)
            ? -r.credits
            : 0),
      0,
    );
  const balance = await ledger.balance(accountId);
  assert.equal(
    net(all.flows),
    balance.available + balance.held,
    `${accountId}: flows add up to the balance`,
  );
  // Exact windows, off the hour.
  const end = env.clock.now() + 1;
  for (const [a, b] of windows) {
    const from = start + Math.floor((Math.min(a, b) * (end - start)) / 1e6);
    const to = start + Math.floor((Math.max(a, b) * (end - start)) / 1e6);
    const w = exactWindow(from, to);
    const read = await store.rollupWindow({
      accountId,
      hoursFrom: w.hoursFrom,
      hoursTo: w.hoursTo,
      before: true,
      usage: true,
      journal: w.journal,
    });
    const got = rangeTotals(w, read);
    const inside = fold(journal, lookup, (t) => t.createdAt >= from && t.createdAt < to);
    const beforeFrom = fold(journal, lookup, (t) => t.createdAt < from);
    assert.deepEqual(
      { before: got.before, flows: got.flows, usage: got.usage },
      { before: beforeFrom.flows, flows: inside.flows, usage: inside.usage },
      `${accountId}: window [${new Date(from).toISOString()}, ${new Date(to).toISOString()})`,
    );
  }
  return all;
}

function rollupSuite(name: string, open: () => Promise<{ store: Store; close(): Promise<void> }>) {
  describe(`rollups on ${name}`, () => {
    let env: Env;
    let close: () => Promise<void>;
    before(async () => {
      const opened = await open();
      const clock = new FakeClock(Date.UTC(2026, 0, 1, 9, 17, 23, 456));
      const ledger = new Ledger({ store: opened.store, clock });
      await ledger.loadCatalog(defaultCatalog());
      env = { ledger, store: opened.store, clock, accounts: 0 };
      close = async () => {
        await ledger.idle();
        await opened.close();
      };
    });
    after(async () => close?.());

    it('equal the journal folded, hour by hour and over exact windows, and after a rebuild', async () => {
      await fc.assert(
        fc.asyncProperty(workload, async ({ steps, windows }) => {
          const { accountId, start } = await play(env, steps);
          const all = await checkRollups(env, accountId, start, windows);
          const rebuilt = await env.ledger.rebuildRollups(accountId);
          assert.ok(rebuilt.transactions > 0);
          const again = await checkRollups(env, accountId, start, windows);
          assert.deepEqual(again, all);
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
      assert.deepEqual([...kindsSeen].sort(), [
        'capture',
        'charge',
        'grant',
        'grant_expiry',
        'hold',
        'hold_expiry',
        'plan_change',
        'refund',
        'release',
        'renewal',
      ]);
    });

    it('a rebuild inside a batch with other writes to the account counts each once', async () => {
      const { ledger, clock } = env;
      await ledger.createAccount({ accountId: 'busy' });
      await ledger.grant({
        accountId: 'busy',
        key: 'g',
        credits: 500,
        source: 'purchase',
        expiresAt: null,
      });
      await ledger.charge({ accountId: 'busy', key: 'c0', credits: 3 });
      clock.advance(2 * HOUR_MS);
      await Promise.all([
        ledger.charge({ accountId: 'busy', key: 'c1', credits: 5 }),
        ledger.rebuildRollups('busy'),
        ledger.charge({ accountId: 'busy', key: 'c2', credits: 7 }),
      ]);
      await checkRollups(env, 'busy', clock.now() - 3 * HOUR_MS, [[0, 1]]);
    });
  });
}

rollupSuite('sqlite', () => openModelStore('sqlite'));
if (postgresSkip) {
  describe('rollups on postgres', { skip: postgresSkip }, () => undefined);
} else {
  rollupSuite('postgres', () => freshPostgresStore());
}
