// Runs every compiled test file with node's test runner (Node 20 has no --test globs).
// PostgreSQL: tests use DATABASE_URL when it is set; otherwise this starts a throwaway cluster
// from the installed binaries for the run and removes it afterwards. Where PostgreSQL is not
// installed the PostgreSQL tests are skipped with one line saying so, unless
// AMISI_REQUIRE_POSTGRES=1 (CI), which makes that a failure.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startCluster } from './pg-cluster.mjs';

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const only = process.argv.slice(2);
// tsc leaves the output of a deleted test behind: run only tests whose source is still there.
const [files, stale] = [[], []];
for (const f of find('dist')) {
  if (only.length > 0 && !only.some((o) => f.includes(o))) continue;
  (existsSync(f.replace(/^dist[\\/]/, '').replace(/\.js$/, '.ts')) ? files : stale).push(f);
}
if (stale.length > 0) console.log(`not run (their source is gone): ${stale.join(', ')}`);
if (files.length === 0) {
  console.error('no test files found under dist/ (did the build run?)');
  process.exit(1);
}

let cluster = null;
const env = { ...process.env };
if (!env.DATABASE_URL) {
  cluster = await startCluster();
  if (cluster) {
    env.DATABASE_URL = cluster.url;
    console.log(`PostgreSQL: throwaway cluster at ${cluster.url}`);
  } else if (env.AMISI_REQUIRE_POSTGRES === '1') {
    console.error('PostgreSQL is required (AMISI_REQUIRE_POSTGRES=1) but is not installed');
    process.exit(1);
  } else {
    console.log('PostgreSQL is not installed: the PostgreSQL tests are skipped');
    env.AMISI_NO_POSTGRES = '1';
  }
}
let status = 1;
try {
  const result = spawnSync(
    process.execPath,
    ['--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
    { stdio: 'inherit', env },
  );
  status = result.status ?? 1;
} finally {
  cluster?.stop();
}
process.exit(status);
