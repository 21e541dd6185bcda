import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { errorTable, type ErrorCode } from '../../src/core/errors.js';
import { tempDir } from '../helpers.js';
import { amisi, snapshot } from './cli-helpers.js';

const { dir, cleanup } = tempDir('amisi-cli-');
const db = join(dir, 'amisi.db');
const run = (...args: string[]) => amisi(db, args);
const json = (...args: string[]) => amisi(db, ['--json', ...args]);

interface Hold {
  hold: { id: string; status: string; credits: number; capturedCredits: number };
  replay: boolean;
}

let holdId = '';

before(() => {
  assert.equal(run('init').status, 0);
  assert.equal(run('accounts', 'create', 'alice').status, 0);
  assert.equal(run('grant', 'alice', '50', '--source', 'purchase', '--key', 'g-1').status, 0);
  const h = json('hold', 'alice', '--credits', '5', '--key', 'h-1');
  assert.equal(h.status, 0, h.stdout);
  holdId = h.json<Hold>().hold.id;
});
after(cleanup);

describe('amisi quote', () => {
  it('4k x 2 is 6 credits with its line and the catalog version', () => {
    const r = json('quote', 'image.generate', '--resolution', '4k', '--count', '2');
    assert.equal(r.status, 0);
    const q = r.json<{
      credits: number;
      catalogVersion: string;
      lines: { unitCredits: number; count: number }[];
    }>();
    assert.equal(q.credits, 6);
    assert.equal(q.catalogVersion, 'default-2026-11');
    assert.deepEqual(
      q.lines.map((l) => [l.unitCredits, l.count]),
      [[3, 2]],
    );
  });
  for (const [resolution, credits] of [
    ['720p', 1],
    ['1080p', 2],
    ['8k', 4],
  ] as const) {
    it(`${resolution} costs ${credits} per image`, () => {
      const r = json('quote', 'image.generate', '--resolution', resolution);
      assert.equal(r.json<{ credits: number }>().credits, credits);
    });
  }
  it('prints an aligned table for people', () => {
    const r = run('quote', 'image.generate', '--resolution', '4k', '--count', '2');
    assert.match(r.stdout, /operation\s+parameters\s+unit credits\s+count\s+credits/);
    assert.match(r.stdout, /total 6 credits/);
  });
});

describe('a hold, captured in part, and a charge', () => {
  it('captures 3 of 5 and returns 2; a replay answers the same', () => {
    const c = json('capture', holdId, '--credits', '3', '--key', 'cap-1');
    assert.equal(c.status, 0, c.stdout);
    const body = c.json<Hold & { capturedCredits: number; releasedCredits: number }>();
    assert.deepEqual(
      [body.hold.status, body.capturedCredits, body.releasedCredits, body.replay],
      ['captured', 3, 2, false],
    );
    const again = json('capture', holdId, '--credits', '3', '--key', 'cap-1').json<Hold>();
    assert.equal(again.replay, true);
    assert.equal(again.hold.capturedCredits, 3);
  });
  it('charges by the catalog and shows it in balance and history', () => {
    const c = json(
      'charge',
      'alice',
      'image.generate',
      '--resolution',
      '1080p',
      '--count',
      '2',
      '--key',
      'ch-1',
      '--member',
      'bob',
      '--label',
      'phase=explore',
    );
    assert.equal(c.status, 0, c.stdout);
    assert.equal(c.json<{ credits: number }>().credits, 4);
    const b = json('balance', 'alice').json<{
      available: number;
      held: number;
      grants: unknown[];
    }>();
    assert.deepEqual([b.available, b.held], [50 - 3 - 4, 0]);
    const h = json('history', 'alice', '--kind', 'charge').json<{
      transactions: { kind: string; detail: { attribution: { member: string } } }[];
    }>();
    assert.equal(h.transactions.length, 1);
    assert.equal(h.transactions[0]?.detail.attribution.member, 'bob');
  });
  it('verify is clean and prints its report', () => {
    const r = run('verify');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /conservation\s+holds/);
    assert.match(r.stdout, /verify: clean/);
  });
});

