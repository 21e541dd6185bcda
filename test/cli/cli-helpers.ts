import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../helpers.js';

export const BIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');

export interface Run {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed as JSON (every test run passes --json unless it checks human output). */
  json<T = Record<string, unknown>>(): T;
}

/** Runs the real `amisi` binary against `db`. */
export function amisi(db: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Run {
  // The SQLite path is under test here: the test run's DATABASE_URL must not redirect it.
  const { DATABASE_URL: _unused, ...inherited } = process.env;
  const r = spawnSync(process.execPath, [BIN, '--db', db, ...args], {
    encoding: 'utf8',
    env: { ...inherited, ...env },
  });
  return {
    status: r.status ?? -1,
    stdout: r.stdout,
    stderr: r.stderr,
    json<T>() {
      return JSON.parse(r.stdout) as T;
    },
  };
}

/** Every row of every table, as text: equal snapshots mean nothing was written. */
export function snapshot(db: string): string {
  const conn = new Database(db, { readonly: true });
  try {
    const tables = conn
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all() as { name: string }[];
    return JSON.stringify(
      tables.map(({ name }) => [
        name,
        conn
          .prepare(`SELECT * FROM "${name}"`)
          .all()
          .map((row) => JSON.stringify(row))
          .sort(),
      ]),
    );
  } finally {
    conn.close();
  }
}
