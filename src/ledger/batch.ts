import { AmisiError, assert } from '../core/errors.js';
import { isExpired, type Draw, type Grant } from '../core/grants.js';
import type { Hold } from '../core/holds.js';
import { assertBalanced, type Entry, type JournalTransaction } from '../core/journal.js';
import type { Ids } from './ports.js';
import type {
  AccountRecord,
  CatalogRecord,
  GrantRemaining,
  IdempotencyRecord,
  WriteTx,
} from './store.js';

/** One account's rows as loaded (and locked) in this batch; commands update it as they write. */
export class AccountState {
  readonly grants = new Map<string, Grant>();
  constructor(readonly account: AccountRecord) {}
}

export interface TransactionDraft {
  readonly kind: JournalTransaction['kind'];
  readonly idempotencyKey?: string | null;
  readonly holdId?: string | null;
  readonly grantId?: string | null;
  readonly catalogVersion?: string | null;
  readonly detail?: Record<string, unknown>;
  readonly entries: readonly Entry[];
}

/**
 * The unit of work of one group commit: one database transaction shared by many commands.
 * It caches each account's rows once per batch, runs the lazy expiry of grants and holds on
 * first access, and is the only path to writes, so it can tell a command that failed cleanly
 * (an AmisiError before any write) from a bug (an AmisiError after a write).
 *
 * Journal transactions, idempotency records and grant balances are buffered and written by
 * `flush` just before commit, with multi-row inserts and one update per grant changed, however
 * many commands touched it. Reads inside the batch see the buffers.
 */
export class Batch {
  private readonly states = new Map<string, AccountState>();
  private readonly journal = new Map<string, JournalTransaction>();
  private readonly idempotency = new Map<string, IdempotencyRecord>();
  private readonly dirtyGrants = new Map<string, GrantRemaining>();
  private catalog: CatalogRecord | undefined;
  /** Writes made on behalf of commands (not of lazy maintenance). */
  commandWrites = 0;
  private maintaining = false;

  constructor(
    readonly tx: WriteTx,
    readonly now: number,
    private readonly ids: Ids,
  ) {}

  newId(prefix: string): string {
    return this.ids.next(prefix);
  }

  private wrote(): void {
    if (!this.maintaining) this.commandWrites += 1;
  }

  /** The account, locked, with its open grants loaded and anything due expired. */
  async account(accountId: string): Promise<AccountState> {
    const cached = this.states.get(accountId);
    if (cached) return cached;
    const record = await this.tx.lockAccount(accountId);
    if (!record) {
      throw new AmisiError('unknown_account', `unknown account "${accountId}"`, { accountId });
    }
    const state = new AccountState(record);
    for (const g of await this.tx.openGrants(accountId)) state.grants.set(g.id, g);
    this.states.set(accountId, state);
    await this.maintain(state);
    return state;
  }

  async activeCatalog(): Promise<CatalogRecord> {
    this.catalog ??= await this.tx.activeCatalog();
    if (!this.catalog) {
      throw new AmisiError('not_initialized', 'no catalog is loaded', {});
    }
    return this.catalog;
  }

  async grant(state: AccountState, grantId: string): Promise<Grant> {
    let g = state.grants.get(grantId);
    if (!g) {
      g = await this.tx.getGrant(state.account.id, grantId);
      assert(g, `grant ${grantId} of ${state.account.id} exists`);
      state.grants.set(grantId, g);
    }
    return g;
  }

  async insertGrant(state: AccountState, grant: Grant): Promise<void> {
    this.wrote();
    await this.tx.insertGrant(grant);
    state.grants.set(grant.id, grant);
  }

  async setRemaining(state: AccountState, grant: Grant, remaining: number): Promise<void> {
    assert(
      remaining >= 0 && remaining <= grant.amount,
      `grant ${grant.id} stays within [0, amount]`,
    );
    this.wrote();
    const accountId = state.account.id;
    // Grant ids are unique across accounts, so they key the buffer alone.
    this.dirtyGrants.set(grant.id, {
      accountId,
      grantId: grant.id,
      remaining,
    });
    state.grants.set(grant.id, { ...grant, remaining });
  }

  async insertHold(hold: Hold): Promise<void> {
    this.wrote();
    await this.tx.insertHold(hold);
  }

