import type { JournalTransaction } from '../../core/journal.js';
import type { FlowIncrement, UsageIncrement } from '../../core/rollups.js';
import type {
  Conflict,
  Kind,
  KeyField,
  Records,
  StoredRecords,
  Where,
  WriteTx,
} from '../../ledger/store.js';
import type { Access } from './access.js';
import { AccessReader, tableWhere } from './reader.js';
import { decode } from './rows.js';
import type { Row } from './tables.js';

/** Rollups add up: a row already there for the key gets the increment added. */
function addClauses(a: Access) {
  const { least, greatest } = a.dialect;
  return {
    usage:
      ' ON CONFLICT (account_id, hour, dim, key) DO UPDATE SET credits = usage_hourly.credits + excluded.credits, units = usage_hourly.units + excluded.units',
    flows: ` ON CONFLICT (account_id, hour, flow, key) DO UPDATE SET credits = flows_hourly.credits + excluded.credits, first_transaction_id = ${least}(flows_hourly.first_transaction_id, excluded.first_transaction_id), last_transaction_id = ${greatest}(flows_hourly.last_transaction_id, excluded.last_transaction_id)`,
  };
}

/**
 * The write side of the port over the generic table layer: each method one or two calls. The
 * dialect decides how a multi-row write or a read of many keys becomes statements.
 */
export class SqlWriteTx extends AccessReader implements WriteTx {
  async lockAccounts(accountIds: readonly string[]) {
    // In id order, so two commit groups that share accounts queue instead of deadlocking
    // (SQLite: BEGIN IMMEDIATE already holds the database write lock for the whole transaction).
    return this.a.findFor('accounts', 'id', [...accountIds].sort(), {}, { lock: true });
  }

  insert<K extends Kind>(kind: K, records: readonly StoredRecords[K][], conflict?: Conflict) {
    return this.a.insert(kind, records as readonly Row<K>[], conflict);
  }

  update<K extends Kind>(kind: K, set: Partial<StoredRecords[K]>, where: Where<Records[K]>) {
    return this.a.update(kind, set as Partial<Row<K>>, tableWhere(kind, where));
  }

  updateMany<K extends Kind, F extends keyof StoredRecords[K] = keyof StoredRecords[K]>(
    kind: K,
    records: readonly Pick<StoredRecords[K], KeyField<K> | F>[],
    fields?: readonly (F & string)[],
  ) {
    // The table layer reads only the key and the fields named from each record.
    const rows = records as readonly Row<K>[];
    if (fields === undefined) return this.a.replaceMany(kind, rows);
    return this.a.updateMany(kind, rows, fields as readonly (keyof Row<K> & string)[]);
  }

  delete<K extends Kind>(kind: K, where: Where<Records[K]>) {
    return this.a.delete(kind, tableWhere(kind, where));
  }

  async appendTransactions(txs: readonly JournalTransaction[]) {
    await this.a.insert('transactions', txs);
    // Each line's transaction and line number, in two flat lists: no object per line.
    const ofTx: JournalTransaction[] = [];
    const lineNo: number[] = [];
    for (const t of txs) {
      for (let line = 0; line < t.entries.length; line++) {
        ofTx.push(t);
        lineNo.push(line);
      }
    }
    await this.a.insertFields('entries', ofTx.length, (i, field) => {
      const t = ofTx[i]!;
      if (field === 'accountId') return t.accountId;
      if (field === 'transactionId') return t.id;
      if (field === 'line') return lineNo[i];
      return t.entries[lineNo[i]!]![field];
    });
  }

  async addRollups(usage: readonly UsageIncrement[], flows: readonly FlowIncrement[]) {
    const clauses = addClauses(this.a);
    await this.a.insertWith('usage_hourly', usage, clauses.usage);
    await this.a.insertWith('flows_hourly', flows, clauses.flows);
  }

  async claimDeliveries(now: number, leaseUntil: number, limit: number) {
    const rows = await this.a.dialect.claimDeliveries(this.a.exec, now, leaseUntil, limit);
    return rows.map((r) => ({ ...decode('webhook_deliveries', r), nextAttemptAt: leaseUntil }));
  }
}
