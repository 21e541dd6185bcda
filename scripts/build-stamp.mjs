// The build stamp: a hash of every input of `npm run build`, written to dist/ when a build
// succeeds. `prepare` builds only when the stamp is missing or differs, so the first `npx amisi`
// in a clone (npm links the project into its npx cache, which runs `prepare` again) does not
// rebuild what `npm install` has just built.
//
//   node scripts/build-stamp.mjs --check   exit 0 if dist/ was built from these exact inputs
//   node scripts/build-stamp.mjs --clear   remove the stamp (a build is starting)
//   node scripts/build-stamp.mjs --write   record the inputs of the build that just succeeded
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const STAMP = join(ROOT, 'dist', '.build-stamp');
/**
 * What tsc and Vite read: the folders tsconfig.json, web/tsconfig.json, web/embed and
 * examples/embed include, and config.
 */
const INPUTS = [
  'src',
  'test',
  'bench',
  'web/src',
  'web/index.html',
  'web/vite.config.ts',
  'web/tsconfig.json',
  'web/embed',
  'examples/embed',
  'scripts/compress-web.mjs',
  'tsconfig.json',
  'package.json',
  'package-lock.json',
];
/** The outputs a build must have left; a stamp without them is not trusted. */
const OUTPUTS = [
  'dist/src/cli/main.js',
  'dist/src/index.js',
  'dist/web/index.html',
  'dist/embed/amisi-embed.js',
  'dist/examples/embed/index.html',
];

function files(path) {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((name) => files(join(path, name)));
}

function inputsHash() {
  const hash = createHash('sha256');
  for (const file of INPUTS.flatMap((p) => files(join(ROOT, p)))) {
    // The path and the length delimit each file, so moving bytes between files changes the hash.
    const content = readFileSync(file);
    hash.update(`${relative(ROOT, file)}\0${content.length}\0`);
    hash.update(content);
  }
  return hash.digest('hex');
}

const mode = process.argv[2];
if (mode === '--check') {
  const fresh =
    existsSync(STAMP) &&
    OUTPUTS.every((p) => existsSync(join(ROOT, p))) &&
    readFileSync(STAMP, 'utf8').trim() === inputsHash();
  if (fresh)
    console.log('dist/ is up to date with the sources (dist/.build-stamp): not rebuilding');
  process.exit(fresh ? 0 : 1);
} else if (mode === '--clear') {
  rmSync(STAMP, { force: true });
} else if (mode === '--write') {
  writeFileSync(STAMP, inputsHash() + '\n');
} else {
  console.error('usage: node scripts/build-stamp.mjs --check | --clear | --write');
  process.exit(2);
}
