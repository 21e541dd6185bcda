import type { GatewayJob } from '../core/gateway-routes.js';
import { AmisiError, assert } from '../core/errors.js';
import { availableCredits, planDraws, type Grant } from '../core/grants.js';
import { moveOverdraft, type OverdraftState } from '../core/overdraft.js';
import type { AutoTopup } from '../core/autotopup.js';
import type { Hold } from '../core/holds.js';
import type { RequestBatch } from '../core/batches.js';
import type { Budget, BudgetScope, Member, Project } from '../core/teams.js';
import type { Subscription } from '../core/subscriptions.js';
import type { Purchase } from '../core/purchases.js';
import type { PlanUpgrade } from '../core/upgrades.js';
import { assertBalanced, type Entry, type JournalTransaction } from '../core/journal.js';
import type { KindDetail } from '../core/journal-detail.js';
import { RollupAccumulator, type FlowIncrement, type UsageIncrement } from '../core/rollups.js';
import type { Outcome } from '../core/outcomes.js';
import type { Delivery, DeliveryAttempt, WebhookEndpoint } from '../core/webhooks.js';
import type { Ids } from './ports.js';
import type { TestClock } from '../core/clocks.js';
import type {
  AccountRecord,
  ApiKeyRecord,
  CatalogRecord,
  IdempotencyRecord,
  Reader,
  WriteTx,
} from './store.js';
import { activeCatalog } from './reads.js';
import { AccountState, type CommandHint } from './account-state.js';
import { settleDue } from './subscriptions/renewal.js';
import { BudgetBuffer } from './teams/budgets.js';
import { Outbox } from './webhooks/outbox.js';
import { AutoTopupBuffer } from './purchases/auto-topup.js';
import { rollUp } from './reports/rollups.js';

export { AccountState, type CommandHint } from './account-state.js';

/** A journal transaction to append: its kind with that kind's detail, and its entries. */
export type TransactionDraft = KindDetail & {
  /**
   * When it happened, if before now: a renewal, an expiry or a hold's ttl caught up later is
   * dated when it was due, so reports put it in the cycle it belongs to (default now).
   */
  readonly at?: number;
  readonly idempotencyKey?: string | null;
  readonly holdId?: string | null;
  readonly grantId?: string | null;
  readonly catalogVersion?: string | null;
  readonly entries: readonly Entry[];
};

/**
 * The reads a command may make in its database transaction (locking reads included): the
 * generic reader, without the endpoints' secrets (a registration's replay reads its own
 * through `endpointForReplay`).
 */
export type TxReads = Reader & Pick<WriteTx, 'lockAccounts'>;

/** Grants that still have credits (any expiry): what a unit loads of each account. */
const OPEN_GRANT = { remaining: { gt: 0 } } as const;

/** A grant's new balance, by its key: what flush writes of a grant changed in the unit. */
type GrantRemaining = Pick<Grant, 'accountId' | 'id' | 'remaining'>;

/**
 * The unit of work of one group commit: one database transaction shared by many commands. It
 * caches each account's rows once, settles what is due on first access (subscriptions/), and is
 * the only path to writes: the transaction itself is private, and each write is a method here.
 *
 * Journal transactions, idempotency records, new grants, grant balances and subscription changes
 * are buffered and written by `flush` just before commit, with multi-row inserts and one update
 * per grant or subscription changed, however many commands touched it (a grant created in the
 * unit is inserted once, with its final balance). Reads inside the unit see the buffers: a new
 * grant and a changed subscription live in their account's state, which is never reloaded. The
 * renewal of many accounts thus costs a few statements per commit group, not a few per account.
 * The domains keep their own buffers (teams/ budgets and alerts, webhooks/ the outbox,
 * purchases/ auto top-up rules, the rollups), flushed here in a fixed order.
 *
 * `prepare` loads what the commands' hints name in a few bulk reads (lock the accounts in id
 * order, their open grants, their due holds, the idempotency records and holds named), so a
 * commit group costs a handful of round trips however many commands it carries.
 */
