import { assert } from '../../core/errors.js';
import { TABLES, type Column, type Row, type TableName } from './tables.js';

/** A row as the driver returns it: column name to value. */
export type Raw = Record<string, unknown>;

export function int(value: unknown, what: string): number {
  assert(typeof value === 'number' && Number.isSafeInteger(value), `${what} is a safe integer`);
  return value;
}

/** JSON columns arrive as text (SQLite, and TEXT columns) or parsed (PostgreSQL JSONB). */
function json(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

function decodeColumn(table: string, c: Column, value: unknown): unknown {
  if (value === null || value === undefined) {
    assert(c.nullable, `${table}.${c.name} is not null`);
    return null;
  }
  let out: unknown;
  switch (c.kind) {
    case 'int':
    case 'bigint':
      out = int(value, `${table}.${c.name}`);
      break;
    case 'json':
    case 'jsonText':
      return json(value);
    case 'flag':
      return int(value, `${table}.${c.name}`) === 1;
    case 'bool':
      return value === true || value === 1;
    default:
      out = value;
  }
  if (c.oneOf) assert(c.oneOf.includes(out), `${table}.${c.name} ${String(out)} is known`);
  return out;
}

/**
 * The record of a table's row. Columns the row lacks (a partial select) are left out; columns
 * the table does not describe (a join's extra columns) are ignored. Every amount is asserted to
 * be a safe integer on the way in (STYLE.md: at every boundary).
 */
export function decode<T extends TableName>(table: T, raw: Raw): Row<T> {
  const out: Record<string, unknown> = {};
  for (const c of TABLES[table].columns) {
    if (c.name in raw) out[c.field] = decodeColumn(table, c, raw[c.name]);
  }
  return out as Row<T>;
}

/** A field's value as the database stores it; `bool` is the dialect's boolean. */
export function encode(c: Column, value: unknown, bool: (b: boolean) => unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (c.kind) {
    case 'json':
    case 'jsonText':
      return JSON.stringify(value);
    case 'flag':
      return value ? 1 : 0;
    case 'bool':
      return bool(value as boolean);
    default:
      return value;
  }
}

/** A record's stored values in the table's column order (set-up loaders and benchmarks). */
export function encodeRow<T extends TableName>(
  table: T,
  record: Row<T>,
  bool: (b: boolean) => unknown,
): unknown[] {
  const r = record as unknown as Record<string, unknown>;
  return TABLES[table].columns.map((c) => encode(c, r[c.field], bool));
}

/**
 * The rows to write in one statement, the last of each key kept: a statement may not change
 * one row twice (PostgreSQL refuses it), and the last write wins as it would row by row.
 */
export function lastByKey<T extends TableName>(table: T, rows: readonly Row<T>[]): Row<T>[] {
  const key = TABLES[table].key as readonly string[];
  if (rows.length < 2) return [...rows];
  const byKey = new Map<string, Row<T>>();
  for (const row of rows) {
    const r = row as unknown as Record<string, unknown>;
    const k = key.map((f) => String(r[f])).join('\u0000');
    byKey.delete(k);
    byKey.set(k, row);
  }
  return [...byKey.values()];
}
