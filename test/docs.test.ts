import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { errorTable, type ErrorCode } from '../src/core/errors.js';
import { amisi } from './cli/cli-helpers.js';
import { ROOT, tempDir } from './helpers.js';

describe('README', () => {
  it('the exit code table lists every error code under its exit code', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const listed = new Map<string, number>();
    for (const line of readme.split('\n')) {
      const row = /^\|\s*(\d+)\s*\|(.*)\|\s*$/.exec(line);
      if (!row) continue;
      for (const word of row[2]!.match(/[a-z_]+/g) ?? []) {
        if (word in errorTable) listed.set(word, Number(row[1]));
      }
    }
    for (const [code, info] of Object.entries(errorTable)) {
      assert.equal(listed.get(code), info.exit, `${code} (exit ${info.exit}) in the README table`);
    }
    assert.equal(listed.size, Object.keys(errorTable).length);
    const _exhaustive: ErrorCode[] = [...listed.keys()] as ErrorCode[];
    assert.ok(_exhaustive.length > 0);
  });
});

/** `npx amisi ...` lines of the README whose output does not depend on time, ids or state. */
const DETERMINISTIC = ['quote', 'batch quote', 'packs-for', 'plan-phases', 'guide', 'simulate'];

/** Words of a shell line: single quotes group, an unquoted `#` after a space starts a comment. */
function words(line: string): string[] {
  const out: string[] = [];
  let word: string | null = null;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === "'") quoted = false;
      else word += c;
    } else if (c === "'") {
      quoted = true;
      word ??= '';
    } else if (c === ' ') {
      if (word !== null) out.push(word);
      word = null;
    } else if (c === '#' && word === null) {
      break;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== null) out.push(word);
  return out;
}

/** Each example with the output lines shown under it (`#   ...`), without elisions. */
function examples(readme: string): { args: string[]; expected: string[] }[] {
  const lines = readme.split('\n');
  const found: { args: string[]; expected: string[] }[] = [];
  lines.forEach((line, i) => {
    if (!line.startsWith('npx amisi ')) return;
    const args = words(line).slice(2);
    if (!DETERMINISTIC.some((c) => args.join(' ').startsWith(c))) return;
    const expected: string[] = [];
    for (let j = i + 1; j < lines.length && /^#( |$)/.test(lines[j]!); j++) {
      const shown = lines[j]!.replace(/^# {0,3}/, '').replace(/\s+\(\d+ (rows|cycles)\)$/, '');
      if (shown.trim() !== '' && !shown.includes('...')) expected.push(shown.trimEnd());
    }
    if (expected.length > 0) found.push({ args, expected });
  });
  return found;
}

describe('README examples', () => {
  it('show what the commands print today (quotes, advice, planners, simulate)', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const { dir, cleanup } = tempDir('amisi-docs-');
    try {
      const db = join(dir, 'amisi.db');
      assert.equal(amisi(db, ['init']).status, 0);
      const all = examples(readme);
      assert.ok(all.length >= 5, `found ${all.length} examples`);
      for (const { args, expected } of all) {
        const r = amisi(db, args);
        assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
        for (const line of expected) {
          assert.ok(
            r.stdout.includes(line),
            `npx amisi ${args.join(' ')} prints\n${line}\n\ngot:\n${r.stdout}`,
          );
        }
      }
    } finally {
      cleanup();
    }
  });
});
