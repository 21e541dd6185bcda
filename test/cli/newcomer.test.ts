import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, tempDir } from '../helpers.js';
import { amisi } from './cli-helpers.js';

/** What a newcomer sees first: help, version, one-line errors, and the output details. */

const { dir, cleanup } = tempDir('amisi-newcomer-');
const db = join(dir, 'amisi.db');
const run = (...args: string[]) => amisi(db, args);
const json = (...args: string[]) => amisi(db, ['--json', ...args]);

before(() => {
  assert.equal(run('init').status, 0);
  assert.equal(run('accounts', 'create', 'nia').status, 0);
  assert.equal(run('grant', 'nia', '100', '--source', 'promotion', '--key', 'g-1').status, 0);
});
after(cleanup);

/** One line on stderr, and no stack trace. */
function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, stderr);
  return lines[0]!;
}

describe('amisi without a command, --version, unknown commands', () => {
  it('amisi alone prints the help and exits 0', () => {
    const r = run();
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Usage: amisi \[options\] \[command\]/);
    assert.doesNotMatch(r.stdout + r.stderr, /outputHelp/);
  });
  it('a command group alone prints its help and exits 0', () => {
    const r = run('catalog');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Usage: amisi catalog/);
  });
  it('--version (and -V) print the package version', () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    for (const flag of ['--version', '-V']) {
      const r = run(flag);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, `${version}\n`);
    }
    // A command's own --version is still its own.
    const show = run('catalog', 'show', '--version', 'nope');
    assert.equal(show.status, 3);
    assert.match(show.stderr, /unknown_catalog/);
  });
  it('an unknown command is one line, with the suggestion', () => {
    const r = run('statment', 'nia');
    assert.equal(r.status, 2);
    assert.equal(
      oneLine(r.stderr),
      "error [invalid_argument]: unknown command 'statment'; did you mean statement? Check the command usage with --help.",
    );
  });
});

describe('amisi serve on a port in use', () => {
  it('is address_in_use in one line with what to do, not an internal error', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const r = run('serve', '--port', String(port), '--log-level', 'silent');
      assert.equal(r.status, 4);
      const line = oneLine(r.stderr);
      assert.match(line, /^error \[address_in_use\]: 127\.0\.0\.1:\d+ is already in use\. /);
      assert.match(line, /choose another --port/);
      const j = amisi(db, ['--json', 'serve', '--port', String(port), '--log-level', 'silent']);
      assert.equal(j.json<{ error: { code: string } }>().error.code, 'address_in_use');
    } finally {
      taken.close();
    }
  });
});