/** Every case: its code, the exit code from the error table, and nothing written. */
const badInput: [string, ErrorCode, string[]][] = [
  ['grant without --key', 'invalid_argument', ['grant', 'alice', '5', '--source', 'purchase']],
  [
    'grant with fractional credits',
    'invalid_credits',
    ['grant', 'alice', '1.5', '--source', 'purchase', '--key', 'x1'],
  ],
  [
    'grant with negative credits',
    'invalid_credits',
    ['grant', 'alice', '-5', '--source', 'purchase', '--key', 'x2'],
  ],
  [
    'grant with zero credits',
    'invalid_credits',
    ['grant', 'alice', '0', '--source', 'purchase', '--key', 'x3'],
  ],
  [
    'grant with words for credits',
    'invalid_credits',
    ['grant', 'alice', 'ten', '--source', 'purchase', '--key', 'x4'],
  ],
  [
    'grant from an unknown source',
    'invalid_argument',
    ['grant', 'alice', '5', '--source', 'gift', '--key', 'x5'],
  ],
  [
    'grant with a bad expiry',
    'invalid_argument',
    ['grant', 'alice', '5', '--source', 'purchase', '--key', 'x6', '--expires', 'tomorrow'],
  ],
  [
    'grant expiring in the past',
    'invalid_argument',
    ['grant', 'alice', '5', '--source', 'purchase', '--key', 'x7', '--expires', '2001-01-01'],
  ],
  [
    'grant to an unknown account',
    'unknown_account',
    ['grant', 'nobody', '5', '--source', 'purchase', '--key', 'x8'],
  ],
  ['grant missing its credits', 'invalid_argument', ['grant', 'alice']],
  [
    'grant reusing a key for another request',
    'idempotency_key_reused',
    ['grant', 'alice', '7', '--source', 'purchase', '--key', 'g-1'],
  ],
  ['quote an unknown operation', 'unknown_operation', ['quote', 'video.generate']],
  [
    'quote an unknown resolution',
    'invalid_parameter',
    ['quote', 'image.generate', '--resolution', '16k'],
  ],
  ['quote a fractional count', 'invalid_argument', ['quote', 'image.generate', '--count', '1.5']],
  ['quote a zero count', 'invalid_parameter', ['quote', 'image.generate', '--count', '0']],
  ['quote a malformed param', 'invalid_argument', ['quote', 'image.generate', '--param', 'oops']],
  [
    'quote an unknown param',
    'invalid_parameter',
    ['quote', 'image.generate', '--param', 'style=noir'],
  ],
  ['quote with no operation', 'invalid_argument', ['quote']],
  ['hold without --key', 'invalid_argument', ['hold', 'alice', '--credits', '1']],
  ['hold with zero credits', 'invalid_credits', ['hold', 'alice', '--credits', '0', '--key', 'y1']],
  [
    'hold with fractional credits',
    'invalid_credits',
    ['hold', 'alice', '--credits', '0.5', '--key', 'y2'],
  ],
  [
    'hold with a bad ttl',
    'invalid_argument',
    ['hold', 'alice', '--credits', '1', '--key', 'y3', '--ttl', 'soon'],
  ],
  [
    'hold with a ttl too long',
    'invalid_argument',
    ['hold', 'alice', '--credits', '1', '--key', 'y4', '--ttl', '30d'],
  ],
  [
    'hold on an unknown account',
    'unknown_account',
    ['hold', 'nobody', '--credits', '1', '--key', 'y5'],
  ],
  [
    'hold more than available',
    'insufficient_credits',
    ['hold', 'alice', '--credits', '1000', '--key', 'y6'],
  ],
  [
    'hold with both credits and an operation',
    'invalid_argument',
    ['hold', 'alice', 'image.edit', '--credits', '1', '--key', 'y7'],
  ],
  ['hold with neither credits nor operation', 'invalid_argument', ['hold', 'alice', '--key', 'y8']],
  ['hold an unknown operation', 'unknown_operation', ['hold', 'alice', 'video', '--key', 'y9']],
  [
    'hold with a bad label',
    'invalid_argument',
    ['hold', 'alice', '--credits', '1', '--key', 'y10', '--label', 'Bad Key=1'],
  ],
  ['capture an unknown hold', 'unknown_hold', ['capture', 'hld_unknown', '--key', 'z1']],
  ['capture without --key', 'invalid_argument', ['capture', 'hld_unknown']],
  [
    'capture fractional credits',
    'invalid_credits',
    ['capture', 'hld_unknown', '--credits', '1.5', '--key', 'z2'],
  ],
  [
    'capture negative credits',
    'invalid_credits',
    ['capture', 'hld_unknown', '--credits', '-1', '--key', 'z3'],
  ],
  ['capture a captured hold', 'hold_already_captured', ['capture', 'HOLD', '--key', 'z4']],
  ['release a captured hold', 'hold_already_captured', ['release', 'HOLD', '--key', 'z5']],
  ['release an unknown hold', 'unknown_hold', ['release', 'hld_unknown', '--key', 'z6']],
  ['charge without --key', 'invalid_argument', ['charge', 'alice', '--credits', '1']],
  [
    'charge more than available',
    'insufficient_credits',
    ['charge', 'alice', '--credits', '999', '--key', 'w1'],
  ],
  [
    'charge an unknown account',
    'unknown_account',
    ['charge', 'nobody', '--credits', '1', '--key', 'w2'],
  ],
  ['charge zero credits', 'invalid_credits', ['charge', 'alice', '--credits', '0', '--key', 'w3']],
  [
    'charge reusing a key for another request',
    'idempotency_key_reused',
    ['charge', 'alice', '--credits', '1', '--key', 'ch-1'],
  ],
  ['balance of an unknown account', 'unknown_account', ['balance', 'nobody']],
  ['balance without an account', 'invalid_argument', ['balance']],
  ['history of an unknown account', 'unknown_account', ['history', 'nobody']],
  ['history with an unknown kind', 'invalid_argument', ['history', 'alice', '--kind', 'teleport']],
  ['history with a bad time', 'invalid_argument', ['history', 'alice', '--since', 'yesterday']],
  ['history with a zero limit', 'invalid_argument', ['history', 'alice', '--limit', '0']],
  ['accounts create with a bad id', 'invalid_argument', ['accounts', 'create', 'bad id!']],
  [
    'accounts create with an unknown plan',
    'invalid_parameter',
    ['accounts', 'create', 'carol', '--plan', 'platinum'],
  ],
  ['an unknown command', 'invalid_argument', ['refund', 'alice']],
  ['an unknown option', 'invalid_argument', ['balance', 'alice', '--verbose']],
  [
    'catalog load of a missing file',
    'catalog_invalid',
    ['catalog', 'load', '/nonexistent/catalog.json'],
  ],
  [
    'quote an operation named like an object property',
    'unknown_operation',
    ['quote', 'constructor'],
  ],
  [
    'charge an operation named like an object property',
    'unknown_operation',
    ['charge', 'alice', 'toString', '--key', 'p1'],
  ],
  [
    'a parameter named like an object property',
    'invalid_parameter',
    ['quote', 'image.generate', '--param', 'toString=x'],
  ],
  [
    'a plan named like an object property',
    'invalid_parameter',
    ['accounts', 'create', 'dave', '--plan', 'constructor'],
  ],
  [
    'a date that does not exist',
    'invalid_argument',
    ['grant', 'alice', '5', '--source', 'purchase', '--key', 'd1', '--expires', '2027-02-31'],
  ],
  [
    'capture of zero credits',
    'invalid_credits',
    ['capture', 'HOLD', '--credits', '0', '--key', 'z9'],
  ],
  ['catalog activate of an unknown version', 'unknown_catalog', ['catalog', 'activate', 'nope']],
  [
    'catalog show of an unknown version',
    'unknown_catalog',
    ['catalog', 'show', '--version', 'nope'],
  ],
];

