import { fsync, openSync, closeSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { AmisiError } from '../../core/errors.js';
import { migrations } from '../migrations/index.js';
import type { BulkRows, Dialect, Executor } from '../sql/dialect.js';
import type { Raw } from '../sql/rows.js';
import { SqlStore } from '../sql/sql-store.js';
import { KIND_TYPES } from '../sql/tables.js';

export interface SqliteOptions {
  /** A file path, or ':memory:' for a private in-memory database (tests). */
  readonly path: string;
  /** FULL (the default) makes every commit durable; NORMAL trades the last commits on power loss. */
  readonly synchronous?: 'FULL' | 'NORMAL';
  /** How long a writer waits for another process's write lock before store_busy. */
  readonly busyTimeoutMs?: number;
}

/** Rows per multi-row INSERT: few statement calls, far below SQLite's variable limit. */
const INSERT_CHUNK = 64;

/**
 * One connection's statements, prepared once per SQL text. better-sqlite3 is synchronous: each
 * call runs to its end, so the promise it returns is already settled (no promise per row).
 */
class SqliteExecutor implements Executor {
  private readonly cache = new Map<string, Database.Statement>();
  constructor(readonly db: Database.Database) {}

  statement(sql: string): Database.Statement {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.cache.set(sql, s);
    }
    return s;
  }
  async all(sql: string, args: readonly unknown[]) {
    return this.statement(sql).all(args) as Raw[];
  }
  async run(sql: string, args: readonly unknown[]) {
    return this.statement(sql).run(args).changes;
  }
  async allEach(sql: string, argLists: readonly (readonly unknown[])[]) {
    const s = this.statement(sql);
    const out: Raw[] = [];
    for (const args of argLists) for (const r of s.all(args) as Raw[]) out.push(r);
    return out;
  }
  async getEach(sql: string, argLists: readonly (readonly unknown[])[]) {
    const s = this.statement(sql);
    const out: Raw[] = [];
    for (const args of argLists) {
      const r = s.get(args) as Raw | undefined;
      if (r !== undefined) out.push(r);
    }
    return out;
  }
  async runEach(sql: string, argLists: readonly (readonly unknown[])[]) {
    const s = this.statement(sql);
    let changes = 0;
    for (const args of argLists) changes += s.run(args).changes;
    return changes;
  }
}

/** Insert texts by table, row count and conflict clause, so a batch does not rebuild them. */
const insertTexts = new Map<string, string>();
/** Reused for every chunk: run() copies the values into SQLite before returning. */
const chunkArgs: unknown[] = [];

function insertText(rows: BulkRows, n: number, conflict: string): string {
  const id = `${rows.table.name}:${rows.columns.length}:${n}:${conflict}`;
  let sql = insertTexts.get(id);
  if (!sql) {
    const one = `(${rows.columns.map(() => '?').join(', ')})`;
    const names = rows.columns.map((c) => c.name).join(', ');
    sql = `INSERT INTO ${rows.table.name} (${names}) VALUES ${Array(n).fill(one).join(', ')}${conflict}`;
    insertTexts.set(id, sql);
  }
  return sql;
}

/** SQLite: multi-row VALUES, loops of one prepared statement, the database write lock. */
export const sqliteDialect: Dialect = {
  name: 'sqlite',
  arrays: false,
  inlineLimit: true,
  // BEGIN IMMEDIATE holds the database write lock for the whole transaction.
  lockRows: '',
  least: 'MIN',
  greatest: 'MAX',
  bool: (b) => (b ? 1 : 0),
  sqlType: (kind) => KIND_TYPES[kind].sqlite,
  contains: (expr) => `instr(${expr}, ?) > 0`,
  inList: (c, values) => ({
    sql: `${c.name} IN (${values.map(() => '?').join(', ')})`,
    args: [...values],
  }),
  async insertMany(exec, rows, conflict) {
    // Rows later in the list win over earlier rows with the same key: SQLite applies a
    // multi-row INSERT row by row.
    let written = 0;
    for (let at = 0; at < rows.count; at += INSERT_CHUNK) {
      const n = Math.min(INSERT_CHUNK, rows.count - at);
      chunkArgs.length = 0;
      for (let i = at; i < at + n; i++) rows.values(i, chunkArgs);
      written += await exec.run(insertText(rows, n, conflict), chunkArgs);
    }
    return written;
  },
  updateMany(exec, rows, key) {
    const set = rows.columns.slice(0, rows.columns.length - key.length);
    const sql = `UPDATE ${rows.table.name} SET ${set.map((c) => `${c.name} = ?`).join(', ')} WHERE ${key.map((c) => `${c.name} = ?`).join(' AND ')}`;
    return exec.runEach(sql, argLists(rows));
  },
  getMany(exec, rows) {
    const where = rows.columns.map((c) => `${c.name} = ?`).join(' AND ');
    return exec.getEach(`SELECT * FROM ${rows.table.name} WHERE ${where}`, argLists(rows));
  },
  async claimDeliveries(exec, now, leaseUntil, limit) {
    // The database write lock is held for the whole transaction: nobody else can claim these.
    const due = await exec.all(
      "SELECT * FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?",
      [now, limit],
    );
    await exec.runEach(
      'UPDATE webhook_deliveries SET next_attempt_at = ? WHERE account_id = ? AND delivery_id = ?',
      due.map((d) => [leaseUntil, d.account_id, d.delivery_id]),
    );
    return due;
  },
};

