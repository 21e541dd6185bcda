import pg from 'pg';
import { AmisiError, assert } from '../../core/errors.js';
import { migrations } from '../migrations/index.js';
import type { BulkRows, Dialect, Executor } from '../sql/dialect.js';
import type { Raw } from '../sql/rows.js';
import { SqlStore } from '../sql/sql-store.js';
import { KIND_TYPES, type Column } from '../sql/tables.js';

export interface PostgresOptions {
  readonly url: string;
  /** Connections in the pool (writes use one at a time per batch; reads share the rest). */
  readonly poolSize?: number;
  /** Write transactions at once (default 2): one batch is built while another commits. */
  readonly writeConcurrency?: number;
  /** Told every statement the adapter sends (tests check the single-account rule with it). */
  readonly onStatement?: (text: string, values: readonly unknown[]) => void;
}

/** BIGINT and NUMERIC (SUM of BIGINT) come back as numbers, asserted to be safe integers. */
function safeInteger(text: string): number {
  const n = Number(text);
  assert(Number.isSafeInteger(n), `database integer ${text} is a safe integer`);
  return n;
}

const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20 || oid === 1700) return safeInteger;
    return pg.types.getTypeParser(oid, format);
  },
};

/** Error codes that mean "try again": serialization, deadlock, lock timeout, connections. */
const RETRYABLE = new Set(['40001', '40P01', '55P03', '53300', '57P01', '57P02', '57P03']);

function mapError(e: unknown): unknown {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (RETRYABLE.has(code) || code.startsWith('08'))) {
    return new AmisiError('store_busy', `the database asked to retry (${code})`, {
      sqlstate: code,
    });
  }
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT') {
    return new AmisiError('store_busy', `the database is unreachable (${code})`, {});
  }
  return e;
}

/**
 * Statement texts with `?` numbered `$1`, `$2`, ..., each with a name, so every connection
 * parses and plans a statement once (node-postgres prepares named statements per connection).
 */
const numbered = new Map<string, { text: string; name: string }>();

function prepared(sql: string): { text: string; name: string } {
  let p = numbered.get(sql);
  if (!p) {
    let n = 0;
    p = { text: sql.replace(/\?/g, () => `$${++n}`), name: `amisi_${numbered.size}` };
    numbered.set(sql, p);
  }
  return p;
}

type Queryable = Pick<pg.PoolClient, 'query'>;

class PostgresExecutor implements Executor {
  constructor(
    private readonly db: Queryable,
    private readonly log: PostgresOptions['onStatement'],
  ) {}
  /** A statement without parameters (transaction control, migrations: several statements). */
  async simple(text: string): Promise<void> {
    this.log?.(text, []);
    await this.db.query(text);
  }
  private async query(sql: string, args: readonly unknown[]): Promise<pg.QueryResult> {
    const { text, name } = prepared(sql);
    const values = [...args];
    this.log?.(text, values);
    return this.db.query({ name, text, values });
  }
  async all(sql: string, args: readonly unknown[]) {
    return (await this.query(sql, args)).rows as Raw[];
  }
  async run(sql: string, args: readonly unknown[]) {
    return (await this.query(sql, args)).rowCount ?? 0;
  }
  async allEach(sql: string, argLists: readonly (readonly unknown[])[]) {
    const out: Raw[] = [];
    for (const args of argLists) out.push(...(await this.all(sql, args)));
    return out;
  }
  async getEach(sql: string, argLists: readonly (readonly unknown[])[]) {
    const out: Raw[] = [];
    for (const args of argLists) {
      const [r] = await this.all(sql, args);
      if (r !== undefined) out.push(r);
    }
    return out;
  }
  async runEach(sql: string, argLists: readonly (readonly unknown[])[]) {
    let changes = 0;
    for (const args of argLists) changes += await this.run(sql, args);
    return changes;
  }
}

/** `unnest(?::text[], ?::bigint[], ...)` of these columns. */
const unnest = (columns: readonly Column[]) =>
  `unnest(${columns.map((c) => `?::${KIND_TYPES[c.kind].element}[]`).join(', ')})`;

/** The column arrays unnest takes: one array per column, one element per row. */
function columnArrays(rows: BulkRows): unknown[][] {
  const cols: unknown[][] = rows.columns.map(() => []);
  const values: unknown[] = [];
  for (let i = 0; i < rows.count; i++) {
    values.length = 0;
    rows.values(i, values);
    for (let c = 0; c < cols.length; c++) cols[c]!.push(values[c]);
  }
  return cols;
}

const names = (columns: readonly Column[]) => columns.map((c) => c.name).join(', ');
const joinOn = (a: string, b: string, columns: readonly Column[]) =>
  columns.map((c) => `${a}.${c.name} = ${b}.${c.name}`).join(' AND ');

