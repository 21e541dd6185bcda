import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { errorTable } from '../../src/core/errors.js';
import { tempDir } from '../helpers.js';
import { amisi, snapshot } from './cli-helpers.js';

const { dir, cleanup } = tempDir('amisi-cli-insights-');
const db = join(dir, 'amisi.db');
const run = (...args: string[]) => amisi(db, args);
const json = <T>(...args: string[]) => {
  const r = amisi(db, ['--json', ...args]);
  assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  return r.json<T>();
};

/** Runs a failing command with --json; returns its error code after checking the exit code. */
function fails(...args: string[]): string {
  const r = amisi(db, ['--json', ...args]);
  const { error } = r.json<{ error: { code: keyof typeof errorTable } }>();
  assert.equal(r.status, errorTable[error.code].exit, `${args.join(' ')} exits by the table`);
  return error.code;
}

before(() => {
  assert.equal(run('init').status, 0);
});
after(cleanup);

interface Guide {
  catalogVersion: string;
  operation: string;
  guidelines: { use: string; resolution: string; credits: number | null }[];
}

describe('amisi guide', () => {
  it('every use with its resolution and credits, as a table and as JSON', () => {
    const r = run('guide');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /use\s+for\s+resolution\s+credits\/image/);
    assert.match(r.stdout, /thumbnail\s+Web thumbnails\s+720p\s+1\n/);
    assert.match(r.stdout, /large-format\s+Large-format printing\s+8k\s+4\n/);
    const g = json<Guide>('guide');
    assert.equal(g.operation, 'image.generate');
    assert.deepEqual(
      g.guidelines.map((x) => [x.use, x.resolution, x.credits]),
      [
        ['thumbnail', '720p', 1],
        ['small-web', '720p', 1],
        ['web', '1080p', 2],
        ['social', '1080p', 2],
        ['header', '4k', 3],
        ['print', '4k', 3],
        ['large-format', '8k', 4],
        ['editing', '8k', 4],
      ],
    );
  });
  it('one use by id or alias', () => {
    const g = json<Guide>('guide', 'social media');
    assert.deepEqual(
      g.guidelines.map((x) => [x.use, x.resolution, x.credits]),
      [['social', '1080p', 2]],
    );
    assert.match(run('guide', 'print').stdout, /print\s+Print materials\s+4k\s+3/);
  });
  it('an unknown use lists the allowed ones', () => {
    assert.equal(fails('guide', 'moon'), 'invalid_argument');
    const r = run('guide', 'moon');
    assert.match(r.stderr, /use one of thumbnail, small-web, web, social, header, print/);
  });
});

interface Plan {
  phases: { phase: string; resolution: string; images: number; credits: number }[];
  phasedCredits: number;
  allAtFinalCredits: number;
  savingCredits: number;
  savingBasisPoints: number;
}

describe('amisi plan-phases', () => {
  it('10 finals at 4K with the default ratios: 130 against 270, saving 51.85%', () => {
    const r = run('plan-phases', '--finals', '10', '--resolution', '4k');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /explore\s+720p\s+60\s+1\s+60\s+default/);
    assert.match(r.stdout, /refine\s+1080p\s+20\s+2\s+40\s+default/);
    assert.match(r.stdout, /finalize\s+4k\s+10\s+3\s+30\s+given/);
    assert.match(r.stdout, /phased\s+130 credits \(90 images\)/);
    assert.match(r.stdout, /all at 4k\s+270 credits \(90 × 3\)/);
    assert.match(r.stdout, /saving\s+140 credits \(51\.85%\)/);
  });
  it('8K with explicit counts, as JSON', () => {
    const p = json<Plan>(
      'plan-phases',
      '--finals',
      '10',
      '--resolution',
      '8K',
      '--explore',
      '30',
      '--refine',
      '10',
    );
    assert.deepEqual(
      p.phases.map((x) => [x.phase, x.resolution, x.images, x.credits]),
      [
        ['explore', '720p', 30, 30],
        ['refine', '1080p', 10, 20],
        ['finalize', '8k', 10, 40],
      ],
    );
    // 90 against 50 x 4 = 200: saving 110 = 55%.
    assert.deepEqual(
      [p.phasedCredits, p.allAtFinalCredits, p.savingCredits, p.savingBasisPoints],
      [90, 200, 110, 5500],
    );
  });
  it('bad input: codes and exit codes from the table', () => {
    assert.equal(fails('plan-phases', '--finals', '0', '--resolution', '4k'), 'invalid_argument');
    assert.equal(fails('plan-phases', '--finals', '1.5', '--resolution', '4k'), 'invalid_argument');
    assert.equal(fails('plan-phases', '--finals', '2', '--resolution', '16k'), 'invalid_parameter');
    assert.equal(fails('plan-phases', '--resolution', '4k'), 'invalid_argument');
  });
});

interface Combination {
  currency: string;
  lines: { pack: string; count: number; priceCents: number }[];
  credits: number;
  priceCents: number;
  surplus: number;
}

describe('amisi packs-for', () => {
  it('60 credits: 3 × pack-20 (29.97) beats pack-20 + pack-50 (29.98)', () => {
    const c = json<Combination>('packs-for', '60');
    assert.deepEqual(
      c.lines.map((l) => [l.pack, l.count, l.priceCents]),
      [['pack-20', 3, 2997]],
    );
    assert.deepEqual([c.credits, c.priceCents, c.surplus, c.currency], [60, 2997, 0, 'usd']);
  });
  it('shows the arithmetic with money like amisi packs', () => {
    const r = run('packs-for', '101');
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /cheapest\s+1 × pack-20 \(9\.99 USD\) \+ 1 × pack-100 \(34\.99 USD\) = 44\.98 USD/,
    );
    assert.match(r.stdout, /credits\s+120 \(19 more than needed\)/);
    assert.match(r.stdout, /cents\/credit\s+37\.483/);
  });
  it('bad credits are invalid_credits; nothing is written', () => {
    const before = snapshot(db);
    for (const n of ['0', '-3', '1.5', 'ten', '1000001']) {
      assert.equal(fails('packs-for', n), 'invalid_credits', n);
    }
    assert.equal(snapshot(db), before);
  });
});