export class UnitOfWork {
  private readonly states = new Map<string, AccountState>();
  private readonly journal = new Map<string, JournalTransaction>();
  private readonly idempotency = new Map<string, IdempotencyRecord>();
  private readonly dirtyGrants = new Map<string, GrantRemaining>();
  /** Grants created in this unit, by id, with their latest balance. */
  private readonly newGrants = new Map<string, Grant>();
  /** Accounts whose overdraft counters or limit changed in this unit, by id (flush writes them). */
  private readonly dirtyAccounts = new Map<string, AccountRecord>();
  /** Accounts that owe and may have received credits since their debt was last repaid. */
  private readonly owing = new Set<AccountState>();
  /** The latest row of each subscription changed in this unit, by id. */
  private readonly dirtySubscriptions = new Map<string, Subscription>();
  /** Idempotency records read by prepare; null marks a key known to be unused. */
  private readonly seenKeys = new Map<string, IdempotencyRecord | null>();
  private readonly holds = new Map<string, Hold>();
  /** What this unit's journal transactions add to their accounts' hourly rollups. */
  readonly rollups = new RollupAccumulator();
  /** Outcomes recorded in this unit, by account and transaction (the last one wins). */
  private readonly outcomes = new Map<string, Outcome>();
  private catalog: CatalogRecord | undefined;
  readonly budgets = new BudgetBuffer();
  readonly autoTopups = new AutoTopupBuffer();
  readonly outbox: Outbox;

  constructor(
    private readonly tx: WriteTx,
    readonly now: number,
    private readonly ids: Ids,
    readonly lowBalanceCredits = 10,
  ) {
    this.outbox = new Outbox(
      () => tx.find('webhook_endpoints', { disabledAt: null }),
      (prefix) => this.newId(prefix),
      now,
    );
  }

  /** The transaction's reads; writes go through the methods below. */
  get read(): TxReads {
    return this.tx;
  }

  /** A registered endpoint with its secret: a registration's replay answers it again. */
  async endpointForReplay(endpointId: string): Promise<WebhookEndpoint | undefined> {
    const [endpoint] = await this.tx.webhookTargets([endpointId]);
    return endpoint;
  }

  /** A new id; `at` dates it in the past (a record settling something due then). */
  newId(prefix: string, at?: number): string {
    assert(at === undefined || at <= this.now, 'nothing is dated in the future');
    return at !== undefined && at < this.now ? this.ids.next(prefix, at) : this.ids.next(prefix);
  }

  /** Journal transactions appended under an idempotency key (a command's, not maintenance's). */
  private keyedTransactions = 0;

  /**
   * Idempotency records and keyed journal transactions buffered so far: they only grow, so a
   * command that refused must leave this as it found it (the committer's safety net). Lazy
   * maintenance (renewals, expiries) journals without a key and may run before a refusal.
   */
  get buffered(): number {
    return this.keyedTransactions + this.idempotency.size;
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
    for (const g of await this.tx.findFor('grants', 'accountId', found, OPEN_GRANT))
      this.states.get(g.accountId)?.grants.set(g.id, g);
    const keys = hints.flatMap((h) =>
      h.accountId && h.key && this.states.has(h.accountId)
        ? [{ accountId: h.accountId, key: h.key }]
        : [],
    );
    for (const k of keys) this.seenKeys.set(`${k.accountId}\u0000${k.key}`, null);
    if (keys.length > 0) {
      for (const r of await this.tx.getMany('idempotency', keys))
        this.seenKeys.set(`${r.accountId}\u0000${r.key}`, r);
    }
    const holdRefs = hints.flatMap((h) =>
      h.accountId && h.holdId && this.states.has(h.accountId)
        ? [{ accountId: h.accountId, id: h.holdId }]
        : [],
    );
    if (holdRefs.length > 0)
      for (const h of await this.tx.getMany('holds', holdRefs)) this.holds.set(h.id, h);
    for (const sub of await this.activeSubscriptions(found)) {
      const state = this.states.get(sub.accountId);
      if (state) state.subscription = sub;
    }
    for (const rule of await this.tx.findFor('autotopups', 'accountId', found)) {
      const state = this.states.get(rule.accountId);
      if (state) state.autoTopup = rule;
    }
    const due = await this.dueHolds(found);
    for (const id of found) {
      const state = this.states.get(id)!;
      await settleDue(
        this,
        state,
        due.filter((h) => h.accountId === id),
      );
      if (state.account.debt > 0) this.owing.add(state);
      await this.repayOwed();
      state.availableAtLoad = this.available(state);
    }
  }

