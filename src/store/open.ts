import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AmisiError } from '../core/errors.js';
import type { Store } from '../ledger/store.js';
import { PostgresStore } from './postgres/postgres-store.js';
import {
  AMISI_APPLICATION_ID,
  inspectSqliteFile,
  SqliteStore,
  type SqliteOptions,
} from './sqlite/sqlite-store.js';

export interface OpenStoreOptions {
  /** SQLite file (default ./amisi.db). */
  readonly db?: string;
  /** postgres://... : use PostgreSQL instead of SQLite. */
  readonly databaseUrl?: string;
  readonly synchronous?: SqliteOptions['synchronous'];
  /** Create the database when it does not exist (amisi init); otherwise it must exist. */
  readonly create?: boolean;
}

function invalid(message: string, path: string): AmisiError {
  return new AmisiError('invalid_argument', message, { field: 'db', value: path });
}

/**
 * Checks a SQLite path before anything writes to it: only `create` may make a new file, and
 * an existing file must be an Amisi database (or, for `create`, an empty one). Another
 * program's database is never touched, not even switched to WAL.
 */
function checkSqlitePath(path: string, create: boolean): void {
  if (path.trim() === '' || path === ':memory:') throw invalid('the database path is empty', path);
  if (!existsSync(path)) {
    if (!create) {
      throw new AmisiError('not_initialized', `no database at ${resolve(path)}`, { db: path });
    }
    const folder = dirname(resolve(path));
    if (!existsSync(folder) || !statSync(folder).isDirectory()) {
      throw invalid(`the folder ${folder} does not exist`, path);
    }
    return;
  }
  if (!statSync(path).isFile()) throw invalid(`${path} is not a file`, path);
  const facts = inspectSqliteFile(path);
  const ours = facts.applicationId === AMISI_APPLICATION_ID;
  if (!ours && facts.tables.length > 0) {
    throw invalid(`${path} is another program's database; give amisi its own file`, path);
  }
  if (!ours && !create) {
    throw new AmisiError('not_initialized', `${resolve(path)} is not initialized`, { db: path });
  }
}

/** The one place that chooses an adapter (entry points call this; nothing else does). */
export async function openStore(options: OpenStoreOptions = {}): Promise<Store> {
  if (options.databaseUrl !== undefined && options.databaseUrl !== '') {
    if (!/^postgres(ql)?:\/\//.test(options.databaseUrl)) {
      throw new AmisiError('invalid_argument', 'the database URL must start with postgres://', {
        field: 'database-url',
      });
    }
    const store = new PostgresStore({ url: options.databaseUrl });
    try {
      await store.migrate();
    } catch (e) {
      await store.close();
      throw e;
    }
    return store;
  }
  const path = options.db ?? 'amisi.db';
  checkSqlitePath(path, options.create ?? false);
  const store = new SqliteStore({
    path,
    ...(options.synchronous ? { synchronous: options.synchronous } : {}),
  });
  await store.migrate();
  return store;
}
