/**
 * Reports on a big account: builds one account with 10,000,000 journal entries (a year of
 * 5,000,000 image charges by five members in three projects, monthly allocations and their
 * expiry, some outcomes) written in bulk through the store's write transactions together with
 * the rollups the batch would have kept, then times the statement, the usage report and the
 * audit of one cycle, and the advice (12 cycles) and forecast (cycles start at 14:37:12.345, so each report also reads the journal of
 * its two edge hours). Prints milliseconds; never asserted by a test.
 *
 *   npm run bench:reports                      # SQLite, 10,000,000 entries
 *   npm run bench:reports -- --entries 1000000 # smaller
 *   npm run bench:reports -- --db FILE         # keep (or reuse) the database
 *   npm run bench:reports -- --postgres        # PostgreSQL (DATABASE_URL or a throwaway cluster)
 */
import { NO_OVERDRAFT } from '../src/core/overdraft.js';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cycleAt, cycleStart } from '../src/core/cycles.js';
import type { Grant } from '../src/core/grants.js';
import type { JournalTransaction } from '../src/core/journal.js';
import type { Outcome } from '../src/core/outcomes.js';
import { RollupAccumulator } from '../src/core/rollups.js';
import { Ledger } from '../src/ledger/ledger.js';
import { FakeClock, UlidIds } from '../src/ledger/ports.js';
import type { Store } from '../src/ledger/store.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { PostgresStore } from '../src/store/postgres/postgres-store.js';
import { postgresAdmin } from './postgres-admin.js';

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const ENTRIES = Number(option('--entries') ?? 10_000_000);
const postgres = args.includes('--postgres');
const keep = option('--db');

const ACCOUNT = 'big';
const ANCHOR = Date.UTC(2026, 0, 10, 14, 37, 12, 345);
const CYCLES = 12;
const ALLOCATION = 1_500_000;
const CHUNK = 20_000;
const MEMBERS = ['mia', 'adam', 'olga', 'ravi', 'lena'];
const PROJECTS = [null, 'launch', 'brand', 'social'];
const RESOLUTIONS: [string, number][] = [
  ['720p', 1],
  ['1080p', 2],
  ['4k', 3],
  ['8k', 4],
];

function progress(label: string, done: number, total: number, started: number): void {
  if (!process.stderr.isTTY && done < total) return;
  const width = 30;
  const filled = Math.round((done / total) * width);
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  process.stderr.write(
    `\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done.toLocaleString('en')}/${total.toLocaleString('en')} ${seconds}s`,
  );
  if (done >= total) process.stderr.write('\n');
}

/** A small deterministic generator (mulberry32): the same data on every run. */
function random(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % n) >>> 0;
  };
}

