import { assert } from '../../core/errors.js';
import type { BulkRows, Dialect, Executor } from './dialect.js';
import { decode, encode, lastByKey } from './rows.js';
import { TABLES, type Column, type Row, type TableName } from './tables.js';

/**
 * A constant written into the statement's text instead of a parameter, so the planner can
 * match it against a partial index's predicate (`WHERE status = 'held'`), which neither
 * database does for a parameter.
 */
export class Lit<V> {
  constructor(readonly value: V) {}
  get sql(): string {
    const v = this.value;
    assert(typeof v === 'string' || Number.isSafeInteger(v), 'a literal is a string or an integer');
    return typeof v === 'string' ? `'${v.replace(/'/g, "''")}'` : String(v);
  }
}
export const lit = <V>(value: V) => new Lit(value);
/** The statuses partial indexes name: open holds, active subscriptions. */
export const HELD = lit('held' as const);
export const ACTIVE = lit('active' as const);

type Value<V> = V | Lit<V>;

/** A bound on a field: `{ gte: from, lt: to }`; `{ not: null }` is IS NOT NULL. */
export interface Range<V> {
  readonly gt?: Value<V> | undefined;
  readonly gte?: Value<V> | undefined;
  readonly lt?: Value<V> | undefined;
  readonly lte?: Value<V> | undefined;
  readonly not?: null;
}

/**
 * Conditions on fields, joined by AND: a value (null: IS NULL), a list (IN) or a range;
 * undefined leaves the field unconstrained.
 */
export type Where<R> = {
  readonly [F in keyof R]?: Value<R[F]> | null | readonly R[F][] | Range<R[F]> | undefined;
};

/** A field, ascending, or `field desc`. */
export type Order<R> = (keyof R & string) | `${keyof R & string} desc`;

export interface FindOptions<R> {
  readonly order?: readonly Order<R>[];
  readonly limit?: number;
  /** Lock the rows read until the transaction ends (PostgreSQL: FOR UPDATE). */
  readonly lock?: boolean;
  /** Read only these fields (the rows then carry only them). */
  readonly fields?: readonly (keyof R & string)[];
}

/** What an insert does with a row whose key exists: fail, skip it, or replace its columns. */
export type Conflict = 'fail' | 'skip' | 'replace';

const RANGE_OPS = [
  ['gt', '>'],
  ['gte', '>='],
  ['lt', '<'],
  ['lte', '<='],
] as const;

/** Stored as the record holds it (text and integers): no encoding but null for undefined. */
const isPlain = (c: Column) => c.kind === 'text' || c.kind === 'int' || c.kind === 'bigint';

function column(table: TableName, field: string): Column {
  const c = TABLES[table].byField.get(field);
  assert(c !== undefined, `${table} describes ${field}`);
  return c;
}

/** `field` and the plain equalities of `where` name the whole key, with no limit or order. */
function isKeyLookup<T extends TableName>(
  table: T,
  field: string,
  where: Where<Row<T>>,
  o: FindOptions<Row<T>>,
): boolean {
  if (o.limit !== undefined || (o.order !== undefined && o.order.length > 0)) return false;
  const named = new Set([field]);
  for (const [f, v] of Object.entries(where as Record<string, unknown>)) {
    if (v !== undefined && v !== null && (typeof v !== 'object' || v instanceof Lit)) named.add(f);
  }
  return TABLES[table].key.every((k) => named.has(k));
}

/** ` ON CONFLICT (key) DO UPDATE SET` every other column to the new row's value. */
export function upsertClause(table: TableName): string {
  const d = TABLES[table];
  const key = d.key.map((f) => column(table, f).name);
  const rest = d.columns.filter((c) => !key.includes(c.name));
  return ` ON CONFLICT (${key.join(', ')}) DO UPDATE SET ${rest
    .map((c) => `${c.name} = excluded.${c.name}`)
    .join(', ')}`;
}

/**
 * The generic table layer over one executor: get by key, find by equality, lists and ranges
 * with order and limit, insert and upsert many, update, delete. Field names are the records'
 * (`accountId`), typed per table; the SQL and the row mapping come from the descriptions.
 */
export class Access {
  constructor(
    readonly exec: Executor,
    readonly dialect: Dialect,
  ) {}

  /** A statement's rows as records of `table`. */
  async rows<T extends TableName>(table: T, sql: string, args: readonly unknown[] = []) {
    return (await this.exec.all(sql, args)).map((r) => decode(table, r));
  }

