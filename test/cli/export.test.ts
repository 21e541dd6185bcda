import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { errorTable } from '../../src/core/errors.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { FakeClock } from '../../src/ledger/ports.js';
import { CSV_HEADER, openHistoryExport, type ExportQuery } from '../../src/service/export.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { freshLedger, tempDir } from '../helpers.js';
import { amisi } from './cli-helpers.js';

/**
 * `amisi export <account> --csv`: the same bytes as the service, to stdout or a file replaced
 * whole, a progress line on stderr when writing a file, and a --json summary.
 */

const { dir, cleanup } = tempDir('amisi-cli-export-');
const db = join(dir, 'amisi.db');
const out = (name: string) => join(dir, name);
const T0 = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;

/** What the service makes of the same database, read in this process. */
async function expected(query: ExportQuery): Promise<string> {
  const store = new SqliteStore({ path: db });
  const ledger = new Ledger({ store, clock: new FakeClock(T0) });
  try {
    const csv = await openHistoryExport(ledger, query);
    let text = '';
    for await (const chunk of csv.chunks) text += chunk;
    return text;
  } finally {
    await ledger.close();
  }
}

/** Runs a failing command with --json; returns its error code after checking the exit code. */
function fails(...args: string[]): string {
  const r = amisi(db, ['--json', ...args]);
  const { error } = r.json<{ error: { code: keyof typeof errorTable } }>();
  assert.equal(r.status, errorTable[error.code].exit, `${args.join(' ')} exits by the table`);
  return error.code;
}

/** Nothing half-written is left beside the files. */
function noPartials(): void {
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.endsWith('.part')),
    [],
  );
}

let all = '';

before(async () => {
  const env = await freshLedger({ path: db });
  const { ledger, clock } = env;
  try {
    await ledger.createAccount({ accountId: 'ann' });
    await ledger.createAccount({ accountId: 'bob' });
    await ledger.grant({ accountId: 'bob', key: 'b', credits: 5, source: 'promotion' });
    await ledger.grant({
      accountId: 'ann',
      key: '@first',
      credits: 5000,
      source: 'promotion',
      reason: 'welcome, "friend"\nof ours',
    });
    for (let minute = 1; minute <= 5; minute++) {
      clock.advance(MINUTE);
      await Promise.all(
        Array.from({ length: 250 }, (_, i) =>
          ledger.charge({
            accountId: 'ann',
            key: `m${minute}-${i}`,
            items: [{ operation: 'image.generate', params: { resolution: '1080p' } }],
            attribution: { member: 'mia', labels: { use: '=web' } },
          }),
        ),
      );
    }
  } finally {
    await env.close();
  }
  all = await expected({ accountId: 'ann' });
});
after(cleanup);

describe('amisi export', () => {
  it('writes the file with --out and prints the summary with --json; progress on stderr', () => {
    const file = out('ann.csv');
    const r = amisi(db, ['--json', 'export', 'ann', '--csv', '--out', file, '--page-size', '100']);
    assert.equal(r.status, 0, r.stderr);
    const summary = r.json<Record<string, unknown>>();
    assert.deepEqual(
      { ...summary, elapsedMs: typeof summary.elapsedMs },
      {
        accountId: 'ann',
        rows: 1251,
        bytes: Buffer.byteLength(all, 'utf8'),
        file,
        order: 'newest first',
        elapsedMs: 'number',
      },
    );
    assert.equal(readFileSync(file, 'utf8'), all, 'the same bytes as the service');
    assert.ok(all.startsWith(CSV_HEADER));
    // Not a terminal: no redrawing, one final line (a long export adds one every few seconds).
    assert.match(
      r.stderr,
      /^exported \[#{24}\] 100% 1,251 rows, \d+\.\d KiB, [\d,]+ rows\/s, \d+\.\ds\n$/,
    );
    noPartials();
  });

  it('prints a table for people, and replaces an existing file whole', () => {
    const file = out('replaced.csv');
    writeFileSync(file, 'old content that is longer than nothing\n'.repeat(10_000));
    const r = amisi(db, ['export', 'ann', '--csv', '--out', file]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^account\s+ann\nrows\s+1251\nbytes\s+\d+\nfile\s+.*replaced\.csv\n$/);
    assert.equal(readFileSync(file, 'utf8'), all);
    noPartials();
  });

  it('writes to stdout without --out; no progress when stderr is not a terminal', () => {
    const r = amisi(db, ['export', 'ann', '--csv']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, all);
    assert.equal(r.stderr, '');
  });

  it('--no-progress keeps stderr quiet with --out', () => {
    const file = out('quiet.csv');
    const r = amisi(db, ['export', 'ann', '--csv', '--out', file, '--no-progress']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(readFileSync(file, 'utf8'), all);
  });

  it('filters: --since (inclusive), --until (exclusive), --kind (repeatable)', async () => {
    const r = amisi(db, [
      'export',
      'ann',
      '--csv',
      '--since',
      '2026-01-01T00:02:00Z',
      '--until',
      '2026-01-01T00:04:00Z',
      '--kind',
      'charge',
      '--kind',
      'grant',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const want = await expected({
      accountId: 'ann',
      since: T0 + 2 * MINUTE,
      until: T0 + 4 * MINUTE,
      kinds: ['charge', 'grant'],
    });
    assert.equal(r.stdout, want);
    assert.equal(r.stdout.split('\r\n').length - 2, 500, 'minutes 2 and 3: 250 charges each');
    const grants = amisi(db, ['export', 'ann', '--csv', '--kind', 'grant']);
    assert.equal(grants.stdout, await expected({ accountId: 'ann', kinds: ['grant'] }));
    assert.match(grants.stdout, /,'@first,"promotion grant: welcome, ""friend""\nof ours",\r\n$/);
  });

  it('refuses bad input before writing anything', () => {
    const file = out('never.csv');
    assert.equal(fails('export', 'ghost', '--csv', '--out', file), 'unknown_account');
    assert.equal(
      fails('export', 'ann', '--csv', '--out', file, '--kind', 'gift'),
      'invalid_argument',
    );
    assert.equal(fails('export', 'ann', '--out', file), 'invalid_argument', '--csv is required');
    assert.equal(fails('export', 'ann', '--csv'), 'invalid_argument', '--json needs --out');
    assert.equal(
      fails('export', 'ann', '--csv', '--out', file, '--since', 'yesterday'),
      'invalid_argument',
    );
    assert.equal(
      fails('export', 'ann', '--csv', '--out', file, '--page-size', '501'),
      'invalid_argument',
    );
    assert.equal(
      fails('export', 'ann', '--csv', '--out', join(dir, 'missing', 'x.csv')),
      'invalid_argument',
    );
    assert.equal(existsSync(file), false);
    noPartials();
    const human = amisi(db, ['export', 'ghost', '--csv']);
    assert.equal(human.status, errorTable.unknown_account.exit);
    assert.equal(human.stdout, '', 'no header for an account that does not exist');
  });
});
