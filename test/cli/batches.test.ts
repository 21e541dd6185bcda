import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { amisi, snapshot } from './cli-helpers.js';

const { dir, cleanup } = tempDir('amisi-cli-batches-');
const db = join(dir, 'amisi.db');
const run = (...args: string[]) => amisi(db, args);
const json = <T>(...args: string[]) => {
  const r = amisi(db, ['--json', ...args]);
  assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  return r.json<T>();
};

interface BatchOut {
  id: string;
  status: string;
  credits: number;
  held: number;
  captured: number;
  released: number;
  expired: number;
  items: { index: number; ref: string | null; status: string; credits: number }[];
}

before(() => {
  assert.equal(run('init').status, 0);
  assert.equal(run('accounts', 'create', 'ivy').status, 0);
  assert.equal(run('grant', 'ivy', '20', '--source', 'purchase', '--key', 'g1').status, 0);
});
after(cleanup);

describe('amisi batch', () => {
  let batchId = '';
  const items = [
    '--item',
    'image.generate resolution=720p count=4 ref=drafts label.phase=explore',
    '--item',
    'image.generate resolution=4k ref=hero',
    '--item',
    'image.edit count=2',
  ];

  it('quote prices each item and the total, from --item or --file', () => {
    const r = run('batch', 'quote', ...items);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /0\s+drafts\s+image\.generate\s+resolution=720p\s+1\s+4\s+4/);
    assert.match(r.stdout, /total 9 credits for 3 items/);
    const file = join(dir, 'items.json');
    writeFileSync(
      file,
      JSON.stringify({
        items: [
          { operation: 'image.generate', params: { resolution: '8k' }, count: 2, ref: 'print' },
        ],
      }),
    );
    const q = json<{ credits: number; items: { ref: string }[] }>('batch', 'quote', '--file', file);
    assert.deepEqual([q.credits, q.items[0]!.ref], [8, 'print']);
  });

  it('bad items are refused with their codes, naming the item', () => {
    const bad = run(
      'batch',
      'quote',
      '--item',
      'image.generate resolution=720p',
      '--item',
      'image.generate resolution=16k',
    );
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /error \[invalid_parameter\]: item 1: /);
    assert.equal(run('batch', 'quote').status, 2, 'no items');
    assert.equal(run('batch', 'quote', '--item', 'resolution=4k').status, 2, 'no operation');
    assert.equal(run('batch', 'quote', '--item', 'image.edit', '--file', 'x.json').status, 2);
  });

  it('hold is all or nothing: a batch that does not fit names the item and writes nothing', () => {
    const before = snapshot(db);
    const r = run(
      'batch',
      'hold',
      'ivy',
      '--key',
      'b1',
      ...items,
      '--item',
      'image.generate resolution=8k count=3',
    );
    assert.equal(r.status, 5);
    assert.match(r.stderr, /insufficient_credits.*item 3 \(image\.generate, 12 credits\)/);
    assert.equal(snapshot(db), before);
  });

  it('holds every item under one key; the same key again is a replay, with other items refused', () => {
    const r = json<{ batch: BatchOut; replay: boolean }>(
      'batch',
      'hold',
      'ivy',
      '--key',
      'b1',
      '--ttl',
      '1h',
      ...items,
    );
    assert.equal(r.replay, false);
    assert.deepEqual([r.batch.status, r.batch.credits, r.batch.held], ['held', 9, 9]);
    assert.deepEqual(
      r.batch.items.map((i) => [i.index, i.ref, i.credits]),
      [
        [0, 'drafts', 4],
        [1, 'hero', 3],
        [2, null, 2],
      ],
    );
    batchId = r.batch.id;
    const again = run('batch', 'hold', 'ivy', '--key', 'b1', '--ttl', '1h', ...items);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /replay\s+yes/);
    const reused = run('batch', 'hold', 'ivy', '--key', 'b1', '--item', 'image.edit');
    assert.equal(reused.status, 4);
    assert.match(reused.stderr, /idempotency_key_reused/);
    assert.equal(json<{ held: number }>('balance', 'ivy').held, 9);
  });

  it('captures and releases item by item, then releases the rest', () => {
    const c = json<{ index: number; capturedCredits: number }>(
      'batch',
      'capture',
      batchId,
      '1',
      '--key',
      'c1',
    );
    assert.deepEqual([c.index, c.capturedCredits], [1, 3]);
    const part = json<{ capturedCredits: number; releasedCredits: number }>(
      'batch',
      'capture',
      batchId,
      '0',
      '--credits',
      '1',
      '--key',
      'c0',
    );
    assert.deepEqual([part.capturedCredits, part.releasedCredits], [1, 3]);
    const before = snapshot(db);
    const again = run('batch', 'capture', batchId, '1', '--key', 'c1b');
    assert.equal(again.status, 4);
    assert.match(again.stderr, /hold_already_captured/);
    const missing = run('batch', 'release', batchId, '3', '--key', 'r3');
    assert.equal(missing.status, 3);
    assert.match(missing.stderr, /unknown_batch_item/);
    assert.equal(run('batch', 'show', 'bat_nope').status, 3);
    assert.equal(snapshot(db), before);

    const shown = run('batch', 'show', batchId);
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /status\s+partial/);
    const rest = run('batch', 'release', batchId, '--key', 'rest');
    assert.equal(rest.status, 0, rest.stderr);
    assert.match(rest.stdout, /this release\s+items 2 \(2 credits\)/);
    const b = json<BatchOut>('batch', 'show', batchId);
    assert.deepEqual(
      [b.status, b.credits, b.held, b.captured, b.released, b.expired],
      ['settled', 9, 0, 4, 5, 0],
    );
    assert.deepEqual(
      b.items.map((i) => i.status),
      ['captured', 'captured', 'released'],
    );
    const late = run('batch', 'release', batchId, '2', '--key', 'r2');
    assert.equal(late.status, 4);
    assert.match(late.stderr, /hold_already_released/);
    const balance = json<{ available: number; held: number }>('balance', 'ivy');
    assert.deepEqual([balance.available, balance.held], [16, 0]);
  });
});