  /** The account, locked, with its open grants loaded and anything due settled. */
  async account(accountId: string): Promise<AccountState> {
    const cached = this.states.get(accountId);
    if (cached) return cached;
    // Not named by a hint (an account created in this unit, a hold's account): load it alone.
    const [record] = await this.tx.lockAccounts([accountId]);
    if (!record) {
      throw new AmisiError('unknown_account', `unknown account "${accountId}"`, { accountId });
    }
    const state = new AccountState(record);
    for (const g of await this.tx.findFor('grants', 'accountId', [accountId], OPEN_GRANT))
      state.grants.set(g.id, g);
    [state.subscription] = await this.activeSubscriptions([accountId]);
    [state.autoTopup] = await this.tx.findFor('autotopups', 'accountId', [accountId]);
    this.states.set(accountId, state);
    await settleDue(this, state, await this.dueHolds([accountId]));
    if (state.account.debt > 0) this.owing.add(state);
    await this.repayOwed();
    state.availableAtLoad = this.available(state);
    return state;
  }

  /** The active subscriptions of these accounts (at most one each). */
  private activeSubscriptions(accountIds: readonly string[]): Promise<Subscription[]> {
    return this.tx.findFor('subscriptions', 'accountId', accountIds, { status: 'active' });
  }

  /** Holds of these accounts still held whose ttl has passed. */
  private dueHolds(accountIds: readonly string[]): Promise<Hold[]> {
    const where = { status: 'held', expiresAt: { lte: this.now } } as const;
    return this.tx.findFor('holds', 'accountId', accountIds, where, { order: ['expiresAt', 'id'] });
  }

  /** Every account loaded in this unit, in load order. */
  loadedAccounts(): IterableIterator<AccountState> {
    return this.states.values();
  }

  /**
   * Available credits of the account as the unit has it now: its spendable credits less what it
   * owes (negative only in debt: once repaid, a debt leaves nothing spendable).
   */
  available(state: AccountState): number {
    return availableCredits(state.grants.values(), this.now) - state.account.debt;
  }

  /**
   * Moves the account's overdraft counters: `held` what holds reserve past zero, `debt` what
   * is owed. A debt that grows is paid from spendable credits at once, if there are any.
   */
  changeOverdraft(state: AccountState, change: { debt?: number; held?: number }): void {
    this.setAccount(state, moveOverdraft(state.account, change));
    if ((change.debt ?? 0) > 0) this.owing.add(state);
  }

  /** Sets the account's own overdraft limit (null: the plan's) and mode. */
  setOverdraftLimit(
    state: AccountState,
    limit: Pick<OverdraftState, 'overdraftLimit' | 'overdraftMode'>,
  ): void {
    this.setAccount(state, limit);
  }

  private setAccount(state: AccountState, change: Partial<OverdraftState>): void {
    state.account = { ...state.account, ...change };
    this.dirtyAccounts.set(state.account.id, state.account);
  }

