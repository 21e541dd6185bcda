/**
 * One ordered set of migrations for every store. Each has a dialect per adapter; ids never
 * change once released, and a released migration is never edited (add a new one).
 * Every table but `catalogs` and `schema_migrations` carries account_id in its primary key, so
 * the schema can be distributed by account. The journal tables lead with the transaction id
 * (time-ordered), so a batch of charges across many accounts appends to a few pages instead of
 * dirtying one page per account; an account's journal is reached through transactions_by_account.
 */
export interface Migration {
  readonly id: number;
  readonly name: string;
  readonly sqlite: string;
  readonly postgres: string;
}

/**
 * SQLite cannot change a CHECK constraint in place: each table whose list grows is rebuilt
 * (create the new table, copy every row by name, drop the old, rename, recreate its indexes),
 * the procedure SQLite documents for schema changes ALTER TABLE does not do. The copy runs in
 * the migration's one transaction, so a crash leaves the old tables as they were.
 */
export function rebuild(table: string, ddl: string, columns: string, indexes: string): string {
  return `
CREATE TABLE ${table}_new (${ddl}) WITHOUT ROWID;
INSERT INTO ${table}_new (${columns}) SELECT ${columns} FROM ${table};
DROP TABLE ${table};
ALTER TABLE ${table}_new RENAME TO ${table};
${indexes}`;
}