  /** The WHERE clause (without the keyword) and its arguments. */
  where<T extends TableName>(table: T, where: Where<Row<T>>): { sql: string; args: unknown[] } {
    const parts: string[] = [];
    const args: unknown[] = [];
    for (const [field, v] of Object.entries(where as Record<string, unknown>)) {
      if (v === undefined) continue;
      const c = column(table, field);
      if (v === null) parts.push(`${c.name} IS NULL`);
      else if (v instanceof Lit) parts.push(`${c.name} = ${v.sql}`);
      else if (Array.isArray(v)) {
        const list = this.dialect.inList(c, v);
        parts.push(list.sql);
        args.push(...list.args);
      } else if (typeof v === 'object') {
        const r = v as Range<unknown>;
        if ('not' in r) parts.push(`${c.name} IS NOT NULL`);
        for (const [op, sql] of RANGE_OPS) {
          const bound = r[op];
          if (bound === undefined) continue;
          if (bound instanceof Lit) {
            parts.push(`${c.name} ${sql} ${bound.sql}`);
            continue;
          }
          parts.push(`${c.name} ${sql} ?`);
          args.push(bound);
        }
      } else {
        parts.push(`${c.name} = ?`);
        args.push(encode(c, v, this.dialect.bool));
      }
    }
    return { sql: parts.join(' AND '), args };
  }

  /** `SELECT ... FROM table WHERE ... ORDER BY ... LIMIT ?` (or `LIMIT n`) and its arguments. */
  select<T extends TableName>(table: T, where: Where<Row<T>>, o: FindOptions<Row<T>> = {}) {
    const w = this.where(table, where);
    const list = o.fields ? o.fields.map((f) => column(table, f).name).join(', ') : '*';
    let sql = `SELECT ${list} FROM ${table}${w.sql ? ` WHERE ${w.sql}` : ''}`;
    if (o.order && o.order.length > 0) {
      const order = o.order.map((x) => {
        const [field, desc] = x.split(' ');
        return `${column(table, field!).name}${desc ? ' DESC' : ''}`;
      });
      sql += ` ORDER BY ${order.join(', ')}`;
    }
    if (o.limit !== undefined && this.dialect.inlineLimit) {
      assert(Number.isSafeInteger(o.limit) && o.limit >= 0, `limit ${o.limit} is a count`);
      sql += ` LIMIT ${o.limit}`;
    } else if (o.limit !== undefined) {
      sql += ' LIMIT ?';
      w.args.push(o.limit);
    }
    if (o.lock) sql += this.dialect.lockRows;
    return { sql, args: w.args };
  }

  async find<T extends TableName>(table: T, where: Where<Row<T>>, o: FindOptions<Row<T>> = {}) {
    const s = this.select(table, where, o);
    return this.rows(table, s.sql, s.args);
  }

  async get<T extends TableName>(table: T, where: Where<Row<T>>, o: FindOptions<Row<T>> = {}) {
    const [row] = await this.find(table, where, o);
    return row;
  }

  /**
   * The rows for each of `values` of one field (the accounts of a batch): PostgreSQL reads them
   * in one statement ordered by that field first; SQLite runs one statement per value.
   */
  async findFor<T extends TableName, F extends keyof Row<T> & string>(
    table: T,
    field: F,
    values: readonly Row<T>[F][],
    where: Where<Row<T>> = {},
    o: FindOptions<Row<T>> = {},
  ): Promise<Row<T>[]> {
    if (values.length === 0) return [];
    if (this.dialect.arrays) {
      const order = [field, ...(o.order ?? [])] as Order<Row<T>>[];
      return this.find(table, { [field]: values, ...where }, { ...o, order });
    }
    const s = this.select(table, { [field]: values[0], ...where }, o);
    const rest = s.args.slice(1);
    const lists = values.map((v) => [v, ...rest]);
    // A lookup by the whole key finds one row at most: stepped once, no array of rows.
    const rows = isKeyLookup(table, field, where, o)
      ? await this.exec.getEach(s.sql, lists)
      : await this.exec.allEach(s.sql, lists);
    return rows.map((r) => decode(table, r));
  }

  async count<T extends TableName>(table: T, where: Where<Row<T>>): Promise<number> {
    const w = this.where(table, where);
    const [r] = await this.exec.all(
      `SELECT COUNT(*) AS n FROM ${table}${w.sql ? ` WHERE ${w.sql}` : ''}`,
      w.args,
    );
    return r ? Number(r.n) : 0;
  }

  /** Values of `rows` for `columns`, as a dialect's bulk write reads them. */
  private bulk<T extends TableName>(table: T, rows: readonly Row<T>[], columns: readonly Column[]) {
    const bool = this.dialect.bool;
    const fields = columns.map((c) => c.field);
    const plain = columns.map(isPlain);
    const values = (i: number, out: unknown[]) => {
      const r = rows[i] as unknown as Record<string, unknown>;
      for (let n = 0; n < columns.length; n++) {
        const v = r[fields[n]!];
        out.push(plain[n] ? (v ?? null) : encode(columns[n]!, v, bool));
      }
    };
    return { table: TABLES[table], columns, count: rows.length, values } as BulkRows;
  }