function argLists(rows: BulkRows): unknown[][] {
  const out: unknown[][] = [];
  for (let i = 0; i < rows.count; i++) {
    const args: unknown[] = [];
    rows.values(i, args);
    out.push(args);
  }
  return out;
}

/** "AMIS" in the SQLite header: this file is an Amisi Credits database. */
export const AMISI_APPLICATION_ID = 0x414d4953;

export interface SqliteFileFacts {
  readonly tables: readonly string[];
  readonly applicationId: number;
}

/**
 * Looks at a file without changing it (read-only connection, no WAL switch): which tables it
 * has and whose it is. A file SQLite cannot read is invalid input, not a crash.
 */
export function inspectSqliteFile(path: string): SqliteFileFacts {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    const tables = (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Raw[]
    ).map((r) => r.name as string);
    const applicationId = db.pragma('application_id', { simple: true }) as number;
    return { tables, applicationId };
  } catch (e) {
    const code = (e as { code?: string }).code ?? '';
    if (code.startsWith('SQLITE_')) {
      throw new AmisiError('invalid_argument', `${path} is not a SQLite database (${code})`, {
        field: 'db',
        value: path,
      });
    }
    throw e;
  } finally {
    db?.close();
  }
}

function isBusy(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || code === 'SQLITE_BUSY_SNAPSHOT';
}

function mapError(e: unknown): unknown {
  return isBusy(e)
    ? new AmisiError('store_busy', 'the database is locked by another writer', {})
    : e;
}

/** True when the store makes its commits durable itself, off the thread (WalSync). */
function syncsOffThread(options: SqliteOptions): boolean {
  return options.path !== ':memory:' && (options.synchronous ?? 'FULL') === 'FULL';
}