describe('output details', () => {
  it('packs show the cents per credit exactly', () => {
    const r = run('packs');
    assert.equal(r.status, 0, r.stderr);
    const perCredit = Object.fromEntries(
      r.stdout
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(/\s{2,}/))
        .map((cells) => [cells[0], cells[3]]),
    );
    assert.deepEqual(perCredit, {
      'pack-20': '49.95',
      'pack-50': '39.98',
      'pack-100': '34.99',
      'pack-200': '29.995',
    });
  });
  it('plan-phases compares 4K finals with 8K finals too', () => {
    const r = run('plan-phases', '--finals', '10', '--resolution', '4k');
    assert.match(r.stdout, /saving\s+140 credits \(51\.85%\)/);
    assert.match(
      r.stdout,
      /finals at 8k\s+140 credits against 360 all at 8k: 220 saved \(61\.11%\)/,
    );
    const j = json('plan-phases', '--finals', '10', '--resolution', '4k').json<{
      higherResolutions: { resolution: string; savingBasisPoints: number }[];
    }>();
    assert.deepEqual(
      j.higherResolutions.map((h) => [h.resolution, h.savingBasisPoints]),
      [['8k', 6111]],
    );
  });
  it('an invalid amount of credits says it once', () => {
    const r = run('grant', 'nia', '0', '--source', 'promotion', '--key', 'g-0');
    assert.equal(r.status, 2);
    const line = oneLine(r.stderr);
    assert.match(
      line,
      /^error \[invalid_credits\]: credits must be a whole number greater than zero/,
    );
    assert.equal(line.match(/greater than zero/g)?.length, 1, line);
  });
  it('a negative count is out of range, not "not a whole number"', () => {
    const r = run('quote', 'image.generate', '--count', '-2');
    assert.equal(r.status, 2);
    assert.match(oneLine(r.stderr), /count must be from 1 to 100 for image\.generate, got -2/);
    const batch = run('batch', 'quote', '--item', 'image.generate count=-2');
    assert.match(oneLine(batch.stderr), /count must be from 1 to 100/);
  });
  it('one credit is "1 credit" (quote total, the export)', () => {
    const c = run('charge', 'nia', 'image.generate', '--resolution', '720p', '--key', 'one');
    assert.equal(c.status, 0, c.stderr);
    assert.match(c.stdout, /priced\s+image\.generate resolution=720p x1 = 1 credit\n/);
    const q = run('quote', 'image.generate', '--resolution', '720p');
    assert.match(q.stdout, /total 1 credit \(catalog/);
    const csv = run('export', 'nia', '--csv');
    assert.match(csv.stdout, /charged 1 credit for /);
    assert.doesNotMatch(csv.stdout, /\b1 credits\b/);
  });
  it('catalog validate names each path once', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{"version":"x"}');
    const r = run('catalog', 'validate', file);
    assert.equal(r.status, 6);
    const line = oneLine(r.stderr);
    assert.match(line, /has 4 problems: \/currency: Expected required property; /);
    for (const path of ['/currency', '/operations', '/plans', '/packs']) {
      assert.equal(line.split(`${path}:`).length - 1, 1, `${path} once in: ${line}`);
    }
  });
  it('webhooks deliveries show the event type', () => {
    const add = run(
      'webhooks',
      'add',
      'http://127.0.0.1:9/hooks',
      '--events',
      'charge.created',
      '--key',
      'hooks-nia',
    );
    assert.equal(add.status, 0, add.stderr);
    assert.equal(run('charge', 'nia', '--credits', '1', '--key', 'hooked').status, 0);
    const r = run('webhooks', 'deliveries');
    assert.equal(r.status, 0, r.stderr);
    const [header, row] = r.stdout.split('\n');
    assert.match(header!, /delivery\s+account\s+endpoint\s+event\s+status/);
    assert.match(row!, /\scharge\.created\s+pending\s/);
    assert.doesNotMatch(row!, /\sevt_/);
  });
});

describe('parameters: defaults shown, values matched ignoring case', () => {
  it('catalog show marks the default of each priced parameter', () => {
    const r = run('catalog', 'show');
    assert.match(r.stdout, /image\.generate\s+resolution=1080p \(default\)\s+2/);
    assert.match(r.stdout, /image\.generate\s+resolution=4k\s+3/);
  });
  it('a quote and a charge without --resolution say 1080p is the default', () => {
    const q = run('quote', 'image.generate');
    assert.match(q.stdout, /image\.generate\s+resolution=1080p \(default\)\s+2\s+1\s+2/);
    const c = run('charge', 'nia', 'image.generate', '--key', 'dflt');
    assert.match(c.stdout, /priced\s+image\.generate resolution=1080p \(default\) x1 = 2 credits/);
  });
  it('4K (as the seed writes it) is the catalog\u2019s 4k, recorded as 4k', () => {
    const q = json('quote', 'image.generate', '--resolution', '4K', '--count', '2');
    assert.equal(q.status, 0, q.stdout);
    const quoted = q.json<{ credits: number; lines: { params: Record<string, string> }[] }>();
    assert.equal(quoted.credits, 6);
    assert.deepEqual(quoted.lines[0]!.params, { resolution: '4k' });
    const c = json('charge', 'nia', 'image.generate', '--resolution', '4K', '--key', 'big');
    assert.equal(c.status, 0, c.stdout);
    const charged = c.json<{ quote: { lines: { params: Record<string, string> }[] } }>();
    assert.deepEqual(charged.quote.lines[0]!.params, { resolution: '4k' });
    const history = json('history', 'nia', '--kind', 'charge').json<{
      transactions: { detail: { lines?: { params: Record<string, string> }[] } }[];
    }>();
    assert.ok(!JSON.stringify(history).includes('"4K"'), 'the journal keeps the catalog spelling');
    const unknown = run('quote', 'image.generate', '--resolution', '16K');
    assert.equal(unknown.status, 2);
    assert.match(oneLine(unknown.stderr), /resolution "16K" is not one of 720p, 1080p, 4k, 8k/);
  });
});