describe('bad input: a clear code, a non-zero exit from the error table, nothing written', () => {
  before(() => {
    const r = json('charge', 'alice', '--credits', '1', '--key', 'ch-once');
    assert.equal(r.status, 0);
  });
  for (const [name, code, argsTemplate] of badInput) {
    it(`${name}: ${code}`, () => {
      const args = argsTemplate.map((a) => (a === 'HOLD' ? holdId : a));
      const before = snapshot(db);
      const r = json(...args);
      assert.equal(r.status, errorTable[code].exit, `${r.stdout}${r.stderr}`);
      assert.notEqual(r.status, 0);
      const body = r.json<{ error: { code: string; message: string } }>();
      assert.equal(body.error.code, code, body.error.message);
      assert.equal(snapshot(db), before, 'nothing written');
    });
  }

  it('human errors are one line with the code and what to do', () => {
    const r = run('charge', 'alice', '--credits', '999', '--key', 'w9');
    assert.equal(r.status, errorTable.insufficient_credits.exit);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1);
    assert.match(
      lines[0]!,
      /^error \[insufficient_credits\]: .*needs 999 credits and has \d+ available\. /,
    );
  });

  it('a command on a missing database says to run init and creates no file', () => {
    const missing = join(dir, 'missing.db');
    const r = amisi(missing, ['--json', 'balance', 'alice']);
    assert.equal(r.status, errorTable.not_initialized.exit);
    assert.equal(r.json<{ error: { code: string } }>().error.code, 'not_initialized');
    assert.equal(existsSync(missing), false);
  });
});

