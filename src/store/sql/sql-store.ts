import type {
  AccountQuery,
  AccountView,
  Reader,
  RollupWindowQuery,
  Store,
  WriteTx,
} from '../../ledger/store.js';
import { Access } from './access.js';
import type { Dialect, Executor } from './dialect.js';
import { accountAudit, rollupWindow } from './journal.js';
import { AccessReader, SqlReader } from './reader.js';
import { decode, type Raw } from './rows.js';
import { SqlWriteTx } from './write-tx.js';

/**
 * Accounts as readers see them, with the plan of the active subscription (one per account, or
 * none): `${ACCOUNTS_WITH_PLAN} WHERE a.account_id ...`.
 */
export const ACCOUNTS_WITH_PLAN =
  "SELECT a.*, s.plan FROM accounts a LEFT JOIN subscriptions s ON s.account_id = a.account_id AND s.status = 'active'";

const SQL = {
  // Due: a grant past its expiry with credits, a hold past its ttl, or a debt that spendable
  // credits can repay (a grant that started since the account was last loaded).
  accountsDue: `SELECT account_id FROM grants WHERE remaining > 0 AND expires_at IS NOT NULL AND expires_at <= ?
  UNION SELECT account_id FROM holds WHERE status = 'held' AND expires_at <= ?
  UNION SELECT a.account_id FROM accounts a WHERE a.debt > 0 AND EXISTS (SELECT 1 FROM grants g
    WHERE g.account_id = a.account_id AND g.remaining > 0 AND g.starts_at <= ?
    AND (g.expires_at IS NULL OR g.expires_at > ?)) LIMIT ?`,
  purgeIdempotency:
    'DELETE FROM idempotency WHERE (account_id, key) IN (SELECT account_id, key FROM idempotency WHERE created_at < ? LIMIT ?)',
} as const;

const accountView = (r: Raw): AccountView => ({
  ...decode('accounts', r),
  plan: (r.plan as string | null) ?? null,
});

/**
 * The Store port written once over an executor and a dialect: the generic reader on committed
 * data, and the few reads that aggregate or join. An adapter gives the transactions (write, a
 * read-only snapshot), the connection reads use, migrate and close.
 */
export abstract class SqlStore extends SqlReader implements Store {
  abstract readonly kind: string;
  abstract readonly writeConcurrency: number;
  private readAccess: Access | undefined;
  constructor(protected readonly dialect: Dialect) {
    super();
  }
  protected get a(): Access {
    return (this.readAccess ??= new Access(this.reader(), this.dialect));
  }

  abstract migrate(): Promise<number>;
  abstract close(): Promise<void>;
  /** Runs `fn` in one write transaction; commits before resolving, rolls back on a throw. */
  protected abstract transaction<T>(fn: (exec: Executor) => Promise<T>): Promise<T>;
  /** Runs `fn` in one read transaction on committed data: its reads are one snapshot. */
  protected abstract readSnapshot<T>(fn: (exec: Executor) => Promise<T>): Promise<T>;
  /** The executor of plain reads (committed data only). */
  protected abstract reader(): Executor;

  write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    return this.transaction((exec) => fn(new SqlWriteTx(new Access(exec, this.dialect))));
  }
  snapshot<T>(fn: (reader: Reader) => Promise<T>): Promise<T> {
    return this.readSnapshot((exec) => fn(new AccessReader(new Access(exec, this.dialect))));
  }
  purgeIdempotency(before: number, limit: number) {
    // Through the write transaction, like every write (SQLite: the one write connection).
    return this.transaction((exec) => exec.run(SQL.purgeIdempotency, [before, limit]));
  }

  async accounts(q: AccountQuery) {
    const exec = this.reader();
    if ('id' in q) {
      return (await exec.all(`${ACCOUNTS_WITH_PLAN} WHERE a.account_id = ?`, [q.id])).map(
        accountView,
      );
    }
    const page = 'ORDER BY a.account_id LIMIT ?';
    if (q.search === undefined) {
      const sql = `${ACCOUNTS_WITH_PLAN} WHERE a.account_id > ? ${page}`;
      return (await exec.all(sql, [q.afterId ?? '', q.limit])).map(accountView);
    }
    const s = q.search.toLowerCase();
    const contains = this.dialect.contains;
    const sql = `${ACCOUNTS_WITH_PLAN} WHERE a.account_id > ? AND (${contains('lower(a.account_id)')} OR ${contains("lower(coalesce(a.name, ''))")}) ${page}`;
    return (await exec.all(sql, [q.afterId ?? '', s, s, q.limit])).map(accountView);
  }
  accountAudit(accountId: string) {
    return this.readSnapshot((exec) => accountAudit(new Access(exec, this.dialect), accountId));
  }
  rollupWindow(q: RollupWindowQuery) {
    return this.readSnapshot((exec) => rollupWindow(new Access(exec, this.dialect), q));
  }
  async accountsDue(now: number, limit: number) {
    const rows = await this.reader().all(SQL.accountsDue, [now, now, now, now, limit]);
    return rows.map((r) => r.account_id as string);
  }
  keyForCheck(keyId: string) {
    return this.a.get('api_keys', { id: keyId });
  }
}