  /**
   * Pays what each owing account owes from its spendable credits, in spend order, one
   * `repayment` transaction each: before anything else can be spent, the committer calls this
   * after every command (and a load after settling). Unkeyed, like the other maintenance.
   */
  async repayOwed(): Promise<void> {
    if (this.owing.size === 0) return;
    for (const state of this.owing) {
      const debt = state.account.debt;
      const spendable = availableCredits(state.grants.values(), this.now);
      const pay = Math.min(debt, spendable);
      if (pay === 0) continue;
      const plan = planDraws([...state.grants.values()], pay, this.now);
      assert(plan.ok, 'the spendable credits pay the debt');
      const entries: Entry[] = [];
      for (const d of plan.draws) {
        const g = await this.grant(state, d.grantId);
        await this.setRemaining(state, g, g.remaining - d.credits);
        entries.push({ book: 'grant', grantId: d.grantId, holdId: null, credits: -d.credits });
        entries.push({ book: 'overdraft', grantId: null, holdId: null, credits: d.credits });
      }
      this.setAccount(state, moveOverdraft(state.account, { debt: -pay }));
      await this.append(state.account.id, {
        kind: 'repayment',
        detail: { credits: pay, debt: debt - pay },
        entries,
      });
    }
    this.owing.clear();
  }

  /** A hold of the account, as it stands in this unit. */
  async hold(accountId: string, holdId: string): Promise<Hold | undefined> {
    const cached = this.holds.get(holdId);
    if (cached) return cached;
    const [h] = await this.tx.getMany('holds', [{ accountId, id: holdId }]);
    if (h) this.holds.set(h.id, h);
    return h;
  }

  /** Holds of the account by id, as they stand in this unit (one read for those not cached). */
  async holdsOf(accountId: string, holdIds: readonly string[]): Promise<Hold[]> {
    const missing = holdIds.filter((id) => !this.holds.has(id));
    if (missing.length > 0) {
      for (const h of await this.tx.getMany(
        'holds',
        missing.map((id) => ({ accountId, id })),
      ))
        this.holds.set(h.id, h);
    }
    return holdIds.map((id) => {
      const h = this.holds.get(id);
      assert(h && h.accountId === accountId, `hold ${id} of ${accountId} exists`);
      return h;
    });
  }

  /** A hold this unit has cached (a capture's quote lines for its rollups). */
  cachedHold(holdId: string): Hold | undefined {
    return this.holds.get(holdId);
  }

  /** Commands after a catalog change in this unit price with the new active version. */
  forgetCatalog(): void {
    this.catalog = undefined;
  }

  async activeCatalog(): Promise<CatalogRecord> {
    this.catalog ??= await activeCatalog(this.tx);
    if (!this.catalog) {
      throw new AmisiError('not_initialized', 'no catalog is loaded', {});
    }
    return this.catalog;
  }

  async grant(state: AccountState, grantId: string): Promise<Grant> {
    let g = state.grants.get(grantId);
    if (!g) {
      g = await this.tx.get('grants', { accountId: state.account.id, id: grantId });
      assert(g, `grant ${grantId} of ${state.account.id} exists`);
      state.grants.set(grantId, g);
    }
    return g;
  }

  /** A grant of the account known to this unit (loaded or created here), or undefined. */
  knownGrant(state: AccountState, grantId: string): Grant | undefined {
    return state.grants.get(grantId) ?? this.newGrants.get(grantId);
  }

  /**
   * Inserts a grant whose credits are issued anew and returns the two journal entries that
   * issue them (issued -> the grant's book), for the caller's transaction.
   */
  async issueGrant(state: AccountState, grant: Grant): Promise<Entry[]> {
    await this.insertGrant(state, grant);
    return [
      { book: 'issued', grantId: grant.id, holdId: null, credits: -grant.amount },
      { book: 'grant', grantId: grant.id, holdId: null, credits: grant.amount },
    ];
  }