  /** Inserts rows (multi-row statements); returns how many were written. */
  async insert<T extends TableName>(
    table: T,
    rows: readonly Row<T>[],
    conflict: Conflict = 'fail',
  ) {
    if (rows.length === 0) return 0;
    const list = conflict === 'replace' ? lastByKey(table, rows) : rows;
    const clause =
      conflict === 'skip'
        ? ' ON CONFLICT DO NOTHING'
        : conflict === 'replace'
          ? upsertClause(table)
          : '';
    return this.insertWith(table, list, clause);
  }

  /**
   * Inserts `count` rows whose stored values `field(i, column)` gives, without a record per row:
   * the journal's lines, a few per transaction on the hot path, where building one object per
   * line cost more than the statement.
   */
  async insertFields<T extends TableName>(
    table: T,
    count: number,
    field: (i: number, name: keyof Row<T> & string) => unknown,
  ) {
    if (count === 0) return 0;
    const columns = TABLES[table].columns;
    const bool = this.dialect.bool;
    const plain = columns.map(isPlain);
    const values = (i: number, out: unknown[]) => {
      for (let n = 0; n < columns.length; n++) {
        const c = columns[n]!;
        const v = field(i, c.field as keyof Row<T> & string);
        out.push(plain[n] ? (v ?? null) : encode(c, v, bool));
      }
    };
    const b = { table: TABLES[table], columns, count, values } as BulkRows;
    return this.dialect.insertMany(this.exec, b, '');
  }

  /** Inserts rows with a conflict clause of the caller's (rollups that add up). */
  async insertWith<T extends TableName>(table: T, rows: readonly Row<T>[], clause: string) {
    if (rows.length === 0) return 0;
    const b = this.bulk(table, rows, TABLES[table].columns);
    return this.dialect.insertMany(this.exec, b, clause);
  }

  /** The rows whose keys are among `keys` (key fields only are read from each). */
  async getMany<T extends TableName>(table: T, keys: readonly Partial<Row<T>>[]) {
    if (keys.length === 0) return [];
    const columns = TABLES[table].key.map((f) => column(table, f));
    const b = this.bulk(table, keys as Row<T>[], columns);
    return (await this.dialect.getMany(this.exec, b)).map((r) => decode(table, r));
  }

  /** Sets `fields` of each row, found by its key; returns how many rows changed. */
  async updateMany<T extends TableName>(
    table: T,
    rows: readonly Row<T>[],
    fields: readonly (keyof Row<T> & string)[],
  ): Promise<number> {
    if (rows.length === 0) return 0;
    const key = TABLES[table].key.map((f) => column(table, f));
    const set = fields.map((f) => column(table, f));
    return this.dialect.updateMany(this.exec, this.bulk(table, rows, [...set, ...key]), key);
  }

  /** Every field but the key, of each row; returns how many rows changed. */
  async replaceMany<T extends TableName>(table: T, rows: readonly Row<T>[]): Promise<number> {
    const d = TABLES[table];
    const fields = d.columns
      .map((c) => c.field)
      .filter((f) => !(d.key as readonly string[]).includes(f));
    return this.updateMany(table, rows, fields as (keyof Row<T> & string)[]);
  }

  /** `UPDATE table SET ... WHERE ...`; returns how many rows changed. */
  async update<T extends TableName>(table: T, set: Partial<Row<T>>, where: Where<Row<T>>) {
    const parts: string[] = [];
    const args: unknown[] = [];
    for (const [field, v] of Object.entries(set as Record<string, unknown>)) {
      const c = column(table, field);
      parts.push(`${c.name} = ?`);
      args.push(encode(c, v, this.dialect.bool));
    }
    const w = this.where(table, where);
    return this.exec.run(`UPDATE ${table} SET ${parts.join(', ')} WHERE ${w.sql}`, [
      ...args,
      ...w.args,
    ]);
  }

  /** `DELETE FROM table WHERE ...`; returns how many rows went. */
  async delete<T extends TableName>(table: T, where: Where<Row<T>>): Promise<number> {
    const w = this.where(table, where);
    assert(w.sql !== '', `a delete from ${table} names its rows`);
    return this.exec.run(`DELETE FROM ${table} WHERE ${w.sql}`, w.args);
  }

  /** Whether any row matches. */
  async exists<T extends TableName>(table: T, where: Where<Row<T>> = {}): Promise<boolean> {
    const w = this.where(table, where);
    const rows = await this.exec.all(
      `SELECT 1 AS one FROM ${table}${w.sql ? ` WHERE ${w.sql}` : ''} LIMIT 1`,
      w.args,
    );
    return rows.length > 0;
  }
}