function open(path: string, options: SqliteOptions, readonly: boolean): Database.Database {
  const db = new Database(path, readonly ? { readonly: true } : {});
  db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 10_000}`);
  if (!readonly) db.pragma('journal_mode = WAL');
  // With FULL, SQLite would fsync the WAL inside COMMIT, on this thread; WalSync does it on
  // libuv's pool instead and holds each answer until then. NORMAL still syncs around checkpoints.
  db.pragma(`synchronous = ${syncsOffThread(options) ? 'NORMAL' : options.synchronous}`);
  // 64 MiB of page cache: the open grants and journal leaves of many accounts stay in memory.
  db.pragma('cache_size = -65536');
  if (!readonly) db.pragma('wal_autocheckpoint = 10000');
  return db;
}

const fsyncFd = (fd: number) =>
  new Promise<void>((resolve, reject) => fsync(fd, (e) => (e ? reject(e) : resolve())));

/**
 * Durability of commits without blocking the thread (ADR 0020). The connection commits with
 * synchronous=NORMAL, which writes the WAL but does not fsync it; after each COMMIT the store
 * calls sync(), which fsyncs the WAL file on libuv's thread pool, and a transaction's promise
 * settles only after the fsync that began after its COMMIT has finished. So nothing is
 * answered before it is on disk, as with FULL, while the thread parses and runs the next
 * requests, and the next transaction commits during the fsync. Commits made while an fsync
 * runs share the next one. A failed fsync fails every later write: what it was to make
 * durable cannot be trusted to be on disk, so the process must stop (as PostgreSQL does).
 */
class WalSync {
  private fd: number | null = null;
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  private failure: Error | null = null;

  constructor(private readonly dbPath: string) {}

  /** The reason writes are refused, once an fsync has failed. */
  get failed(): Error | null {
    return this.failure;
  }

  /** Settles once everything committed before the call is on disk. */
  sync(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.running === null) {
      this.running = this.fsyncWal().finally(() => {
        this.running = null;
      });
      return this.running;
    }
    // An fsync that began before this commit may miss it: wait for the next one.
    this.queued ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = null;
        return this.sync();
      });
    return this.queued;
  }

  /** Settles once every commit made so far is on disk (a read waits for it before answering). */
  durable(): Promise<void> {
    return this.queued ?? this.running ?? Promise.resolve();
  }

  private async fsyncWal(): Promise<void> {
    try {
      if (this.fd === null) {
        this.fd = openSync(`${this.dbPath}-wal`, 'r');
        // The WAL's directory entry too, once: a new file is durable only with it.
        const dir = openSync(dirname(this.dbPath), 'r');
        try {
          await fsyncFd(dir);
        } finally {
          closeSync(dir);
        }
      }
      await fsyncFd(this.fd);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      this.failure = new AmisiError(
        'internal',
        `the SQLite WAL could not be synced to disk (${why}): restart the server; no write is taken until then`,
        {},
      );
      throw this.failure;
    }
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** Runs jobs one after another (one write transaction, one read snapshot at a time). */
class Queue {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(job: () => Promise<T>): Promise<T> {
    const next = this.tail.then(job, job);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/**
 * SQLite through better-sqlite3: WAL, synchronous=FULL by default. One write connection
 * (transactions begin IMMEDIATE, so writers from several processes queue on the database lock)
 * and one read connection that only ever sees committed data.
 */
export class SqliteStore extends SqlStore {
  readonly kind = 'sqlite';
  /** One transaction at a time; with WalSync a second one commits while the first is synced. */
  readonly writeConcurrency: number;
  private readonly writer: SqliteExecutor;
  private readonly wal: WalSync | null;
  private read: SqliteExecutor | undefined;
  private readonly writes = new Queue();
  private readonly snapshots = new Queue();

  constructor(private readonly options: SqliteOptions) {
    super(sqliteDialect);
    this.writer = new SqliteExecutor(open(options.path, options, false));
    this.wal = syncsOffThread(options) ? new WalSync(options.path) : null;
    this.writeConcurrency = 1;
  }

  protected reader(): SqliteExecutor {
    // An in-memory database is private to its connection: read it through the writer.
    this.read ??=
      this.options.path === ':memory:'
        ? this.writer
        : new SqliteExecutor(open(this.options.path, this.options, false));
    return this.read;
  }

  protected async transaction<T>(fn: (exec: Executor) => Promise<T>): Promise<T> {
    // The next transaction may begin once this one has committed; its answer waits for disk.
    const { result, durable } = await this.writes.run(async () => {
      const failed = this.wal?.failed;
      if (failed) throw failed;
      const db = this.writer.db;
      try {
        db.exec('BEGIN IMMEDIATE');
      } catch (e) {
        throw mapError(e);
      }
      try {
        const value = await fn(this.writer);
        db.exec('COMMIT');
        return { result: value, durable: this.wal?.sync() };
      } catch (e) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw mapError(e);
      }
    });
    await durable;
    return result;
  }

  protected async readSnapshot<T>(fn: (exec: Executor) => Promise<T>): Promise<T> {
    const exec = this.reader();
    // A read inside a write on an in-memory database (one connection) sees that write.
    if (exec.db.inTransaction) return fn(exec);
    const { result, durable } = await this.snapshots.run(async () => {
      exec.db.exec('BEGIN');
      try {
        const value = await fn(exec);
        // What the snapshot saw may be committed but not yet synced: answer once it is. The
        // commits made so far include every one it can have seen.
        return { result: value, durable: this.wal?.durable() };
      } finally {
        if (exec.db.inTransaction) exec.db.exec('COMMIT');
      }
    });
    await durable;
    return result;
  }

  async migrate(): Promise<number> {
    const db = this.writer.db;
    // Marks the file as ours (the SQLite header's application id), so a later open can tell an
    // Amisi database from another program's.
    db.pragma(`application_id = ${AMISI_APPLICATION_ID}`);
    db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
    );
    let applied = 0;
    for (const m of migrations) {
      const run = db.transaction(() => {
        if (db.prepare('SELECT 1 FROM schema_migrations WHERE id = ?').get(m.id)) return false;
        db.exec(m.sqlite);
        db.prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)').run(
          m.id,
          m.name,
          Date.now(),
        );
        return true;
      });
      if (run.immediate()) applied += 1;
    }
    await this.wal?.sync();
    return applied;
  }

  /** The schema version: the highest migration applied, 0 for a new file. */
  schemaVersion(): number {
    const db = this.writer.db;
    const exists = db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
      .get();
    if (!exists) return 0;
    const r = db.prepare('SELECT MAX(id) AS v FROM schema_migrations').get() as Raw;
    return (r.v as number | null) ?? 0;
  }

  async close(): Promise<void> {
    await this.wal?.durable().catch(() => undefined);
    if (this.read && this.read !== this.writer) this.read.db.close();
    this.writer.db.close();
    this.wal?.close();
  }
}
