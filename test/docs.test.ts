import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { errorTable, type ErrorCode } from '../src/core/errors.js';
import { ROOT } from './helpers.js';

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