  async insertGrant(state: AccountState, grant: Grant): Promise<void> {
    this.newGrants.set(grant.id, grant);
    state.grants.set(grant.id, grant);
    if (state.account.debt > 0) this.owing.add(state);
  }

  async setRemaining(state: AccountState, grant: Grant, remaining: number): Promise<void> {
    assert(
      remaining >= 0 && remaining <= grant.amount,
      `grant ${grant.id} stays within [0, amount]`,
    );
    // Grant ids are unique across accounts, so they key the buffers alone.
    const fresh = this.newGrants.get(grant.id);
    if (fresh) {
      this.newGrants.set(grant.id, { ...fresh, remaining });
    } else {
      this.dirtyGrants.set(grant.id, { accountId: state.account.id, id: grant.id, remaining });
    }
    state.grants.set(grant.id, { ...grant, remaining });
    if (remaining > grant.remaining && state.account.debt > 0) this.owing.add(state);
  }

  /** A grant made by the ledger itself (allocations, rollover, packs), effective at `at`. */
  newGrant(
    accountId: string,
    source: Grant['source'],
    amount: number,
    at: number,
    expiresAt: number,
  ): Grant {
    return {
      accountId,
      id: this.newId('grt', at),
      source,
      amount,
      remaining: amount,
      startsAt: at,
      expiresAt,
      createdAt: at,
    };
  }

  async insertSubscription(state: AccountState, sub: Subscription): Promise<void> {
    await this.tx.insert('subscriptions', [sub]);
    state.subscription = sub;
  }

  async updateSubscription(state: AccountState, sub: Subscription): Promise<void> {
    this.dirtySubscriptions.set(sub.id, sub);
    state.subscription = sub;
  }

  /** Sets (or, with undefined, removes) the account's auto top-up rule. */
  async setAutoTopup(state: AccountState, rule: AutoTopup | undefined): Promise<void> {
    if (rule) {
      this.autoTopups.set(state.account.id, rule);
    } else {
      this.autoTopups.delete(state.account.id);
      await this.tx.delete('autotopups', { accountId: state.account.id });
    }
    state.autoTopup = rule;
  }

  async insertHold(hold: Hold): Promise<void> {
    await this.tx.insert('holds', [hold]);
    this.holds.set(hold.id, hold);
  }

  /**
   * Changes a hold still held: a partial capture (what it has captured so far, what it still
   * reserves), an extension (its expiry) or an increase (its credits, draws and quote).
   */
  async changeHold(
    hold: Hold,
    set: Partial<Pick<Hold, 'capturedCredits' | 'draws' | 'expiresAt' | 'credits' | 'quote'>>,
  ): Promise<Hold> {
    assert(hold.status === 'held', `hold ${hold.id} changes only while held`);
    const changed: Hold = { ...hold, ...set };
    const still = changed.draws.reduce((s, d) => s + d.credits, 0);
    assert(still === changed.credits - changed.capturedCredits, 'a hold draws what it holds');
    const n = await this.tx.update('holds', set, {
      accountId: hold.accountId,
      id: hold.id,
      status: 'held',
    });
    assert(n === 1, `hold ${hold.id} changed while held`);
    this.holds.set(hold.id, changed);
    return changed;
  }

  /** Resolves a hold once; `captured` is what it captured in all (its parts included). */
  async resolveHold(
    hold: Hold,
    status: 'captured' | 'released' | 'expired',
    captured: number,
    at: number = this.now,
  ): Promise<Hold> {
    assert(hold.status === 'held', `hold ${hold.id} resolves once`);
    assert(
      captured >= hold.capturedCredits && captured <= hold.credits,
      'a capture never exceeds its hold, nor undoes its parts',
    );
    const set = { status, capturedCredits: captured, resolvedAt: at };
    const n = await this.tx.update('holds', set, {
      accountId: hold.accountId,
      id: hold.id,
      status: 'held',
    });
    assert(n === 1, `hold ${hold.id} resolved once`);
    const resolved: Hold = { ...hold, status, capturedCredits: captured, resolvedAt: at };
    this.holds.set(hold.id, resolved);
    return resolved;
  }