/** PostgreSQL: one statement per bulk write or read (unnest, = ANY), row locks, SKIP LOCKED. */
export const postgresDialect: Dialect = {
  name: 'postgres',
  arrays: true,
  inlineLimit: false,
  lockRows: ' FOR UPDATE',
  least: 'LEAST',
  greatest: 'GREATEST',
  bool: (b) => b,
  sqlType: (kind) => KIND_TYPES[kind].postgres,
  contains: (expr) => `strpos(${expr}, ?) > 0`,
  inList: (c, values) => ({
    sql: `${c.name} = ANY(?::${KIND_TYPES[c.kind].element}[])`,
    args: [values],
  }),
  insertMany(exec, rows, conflict) {
    if (rows.count === 1) {
      const values: unknown[] = [];
      rows.values(0, values);
      const one = rows.columns.map(() => '?').join(', ');
      const sql = `INSERT INTO ${rows.table.name} (${names(rows.columns)}) VALUES (${one})${conflict}`;
      return exec.run(sql, values);
    }
    // One statement however many rows: unnest turns the column arrays into rows.
    const sql = `INSERT INTO ${rows.table.name} (${names(rows.columns)}) SELECT * FROM ${unnest(rows.columns)}${conflict}`;
    return exec.run(sql, columnArrays(rows));
  },
  updateMany(exec, rows, key) {
    const set = rows.columns.slice(0, rows.columns.length - key.length);
    const t = rows.table.name;
    const sql = `UPDATE ${t} t SET ${set.map((c) => `${c.name} = u.${c.name}`).join(', ')} FROM ${unnest(rows.columns)} AS u(${names(rows.columns)}) WHERE ${joinOn('t', 'u', key)}`;
    return exec.run(sql, columnArrays(rows));
  },
  getMany(exec, rows) {
    const sql = `SELECT t.* FROM ${rows.table.name} t JOIN ${unnest(rows.columns)} AS k(${names(rows.columns)}) ON ${joinOn('t', 'k', rows.columns)}`;
    return exec.all(sql, columnArrays(rows));
  },
  claimDeliveries(exec, now, leaseUntil, limit) {
    // SKIP LOCKED: deliverers in other processes take other rows instead of waiting.
    return exec.all(
      `UPDATE webhook_deliveries d SET next_attempt_at = ?
       FROM (SELECT account_id, delivery_id FROM webhook_deliveries
             WHERE status = 'pending' AND next_attempt_at <= ?
             ORDER BY next_attempt_at LIMIT ? FOR UPDATE SKIP LOCKED) due
       WHERE d.account_id = due.account_id AND d.delivery_id = due.delivery_id
       RETURNING d.*`,
      [leaseUntil, now, limit],
    );
  },
};

/** A key for pg_advisory_xact_lock: one migrator at a time across every process. */
const MIGRATION_LOCK = 0x414d4953;

/**
 * PostgreSQL through node-postgres. Each batch is one READ COMMITTED transaction that locks
 * its accounts' rows (SELECT ... FOR UPDATE, in id order) before reading anything it decides
 * on, so several processes can share one database without overspending
 * (docs/adr/0004-postgres-row-locks.md). synchronous_commit stays on: COMMIT returns after the
 * WAL is flushed.
 */
export class PostgresStore extends SqlStore {
  readonly kind = 'postgres';
  readonly writeConcurrency: number;
  private readonly pool: pg.Pool;
  private readonly log: PostgresOptions['onStatement'];
  private readonly poolExecutor: PostgresExecutor;

  constructor(options: PostgresOptions) {
    super(postgresDialect);
    this.writeConcurrency = options.writeConcurrency ?? 2;
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: Math.max(options.poolSize ?? 10, this.writeConcurrency + 2),
      types,
    });
    // An idle client that loses its connection must not crash the process.
    this.pool.on('error', () => undefined);
    this.log = options.onStatement;
    this.poolExecutor = new PostgresExecutor(this.pool, this.log);
  }

  protected reader(): Executor {
    return this.poolExecutor;
  }

  private async inTransaction<T>(begin: string, fn: (exec: PostgresExecutor) => Promise<T>) {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw mapError(e);
    }
    let broken: Error | undefined;
    try {
      const exec = new PostgresExecutor(client, this.log);
      await exec.simple(begin);
      const result = await fn(exec);
      await exec.simple('COMMIT');
      return result;
    } catch (e) {
      try {
        await new PostgresExecutor(client, this.log).simple('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError as Error;
      }
      throw mapError(e);
    } finally {
      client.release(broken);
    }
  }

  protected transaction<T>(fn: (exec: Executor) => Promise<T>): Promise<T> {
    return this.inTransaction('BEGIN', fn);
  }

  protected readSnapshot<T>(fn: (exec: Executor) => Promise<T>): Promise<T> {
    return this.inTransaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', fn);
  }

  async migrate(): Promise<number> {
    let applied = 0;
    await this.inTransaction('BEGIN', async (exec) => {
      await exec.run('SELECT pg_advisory_xact_lock(?)', [MIGRATION_LOCK]);
      await exec.simple(
        'CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
      );
      const done = new Set(
        (await exec.all('SELECT id FROM schema_migrations', [])).map((r) => r.id),
      );
      for (const m of migrations) {
        if (done.has(m.id)) continue;
        await exec.simple(m.postgres);
        await exec.run('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)', [
          m.id,
          m.name,
          Date.now(),
        ]);
        applied += 1;
      }
    });
    return applied;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
