import { AmisiError, assert } from '../core/errors.js';
import { availableCredits, isExpired, type Draw, type Grant } from '../core/grants.js';
import { decideAutoTopup, sameAutoTopup, type AutoTopup } from '../core/autotopup.js';
import { own } from '../core/catalog.js';
import {
  wants,
  type Delivery,
  type WebhookEndpoint,
  type WebhookEvent,
  type WebhookEventType,
} from '../core/webhooks.js';
import type { Attribution, Hold } from '../core/holds.js';
import type { RequestBatch } from '../core/batches.js';
import {
  alertBit,
  budgetApplies,
  budgetKey,
  coveringBudgets,
  headroom,
  newThresholds,
  rollPeriod,
  seatsInForce,
  teamPeriodStart,
  type AlertThreshold,
  type Budget,
  type BudgetAlert,
  type Member,
  type Project,
} from '../core/teams.js';
import { planRenewal, type Subscription } from '../core/subscriptions.js';
import { pendingPurchase, type Purchase } from '../core/purchases.js';
import { assertBalanced, type Entry, type JournalTransaction } from '../core/journal.js';
import { grantsNamed, holdNamed, RollupAccumulator } from '../core/rollups.js';
import type { Outcome } from '../core/outcomes.js';
import type { Ids } from './ports.js';
import type {
  AccountRecord,
  CatalogRecord,
  GrantRemaining,
  HoldRef,
  IdempotencyRecord,
  WriteTx,
} from './store.js';

/** An allocation grant of the cycle that ends at `at` (renewal rolls these over). */
function isCycleAllocation(g: Grant, at: number): boolean {
  return g.source === 'allocation' && g.expiresAt === at;
}

/** Journal transactions read per page by a rollup rebuild. */
const REBUILD_PAGE = 5000;

/** Journal transactions that are webhook events of their own. */
const EVENT_OF_KIND: Partial<Record<JournalTransaction['kind'], WebhookEventType>> = {
  charge: 'charge.created',
  capture: 'hold.captured',
  grant: 'grant.created',
  renewal: 'renewal.completed',
};

/** What a queued command will touch, known before its batch starts (for prefetching). */
export interface CommandHint {
  readonly accountId?: string;
  readonly key?: string;
  readonly holdId?: string;
}

/** An organization's members, projects and budgets, loaded when a command first needs them. */
export class TeamState {
  readonly members = new Map<string, Member>();
  readonly projects = new Map<string, Project>();
  /** By budgetKey(scope, target). */
  readonly budgets = new Map<string, Budget>();
}

/** One account's rows as loaded (and locked) in this batch; commands update it as they write. */
export class AccountState {
  readonly grants = new Map<string, Grant>();
  subscription: Subscription | undefined;
  autoTopup: AutoTopup | undefined;
  team: TeamState | undefined;
  /** Available credits once loaded and settled, before this batch's commands (balance.low). */
  availableAtLoad = 0;
  constructor(readonly account: AccountRecord) {}
}

export interface TransactionDraft {
  readonly kind: JournalTransaction['kind'];
  /**
   * When it happened, if before now: a renewal, an expiry or a hold's ttl caught up later is
   * dated when it was due, so reports put it in the cycle it belongs to (default now).
   */
  readonly at?: number;
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
 * Journal transactions, idempotency records, new grants, grant balances and subscription changes
 * are buffered and written by `flush` just before commit, with multi-row inserts and one update
 * per grant or subscription changed, however many commands touched it (a grant created in the
 * batch is inserted once, with its final balance). Reads inside the batch see the buffers: a new
 * grant and a changed subscription live in their account's state, which the batch never reloads.
 * The renewal of many accounts thus costs a few statements per batch, not a few per account.
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
  /** Grants created in this batch, by id, with their latest balance. */
  private readonly newGrants = new Map<string, Grant>();
  /** Auto top-up rules set or changed in this batch, by account. */
  private readonly dirtyAutoTopups = new Map<string, AutoTopup>();
  /** Budgets changed in this batch, by account, scope and target. */
  private readonly dirtyBudgets = new Map<string, Budget>();
  private readonly alerts: BudgetAlert[] = [];
  /** The latest row of each subscription changed in this batch, by id. */
  private readonly dirtySubscriptions = new Map<string, Subscription>();
  /** Idempotency records read by prepare; null marks a key known to be unused. */
  private readonly seenKeys = new Map<string, IdempotencyRecord | null>();
  private readonly holds = new Map<string, Hold>();
  /** What this batch's journal transactions add to their accounts' hourly rollups. */
  private readonly rollups = new RollupAccumulator();
  /** Outcomes recorded in this batch, by account and transaction (the last one wins). */
  private readonly outcomes = new Map<string, Outcome>();
  private catalog: CatalogRecord | undefined;
  /** Writes made on behalf of commands (not of lazy maintenance). */
  commandWrites = 0;
  private maintaining = false;