  async getIdempotency(accountId: string, key: string): Promise<IdempotencyRecord | undefined> {
    const id = `${accountId}\u0000${key}`;
    const buffered = this.idempotency.get(id);
    if (buffered) return buffered;
    const seen = this.seenKeys.get(id);
    if (seen !== undefined) return seen ?? undefined;
    const [record] = await this.tx.getMany('idempotency', [{ accountId, key }]);
    return record;
  }

  putIdempotency(accountId: string, key: string, requestHash: string, transactionId: string): void {
    this.idempotency.set(`${accountId}\u0000${key}`, {
      accountId,
      key,
      requestHash,
      transactionId,
      createdAt: this.now,
    });
  }

  /** The outcome recorded for a transaction, in this unit or before. */
  async outcome(accountId: string, transactionId: string): Promise<Outcome | undefined> {
    return (
      this.outcomes.get(`${accountId}\u0000${transactionId}`) ??
      (await this.tx.get('outcomes', { accountId, transactionId }))
    );
  }

  putOutcome(outcome: Outcome): void {
    this.outcomes.set(`${outcome.accountId}\u0000${outcome.transactionId}`, outcome);
  }

  /** A journal transaction of the account, in this unit or before, or undefined. */
  async findTransaction(
    accountId: string,
    transactionId: string,
  ): Promise<JournalTransaction | undefined> {
    const buffered = this.journal.get(transactionId);
    if (buffered) return buffered.accountId === accountId ? buffered : undefined;
    const [t] = await this.tx.journal({ accountId, id: transactionId });
    return t;
  }

  /** A journal transaction written earlier, in this unit or before. */
  async transaction(accountId: string, transactionId: string): Promise<JournalTransaction> {
    const t =
      this.journal.get(transactionId) ?? (await this.findTransaction(accountId, transactionId));
    assert(t && t.accountId === accountId, `transaction ${transactionId} of ${accountId} exists`);
    return t;
  }

  /** Journal transactions of the account appended in this unit, not yet written. */
  bufferedTransactions(accountId: string): JournalTransaction[] {
    return [...this.journal.values()].filter((t) => t.accountId === accountId);
  }

  /**
   * Appends one balanced journal transaction and returns its id. It is the one path of every
   * journal transaction, so it also folds it into the rollups and the outbox.
   */
  async append(accountId: string, draft: TransactionDraft): Promise<string> {
    const { at: due, idempotencyKey, holdId, grantId, catalogVersion, entries, ...typed } = draft;
    const at = due ?? this.now;
    const tx: JournalTransaction = {
      accountId,
      id: this.newId('txn', due),
      ...typed,
      createdAt: at,
      idempotencyKey: idempotencyKey ?? null,
      holdId: holdId ?? null,
      grantId: grantId ?? null,
      catalogVersion: catalogVersion ?? null,
      entries,
    };
    assertBalanced(tx);
    this.journal.set(tx.id, tx);
    if (tx.idempotencyKey !== null) this.keyedTransactions += 1;
    const state = this.states.get(accountId);
    assert(state, `account ${accountId} is loaded before its transactions are appended`);
    await rollUp(this, state, tx);
    await this.outbox.journaled(tx);
    return tx.id;
  }

