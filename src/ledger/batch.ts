import { AmisiError, assert } from '../core/errors.js';
import { isExpired, type Draw, type Grant } from '../core/grants.js';
import type { Hold } from '../core/holds.js';
import { assertBalanced, type Entry, type JournalTransaction } from '../core/journal.js';
import type { Ids } from './ports.js';
import type {
  AccountRecord,
  CatalogRecord,
  GrantRemaining,
  HoldRef,
  IdempotencyRecord,
  WriteTx,
} from './store.js';

/** What a queued command will touch, known before its batch starts (for prefetching). */
export interface CommandHint {
  readonly accountId?: string;
  readonly key?: string;
  readonly holdId?: string;
}

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
 *
 * `prepare` loads what the commands' hints name in a few bulk reads (lock the accounts in id
 * order, their open grants, their due holds, the idempotency records and holds named), so a
 * batch costs a handful of round trips however many commands it carries.
 */
export class Batch {
  private readonly states = new Map<string, AccountState>();
  private readonly journal = new Map<string, JournalTransaction>();
  private readonly idempotency = new Map<string, IdempotencyRecord>();
  private readonly dirtyGrants = new Map<string, GrantRemaining>();
  /** Idempotency records read by prepare; null marks a key known to be unused. */
  private readonly seenKeys = new Map<string, IdempotencyRecord | null>();
  private readonly holds = new Map<string, Hold>();
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

  /** Loads and locks everything the hints name, then settles what is due in those accounts. */
  async prepare(hints: readonly CommandHint[]): Promise<void> {
    const accountIds = [
      ...new Set(hints.flatMap((h) => (h.accountId ? [h.accountId] : []))),
    ].sort();
    if (accountIds.length === 0) return;
    const records = await this.tx.lockAccounts(accountIds);
    const found = records.map((r) => r.id);
    for (const r of records) this.states.set(r.id, new AccountState(r));
    for (const g of await this.tx.openGrants(found))
      this.states.get(g.accountId)?.grants.set(g.id, g);
    const keys = hints.flatMap((h) =>
      h.accountId && h.key && this.states.has(h.accountId)
        ? [{ accountId: h.accountId, key: h.key }]
        : [],
    );
    for (const k of keys) this.seenKeys.set(`${k.accountId}\u0000${k.key}`, null);
    if (keys.length > 0) {
      for (const r of await this.tx.getIdempotency(keys))
        this.seenKeys.set(`${r.accountId}\u0000${r.key}`, r);
    }
    const holdRefs: HoldRef[] = hints.flatMap((h) =>
      h.accountId && h.holdId && this.states.has(h.accountId)
        ? [{ accountId: h.accountId, holdId: h.holdId }]
        : [],
    );
    if (holdRefs.length > 0)
      for (const h of await this.tx.getHolds(holdRefs)) this.holds.set(h.id, h);
    const due = await this.tx.dueHolds(found, this.now);
    for (const id of found) {
      const state = this.states.get(id)!;
      await this.maintain(
        state,
        due.filter((h) => h.accountId === id),
      );
    }
  }

  /** The account, locked, with its open grants loaded and anything due expired. */
  async account(accountId: string): Promise<AccountState> {
    const cached = this.states.get(accountId);
    if (cached) return cached;
    // Not named by a hint (an account created in this batch, a hold's account): load it alone.
    const [record] = await this.tx.lockAccounts([accountId]);
    if (!record) {
      throw new AmisiError('unknown_account', `unknown account "${accountId}"`, { accountId });
    }
    const state = new AccountState(record);
    for (const g of await this.tx.openGrants([accountId])) state.grants.set(g.id, g);
    this.states.set(accountId, state);
    await this.maintain(state, await this.tx.dueHolds([accountId], this.now));
    return state;
  }

  /** A hold of the account, as it stands in this batch. */
  async hold(accountId: string, holdId: string): Promise<Hold | undefined> {
    const cached = this.holds.get(holdId);
    if (cached) return cached;
    const [h] = await this.tx.getHolds([{ accountId, holdId }]);
    if (h) this.holds.set(h.id, h);
    return h;
  }

  /** Commands after a catalog change in this batch price with the new active version. */
  forgetCatalog(): void {
    this.catalog = undefined;
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
    this.holds.set(hold.id, hold);
  }

  async resolveHold(hold: Hold, status: 'captured' | 'released' | 'expired', captured: number) {
    assert(hold.status === 'held', `hold ${hold.id} resolves once`);
    assert(captured >= 0 && captured <= hold.credits, 'a capture never exceeds its hold');
    this.wrote();
    await this.tx.resolveHold(hold.accountId, hold.id, status, captured, this.now);
    const resolved: Hold = { ...hold, status, capturedCredits: captured, resolvedAt: this.now };
    this.holds.set(hold.id, resolved);
    return resolved;
  }

  async getIdempotency(accountId: string, key: string): Promise<IdempotencyRecord | undefined> {
    const id = `${accountId}\u0000${key}`;
    const buffered = this.idempotency.get(id);
    if (buffered) return buffered;
    const seen = this.seenKeys.get(id);
    if (seen !== undefined) return seen ?? undefined;
    const [record] = await this.tx.getIdempotency([{ accountId, key }]);
    return record;
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

  private async maintain(state: AccountState, due: readonly Hold[]): Promise<void> {
    this.maintaining = true;
    try {
      for (const hold of due) {
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
