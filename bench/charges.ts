/**
 * Durable charges per second on SQLite (synchronous=FULL): one hot account, and spread across
 * 10,000 accounts; with group commit and without. Prints a table (or --json). Never asserted.
 *
 *   npm run bench            # full run
 *   npm run bench -- --quick # smaller counts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ledger } from '../src/ledger/ledger.js';
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
const ACCOUNTS = 10_000;
const WINDOW = 4_000; // charges in flight at once: many clients of one process

async function setup(dir: string, name: string, accounts: number, maxBatch: number) {
  const store = new SqliteStore({ path: join(dir, `${name}.db`), synchronous: 'FULL' });
  await store.migrate();
  const ledger = new Ledger({ store, committer: { maxBatch } });
  const ids = Array.from({ length: accounts }, (_, i) => `acct-${i}`);
  await Promise.all(ids.map((accountId) => ledger.createAccount({ accountId })));
  await Promise.all(
    ids.map((accountId) =>
      ledger.grant({ accountId, key: 'seed', credits: 1_000_000_000, source: 'purchase' }),
    ),
  );
  return { ledger, ids };
}

async function run(
  dir: string,
  scenario: 'hot' | 'spread',
  groupCommit: boolean,
  charges: number,
): Promise<Figure> {
  const accounts = scenario === 'hot' ? 1 : ACCOUNTS;
  const name = `${scenario}-${groupCommit ? 'gc' : 'single'}`;
  const { ledger, ids } = await setup(dir, name, accounts, groupCommit ? 1000 : 1);
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

const dir = mkdtempSync(join(tmpdir(), 'amisi-bench-'));
try {
  const n = quick ? 20_000 : 200_000;
  const single = quick ? 300 : 2_000;
  const figures = [
    await run(dir, 'hot', true, n),
    await run(dir, 'spread', true, n),
    await run(dir, 'hot', false, single),
    await run(dir, 'spread', false, single),
  ];
  if (json) {
    console.log(JSON.stringify({ synchronous: 'FULL', figures }, null, 2));
  } else {
    process.stderr.write('\n');
    console.log('durable charges per second, SQLite WAL synchronous=FULL');
    console.log('scenario                 group commit   charges   seconds   charges/s');
    for (const f of figures) {
      const label = f.scenario === 'hot' ? 'one hot account' : `${ACCOUNTS} accounts`;
      console.log(
        `${label.padEnd(24)} ${(f.groupCommit ? 'on' : 'off').padEnd(14)} ${String(f.charges).padStart(7)}   ${f.seconds.toFixed(2).padStart(7)}   ${String(f.perSecond).padStart(9)}`,
      );
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