  /** Writes the buffers; the committer calls it once, after the last command. */
  async flush(): Promise<void> {
    if (this.newGrants.size > 0) await this.tx.insert('grants', [...this.newGrants.values()]);
    if (this.dirtyGrants.size > 0) {
      const rows = [...this.dirtyGrants.values()];
      const changed = await this.tx.updateMany('grants', rows, ['remaining']);
      assert(changed === rows.length, 'every grant changed in the unit was updated');
    }
    if (this.dirtyAccounts.size > 0) {
      const rows = [...this.dirtyAccounts.values()];
      const fields = ['overdraftLimit', 'overdraftMode', 'debt', 'overdraftHeld'] as const;
      const changed = await this.tx.updateMany('accounts', rows, fields);
      assert(changed === rows.length, 'every account changed in the unit was updated');
    }
    // After the direct insertSubscription calls: every row updated here exists by now.
    if (this.dirtySubscriptions.size > 0) {
      const rows = [...this.dirtySubscriptions.values()];
      const changed = await this.tx.updateMany('subscriptions', rows);
      assert(changed === rows.length, 'every subscription changed in the unit was updated');
    }
    if (this.journal.size > 0) await this.tx.appendTransactions([...this.journal.values()]);
    // Rollups change in the same transaction as the journal they sum (core/rollups.ts).
    if (this.rollups.usage.size > 0 || this.rollups.flows.size > 0)
      await this.tx.addRollups([...this.rollups.usage.values()], [...this.rollups.flows.values()]);
    if (this.idempotency.size > 0)
      await this.tx.insert('idempotency', [...this.idempotency.values()]);
    if (this.outcomes.size > 0)
      await this.tx.insert('outcomes', [...this.outcomes.values()], 'replace');
    await this.autoTopups.flush(this.tx);
    await this.budgets.flush(this.tx);
    await this.outbox.flush(this.tx);
  }

  // Writes that go straight to the transaction (rows no other command of the unit rereads
  // from a buffer), one method each, so that nothing outside the unit of work holds the tx.

