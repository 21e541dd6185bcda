import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { errorTable } from '../../src/core/errors.js';
import { tempDir } from '../helpers.js';
import { amisi } from './cli-helpers.js';

const { dir, cleanup } = tempDir('amisi-cli-reports-');
const db = join(dir, 'amisi.db');
const run = (...args: string[]) => amisi(db, args);
const json = <T>(...args: string[]) => {
  const r = amisi(db, ['--json', ...args]);
  assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  return r.json<T>();
};

function fails(...args: string[]): string {
  const r = amisi(db, ['--json', ...args]);
  const { error } = r.json<{ error: { code: keyof typeof errorTable } }>();
  assert.equal(r.status, errorTable[error.code].exit, `${args.join(' ')} exits by the table`);
  return error.code;
}

let charge = '';
let grantTx = '';

before(() => {
  assert.equal(run('init').status, 0);
  assert.equal(run('accounts', 'create', 'alice').status, 0);
  grantTx = json<{ transactionId: string }>(
    'grant',
    'alice',
    '100',
    '--source',
    'purchase',
    '--key',
    'g1',
  ).transactionId;
  charge = json<{ transactionId: string }>(
    'charge',
    'alice',
    'image.generate',
    '--resolution',
    '4k',
    '--count',
    '2',
    '--member',
    'mia',
    '--key',
    'c1',
  ).transactionId;
});
after(cleanup);

describe('amisi outcome, statement, audit', () => {
  it('records an outcome once; the same again is a replay; bad ones are refused', () => {
    const first = json<{ replay: boolean; outcome: { credits: number; units: number } }>(
      'outcome',
      'alice',
      charge,
      'discarded',
      '--label',
      'concept=fox',
    );
    assert.deepEqual([first.replay, first.outcome.credits, first.outcome.units], [false, 6, 2]);
    const again = run('outcome', 'alice', charge, 'discarded', '--label', 'concept=fox');
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /replay\s+yes/);
    assert.equal(fails('outcome', 'alice', 'txn_nope', 'kept'), 'unknown_transaction');
    assert.equal(fails('outcome', 'alice', grantTx, 'kept'), 'not_a_charge');
    assert.equal(fails('outcome', 'alice', charge, 'lost'), 'invalid_argument');
  });

  it('a statement balances, as a table and as JSON', () => {
    const r = run('statement', 'alice');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /granted\s+100 {2}\(purchase 100\)/);
    assert.match(r.stdout, /check\s+0 \+ 100 - 6 - 0 - 0 = 94/);
    const s = json<{ opening: number; closing: number; period: { basis: string } }>(
      'statement',
      'alice',
    );
    assert.deepEqual([s.opening, s.closing, s.period.basis], [0, 94, 'month']);
    const range = json<{ spent: { credits: number } }>(
      'statement',
      'alice',
      '--from',
      '2020-01-01',
      '--until',
      '2020-02-01',
    );
    assert.equal(range.spent.credits, 0);
    assert.equal(
      fails('statement', 'alice', '--cycle', '1', '--from', '2020-01-01'),
      'invalid_argument',
    );
    assert.equal(fails('statement', 'nobody'), 'unknown_account');
  });

  it('an audit shows usage by dimension and the findings with their numbers', () => {
    const r = run('audit', 'alice');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /image\.generate\s+6\s+2\s+0\s+\+6\s+new/);
    assert.match(r.stdout, /4k\s+6\s+2/);
    assert.match(r.stdout, /mia\s+6\s+2/);
    assert.match(r.stdout, /high_resolution_exploration\s+6\s+4/);
    const a = json<{ findings: { kind: string; credits: number; savingCredits: number }[] }>(
      'audit',
      'alice',
    );
    assert.deepEqual(
      a.findings.map((f) => [f.kind, f.credits, f.savingCredits]),
      [['high_resolution_exploration', 6, 4]],
    );
  });

  it('daily-usage: a table a day with the cycle total, --json, bad input refused', () => {
    const r = run('daily-usage', 'alice', '--by', 'member');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /by\s+member/);
    assert.match(r.stdout, /day\s+credits\s+mia/);
    assert.match(r.stdout, /total\s+6\s+6/);
    const d = json<{
      by: string;
      credits: number;
      series: { key: string }[];
      days: { credits: number }[];
    }>('daily-usage', 'alice');
    assert.deepEqual(
      [d.by, d.credits, d.series.map((x) => x.key)],
      ['operation', 6, ['image.generate']],
    );
    assert.equal(
      d.days.reduce((sum, x) => sum + x.credits, 0),
      6,
    );
    assert.equal(fails('daily-usage', 'alice', '--by', 'resolution'), 'invalid_argument');
    assert.equal(fails('daily-usage', 'alice', '--cycle', '900'), 'invalid_argument');
    assert.equal(fails('daily-usage', 'nobody'), 'unknown_account');
  });

  it('advise and forecast: the forecast with its figures; bad accounts refused', () => {
    // No plan: the forecast only, against the end of the calendar month.
    const r = run('advise', 'alice');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /plan\s+none/);
    assert.match(r.stdout, /closed cycles: none/);
    assert.match(r.stdout, /available\s+94/);
    const a = json<{ plan: null; advice: { kind: string; figures: { available: number } }[] }>(
      'advise',
      'alice',
    );
    assert.deepEqual(
      [a.plan, a.advice.map((x) => [x.kind, x.figures.available])],
      [null, [[a.advice[0]!.kind, 94]]],
    );
    const f = json<{ forecast: { kind: string; figures: { spentSoFarThisCycle: number } } }>(
      'forecast',
      'alice',
    );
    assert.equal(f.forecast.figures.spentSoFarThisCycle, 6);
    assert.match(run('forecast', 'alice').stdout, /spent this cycle\s+6 since/);
    assert.equal(fails('advise', 'nobody'), 'unknown_account');
    assert.equal(fails('forecast', 'nobody'), 'unknown_account');
  });

  it('rollups rebuild: one account, or those waiting since the migration; migrate hints at it', () => {
    const one = json<{ accounts: number; transactions: number }>('rollups', 'rebuild', 'alice');
    assert.deepEqual([one.accounts, one.transactions], [1, 2]);
    // An account whose journal predates migration 10 is marked like this by the migration.
    const markPending = () => {
      const conn = new Database(db);
      conn.prepare('INSERT INTO rollups_pending (account_id) VALUES (?)').run('alice');
      conn.close();
    };
    markPending();
    // The first report rebuilds it.
    assert.equal(json<{ closing: number }>('statement', 'alice').closing, 94);
    assert.equal(json<{ accounts: number }>('rollups', 'rebuild').accounts, 0);
    markPending();
    const m = run('migrate');
    assert.equal(m.status, 0, m.stderr);
    assert.match(m.stderr, /hint: .*amisi rollups rebuild/);
    const pending = json<{ accounts: number }>('rollups', 'rebuild');
    assert.equal(pending.accounts, 1);
    assert.doesNotMatch(run('migrate').stderr, /rollups/);
    assert.equal(json<{ accounts: number }>('rollups', 'rebuild').accounts, 0);
    assert.equal(json<{ accounts: number }>('rollups', 'rebuild', '--all').accounts, 1);
    assert.equal(json<{ closing: number }>('statement', 'alice').closing, 94);
    assert.equal(fails('rollups', 'rebuild', 'alice', '--all'), 'invalid_argument');
    assert.equal(fails('rollups', 'rebuild', 'nobody'), 'unknown_account');
  });
});
