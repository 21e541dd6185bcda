import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { errorTable } from '../../src/core/errors.js';
import { tempDir } from '../helpers.js';
import { amisi, snapshot } from './cli-helpers.js';

/**
 * amisi check: the table (allowed, lines, blocked by, balance after), exit 0 when allowed and
 * the blocking code's exit otherwise; --hold reserves (replayed by its key); a plain check
 * writes nothing; bad input exits with its code and changes nothing.
 */

const { dir, cleanup } = tempDir('amisi-cli-check-');
const db = join(dir, 'amisi.db');
const run = (...args: string[]) => amisi(db, args);
const json = (...args: string[]) => amisi(db, ['--json', ...args]);

interface Check {
  allowed: boolean;
  credits: number;
  available: number;
  availableAfter: number;
  blockedBy: { reason: string; code: string } | null;
  hold: { id: string; credits: number } | null;
  replay: boolean;
}

before(() => {
  assert.equal(run('init').status, 0);
  assert.equal(run('accounts', 'create', 'alice').status, 0);
  assert.equal(run('grant', 'alice', '10', '--source', 'purchase', '--key', 'g-1').status, 0);
});
after(cleanup);

describe('amisi check', () => {
  it('allowed: the lines and the balance after, exit 0, nothing written', () => {
    const before = snapshot(db);
    const r = run('check', 'alice', 'image.generate', '--resolution', '4k', '--count', '2');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^allowed +yes$/m);
    assert.match(r.stdout, /^line +image\.generate resolution=4k x2 = 6 credits$/m);
    assert.match(r.stdout, /^available after +4$/m);
    assert.doesNotMatch(r.stdout, /blocked by/);
    assert.equal(snapshot(db), before, 'a check writes nothing');
  });

  it('blocked by credits: the table says why, and the exit is the code’s', () => {
    const before = snapshot(db);
    const r = run('check', 'alice', '--credits', '11');
    assert.equal(r.status, errorTable.insufficient_credits.exit);
    assert.match(r.stdout, /^allowed +no$/m);
    assert.match(r.stdout, /^blocked by +credits \(insufficient_credits\): /m);
    const j = json('check', 'alice', '--credits', '11');
    assert.equal(j.status, 5);
    const c = j.json<Check>();
    assert.deepEqual(
      [c.allowed, c.blockedBy?.code, c.availableAfter],
      [false, 'insufficient_credits', -1],
    );
    assert.equal(snapshot(db), before);
  });

  it('--hold reserves; the same key replays; blocked it holds nothing', () => {
    const first = json('check', 'alice', '--credits', '3', '--hold', '--key', 'job-1');
    assert.equal(first.status, 0, first.stdout);
    const c = first.json<Check>();
    assert.equal(c.hold?.credits, 3);
    const again = json('check', 'alice', '--credits', '3', '--hold', '--key', 'job-1');
    assert.deepEqual(
      [again.json<Check>().hold?.id, again.json<Check>().replay],
      [c.hold?.id, true],
    );
    const reused = run('check', 'alice', '--credits', '4', '--hold', '--key', 'job-1');
    assert.equal(reused.status, errorTable.idempotency_key_reused.exit);
    const before = snapshot(db);
    const blocked = json('check', 'alice', '--credits', '8', '--hold', '--key', 'job-2');
    assert.equal(blocked.status, 5);
    assert.equal(blocked.json<Check>().hold, null);
    assert.equal(snapshot(db), before, 'a blocked check-and-hold writes nothing');
  });

  it('bad input exits with its code and changes nothing', () => {
    const before = snapshot(db);
    const unknown = run('check', 'alice', 'image.teleport');
    assert.equal(unknown.status, errorTable.unknown_operation.exit);
    assert.match(unknown.stderr, /^error \[unknown_operation\]/);
    assert.equal(run('check', 'nobody', '--credits', '1').status, errorTable.unknown_account.exit);
    assert.equal(run('check', 'alice', '--credits', '1', '--hold').status, 2, 'needs --key');
    assert.equal(run('check', 'alice', '--credits', '1', '--key', 'k').status, 2, 'with --hold');
    assert.equal(snapshot(db), before);
  });
});
