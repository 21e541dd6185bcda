import assert from 'node:assert/strict';
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

/**
 * Every charge transaction of the account, idempotency key -> transaction id, read page by
 * page; each charge has its key, and no key is charged twice.
 */
export async function chargesInJournal(
  ledger: Ledger,
  accountId: string,
): Promise<Map<string, string>> {
  const charges = new Map<string, string>();
  let before: string | undefined;
  for (;;) {
    const page = await ledger.history({
      accountId,
      kinds: ['charge'],
      limit: 500,
      ...(before === undefined ? {} : { before }),
    });
    for (const t of page.transactions) {
      assert.ok(t.idempotencyKey, `charge ${t.id} has its key`);
      assert.ok(!charges.has(t.idempotencyKey), `key ${t.idempotencyKey} charged once`);
      charges.set(t.idempotencyKey, t.id);
    }
    if (page.nextCursor === null) return charges;
    before = page.nextCursor;
  }
}