  async resolveHold(hold: Hold, status: 'captured' | 'released' | 'expired', captured: number) {
    assert(hold.status === 'held', `hold ${hold.id} resolves once`);
    assert(captured >= 0 && captured <= hold.credits, 'a capture never exceeds its hold');
    this.wrote();
    await this.tx.resolveHold(hold.accountId, hold.id, status, captured, this.now);
  }

  async getIdempotency(accountId: string, key: string): Promise<IdempotencyRecord | undefined> {
    return (
      this.idempotency.get(`${accountId}\u0000${key}`) ?? this.tx.getIdempotency(accountId, key)
    );
  }

  putIdempotency(accountId: string, key: string, requestHash: string, transactionId: string): void {
    this.wrote();
    this.idempotency.set(`${accountId}\u0000${key}`, {
      accountId,
      key,
      requestHash,
      transactionId,
      createdAt: this.now,
    });
  }

  /** A journal transaction written earlier, in this batch or before. */
  async transaction(accountId: string, transactionId: string): Promise<JournalTransaction> {
    const t =
      this.journal.get(transactionId) ?? (await this.tx.getTransaction(accountId, transactionId));
    assert(t && t.accountId === accountId, `transaction ${transactionId} of ${accountId} exists`);
    return t;
  }

  /** Writes the buffers; the committer calls it once, after the last command. */
  async flush(): Promise<void> {
    if (this.dirtyGrants.size > 0) await this.tx.setGrantsRemaining([...this.dirtyGrants.values()]);
    if (this.journal.size > 0) await this.tx.appendTransactions([...this.journal.values()]);
    if (this.idempotency.size > 0) await this.tx.putIdempotency([...this.idempotency.values()]);
  }

  /** Appends one balanced journal transaction and returns its id. */
  async append(accountId: string, draft: TransactionDraft): Promise<string> {
    const tx: JournalTransaction = {
      accountId,
      id: this.newId('txn'),
      kind: draft.kind,
      createdAt: this.now,
      idempotencyKey: draft.idempotencyKey ?? null,
      holdId: draft.holdId ?? null,
      grantId: draft.grantId ?? null,
      catalogVersion: draft.catalogVersion ?? null,
      detail: draft.detail ?? {},
      entries: draft.entries,
    };
    assertBalanced(tx);
    this.wrote();
    this.journal.set(tx.id, tx);
    return tx.id;
  }

  /**
   * Returns held credits to their grants; a grant that has expired meanwhile passes them
   * straight on to breakage (the reservation outlived the grant, the credits do not).
   */
  async returnDraws(state: AccountState, holdId: string, returned: readonly Draw[]) {
    const entries: Entry[] = [];
    for (const d of returned) {
      const grant = await this.grant(state, d.grantId);
      entries.push({ book: 'held', grantId: d.grantId, holdId, credits: -d.credits });
      if (isExpired(grant, this.now)) {
        entries.push({ book: 'breakage', grantId: d.grantId, holdId, credits: d.credits });
      } else {
        entries.push({ book: 'grant', grantId: d.grantId, holdId, credits: d.credits });
        await this.setRemaining(state, grant, grant.remaining + d.credits);
      }
    }
    return entries;
  }

  private async maintain(state: AccountState): Promise<void> {
    this.maintaining = true;
    try {
      for (const hold of await this.tx.dueHolds(state.account.id, this.now)) {
        const entries = await this.returnDraws(state, hold.id, hold.draws);
        await this.append(state.account.id, {
          kind: 'hold_expiry',
          holdId: hold.id,
          catalogVersion: hold.catalogVersion,
          detail: { credits: hold.credits, reason: 'ttl passed' },
          entries,
        });
        await this.resolveHold(hold, 'expired', 0);
      }
      for (const grant of [...state.grants.values()]) {
        if (grant.remaining > 0 && isExpired(grant, this.now)) {
          await this.append(state.account.id, {
            kind: 'grant_expiry',
            grantId: grant.id,
            detail: { credits: grant.remaining, source: grant.source },
            entries: [
              { book: 'grant', grantId: grant.id, holdId: null, credits: -grant.remaining },
              { book: 'breakage', grantId: grant.id, holdId: null, credits: grant.remaining },
            ],
          });
          await this.setRemaining(state, grant, 0);
        }
      }
    } finally {
      this.maintaining = false;
    }
  }
}