  async insertAccount(account: AccountRecord): Promise<boolean> {
    return (await this.tx.insert('accounts', [account], 'skip')) === 1;
  }
  /** A new test clock (false when one with its id exists). */
  async insertTestClock(clock: TestClock): Promise<boolean> {
    return (await this.tx.insert('test_clocks', [clock], 'skip')) === 1;
  }
  /** Moves a test clock to `now` (its commit group holds the clock's row locked). */
  async moveTestClock(clockId: string, now: number, advancedAt: number): Promise<void> {
    const n = await this.tx.update('test_clocks', { now, advancedAt }, { id: clockId });
    assert(n === 1, `test clock ${clockId} moved`);
  }
  async putCatalog(record: CatalogRecord): Promise<boolean> {
    return (await this.tx.insert('catalogs', [record], 'skip')) === 1;
  }
  async activateCatalog(version: string): Promise<void> {
    await this.tx.update('catalogs', { activatedAt: this.now }, { version });
  }
  async insertPurchase(purchase: Purchase): Promise<void> {
    await this.tx.insert('purchases', [purchase]);
  }
  async updatePurchase(purchase: Purchase): Promise<void> {
    const n = await this.tx.updateMany('purchases', [purchase]);
    assert(n === 1, `purchase ${purchase.id} updated`);
  }
  async insertUpgrade(upgrade: PlanUpgrade): Promise<void> {
    await this.tx.insert('plan_upgrades', [upgrade]);
  }
  async updateUpgrade(upgrade: PlanUpgrade): Promise<void> {
    const n = await this.tx.updateMany('plan_upgrades', [upgrade]);
    assert(n === 1, `upgrade ${upgrade.id} updated`);
  }
  /** Records a provider event as processed; false when it was already (a redelivery). */
  async markPaymentEvent(accountId: string, eventId: string): Promise<boolean> {
    const row = { accountId, eventId, processedAt: this.now };
    return (await this.tx.insert('payment_events', [row], 'skip')) === 1;
  }
  /** A request batch with its items (their holds are inserted by the batch too). */
  /** A job the gateway follows (false when its hold has one already: a replay). */
  async insertGatewayJob(job: GatewayJob): Promise<boolean> {
    return (await this.tx.insert('gateway_jobs', [job], 'skip')) === 1;
  }
  async updateGatewayJob(job: GatewayJob): Promise<void> {
    const n = await this.tx.updateMany('gateway_jobs', [job]);
    assert(n === 1, `gateway job of hold ${job.holdId} updated`);
  }
  async insertRequestBatch(batch: RequestBatch): Promise<void> {
    const { items, ...row } = batch;
    await this.tx.insert('request_batches', [{ ...row, itemCount: items.length }]);
    const itemRows = items.map((i) => ({ ...i, accountId: batch.accountId, batchId: batch.id }));
    await this.tx.insert('request_batch_items', itemRows);
  }
  async putMembers(members: readonly Member[]): Promise<void> {
    await this.tx.insert('members', members, 'replace');
  }
  async deleteMember(accountId: string, memberId: string): Promise<boolean> {
    return (await this.tx.delete('members', { accountId, id: memberId })) === 1;
  }
  /** Revokes every key of the organization's member (it left); returns how many. */
  revokeMemberKeys(accountId: string, memberId: string): Promise<number> {
    const where = { accountId, memberId, revokedAt: null };
    return this.tx.update('api_keys', { revokedAt: this.now }, where);
  }
  async insertApiKey(key: ApiKeyRecord): Promise<void> {
    await this.tx.insert('api_keys', [key]);
  }
  /** Marks a key revoked; false when there is no such key or it was revoked already. */
  async revokeApiKey(keyId: string): Promise<boolean> {
    const where = { id: keyId, revokedAt: null };
    return (await this.tx.update('api_keys', { revokedAt: this.now }, where)) === 1;
  }
  async putProject(project: Project): Promise<void> {
    await this.tx.insert('projects', [project], 'replace');
  }
  /** A new organization's pool budget: written at once, its account is not loaded yet. */
  async writeBudgets(budgets: readonly Budget[]): Promise<void> {
    await this.tx.insert('budgets', budgets, 'replace');
  }
  /** A removed budget (the budgets buffer forgets it: BudgetBuffer.drop). */
  async deleteBudget(accountId: string, scope: BudgetScope, target: string): Promise<boolean> {
    return (await this.tx.delete('budgets', { accountId, scope, target })) === 1;
  }
  async insertWebhookEndpoint(endpoint: WebhookEndpoint): Promise<void> {
    await this.tx.insert('webhook_endpoints', [endpoint]);
  }
  /** Disables an endpoint; false when there is no such endpoint or it is disabled already. */
  async disableWebhookEndpoint(endpointId: string): Promise<boolean> {
    const where = { id: endpointId, disabledAt: null };
    return (await this.tx.update('webhook_endpoints', { disabledAt: this.now }, where)) === 1;
  }
  claimDeliveries(leaseUntil: number, limit: number): Promise<Delivery[]> {
    return this.tx.claimDeliveries(this.now, leaseUntil, limit);
  }
  /** Writes a delivery's new state and the attempt that led to it. */
  async finishDelivery(delivery: Delivery, attempt: DeliveryAttempt): Promise<void> {
    const n = await this.tx.updateMany('webhook_deliveries', [delivery]);
    assert(n === 1, `delivery ${delivery.id} updated`);
    await this.tx.insert('webhook_attempts', [attempt]);
  }
  async insertDeliveries(deliveries: readonly Delivery[]): Promise<void> {
    await this.tx.insert('webhook_deliveries', deliveries);
  }

  /**
   * The rollup rebuild's writes (reports/rollups.ts), under the account's lock: its rollups
   * and its mark as pending a rebuild go (a rebuild starts here).
   */
  async clearRollups(accountId: string): Promise<void> {
    await this.tx.delete('usage_hourly', { accountId });
    await this.tx.delete('flows_hourly', { accountId });
    await this.tx.delete('rollups_pending', { accountId });
  }

  addRollups(usage: readonly UsageIncrement[], flows: readonly FlowIncrement[]): Promise<void> {
    return this.tx.addRollups(usage, flows);
  }
}
