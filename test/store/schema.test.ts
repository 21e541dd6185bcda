/**
 * The two dialects of every migration create the same schema, and the table descriptions
 * (src/store/sql/tables.ts) match it. All migrations are applied to a fresh SQLite file and a
 * fresh PostgreSQL database; their catalogs are read (sqlite_master and pragmas vs
 * information_schema and pg_indexes) into one shape and compared.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { PostgresStore, postgresDialect } from '../../src/store/postgres/postgres-store.js';
import { SqliteStore, sqliteDialect } from '../../src/store/sqlite/sqlite-store.js';
import type { Dialect } from '../../src/store/sql/dialect.js';
import { createTable, TABLES, type TableName } from '../../src/store/sql/tables.js';
import { tempDir } from '../helpers.js';
import { freshDatabase, postgresSkip } from '../pg-helpers.js';

interface ColumnShape {
  readonly name: string;
  /** The declared type, upper case (SQLite as written; PostgreSQL's data_type). */
  readonly type: string;
  readonly notNull: boolean;
}

interface TableShape {
  readonly columns: readonly ColumnShape[];
  readonly primaryKey: readonly string[];
  /** Unique constraints, each its columns joined by commas, sorted. */
  readonly unique: readonly string[];
  /** Indexes created by name: `name(columns)`, with ` partial` for a WHERE clause. */
  readonly indexes: readonly string[];
}

type Schema = Record<string, TableShape>;

/** Types the dialects spell differently for one column kind. */
const SAME_TYPE: Record<string, string> = { BIGINT: 'INTEGER', JSONB: 'TEXT', BOOLEAN: 'INTEGER' };
const portable = (type: string) => SAME_TYPE[type] ?? type;

type Raw = Record<string, unknown>;

function sqliteSchema(path: string): Schema {
  const db = new Database(path, { readonly: true });
  try {
    const names = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .all() as Raw[];
    const out: Schema = {};
    for (const { name } of names) {
      const info = db.pragma(`table_info(${String(name)})`) as Raw[];
      const columns = info.map((c) => ({
        name: c.name as string,
        type: (c.type as string).toUpperCase(),
        notNull: c.notnull === 1 || (c.pk as number) > 0,
      }));
      const primaryKey = info
        .filter((c) => (c.pk as number) > 0)
        .sort((a, b) => (a.pk as number) - (b.pk as number))
        .map((c) => c.name as string);
      const unique: string[] = [];
      const indexes: string[] = [];
      for (const i of db.pragma(`index_list(${String(name)})`) as Raw[]) {
        const cols = (db.pragma(`index_info(${String(i.name)})`) as Raw[])
          .sort((a, b) => (a.seqno as number) - (b.seqno as number))
          .map((c) => c.name as string)
          .join(',');
        if (i.origin === 'u') unique.push(cols);
        if (i.origin === 'c')
          indexes.push(`${String(i.name)}(${cols})${i.partial ? ' partial' : ''}`);
      }
      out[name as string] = { columns, primaryKey, unique: unique.sort(), indexes: indexes.sort() };
    }
    return out;
  } finally {
    db.close();
  }
}

async function postgresSchema(url: string): Promise<Schema> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    const q = async (sql: string) => (await client.query(sql)).rows as Raw[];
    const columns =
      await q(`SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
      WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`);
    const keys =
      await q(`SELECT tc.table_name, tc.constraint_name, tc.constraint_type, k.column_name
      FROM information_schema.table_constraints tc JOIN information_schema.key_column_usage k
        ON k.constraint_name = tc.constraint_name AND k.table_schema = tc.table_schema
      WHERE tc.table_schema = 'public' AND tc.constraint_type IN ('PRIMARY KEY', 'UNIQUE')
      ORDER BY tc.table_name, tc.constraint_name, k.ordinal_position`);
    const indexes = await q(`SELECT i.tablename, i.indexname, i.indexdef FROM pg_indexes i
      WHERE i.schemaname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_constraint c
        WHERE c.conname = i.indexname)`);
    const out: Record<
      string,
      { columns: ColumnShape[]; primaryKey: string[]; unique: string[]; indexes: string[] }
    > = {};
    const table = (name: unknown) =>
      (out[name as string] ??= { columns: [], primaryKey: [], unique: [], indexes: [] });
    for (const c of columns) {
      table(c.table_name).columns.push({
        name: c.column_name as string,
        type: (c.data_type as string).toUpperCase(),
        notNull: c.is_nullable === 'NO',
      });
    }
    const uniques = new Map<string, { table: string; cols: string[] }>();
    for (const k of keys) {
      if (k.constraint_type === 'PRIMARY KEY')
        table(k.table_name).primaryKey.push(k.column_name as string);
      else {
        const u = uniques.get(k.constraint_name as string) ?? {
          table: k.table_name as string,
          cols: [],
        };
        u.cols.push(k.column_name as string);
        uniques.set(k.constraint_name as string, u);
      }
    }
    for (const u of uniques.values()) table(u.table).unique.push(u.cols.join(','));
    for (const i of indexes) {
      const def = i.indexdef as string;
      const cols = /USING \w+ \(([^)]*)\)/
        .exec(def)![1]!
        .split(',')
        .map((c) => c.trim());
      const partial = / WHERE /.test(def) ? ' partial' : '';
      table(i.tablename).indexes.push(`${String(i.indexname)}(${cols.join(',')})${partial}`);
    }
    for (const t of Object.values(out)) {
      t.unique.sort();
      t.indexes.sort();
    }
    return out;
  } finally {
    await client.end();
  }
}