  /** Endpoints, read when the batch has its first event; events and their deliveries. */
  private endpoints: readonly WebhookEndpoint[] | undefined;
  private readonly events: WebhookEvent[] = [];
  private readonly deliveries: Delivery[] = [];

  constructor(
    readonly tx: WriteTx,
    readonly now: number,
    private readonly ids: Ids,
    private readonly lowBalanceCredits = 10,
  ) {}

  /** A new id; `at` dates it in the past (a record settling something due then). */
  newId(prefix: string, at?: number): string {
    assert(at === undefined || at <= this.now, 'nothing is dated in the future');
    return at !== undefined && at < this.now ? this.ids.next(prefix, at) : this.ids.next(prefix);
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
    for (const sub of await this.tx.activeSubscriptions(found)) {
      const state = this.states.get(sub.accountId);
      if (state) state.subscription = sub;
    }
    for (const rule of await this.tx.autoTopups(found)) {
      const state = this.states.get(rule.accountId);
      if (state) state.autoTopup = rule;
    }
    const due = await this.tx.dueHolds(found, this.now);
    for (const id of found) {
      const state = this.states.get(id)!;
      await this.maintain(
        state,
        due.filter((h) => h.accountId === id),
      );
      state.availableAtLoad = this.available(state);
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
    [state.subscription] = await this.tx.activeSubscriptions([accountId]);
    [state.autoTopup] = await this.tx.autoTopups([accountId]);
    this.states.set(accountId, state);
    await this.maintain(state, await this.tx.dueHolds([accountId], this.now));
    state.availableAtLoad = this.available(state);
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

  /** Holds of the account by id, as they stand in this batch (one read for those not cached). */
  async holdsOf(accountId: string, holdIds: readonly string[]): Promise<Hold[]> {
    const missing = holdIds.filter((id) => !this.holds.has(id));
    if (missing.length > 0) {
      for (const h of await this.tx.getHolds(missing.map((holdId) => ({ accountId, holdId }))))
        this.holds.set(h.id, h);
    }
    return holdIds.map((id) => {
      const h = this.holds.get(id);
      assert(h && h.accountId === accountId, `hold ${id} of ${accountId} exists`);
      return h;
    });
  }

  /** Records a request batch (its items' holds are inserted one by one before it). */
  async insertRequestBatch(batch: RequestBatch): Promise<void> {
    this.wrote();
    await this.tx.insertRequestBatch(batch);
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
    this.wrote();
    this.newGrants.set(grant.id, grant);
    state.grants.set(grant.id, grant);
  }

  async setRemaining(state: AccountState, grant: Grant, remaining: number): Promise<void> {
    assert(
      remaining >= 0 && remaining <= grant.amount,
      `grant ${grant.id} stays within [0, amount]`,
    );
    this.wrote();
    const accountId = state.account.id;
    // Grant ids are unique across accounts, so they key the buffers alone.
    const fresh = this.newGrants.get(grant.id);
    if (fresh) {
      this.newGrants.set(grant.id, { ...fresh, remaining });
    } else {
      this.dirtyGrants.set(grant.id, {
        accountId,
        grantId: grant.id,
        remaining,
      });
    }
    state.grants.set(grant.id, { ...grant, remaining });
  }

  async insertPurchase(purchase: Purchase): Promise<void> {
    this.wrote();
    await this.tx.insertPurchase(purchase);
  }

  async updatePurchase(purchase: Purchase): Promise<void> {
    this.wrote();
    await this.tx.updatePurchase(purchase);
  }

  async markPaymentEvent(accountId: string, eventId: string): Promise<boolean> {
    const fresh = await this.tx.markPaymentEvent(accountId, eventId, this.now);
    if (fresh) this.wrote();
    return fresh;
  }

  async insertSubscription(state: AccountState, sub: Subscription): Promise<void> {
    this.wrote();
    await this.tx.insertSubscription(sub);
    state.subscription = sub;
  }

  async updateSubscription(state: AccountState, sub: Subscription): Promise<void> {
    this.wrote();
    this.dirtySubscriptions.set(sub.id, sub);
    state.subscription = sub;
  }

  /** Sets (or, with undefined, removes) the account's auto top-up rule. */
  async setAutoTopup(state: AccountState, rule: AutoTopup | undefined): Promise<void> {
    this.wrote();
    if (rule) {
      this.dirtyAutoTopups.set(state.account.id, rule);
    } else {
      this.dirtyAutoTopups.delete(state.account.id);
      await this.tx.deleteAutoTopup(state.account.id);
    }
    state.autoTopup = rule;
  }

  /**
   * The last step of every batch, after its commands: each account the batch touched that has
   * an auto top-up rule is checked once against its balance as the batch leaves it. The account
   * is locked, so however many charges of a burst share this batch or the next ones, one
   * crossing of the threshold creates one pending purchase (core/autotopup.ts).
   */
  async settleAutoTopups(): Promise<Purchase[]> {
    const fired: Purchase[] = [];
    for (const state of this.states.values()) {
      const rule = state.autoTopup;
      const available = this.available(state);
      const low = rule?.thresholdCredits ?? this.lowBalanceCredits;
      if (state.availableAtLoad >= low && available < low) {
        await this.emit(state.account.id, 'balance.low', { available, threshold: low });
      }
      if (!rule) continue;
      const decision = decideAutoTopup(rule, available, this.now);
      let next = decision.next;
      if (decision.fire) {
        const catalog = await this.activeCatalog();
        const pack = own(catalog.body.packs, rule.pack);
        if (pack) {
          const purchase = pendingPurchase({
            accountId: state.account.id,
            id: this.newId('pur'),
            packId: rule.pack,
            pack,
            currency: catalog.body.currency,
            provider: rule.provider,
            origin: 'autotopup',
            now: this.now,
          });
          await this.tx.insertPurchase(purchase);
          fired.push(purchase);
        } else {
          // The catalog no longer sells the pack: keep the rule armed, buy nothing.
          next = rule;
        }
      }
      if (!sameAutoTopup(rule, next)) {
        this.dirtyAutoTopups.set(state.account.id, next);
        state.autoTopup = next;
      }
    }
    return fired;
  }

  /** The organization's members, projects and budgets (not_an_organization otherwise). */
  async team(state: AccountState): Promise<TeamState> {
    if (state.account.kind !== 'organization') {
      throw new AmisiError(
        'not_an_organization',
        `account ${state.account.id} is not an organization`,
        { accountId: state.account.id },
      );
    }
    if (state.team) return state.team;
    const id = state.account.id;
    const team = new TeamState();
    for (const m of await this.tx.members(id)) team.members.set(m.id, m);
    for (const p of await this.tx.projects(id)) team.projects.set(p.id, p);
    for (const b of await this.tx.budgets([id])) team.budgets.set(budgetKey(b.scope, b.target), b);
    state.team = team;
    return team;
  }

  /** Where the organization's cycle budgets start now (core/teams.ts teamPeriodStart). */
  periodStart(state: AccountState): number {
    return teamPeriodStart(state.subscription, this.now);
  }

  /** Journal transactions of the account appended in this batch, not yet written. */
  bufferedTransactions(accountId: string): JournalTransaction[] {
    return [...this.journal.values()].filter((t) => t.accountId === accountId);
  }

  /**
   * The budget in its current period (a cycle budget starts again after a renewal). Rolling it
   * over is maintenance, like a renewal: it is not a command's write, so a command may still
   * refuse after it.
   */
  currentBudget(state: AccountState, b: Budget): Budget {
    const rolled = rollPeriod(b, this.periodStart(state));
    if (rolled !== b) this.bufferBudget(state, rolled);
    return rolled;
  }

  putBudget(state: AccountState, b: Budget): void {
    this.wrote();
    this.bufferBudget(state, b);
  }

  private bufferBudget(state: AccountState, b: Budget): void {
    this.dirtyBudgets.set(`${state.account.id}\u0000${b.scope}\u0000${b.target}`, b);
    state.team?.budgets.set(budgetKey(b.scope, b.target), b);
  }

  /**
   * Bits of the thresholds already announced for the budget in its period: stored ones and this
   * batch's. Setting a budget again starts from these, so no threshold is announced twice.
   */
  async announcedBits(state: AccountState, b: Budget): Promise<number> {
    const id = state.account.id;
    const stored = await this.tx.budgetAlertThresholds(id, b.scope, b.target, b.periodStart);
    const buffered = this.alerts
      .filter(
        (a) =>
          a.accountId === id &&
          a.scope === b.scope &&
          a.target === b.target &&
          a.periodStart === b.periodStart,
      )
      .map((a) => a.threshold);
    let bits = 0;
    for (const t of [...stored, ...buffered]) bits |= alertBit(t as AlertThreshold);
    return bits;
  }

  /** Forgets a budget removed by a command (its row is deleted directly). */
  dropBudget(state: AccountState, b: Budget): void {
    this.dirtyBudgets.delete(`${state.account.id}\u0000${b.scope}\u0000${b.target}`);
    state.team?.budgets.delete(budgetKey(b.scope, b.target));
  }

  /**
   * Before a hold or charge of an organization (a no-op for other accounts): the member must be
   * active, the project known, the plan must give team access to anyone but an owner, and no
   * hard budget covering it may be passed. Runs before any write, under the account's lock, so
   * the check and the hold it guards are one step; refuses with the figures that explain it.
   */
  async guardSpend(state: AccountState, attribution: Attribution, credits: number): Promise<void> {
    if (state.account.kind !== 'organization') return;
    const team = await this.team(state);
    const accountId = state.account.id;
    if (attribution.member === null) {
      throw new AmisiError(
        'invalid_argument',
        `holds and charges of organization ${accountId} name the member they are for`,
        { field: 'attribution.member', accountId },
      );
    }
    const member = team.members.get(attribution.member);
    if (!member || member.status !== 'active') {
      throw new AmisiError(
        'unknown_member',
        member
          ? `member "${attribution.member}" of ${accountId} has not accepted the invitation yet`
          : `unknown member "${attribution.member}" of ${accountId}`,
        { accountId, memberId: attribution.member },
      );
    }
    if (attribution.project !== null && !team.projects.has(attribution.project)) {
      throw new AmisiError(
        'unknown_project',
        `unknown project "${attribution.project}" of ${accountId}`,
        { accountId, projectId: attribution.project },
      );
    }
    if (member.role !== 'owner') {
      const { seats, teamAccess } = seatsInForce(
        state.subscription,
        (await this.activeCatalog()).body.plans,
      );
      if (!teamAccess) {
        throw new AmisiError(
          'team_access_required',
          `organization ${accountId} has no plan with team access: only its owners may spend`,
          { accountId, memberId: member.id },
        );
      }
      // Members past the plan's seats (a plan taken after a lapse, a catalog with fewer seats)
      // wait, owners aside, until the organization fits its plan again.
      if (team.members.size > seats) {
        throw new AmisiError(
          'seat_limit_reached',
          `organization ${accountId} has ${team.members.size} members and its plan seats ${seats}: ` +
            'only its owners may spend until members are removed',
          { accountId, memberId: member.id, members: team.members.size, seats },
        );
      }
    }
    for (const stored of coveringBudgets(team.budgets, attribution)) {
      const b = this.currentBudget(state, stored);
      if (credits > headroom(b, this.now)) {
        throw new AmisiError(
          'budget_exceeded',
          `the ${b.scope === 'pool' ? 'pool' : `${b.scope} "${b.target}"`} budget of ${accountId} ` +
            `is ${b.limitCredits} credits: ${b.used} used, ${b.held} held, ${credits} requested`,
          {
            accountId,
            budget: { scope: b.scope, target: b.target, mode: b.mode, period: b.period },
            limit: b.limitCredits,
            used: b.used,
            held: b.held,
            requested: credits,
          },
        );
      }
    }
  }

  /**
   * Moves the counters of the budgets covering an organization's hold or charge (a no-op for
   * other accounts) and announces the thresholds they newly reach: once per threshold per
   * period, since the account is locked and the budget row remembers which it announced.
   */
  async countSpend(
    state: AccountState,
    attribution: Attribution,
    change: { readonly held: number; readonly used: number },
  ): Promise<void> {
    if (state.account.kind !== 'organization') return;
    const team = await this.team(state);
    for (const stored of coveringBudgets(team.budgets, attribution)) {
      const b = this.currentBudget(state, stored);
      const used = budgetApplies(b, this.now) ? change.used : 0;
      const next: Budget = {
        ...b,
        held: b.held + change.held,
        used: b.used + used,
        updatedAt: this.now,
      };
      assert(next.held >= 0, `budget ${b.scope}/${b.target} holds what its open holds hold`);
      this.putBudget(state, next);
      if (change.held > 0 || used > 0) await this.announce(state, next);
    }
  }

  /** Records and emits the thresholds the budget has newly reached in its period. */
  async announce(state: AccountState, b: Budget): Promise<void> {
    if (!budgetApplies(b, this.now)) return;
    const size = b.limitCredits ?? b.used + b.held + this.available(state);
    const fresh = newThresholds(b, size);
    if (fresh.length === 0) return;
    let alerted = b.alerted;
    for (const threshold of fresh) {
      alerted |= alertBit(threshold);
      const alert: BudgetAlert = {
        accountId: state.account.id,
        id: this.newId('alr'),
        scope: b.scope,
        target: b.target,
        threshold,
        periodStart: b.periodStart,
        used: b.used,
        held: b.held,
        limitCredits: size,
        mode: b.mode,
        createdAt: this.now,
      };
      this.alerts.push(alert);
      await this.emit(state.account.id, 'budget.threshold', {
        alert: { ...alert, limit: size, explicitLimit: b.limitCredits !== null },
      });
    }
    this.putBudget(state, { ...b, alerted });
  }

  /** Spendable credits of the account as the batch has it now. */
  available(state: AccountState): number {
    return availableCredits(state.grants.values(), this.now);
  }

  /**
   * Records an event in this transaction (the outbox) with a delivery for every endpoint that
   * wants it; nothing is written when none does. Returns the event id, or null.
   */
  async emit(
    accountId: string,
    type: WebhookEventType,
    data: Record<string, unknown>,
    eventId?: string,
  ): Promise<string | null> {
    this.endpoints ??= await this.tx.webhookEndpoints();
    const targets = this.endpoints.filter((e) => wants(e, accountId, type));
    if (targets.length === 0) return null;
    const id = eventId ?? this.newId('evt');
    this.events.push({ accountId, id, type, createdAt: this.now, data });
    for (const endpoint of targets) {
      this.deliveries.push({
        accountId,
        id: this.newId('dlv'),
        endpointId: endpoint.id,
        eventId: id,
        status: 'pending',
        attempts: 0,
        nextAttemptAt: this.now,
        createdAt: this.now,
        deliveredAt: null,
        lastStatusCode: null,
        lastError: null,
      });
    }
    return id;
  }

  /** A registration in this batch is seen by the commands after it. */
  forgetEndpoints(): void {
    this.endpoints = undefined;
  }

  async insertHold(hold: Hold): Promise<void> {
    this.wrote();
    await this.tx.insertHold(hold);
    this.holds.set(hold.id, hold);
  }

  async resolveHold(
    hold: Hold,
    status: 'captured' | 'released' | 'expired',
    captured: number,
    at: number = this.now,
  ) {
    assert(hold.status === 'held', `hold ${hold.id} resolves once`);
    assert(captured >= 0 && captured <= hold.credits, 'a capture never exceeds its hold');
    this.wrote();
    await this.tx.resolveHold(hold.accountId, hold.id, status, captured, at);
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

  /** The outcome recorded for a transaction, in this batch or before. */
  async outcome(accountId: string, transactionId: string): Promise<Outcome | undefined> {
    return (
      this.outcomes.get(`${accountId}\u0000${transactionId}`) ??
      (await this.tx.getOutcome(accountId, transactionId))
    );
  }

  putOutcome(outcome: Outcome): void {
    this.wrote();
    this.outcomes.set(`${outcome.accountId}\u0000${outcome.transactionId}`, outcome);
  }

  /** A journal transaction of the account, in this batch or before, or undefined. */
  async findTransaction(
    accountId: string,
    transactionId: string,
  ): Promise<JournalTransaction | undefined> {
    const buffered = this.journal.get(transactionId);
    if (buffered) return buffered.accountId === accountId ? buffered : undefined;
    return this.tx.getTransaction(accountId, transactionId);
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
    if (this.newGrants.size > 0) await this.tx.insertGrants([...this.newGrants.values()]);
    if (this.dirtyGrants.size > 0) await this.tx.setGrantsRemaining([...this.dirtyGrants.values()]);
    // After the direct insertSubscription calls: every row updated here exists by now.
    if (this.dirtySubscriptions.size > 0)
      await this.tx.updateSubscriptions([...this.dirtySubscriptions.values()]);
    if (this.journal.size > 0) await this.tx.appendTransactions([...this.journal.values()]);
    // Rollups change in the same transaction as the journal they sum (core/rollups.ts).
    if (this.rollups.usage.size > 0) await this.tx.addUsage([...this.rollups.usage.values()]);
    if (this.rollups.flows.size > 0) await this.tx.addFlows([...this.rollups.flows.values()]);
    if (this.idempotency.size > 0) await this.tx.putIdempotency([...this.idempotency.values()]);
    if (this.outcomes.size > 0) await this.tx.putOutcomes([...this.outcomes.values()]);
    if (this.dirtyAutoTopups.size > 0)
      await this.tx.putAutoTopups([...this.dirtyAutoTopups.values()]);
    if (this.dirtyBudgets.size > 0) await this.tx.putBudgets([...this.dirtyBudgets.values()]);
    if (this.alerts.length > 0) await this.tx.insertBudgetAlerts(this.alerts);
    if (this.events.length > 0) await this.tx.insertWebhookEvents(this.events);
    if (this.deliveries.length > 0) await this.tx.insertDeliveries(this.deliveries);
  }

  /** Appends one balanced journal transaction and returns its id. */
  async append(accountId: string, draft: TransactionDraft): Promise<string> {
    const at = draft.at ?? this.now;
    const tx: JournalTransaction = {
      accountId,
      id: this.newId('txn', draft.at),
      kind: draft.kind,
      createdAt: at,
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
    await this.rollUp(tx);
    const type = EVENT_OF_KIND[tx.kind];
    if (type) {
      await this.emit(accountId, type, {
        transaction: {
          id: tx.id,
          kind: tx.kind,
          createdAt: tx.createdAt,
          holdId: tx.holdId,
          grantId: tx.grantId,
          detail: tx.detail,
        },
      });
    }
    return tx.id;
  }

  /**
   * Adds the transaction to the batch's rollups. The grants whose sources key its flows and a
   * capture's hold (its quote lines) are in the batch already, but for a grant a capture drew
   * empty, which is read once.
   */
  private async rollUp(t: JournalTransaction): Promise<void> {
    const state = this.states.get(t.accountId);
    assert(state, `account ${t.accountId} is loaded before its transactions are appended`);
    for (const id of grantsNamed(t)) {
      if (!state.grants.has(id) && !this.newGrants.has(id)) await this.grant(state, id);
    }
    const holdId = holdNamed(t);
    if (holdId !== null) {
      const h = await this.hold(t.accountId, holdId);
      assert(h, `hold ${holdId} of ${t.accountId} exists`);
    }
    this.rollups.add(t, {
      grantSource: (id) => (state.grants.get(id) ?? this.newGrants.get(id))!.source,
      holdLines: (id) => this.holds.get(id)?.quote?.lines ?? [],
    });
  }

  /**
   * Rebuilds the account's rollups from its journal (delete, then insert), in this transaction:
   * under the account's lock, so no other batch adds to them meanwhile, and this batch's own
   * transactions, not in the journal yet, are added by the flush as usual. `onProgress` hears
   * how many journal transactions were read so far.
   */
  async rebuildRollups(
    state: AccountState,
    onProgress?: (transactions: number) => void,
  ): Promise<number> {
    const accountId = state.account.id;
    this.commandWrites += 1;
    await this.tx.clearRollups(accountId);
    const sources = new Map<string, Grant>();
    const holds = new Map<string, Hold>();
    const rebuilt = new RollupAccumulator();
    let after: string | null = null;
    let read = 0;
    for (;;) {
      const page: JournalTransaction[] = await this.tx.journalPage(accountId, after, REBUILD_PAGE);
      if (page.length === 0) break;
      const wanted = new Set<string>();
      for (const t of page) {
        for (const id of grantsNamed(t)) {
          if (sources.has(id)) continue;
          const g =
            state.grants.get(id) ??
            this.newGrants.get(id) ??
            (await this.tx.getGrant(accountId, id));
          assert(g, `grant ${id} of ${accountId} exists`);
          sources.set(id, g);
        }
        const h = holdNamed(t);
        if (h !== null && !holds.has(h)) wanted.add(h);
      }
      if (wanted.size > 0) {
        for (const h of await this.tx.getHolds(
          [...wanted].map((holdId) => ({ accountId, holdId })),
        ))
          holds.set(h.id, h);
      }
      for (const t of page) {
        rebuilt.add(t, {
          grantSource: (id) => sources.get(id)!.source,
          holdLines: (id) => {
            const h = holds.get(id);
            assert(h, `hold ${id} of ${accountId} exists`);
            return h.quote?.lines ?? [];
          },
        });
        // A hold resolves once: its lines are not needed again.
        if (t.kind === 'capture' && t.holdId !== null) holds.delete(t.holdId);
      }
      read += page.length;
      after = page[page.length - 1]!.id;
      onProgress?.(read);
    }
    await this.tx.addUsage([...rebuilt.usage.values()]);
    await this.tx.addFlows([...rebuilt.flows.values()]);
    return read;
  }

  /**
   * Returns held credits to their grants; a grant that has expired meanwhile passes them
   * straight on to breakage (the reservation outlived the grant, the credits do not).
   */
  async returnDraws(
    state: AccountState,
    holdId: string,
    returned: readonly Draw[],
    at: number = this.now,
  ) {
    const entries: Entry[] = [];
    for (const d of returned) {
      const grant = await this.grant(state, d.grantId);
      entries.push({ book: 'held', grantId: d.grantId, holdId, credits: -d.credits });
      if (isExpired(grant, at)) {
        entries.push({ book: 'breakage', grantId: d.grantId, holdId, credits: d.credits });
      } else {
        entries.push({ book: 'grant', grantId: d.grantId, holdId, credits: d.credits });
        await this.setRemaining(state, grant, grant.remaining + d.credits);
      }
    }
    return entries;
  }

  /**
   * Settles what is due in the account, in time order: at each subscription boundary up to now,
   * first the holds and grants that expired before it, then the renewal; then what expired
   * since the last boundary. Each is dated when it was due (a hold at its ttl's end, a grant at
   * its expiry, a renewal at its boundary), so renewing after downtime does, and reports, exactly
   * what renewing on time would have.
   */
  private async maintain(state: AccountState, due: readonly Hold[]): Promise<void> {
    this.maintaining = true;
    try {
      const holds = [...due].sort((a, b) => a.expiresAt - b.expiresAt);
      for (;;) {
        const sub = state.subscription;
        if (!sub || sub.status !== 'active' || sub.nextRenewalAt > this.now) break;
        const at = sub.nextRenewalAt;
        while (holds.length > 0 && holds[0]!.expiresAt <= at)
          await this.expireHold(state, holds.shift()!);
        await this.expireGrants(state, at, (g) => isCycleAllocation(g, at));
        await this.renew(state, sub);
      }
      for (const hold of holds) await this.expireHold(state, hold);
      await this.expireGrants(state, this.now, () => false);
    } finally {
      this.maintaining = false;
    }
  }

  /** The hold's ttl ended: its credits go back as they would have then (dated then). */
  private async expireHold(state: AccountState, hold: Hold): Promise<void> {
    const at = Math.min(hold.expiresAt, this.now);
    const entries = await this.returnDraws(state, hold.id, hold.draws, at);
    await this.append(state.account.id, {
      kind: 'hold_expiry',
      at,
      holdId: hold.id,
      catalogVersion: hold.catalogVersion,
      detail: { credits: hold.credits, reason: 'ttl passed', attribution: hold.attribution },
      entries,
    });
    await this.resolveHold(hold, 'expired', 0, at);
    await this.countSpend(state, hold.attribution, { held: -hold.credits, used: 0 });
  }

  /** Moves what remains of grants expired at `at` to breakage (all but those `keep` names). */
  private async expireGrants(
    state: AccountState,
    at: number,
    keep: (g: Grant) => boolean,
  ): Promise<void> {
    const due = [...state.grants.values()]
      .filter((g) => g.remaining > 0 && isExpired(g, at) && !keep(g))
      .sort((a, b) => (a.expiresAt ?? 0) - (b.expiresAt ?? 0) || (a.id < b.id ? -1 : 1));
    for (const grant of due) {
      await this.append(state.account.id, {
        kind: 'grant_expiry',
        // Dated at its expiry (a boundary's for an old allocation or rollover), never before
        // the grant was made.
        at: Math.max(grant.createdAt, Math.min(grant.expiresAt ?? at, at)),
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

  /** One renewal at the subscription's next boundary (see core/subscriptions.ts planRenewal). */
  private async renew(state: AccountState, sub: Subscription): Promise<void> {
    const catalog = await this.activeCatalog();
    const at = sub.nextRenewalAt;
    // The cycle's allocation: its grant and any upgrade's prorated grant, all ending at `at`.
    const allocations = [...state.grants.values()].filter(
      (g) => isCycleAllocation(g, at) && g.remaining > 0,
    );
    const unused = allocations.reduce((sum, g) => sum + g.remaining, 0);
    const rollovers = [...state.grants.values()]
      .filter((g) => g.source === 'rollover' && g.remaining > 0 && !isExpired(g, at))
      .map((g) => ({ grantId: g.id, remaining: g.remaining, createdAt: g.createdAt }));
    const plan = planRenewal(sub, catalog.body.plans, unused, rollovers);
    const accountId = state.account.id;
    const entries: Entry[] = [];
    for (const g of allocations) {
      entries.push({ book: 'grant', grantId: g.id, holdId: null, credits: -g.remaining });
      await this.setRemaining(state, g, 0);
    }
    if (plan.rollover.expired > 0) {
      entries.push({
        book: 'breakage',
        grantId: null,
        holdId: null,
        credits: plan.rollover.expired,
      });
    }
    for (const t of plan.rollover.trims) {
      const g = await this.grant(state, t.grantId);
      entries.push({ book: 'grant', grantId: g.id, holdId: null, credits: -t.credits });
      entries.push({ book: 'breakage', grantId: g.id, holdId: null, credits: t.credits });
      await this.setRemaining(state, g, g.remaining - t.credits);
    }
    if (plan.rollover.rolled > 0) {
      const rolled = this.newGrant(
        accountId,
        'rollover',
        plan.rollover.rolled,
        at,
        plan.rolloverExpiresAt,
      );
      await this.insertGrant(state, rolled);
      entries.push({ book: 'grant', grantId: rolled.id, holdId: null, credits: rolled.amount });
    }
    let allocationGrantId: string | null = null;
    if (plan.allocation > 0) {
      const next = this.newGrant(
        accountId,
        'allocation',
        plan.allocation,
        at,
        plan.allocationExpiresAt,
      );
      entries.push(...(await this.issueGrant(state, next)));
      allocationGrantId = next.id;
    }
    await this.append(accountId, {
      kind: 'renewal',
      at,
      detail: {
        subscriptionId: sub.id,
        cycle: plan.nextCycle,
        at,
        plan: plan.plan,
        unused,
        rolled: plan.rollover.rolled,
        expired: plan.rollover.expired,
        trimmed: plan.rollover.trims.reduce((s, t) => s + t.credits, 0),
        allocation: plan.allocation,
        ended: plan.ends,
      },
      entries,
    });
    const renewed: Subscription = {
      ...sub,
      plan: plan.plan,
      pendingPlan: null,
      cycleIndex: plan.nextCycle,
      nextRenewalAt: plan.allocationExpiresAt,
      status: plan.ends ? 'ended' : 'active',
      allocationGrantId,
    };
    await this.updateSubscription(state, renewed);
  }

  /** A grant made by the ledger itself (allocations, rollover), effective at `at`. */
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
}
