/**
 * Durable charges per second: one hot account, and spread across 10,000 accounts; with group
 * commit and without. SQLite (synchronous=FULL) by default; --postgres for PostgreSQL
 * (synchronous_commit on), on DATABASE_URL or a throwaway local cluster. Prints a table (or
 * --json). Never asserted by a test.
 *
 *   npm run bench                  # SQLite
 *   npm run bench -- --postgres    # PostgreSQL
 *   npm run bench -- --quick       # smaller counts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ledger } from '../src/ledger/ledger.js';
import type { Store } from '../src/ledger/store.js';
import { postgresAdmin } from './postgres-admin.js';
import { PostgresStore } from '../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';

interface Figure {
  scenario: string;
  groupCommit: boolean;
  charges: number;
  seconds: number;
  perSecond: number;
}

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const json = args.includes('--json');
const postgres = args.includes('--postgres');
const ACCOUNTS = 10_000;
const WINDOW = 4_000; // charges in flight at once: many clients of one process

/** Where each scenario's store lives: a temp folder for SQLite, a server for PostgreSQL. */
interface Place {
  open(name: string): Promise<Store>;
  close(): Promise<void>;
  label: string;
}

async function sqlitePlace(): Promise<Place> {
  const dir = mkdtempSync(join(tmpdir(), 'amisi-bench-'));
  return {
    label: 'SQLite WAL synchronous=FULL',
    async open(name) {
      const store = new SqliteStore({ path: join(dir, `${name}.db`), synchronous: 'FULL' });
      await store.migrate();
      return store;
    },
    async close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresPlace(): Promise<Place> {
  const admin = await postgresAdmin();
  const made: string[] = [];
  return {
    label: 'PostgreSQL synchronous_commit=on',
    async open(name) {
      const db = `amisi_bench_${name.replace(/-/g, '_')}`;
      await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${db}`);
      made.push(db);
      const store = new PostgresStore({ url: admin.databaseUrl(db), poolSize: 8 });
      await store.migrate();
      return store;
    },
    async close() {
      for (const db of made) await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      admin.stop();
    },
  };
}

async function setup(place: Place, name: string, accounts: number, maxBatch: number) {
  const store = await place.open(name);
  const ledger = new Ledger({ store, committer: { maxBatch: 1000 } });
  const ids = Array.from({ length: accounts }, (_, i) => `acct-${i}`);
  await Promise.all(ids.map((accountId) => ledger.createAccount({ accountId })));
  await Promise.all(
    ids.map((accountId) =>
      ledger.grant({ accountId, key: 'seed', credits: 1_000_000_000, source: 'purchase' }),
    ),
  );
  await ledger.idle();
  // The measured ledger: the same store, with group commit on or off.
  return { ledger: new Ledger({ store, committer: { maxBatch } }), ids };
}

async function run(
  place: Place,
  scenario: 'hot' | 'spread',
  groupCommit: boolean,
  charges: number,
): Promise<Figure> {
  const accounts = scenario === 'hot' ? 1 : ACCOUNTS;
  const name = `${scenario}-${groupCommit ? 'gc' : 'single'}`;
  const { ledger, ids } = await setup(place, name, accounts, groupCommit ? 1000 : 1);
  let next = 0;
  let done = 0;
  const started = process.hrtime.bigint();
  const worker = async () => {
    while (next < charges) {
      const i = next++;
      await ledger.charge({ accountId: ids[i % ids.length]!, key: `c-${i}`, credits: 1 });
      done++;
      if (!json && done % 50_000 === 0) {
        process.stderr.write(`  ${name}: ${done}/${charges}${process.stderr.isTTY ? '\r' : '\n'}`);
      }
    }
  };
  await Promise.all(Array.from({ length: groupCommit ? WINDOW : 1 }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await ledger.close();
  return { scenario, groupCommit, charges, seconds, perSecond: Math.round(charges / seconds) };
}

const place = postgres ? await postgresPlace() : await sqlitePlace();
try {
  const n = quick ? 20_000 : 200_000;
  const single = quick ? 300 : 2_000;
  const figures = [
    await run(place, 'hot', true, n),
    await run(place, 'spread', true, n),
    await run(place, 'hot', false, single),
    await run(place, 'spread', false, single),
  ];
  if (json) {
    console.log(JSON.stringify({ store: place.label, figures }, null, 2));
  } else {
    if (process.stderr.isTTY) process.stderr.write('\n');
    console.log(`durable charges per second, ${place.label}`);
    console.log('scenario                 group commit   charges   seconds   charges/s');
    for (const f of figures) {
      const label = f.scenario === 'hot' ? 'one hot account' : `${ACCOUNTS} accounts`;
      console.log(
        `${label.padEnd(24)} ${(f.groupCommit ? 'on' : 'off').padEnd(14)} ${String(f.charges).padStart(7)}   ${f.seconds.toFixed(2).padStart(7)}   ${String(f.perSecond).padStart(9)}`,
      );
    }
  }
} finally {
  await place.close();
}