async function build(store: Store): Promise<void> {
  const clock = new FakeClock(ANCHOR);
  const ids = new UlidIds(clock);
  const rand = random(42);
  // Two entries a charge; the allocations and their expiries take 2 x (2 x CYCLES - 1).
  const charges = Math.max(1, Math.ceil((ENTRIES - 2 * (2 * CYCLES - 1)) / 2));
  const perCycle = Math.ceil(charges / CYCLES);
  const grants: Grant[] = [];
  for (let n = 0; n < CYCLES; n++) {
    clock.set(cycleStart(ANCHOR, n));
    grants.push({
      accountId: ACCOUNT,
      id: ids.next('grt'),
      source: 'allocation',
      amount: ALLOCATION,
      remaining: ALLOCATION,
      startsAt: cycleStart(ANCHOR, n),
      expiresAt: cycleStart(ANCHOR, n + 1),
      createdAt: cycleStart(ANCHOR, n),
    });
  }
  const source = new Map(grants.map((g) => [g.id, g.source]));
  const lookup = { grantSource: (id: string) => source.get(id)!, holdLines: () => [] };
  await store.write(async (w) => {
    await w.insert('accounts', [
      {
        id: ACCOUNT,
        createdAt: ANCHOR,
        kind: 'individual',
        name: null,
        testClockId: null,
        ...NO_OVERDRAFT,
      },
    ]);
  });
  const started = Date.now();
  let written = 0;
  let entries = 0;
  for (let n = 0; n < CYCLES; n++) {
    const g = grants[n]!;
    const from = cycleStart(ANCHOR, n);
    const length = cycleStart(ANCHOR, n + 1) - from;
    const count = Math.min(perCycle, charges - written);
    let left = ALLOCATION;
    let buffer: JournalTransaction[] = [];
    const outcomes: Outcome[] = [];
    const flush = async () => {
      const acc = new RollupAccumulator();
      for (const t of buffer) acc.add(t, lookup);
      const txs = buffer;
      const outs = outcomes.splice(0);
      await store.write(async (w) => {
        await w.appendTransactions(txs);
        await w.addRollups([...acc.usage.values()], [...acc.flows.values()]);
        await w.insert('outcomes', outs, 'replace');
      });
      entries += txs.reduce((s, t) => s + t.entries.length, 0);
      buffer = [];
    };
    // The cycle's allocation is issued at its start...
    clock.set(from);
    buffer.push({
      accountId: ACCOUNT,
      id: ids.next('txn'),
      kind: 'grant',
      createdAt: from,
      idempotencyKey: `alloc-${n}`,
      holdId: null,
      grantId: g.id,
      catalogVersion: null,
      detail: { source: 'allocation' },
      entries: [
        { book: 'issued', grantId: g.id, holdId: null, credits: -ALLOCATION },
        { book: 'grant', grantId: g.id, holdId: null, credits: ALLOCATION },
      ],
    });
    // ...charges spread over the cycle...
    for (let i = 0; i < count; i++) {
      const at = from + 1 + Math.floor((i * (length - 2)) / count);
      clock.set(at);
      const [resolution, unit] = RESOLUTIONS[rand(4)]!;
      const member = MEMBERS[rand(MEMBERS.length)]!;
      const project = PROJECTS[rand(PROJECTS.length)] ?? null;
      left -= unit;
      const id = ids.next('txn');
      buffer.push({
        accountId: ACCOUNT,
        id,
        kind: 'charge',
        createdAt: at,
        idempotencyKey: `c${written + i}`,
        holdId: null,
        grantId: null,
        catalogVersion: 'bench',
        detail: {
          credits: unit,
          attribution: { member, project, labels: {} },
          lines: [
            {
              operation: 'image.generate',
              params: { resolution },
              unit: 'image',
              unitCredits: unit,
              count: 1,
              credits: unit,
            },
          ],
        },
        entries: [
          { book: 'grant', grantId: g.id, holdId: null, credits: -unit },
          { book: 'consumed', grantId: g.id, holdId: null, credits: unit },
        ],
      });
      if (rand(50) === 0) {
        outcomes.push({
          accountId: ACCOUNT,
          transactionId: id,
          outcome: rand(3) === 0 ? 'kept' : 'discarded',
          labels: { concept: `c${rand(200)}` },
          credits: unit,
          operation: 'image.generate',
          resolution,
          units: 1,
          member,
          project,
          createdAt: at,
          recordedAt: at,
        });
      }
      if (buffer.length >= CHUNK) {
        await flush();
        progress('journal', written + i + 1, charges, started);
      }
    }
    written += count;
    // ...and what is left of it expires at the next cycle's start (but the last cycle's).
    if (n < CYCLES - 1) {
      const end = cycleStart(ANCHOR, n + 1);
      clock.set(end);
      buffer.push({
        accountId: ACCOUNT,
        id: ids.next('txn'),
        kind: 'grant_expiry',
        createdAt: end,
        idempotencyKey: null,
        holdId: null,
        grantId: g.id,
        catalogVersion: null,
        detail: { credits: left, source: 'allocation' },
        entries: [
          { book: 'grant', grantId: g.id, holdId: null, credits: -left },
          { book: 'breakage', grantId: g.id, holdId: null, credits: left },
        ],
      });
      grants[n] = { ...g, remaining: 0 };
    } else {
      grants[n] = { ...g, remaining: left };
    }
    await flush();
    progress('journal', written, charges, started);
  }
  const last = cycleStart(ANCHOR, CYCLES - 1);
  await store.write(async (w) => {
    await w.insert('grants', grants);
    await w.insert('subscriptions', [
      {
        accountId: ACCOUNT,
        id: 'sub_big',
        plan: 'business',
        pendingPlan: null,
        anchorAt: ANCHOR,
        cycleIndex: CYCLES - 1,
        nextRenewalAt: cycleStart(ANCHOR, CYCLES),
        status: 'active',
        cancelAt: null,
        allocationGrantId: grants[CYCLES - 1]!.id,
        createdAt: ANCHOR,
        providerRef: null,
      },
    ]);
  });
  console.log(
    `built: ${written.toLocaleString('en')} charges, ${entries.toLocaleString('en')} journal entries in ${((Date.now() - started) / 1000).toFixed(1)} s (last cycle from ${new Date(last).toISOString()})`,
  );
}

