import { assert } from '../../core/errors.js';
import type {
  FindOptions,
  JournalOptions,
  JournalWhere,
  KeyOf,
  Kind,
  Reader,
  Records,
  SecretKind,
  StoredRecords,
  WebhookSecrets,
  Where,
} from '../../ledger/store.js';
import {
  lit,
  type Access,
  type FindOptions as TableOptions,
  type Where as TableWhere,
} from './access.js';
import { withEntries } from './journal.js';
import { TABLES, type Row, type TableName } from './tables.js';

/** The port's record types are the descriptions' (a kind is its table): checked here. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Mismatched = { [K in Kind]: Same<Row<K>, StoredRecords[K]> extends true ? never : K }[Kind];
const described: [Mismatched] extends [never] ? true : Mismatched = true;
void described;

/**
 * Fields whose constant values are written into the statement's text (`lit`), so the planner
 * matches them against the partial indexes that name them (open holds and grants, active
 * subscriptions, auto top-ups awaiting checkout); neither database does for a parameter.
 */
const LITERALS: { readonly [T in TableName]?: ReadonlySet<string> } = {
  grants: new Set(['remaining']),
  holds: new Set(['status']),
  subscriptions: new Set(['status']),
  purchases: new Set(['origin', 'status']),
};

/** The secret field of each secret-bearing table: the generic reader never selects it. */
const SECRETS: { readonly [T in SecretKind]: string } = {
  api_keys: 'secretHash',
  webhook_endpoints: 'secret',
};
const fieldsBut = (table: SecretKind) =>
  TABLES[table].columns.map((c) => c.field).filter((f) => f !== SECRETS[table]);
const SECRET_FREE: { readonly [T in SecretKind]: readonly string[] } = {
  api_keys: fieldsBut('api_keys'),
  webhook_endpoints: fieldsBut('webhook_endpoints'),
};

const isSecretKind = (kind: TableName): kind is SecretKind => kind in SECRETS;

/**
 * Tables that are mostly empty: where each value of a bulk read costs a statement (SQLite),
 * one probe spares a lookup per account per commit group (auto top-up rules are rare).
 */
const PROBED: ReadonlySet<TableName> = new Set(['autotopups']);

function literal(v: unknown): unknown {
  return typeof v === 'string' || typeof v === 'number' ? lit(v) : v;
}

/** The port's conditions as the table layer's, constants of partial indexes as literals. */
export function tableWhere<K extends Kind>(kind: K, where: Where<Records[K]>): TableWhere<Row<K>> {
  const fields = LITERALS[kind];
  if (fields === undefined) return where as TableWhere<Row<K>>;
  const out: Record<string, unknown> = {};
  for (const [field, v] of Object.entries(where)) {
    if (!fields.has(field) || v === null || v === undefined || Array.isArray(v)) out[field] = v;
    else if (typeof v === 'object') {
      out[field] = Object.fromEntries(Object.entries(v).map(([op, b]) => [op, literal(b)]));
    } else out[field] = literal(v);
  }
  return out as TableWhere<Row<K>>;
}

/** The port's options as the table layer's; a secret kind reads every field but its secret. */
function tableOptions<K extends Kind>(
  kind: K,
  o: FindOptions<Records[K], keyof Records[K]> = {},
): TableOptions<Row<K>> {
  if (!isSecretKind(kind)) return o as TableOptions<Row<K>>;
  const free = SECRET_FREE[kind];
  assert(o.fields?.every((f) => free.includes(f)) ?? true, `${kind} is read without its secret`);
  return { ...o, fields: o.fields ?? free } as TableOptions<Row<K>>;
}

/**
 * The port's generic reader over the table layer: each method one call into it (a kind is its
 * table). Shared by the store's reads, its snapshots and the write transaction.
 */
export abstract class SqlReader implements Reader, WebhookSecrets {
  /** The table layer reads go through (the store's: committed data). */
  protected abstract get a(): Access;

  async get<K extends Kind, F extends keyof Records[K] = keyof Records[K]>(
    kind: K,
    where: Where<Records[K]>,
    options?: FindOptions<Records[K], F>,
  ): Promise<Pick<Records[K], F> | undefined> {
    const row = await this.a.get(kind, tableWhere(kind, where), tableOptions(kind, options));
    return row as Pick<Records[K], F> | undefined;
  }

  async find<K extends Kind, F extends keyof Records[K] = keyof Records[K]>(
    kind: K,
    where: Where<Records[K]>,
    options?: FindOptions<Records[K], F>,
  ): Promise<Pick<Records[K], F>[]> {
    const rows = await this.a.find(kind, tableWhere(kind, where), tableOptions(kind, options));
    return rows as Pick<Records[K], F>[];
  }

  async findFor<
    K extends Kind,
    G extends keyof Records[K] & string,
    F extends keyof Records[K] = keyof Records[K],
  >(
    kind: K,
    field: G,
    values: readonly Records[K][G][],
    where: Where<Records[K]> = {},
    options?: FindOptions<Records[K], F>,
  ): Promise<Pick<Records[K], F>[]> {
    const a = this.a;
    if (PROBED.has(kind) && !a.dialect.arrays && values.length > 1 && !(await a.exists(kind)))
      return [];
    const rows = await a.findFor(
      kind,
      field as keyof Row<K> & string,
      values as unknown as readonly Row<K>[keyof Row<K> & string][],
      tableWhere(kind, where),
      tableOptions(kind, options),
    );
    return rows as Pick<Records[K], F>[];
  }

  async getMany<K extends Exclude<Kind, SecretKind>>(
    kind: K,
    keys: readonly KeyOf<K>[],
  ): Promise<Records[K][]> {
    const rows = await this.a.getMany(kind, keys as unknown as readonly Partial<Row<K>>[]);
    return rows as Records[K][];
  }

  count<K extends Kind>(kind: K, where: Where<Records[K]>): Promise<number> {
    return this.a.count(kind, tableWhere(kind, where));
  }

  async journal(where: JournalWhere, options: JournalOptions = {}) {
    return withEntries(this.a, await this.a.find('transactions', where, options));
  }

  async webhookTargets(endpointIds?: readonly string[]) {
    if (endpointIds?.length === 0) return [];
    const where = endpointIds === undefined ? {} : { id: endpointIds };
    return this.a.find('webhook_endpoints', where, { order: ['createdAt', 'id'] });
  }
}

/** The generic reader over one executor (a snapshot, a write transaction). */
export class AccessReader extends SqlReader {
  constructor(private readonly access: Access) {
    super();
  }
  protected get a(): Access {
    return this.access;
  }
}
