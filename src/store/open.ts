import { AmisiError } from '../core/errors.js';
import type { Store } from '../ledger/store.js';
import { SqliteStore, type SqliteOptions } from './sqlite/sqlite-store.js';

export interface OpenStoreOptions {
  /** SQLite file (default ./amisi.db). */
  readonly db?: string;
  readonly synchronous?: SqliteOptions['synchronous'];
}

/** The one place that chooses an adapter (entry points call this; nothing else does). */
export async function openStore(options: OpenStoreOptions = {}): Promise<Store> {
  const path = options.db ?? 'amisi.db';
  if (/^postgres(ql)?:\/\//.test(path)) {
    throw new AmisiError('invalid_argument', 'PostgreSQL is not supported by this build yet', {
      field: 'db',
    });
  }
  const store = new SqliteStore({
    path,
    ...(options.synchronous ? { synchronous: options.synchronous } : {}),
  });
  await store.migrate();
  return store;
}
