import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ROOT, tempDir } from '../helpers.js';

/**
 * `prepare` runs `node scripts/build-stamp.mjs --check || npm run build`: the first `npx amisi`
 * in a clone (npm links the clone into its npx cache and runs `prepare`) must not rebuild what
 * `npm install` built. The script runs here on a copy of itself in a project of a few files.
 */

const { dir, cleanup } = tempDir('amisi-stamp-');
after(cleanup);

function write(path: string, text: string): void {
  mkdirSync(dirname(join(dir, path)), { recursive: true });
  writeFileSync(join(dir, path), text);
}

function stamp(mode: string): { status: number; stdout: string } {
  const r = spawnSync(process.execPath, [join(dir, 'scripts', 'build-stamp.mjs'), mode], {
    encoding: 'utf8',
  });
  return { status: r.status ?? -1, stdout: r.stdout };
}

describe('the build stamp', () => {
  mkdirSync(join(dir, 'scripts'), { recursive: true });
  copyFileSync(join(ROOT, 'scripts', 'build-stamp.mjs'), join(dir, 'scripts', 'build-stamp.mjs'));
  write('package.json', '{"name":"x"}');
  write('tsconfig.json', '{}');
  write('src/a.ts', 'export const a = 1;');
  write('web/src/main.tsx', 'export {};');
  // What a build leaves.
  for (const out of [
    'dist/src/cli/main.js',
    'dist/src/index.js',
    'dist/web/index.html',
    'dist/embed/amisi-embed.js',
    'dist/examples/embed/index.html',
  ]) {
    write(out, '');
  }

  it('a build that wrote the stamp is up to date: prepare does not rebuild', () => {
    assert.equal(stamp('--check').status, 1, 'no stamp yet: build');
    assert.equal(stamp('--write').status, 0);
    const fresh = stamp('--check');
    assert.equal(fresh.status, 0);
    assert.match(fresh.stdout, /dist\/ is up to date with the sources/);
  });

  it('a changed, added or removed source means a build', () => {
    write('src/a.ts', 'export const a = 2;');
    assert.equal(stamp('--check').status, 1);
    stamp('--write');
    write('web/src/b.ts', 'export {};');
    assert.equal(stamp('--check').status, 1);
    stamp('--write');
    rmSync(join(dir, 'web/src/b.ts'));
    assert.equal(stamp('--check').status, 1);
    stamp('--write');
    write('package.json', '{"name":"x","version":"2"}');
    assert.equal(stamp('--check').status, 1);
    stamp('--write');
    assert.equal(stamp('--check').status, 0);
  });

  it('a build that started and did not finish, or a missing output, means a build', () => {
    assert.equal(stamp('--clear').status, 0);
    assert.equal(stamp('--check').status, 1);
    stamp('--write');
    rmSync(join(dir, 'dist/web/index.html'));
    assert.equal(stamp('--check').status, 1);
  });

  it('the package scripts use it: build clears and writes, prepare checks first', () => {
    const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    assert.equal(scripts.prepare, 'node scripts/build-stamp.mjs --check || npm run build');
    assert.match(
      scripts.build!,
      /^node scripts\/build-stamp\.mjs --clear && .* && node scripts\/build-stamp\.mjs --write$/,
    );
  });
});
