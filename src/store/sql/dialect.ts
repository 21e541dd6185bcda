import type { Raw } from './rows.js';
import type { Column, ColumnKind, TableDescription } from './tables.js';

/**
 * The seam between the one SQL store and a database. Statements are written once with `?`
 * placeholders (the PostgreSQL executor numbers them `$1`, `$2`, ...); an executor runs them on
 * one connection or transaction.
 */
export interface Executor {
  /** The rows of one statement. */
  all(sql: string, args: readonly unknown[]): Promise<Raw[]>;
  /** Runs one statement; returns how many rows it changed. */
  run(sql: string, args: readonly unknown[]): Promise<number>;
  /**
   * Runs one statement once per argument list and concatenates the rows (SQLite: one
   * prepared statement in a loop, no promise per row).
   */
  allEach(sql: string, argLists: readonly (readonly unknown[])[]): Promise<Raw[]>;
  /**
   * Like allEach for a statement that finds at most one row per argument list (a key lookup):
   * SQLite steps it once per list instead of collecting an array of rows.
   */
  getEach(sql: string, argLists: readonly (readonly unknown[])[]): Promise<Raw[]>;
  /** Runs one statement once per argument list; returns the rows changed in all. */
  runEach(sql: string, argLists: readonly (readonly unknown[])[]): Promise<number>;
}

/** One multi-row write: the table, its rows' values column by column or row by row. */
export interface BulkRows {
  readonly table: TableDescription;
  readonly columns: readonly Column[];
  readonly count: number;
  /** Pushes the stored values of row i, in column order. */
  readonly values: (i: number, out: unknown[]) => void;
}

/**
 * What truly differs between the databases (everything else is written once): bulk writes and
 * reads of many keys (multi-row VALUES and loops of one prepared statement vs unnest and
 * arrays), lists (IN vs = ANY), row locks, booleans, a few function names, SQL types.
 * Transactions, locking, error mapping, integer parsing and migrate live in the adapters.
 */
export interface Dialect {
  readonly name: 'sqlite' | 'postgres';
  /**
   * Reads of several keys: true when one statement takes arrays (PostgreSQL); false when one
   * prepared statement runs once per key (SQLite, where a statement costs no round trip).
   */
  readonly arrays: boolean;
  /**
   * A LIMIT written into the statement's text instead of bound: SQLite re-plans a statement
   * whose LIMIT is a bound parameter on every run (about 6 us, on the hot path of every check
   * and charge); PostgreSQL keeps one prepared statement per text, so it binds it.
   */
  readonly inlineLimit: boolean;
  /** Appended to a SELECT that locks the rows it reads until the transaction ends. */
  readonly lockRows: string;
  /** Multi-argument minimum and maximum. */
  readonly least: string;
  readonly greatest: string;
  bool(value: boolean): unknown;
  /** The column type in DDL. */
  sqlType(kind: ColumnKind): string;
  /** `expr` contains the text of the next placeholder. */
  contains(expr: string): string;
  /** `column` is one of `values` (one placeholder and its argument, or one per value). */
  inList(column: Column, values: readonly unknown[]): { sql: string; args: unknown[] };
  /** Inserts rows in as few statements as the database allows; returns the rows written. */
  insertMany(exec: Executor, rows: BulkRows, conflict: string): Promise<number>;
  /** Sets `set` columns of rows found by `key` columns; returns the rows changed. */
  updateMany(exec: Executor, rows: BulkRows, key: readonly Column[]): Promise<number>;
  /** The rows of a table whose key columns equal one of the tuples. */
  getMany(exec: Executor, rows: BulkRows): Promise<Raw[]>;
  /**
   * Takes up to `limit` pending deliveries due at `now` and moves their next attempt to
   * `leaseUntil` (PostgreSQL: SKIP LOCKED, so deliverers in other processes take other rows).
   */
  claimDeliveries(exec: Executor, now: number, leaseUntil: number, limit: number): Promise<Raw[]>;
}
