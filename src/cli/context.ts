import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AmisiError } from '../core/errors.js';
import type { CommitterOptions } from '../ledger/committer.js';
import { Ledger } from '../ledger/ledger.js';
import { openStore } from '../store/open.js';
import { output, type Output } from './output.js';

export interface GlobalOptions {
  readonly db?: string;
  readonly databaseUrl?: string;
  readonly json?: boolean;
}

/** The database file: --db, then AMISI_DB, then ./amisi.db. */
export function dbPath(o: GlobalOptions): string {
  return o.db ?? process.env.AMISI_DB ?? 'amisi.db';
}

/** Where the ledger lives, for people: the SQLite file, or the PostgreSQL URL without password. */
/** The PostgreSQL URL the command is pointed at (--database-url, then DATABASE_URL), if any. */
export function databaseUrlOf(o: GlobalOptions): string | undefined {
  return o.databaseUrl ?? process.env.DATABASE_URL;
}

export function describeDatabase(o: GlobalOptions): string {
  const url = databaseUrlOf(o);
  if (url) {
    try {
      const u = new URL(url);
      u.password = '';
      return `PostgreSQL ${u.toString()}`;
    } catch {
      return 'PostgreSQL';
    }
  }
  return `SQLite ${dbPath(o)}`;
}

/** The package's own package.json (its version), from dist/src/cli/ in a clone or an install. */
export const PACKAGE_JSON_PATH = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'package.json',
);

export const DEFAULT_CATALOG_PATH = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'catalog',
  'default.json',
);

/** Reads a JSON file; a missing or malformed file is invalid input, not a crash. */
export function readJsonFile(
  path: string,
  code: 'catalog_invalid' | 'routes_invalid' | 'invalid_argument',
): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new AmisiError(
      code,
      `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
      {
        path,
      },
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new AmisiError(code, `${path} is not valid JSON: ${(e as Error).message}`, {
      path,
      problems: [{ path: '/', reason: (e as Error).message }],
    });
  }
}

function synchronousFromEnv(): 'FULL' | 'NORMAL' {
  const v = process.env.AMISI_SYNCHRONOUS ?? 'FULL';
  if (v !== 'FULL' && v !== 'NORMAL') {
    throw new AmisiError('invalid_argument', `AMISI_SYNCHRONOUS must be FULL or NORMAL, got ${v}`, {
      field: 'AMISI_SYNCHRONOUS',
    });
  }
  return v;
}

/** AMISI_KEY_RETENTION_HOURS: how long idempotency keys are kept (at least and default 24). */
function retentionFromEnv(): number {
  const v = process.env.AMISI_KEY_RETENTION_HOURS ?? '24';
  if (!/^[0-9]{1,6}$/.test(v) || Number(v) < 24) {
    throw new AmisiError(
      'invalid_argument',
      `AMISI_KEY_RETENTION_HOURS must be a whole number of at least 24, got ${v}`,
      {
        field: 'AMISI_KEY_RETENTION_HOURS',
      },
    );
  }
  return Number(v) * 3_600_000;
}

/** AMISI_ACCOUNTS_ON_FIRST_USE: 1 makes a hold, charge or grant naming an unknown account create it. */
function firstUseFromEnv(): boolean {
  const v = process.env.AMISI_ACCOUNTS_ON_FIRST_USE ?? '0';
  if (v !== '0' && v !== '1') {
    throw new AmisiError(
      'invalid_argument',
      `AMISI_ACCOUNTS_ON_FIRST_USE must be 0 or 1, got ${v}`,
      {
        field: 'AMISI_ACCOUNTS_ON_FIRST_USE',
      },
    );
  }
  return v === '1';
}

/**
 * Opens the ledger on an existing database (only `amisi init` creates one, so a typo in --db
 * never leaves an empty file behind), runs `fn`, and always closes it.
 */
export async function withLedger<T>(
  o: GlobalOptions,
  fn: (ledger: Ledger, out: Output) => Promise<T>,
  options: { create?: boolean; committer?: Partial<CommitterOptions> } = {},
): Promise<T> {
  const path = dbPath(o);
  // Settings first: a bad setting must not leave a new database file behind.
  const synchronous = synchronousFromEnv();
  const idempotencyRetentionMs = retentionFromEnv();
  const accountsOnFirstUse = firstUseFromEnv();
  const databaseUrl = databaseUrlOf(o);
  const store = await openStore({
    db: path,
    synchronous,
    create: options.create ?? false,
    ...(databaseUrl ? { databaseUrl } : {}),
  });
  const ledger = new Ledger({
    store,
    idempotencyRetentionMs,
    accountsOnFirstUse,
    ...(options.committer ? { committer: options.committer } : {}),
  });
  try {
    return await fn(ledger, output(o.json ?? false));
  } finally {
    await ledger.close();
  }
}