/** The schema with each type in the spelling both dialects share. */
function portableSchema(schema: Schema): Schema {
  return Object.fromEntries(
    Object.entries(schema).map(([name, t]) => [
      name,
      { ...t, columns: t.columns.map((c) => ({ ...c, type: portable(c.type) })) },
    ]),
  );
}

/** Every described table and column exists with its type; nothing else exists undescribed. */
function checkDescriptions(schema: Schema, dialect: Dialect): void {
  const described = new Set(Object.keys(TABLES));
  const tables = Object.keys(schema).filter((t) => t !== 'schema_migrations');
  assert.deepEqual(tables.sort(), [...described].sort(), `${dialect.name}: tables described`);
  for (const [name, d] of Object.entries(TABLES)) {
    const t = schema[name]!;
    const actual = t.columns.map((c) => `${c.name} ${c.type}${c.notNull ? ' NOT NULL' : ''}`);
    const expected = d.columns.map(
      (c) => `${c.name} ${dialect.sqlType(c.kind)}${c.nullable ? '' : ' NOT NULL'}`,
    );
    assert.deepEqual(actual.sort(), expected.sort(), `${dialect.name}: columns of ${name}`);
    const key = d.key.map((f) => d.byField.get(f)!.name);
    assert.deepEqual([...t.primaryKey].sort(), key.sort(), `${dialect.name}: key of ${name}`);
  }
}

/** Columns (sorted) and key columns (sorted) of each table: what createTable makes. */
function tablesAndKeys(schema: Schema, tables: readonly string[]) {
  return Object.fromEntries(
    tables.map((name) => {
      const t = schema[name]!;
      const columns = t.columns.map((c) => `${c.name} ${c.type}${c.notNull ? ' NOT NULL' : ''}`);
      return [name, { columns: columns.sort(), key: [...t.primaryKey].sort() }];
    }),
  );
}

describe('schema: both dialects of every migration, and the table descriptions', () => {
  let sqlite: Schema;
  let postgres: Schema | undefined;
  const dir = tempDir('amisi-schema-');
  let drop: (() => Promise<void>) | undefined;

  before(async () => {
    const path = join(dir.dir, 'schema.db');
    const store = new SqliteStore({ path });
    await store.migrate();
    await store.close();
    sqlite = sqliteSchema(path);
    if (postgresSkip) return;
    const db = await freshDatabase();
    drop = db.drop;
    const pgStore = new PostgresStore({ url: db.url });
    await pgStore.migrate();
    await pgStore.close();
    postgres = await postgresSchema(db.url);
  });

  after(async () => {
    await drop?.();
    dir.cleanup();
  });

  it('the table descriptions match the SQLite schema', () => {
    checkDescriptions(sqlite, sqliteDialect);
  });

  it('DDL generated from the descriptions makes the migrated tables (SQLite)', () => {
    const path = join(dir.dir, 'generated.db');
    const db = new Database(path);
    const names = Object.keys(TABLES) as TableName[];
    for (const name of names) db.exec(createTable(name, 'sqlite'));
    db.close();
    assert.deepEqual(tablesAndKeys(sqliteSchema(path), names), tablesAndKeys(sqlite, names));
  });

  it(
    'DDL generated from the descriptions makes the migrated tables (PostgreSQL)',
    { skip: postgresSkip },
    async () => {
      const db = await freshDatabase();
      try {
        const client = new pg.Client(db.url);
        await client.connect();
        const names = Object.keys(TABLES) as TableName[];
        for (const name of names) await client.query(createTable(name, 'postgres'));
        await client.end();
        assert.deepEqual(
          tablesAndKeys(await postgresSchema(db.url), names),
          tablesAndKeys(postgres!, names),
        );
      } finally {
        await db.drop();
      }
    },
  );

  it('the table descriptions match the PostgreSQL schema', { skip: postgresSkip }, () => {
    checkDescriptions(postgres!, postgresDialect);
  });

  it(
    'SQLite and PostgreSQL have the same tables, columns, keys, unique constraints and indexes',
    { skip: postgresSkip },
    () => {
      const a = portableSchema(sqlite);
      const b = portableSchema(postgres!);
      assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort());
      for (const name of Object.keys(a)) assert.deepEqual(a[name], b[name], `table ${name}`);
    },
  );
});