async function time<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, value };
}

async function main() {
  let store: Store;
  let cleanup = () => undefined as void;
  let fresh = true;
  if (postgres) {
    const admin = await postgresAdmin();
    const db = 'amisi_bench_reports';
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${db}`);
    store = new PostgresStore({ url: admin.databaseUrl(db), poolSize: 4 });
    cleanup = () => {
      void admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).finally(() => admin.stop());
    };
  } else {
    const path = keep ?? join(mkdtempSync(join(tmpdir(), 'amisi-reports-')), 'reports.db');
    fresh = !existsSync(path);
    store = new SqliteStore({ path, synchronous: 'NORMAL' });
    if (!keep) cleanup = () => rmSync(join(path, '..'), { recursive: true, force: true });
  }
  await store.migrate();
  // The clock stands in the last cycle, 20 days in; nothing is due.
  const now = cycleStart(ANCHOR, CYCLES - 1) + 20 * 86_400_000;
  const ledger = new Ledger({ store, clock: new FakeClock(now) });
  try {
    if (fresh) {
      await ledger.loadCatalog(
        JSON.parse(readFileSync(new URL('../../catalog/default.json', import.meta.url), 'utf8')),
      );
      await build(store);
    }
    const current = cycleAt(ANCHOR, now).index;
    const rows: [string, number][] = [];
    for (const cycle of [6, current]) {
      const reports: [string, () => Promise<unknown>][] = [
        ['statement', () => ledger.statement(ACCOUNT, { cycle })],
        ['usage', () => ledger.usage(ACCOUNT, { cycle })],
        ['audit', () => ledger.audit(ACCOUNT, { cycle })],
      ];
      for (const [name, run] of reports) {
        const runs: number[] = [];
        for (let i = 0; i < 5; i++) runs.push((await time(run)).ms);
        rows.push([`${name} cycle ${cycle} (first, then best of 4)`, runs[0]!]);
        rows.push([`${name} cycle ${cycle} best`, Math.min(...runs.slice(1))]);
      }
    }
    const advice: [string, () => Promise<unknown>][] = [
      ['advice (11 closed cycles and the current one)', () => ledger.advice(ACCOUNT)],
      ['forecast', () => ledger.forecast(ACCOUNT)],
    ];
    for (const [name, run] of advice) {
      const runs: number[] = [];
      for (let i = 0; i < 5; i++) runs.push((await time(run)).ms);
      rows.push([`${name} (first)`, runs[0]!]);
      rows.push([`${name} best of 4`, Math.min(...runs.slice(1))]);
    }
    const s = await ledger.statement(ACCOUNT, { cycle: 6 });
    const u = await ledger.usage(ACCOUNT, { cycle: 6 });
    console.log(
      `\nreports on one account, ${postgres ? 'PostgreSQL' : 'SQLite'}, ${ENTRIES.toLocaleString('en')} journal entries`,
    );
    const width = Math.max(...rows.map(([name]) => name.length));
    console.log(`${'report'.padEnd(width)}      ms`);
    for (const [name, ms] of rows)
      console.log(`${name.padEnd(width)} ${ms.toFixed(1).padStart(7)}`);
    console.log(
      `\ncycle 6: opening ${s.opening}, granted ${s.granted.credits}, spent ${s.spent.credits}, expired ${s.expired.credits}, closing ${s.closing}; ` +
        `${u.byResolution.map((l) => `${l.key} ${l.credits}`).join(', ')}`,
    );
  } finally {
    await ledger.close();
    cleanup();
  }
}

await main();