describe('catalog', () => {
  it('validate names the path and the reason of every problem', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({
        version: 'bad-1',
        currency: 'usd',
        operations: {
          'image.generate': {
            description: 'x',
            unit: 'image',
            params: { resolution: { values: ['720p', '1080p'], default: '4k' } },
            price: { by: 'resolution', table: { '720p': 1, '8k': 4 } },
            maxCount: 10,
          },
        },
        plans: {},
        packs: {},
      }),
    );
    const r = json('catalog', 'validate', bad);
    assert.equal(r.status, errorTable.catalog_invalid.exit);
    const problems = r.json<{ error: { data: { problems: { path: string; reason: string }[] } } }>()
      .error.data.problems;
    const paths = problems.map((p) => p.path).sort();
    assert.deepEqual(paths, [
      '/operations/image.generate/params/resolution/default',
      '/operations/image.generate/price/table',
      '/operations/image.generate/price/table/8k',
    ]);
  });
  it('loading the same version again changes nothing; activate switches versions', () => {
    const v2 = join(dir, 'v2.json');
    const body = json('catalog', 'show').json<{ body: Record<string, unknown> }>().body;
    writeFileSync(v2, JSON.stringify({ ...body, version: 'v2' }));
    assert.equal(json('catalog', 'load', v2).json<{ replay: boolean }>().replay, false);
    const active = () => json('catalog', 'show').json<{ version: string }>().version;
    assert.equal(active(), 'v2');
    assert.equal(json('catalog', 'activate', 'default-2026-11').status, 0);
    assert.equal(active(), 'default-2026-11');
    const retried = json('catalog', 'load', v2);
    assert.equal(retried.json<{ replay: boolean }>().replay, true);
    assert.equal(active(), 'default-2026-11', 'a retried load does not bring old prices back');
  });
  it('a loaded version never changes: other content under the same version is refused', () => {
    const changed = join(dir, 'changed.json');
    const current = json('catalog', 'show').json<{
      body: { operations: Record<string, { maxCount: number }> };
    }>().body;
    current.operations['image.generate']!.maxCount = 7;
    writeFileSync(changed, JSON.stringify(current));
    const before = snapshot(db);
    const r = json('catalog', 'load', changed);
    assert.equal(r.json<{ error: { code: string } }>().error.code, 'catalog_version_exists');
    assert.equal(snapshot(db), before);
  });
});

describe('the database path', () => {
  it("never touches another program's SQLite file", () => {
    const foreign = join(dir, 'other-app.sqlite');
    const conn = new Database(foreign);
    conn.exec('CREATE TABLE users (id INTEGER PRIMARY KEY)');
    conn.close();
    const before = snapshot(foreign);
    for (const args of [['balance', 'alice'], ['init']]) {
      const r = amisi(foreign, ['--json', ...args]);
      assert.equal(r.json<{ error: { code: string } }>().error.code, 'invalid_argument', r.stdout);
    }
    assert.equal(snapshot(foreign), before);
    const check = new Database(foreign, { readonly: true });
    assert.equal(check.pragma('journal_mode', { simple: true }), 'delete');
    check.close();
  });
  it('refuses files that are not databases and folders that do not exist, cleanly', () => {
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'hello, this is not a database at all, just some text '.repeat(20));
    for (const [path, args] of [
      [text, ['balance', 'alice']],
      [join(dir, 'missing-folder', 'x.db'), ['init']],
      ['', ['init']],
    ] as const) {
      const r = amisi(path, ['--json', ...args]);
      assert.equal(r.status, errorTable.invalid_argument.exit, `${path}: ${r.stdout}${r.stderr}`);
    }
  });
  it('an invalid catalog at init leaves no database behind', () => {
    const path = join(dir, 'never.db');
    const bad = join(dir, 'bad-catalog.json');
    writeFileSync(bad, JSON.stringify({ version: 'x' }));
    const r = amisi(path, ['--json', 'init', '--catalog', bad]);
    assert.equal(r.json<{ error: { code: string } }>().error.code, 'catalog_invalid');
    assert.equal(existsSync(path), false);
  });
});

describe('verify finds tampering', () => {
  it('exits non-zero and names the check when a grant disagrees with the journal', () => {
    const conn = new Database(db);
    conn.prepare("UPDATE grants SET remaining = remaining + 1 WHERE account_id = 'alice'").run();
    conn.close();
    const r = json('verify');
    assert.equal(r.status, errorTable.verify_failed.exit);
    const body = r.json<{ ok: boolean; violations: { check: string }[] }>();
    assert.equal(body.ok, false);
    assert.ok(body.violations.some((v) => v.check === 'grant_matches_journal'));
  });
});
