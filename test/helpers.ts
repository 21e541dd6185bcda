import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ledger } from '../src/ledger/ledger.js';
import { FakeClock } from '../src/ledger/ports.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';

/** The repository root (tests run from dist/test/...). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function defaultCatalog(): unknown {
  return JSON.parse(readFileSync(join(ROOT, 'catalog', 'default.json'), 'utf8'));
}

export function tempDir(prefix = 'amisi-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A ledger on a fresh SQLite file with the default catalog loaded and a fake clock. */
export async function freshLedger(options: { maxBatch?: number; path?: string } = {}) {
  const { dir, cleanup } = tempDir();
  const path = options.path ?? join(dir, 'test.db');
  const store = new SqliteStore({ path });
  await store.migrate();
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const ledger = new Ledger({
    store,
    clock,
    ...(options.maxBatch ? { committer: { maxBatch: options.maxBatch } } : {}),
  });
  await ledger.loadCatalog(defaultCatalog());
  return {
    ledger,
    store,
    clock,
    path,
    dir,
    async close() {
      await ledger.close();
      cleanup();
    },
  };
}
