import { createHash, randomBytes } from 'node:crypto';
import { AmisiError } from '../core/errors.js';
import { isExpired, isSpendable, type Grant, type GrantSource } from '../core/grants.js';
import { WEBHOOK_EVENT_TYPES, type Delivery, type WebhookEventType } from '../core/webhooks.js';
import { HOLD_TTL_DEFAULT_MS, type Attribution, type Hold } from '../core/holds.js';
import {
  TRANSACTION_KINDS,
  type JournalTransaction,
  type TransactionKind,
} from '../core/journal.js';
import { quote, type Quote, type QuoteItemRequest } from '../core/quote.js';
import * as commands from './commands.js';
import * as batches from './batch-commands.js';
import {
  priceBatch,
  viewBatch,
  type BatchItemRequest,
  type BatchQuote,
  type BatchView,
  type RequestBatch,
} from '../core/batches.js';
import * as subscriptions from './subscription-commands.js';
import * as purchases from './purchase-commands.js';
import * as webhooks from './webhook-commands.js';
import * as teams from './team-commands.js';
import * as reports from './report-commands.js';
import { OUTCOMES, type Outcome } from '../core/outcomes.js';
import { exactWindow, rangeTotals, type RangeTotals } from '../core/rollups.js';
import {
  buildStatement,
  buildUsage,
  findings,
  previousPeriod,
  resolvePeriod,
  tierFit,
  usageCycle,
  type Finding,
  type Period,
  type PeriodBasis,
  type ReportedCycle,
  type PeriodInput,
  type Statement,
  type UsageReport,
} from '../core/reports.js';
import {
  advise,
  forecastRunOut,
  SEASON_WINDOW,
  type Advice,
  type ForecastInput,
} from '../core/advice.js';
import {
  BUDGET_MODES,
  BUDGET_PERIODS,
  BUDGET_SCOPES,
  POOL_TARGET,
  ROLES,
  rollPeriod,
  seatLimit,
  teamPeriodStart,
  type Budget,
  type BudgetAlert,
  type BudgetScope,
  type Member,
  type Project,
  type Role,
} from '../core/teams.js';
import type { Purchase } from '../core/purchases.js';
import { AUTO_TOPUP_PERIODS, type AutoTopup, type AutoTopupPeriod } from '../core/autotopup.js';
import { planChange, type Subscription } from '../core/subscriptions.js';
import { Committer, DEFAULT_COMMITTER_OPTIONS, type CommitterOptions } from './committer.js';
import { systemClock, UlidIds, type Clock, type Ids } from './ports.js';
import type { AccountView, CatalogRecord, Store } from './store.js';
import {
  requireAmount,
  requireAttribution,
  requireId,
  requireKey,
  requireSource,
  requireTime,
  requireTtl,
  requireEmail,
  requireLimit,
  requireOneOf,
  requireString,
  requireText,
} from './validate.js';
import { requireCredits } from '../core/credits.js';
import { cycleAt } from '../core/cycles.js';

/** What a plan change would do now (Ledger.previewPlanChange). */
export interface PlanChangePreview {
  readonly accountId: string;
  readonly from: string;
  readonly plan: string;
  readonly change: 'upgrade' | 'downgrade' | 'unchanged';
  /** Upgrade: the prorated price difference due now (cents, half up). */
  readonly chargeCents: number;
  /** Upgrade: the prorated allocation difference granted now. */
  readonly credits: number;
  readonly currency: string;
  /** Now for an upgrade; the next renewal for a downgrade. */
  readonly effectiveAt: number;
}

export interface LedgerOptions {
  readonly store: Store;
  readonly clock?: Clock;
  readonly ids?: Ids;
  readonly committer?: Partial<CommitterOptions>;
  /** How long idempotency keys are kept; at least 24 hours. */
  readonly idempotencyRetentionMs?: number;
}

export const MIN_IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;
export const MAX_HISTORY_PAGE = 500;

export interface GrantBalance {
  readonly id: string;
  readonly source: GrantSource;
  readonly amount: number;
  readonly remaining: number;
  readonly held: number;
  readonly startsAt: number;
  readonly expiresAt: number | null;
}

export interface Balance {
  readonly accountId: string;
  readonly asOf: number;
  readonly available: number;
  readonly held: number;
  readonly grants: readonly GrantBalance[];
  readonly nextExpiry: { readonly at: number; readonly credits: number } | null;
}

/** A budget as people read it: its current period, and how much of it is used and held. */
export interface BudgetView extends Budget {
  /** The limit, or for the pool without one, what is used, held and available now. */
  readonly size: number;
  /** Used and held as a percent of the size, rounded down. */
  readonly percent: number;
  /** When the period ends: the renewal, a fixed budget's end, or null (no plan: month end). */
  readonly periodEnd: number | null;
}

export interface Organization {
  readonly account: AccountView;
  readonly plan: string | null;
  readonly teamAccess: boolean;
  readonly seats: number;
  readonly members: readonly Member[];
  readonly projects: readonly Project[];
}

/** The shown-once code an invited member accepts with. */
export function invitationHash(code: string): string {
  return createHash('sha256').update(code).digest('base64url');
}

function optionalText(value: unknown, field: string): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  return field === 'email' ? requireEmail(value) : requireText(value, field);
}

export interface HistoryPage {
  readonly transactions: readonly JournalTransaction[];
  /** Pass as `before` for the next (older) page; null on the last page. */
  readonly nextCursor: string | null;
}

interface AmountInput {
  readonly credits?: number;
  readonly items?: readonly QuoteItemRequest[];
}

/**
 * The ledger: every change goes through the committer (group commit), every read straight
 * to the store. Inputs are checked here, before queuing, so bad input never reaches a batch.
 */
export class Ledger {
  readonly store: Store;
  readonly clock: Clock;
  private readonly committer: Committer;
  readonly idempotencyRetentionMs: number;

  constructor(options: LedgerOptions) {
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    const ids = options.ids ?? new UlidIds(this.clock);
    this.committer = new Committer(this.store, this.clock, ids, {
      ...DEFAULT_COMMITTER_OPTIONS,
      ...options.committer,
    });
    this.idempotencyRetentionMs = Math.max(
      options.idempotencyRetentionMs ?? MIN_IDEMPOTENCY_RETENTION_MS,
      MIN_IDEMPOTENCY_RETENTION_MS,
    );
  }

  /**
   * Creates an account (idempotent by its id). With a plan it is subscribed at once through the
   * subscribe use-case, by `key` (default `create-<id>`), so the same command again is a replay.
   */
  async createAccount(input: { accountId: string; plan?: string | null; key?: string }) {
    const accountId = requireId(input.accountId, 'account');
    const plan = input.plan == null ? null : requireId(input.plan, 'plan');
    const key = requireKey(input.key ?? `create-${accountId}`);
    return this.committer.submit((b) => subscriptions.openAccount(b, { accountId, plan, key }), {
      accountId,
      key,
    });
  }

  async loadCatalog(body: unknown): Promise<commands.Replayable<{ catalog: CatalogRecord }>> {
    const digest = (text: string) => createHash('sha256').update(text).digest('hex');
    return this.committer.submit((b) => commands.loadCatalog(b, body, digest));
  }

  async activateCatalog(version: string) {
    const checked = requireId(version, 'version');
    return this.committer.submit((b) => commands.activateCatalog(b, checked));
  }

  async activeCatalog(): Promise<CatalogRecord> {
    const c = await this.store.activeCatalog();
    if (!c) throw new AmisiError('not_initialized', 'no catalog is loaded', {});
    return c;
  }

  async quote(items: readonly QuoteItemRequest[]): Promise<Quote> {
    requireAmount({ items });
    return quote((await this.activeCatalog()).body, items);
  }

  async grant(input: {
    accountId: string;
    key: string;
    credits: number;
    source: string;
    startsAt?: number;
    expiresAt?: number | null;
    reason?: string;
  }) {
    const checked: commands.GrantInput = {
      accountId: requireId(input.accountId, 'account'),
      key: requireKey(input.key),
      credits: requireCredits(input.credits),
      source: requireSource(input.source),
      expiresAt: input.expiresAt == null ? null : requireTime(input.expiresAt, 'expires'),
      ...(input.startsAt === undefined ? {} : { startsAt: requireTime(input.startsAt, 'starts') }),
      ...(input.reason === undefined ? {} : { reason: requireString(input.reason, 'reason', 500) }),
    };
    return this.committer.submit((b) => commands.grant(b, checked), {
      accountId: checked.accountId,
      key: checked.key,
    });
  }

  async hold(
    input: AmountInput & {
      accountId: string;
      key: string;
      ttlMs?: number;
      attribution?: Partial<Attribution>;
    },
  ) {
    const checked: commands.HoldInput = {
      accountId: requireId(input.accountId, 'account'),
      key: requireKey(input.key),
      amount: requireAmount(input),
      ttlMs: requireTtl(input.ttlMs ?? HOLD_TTL_DEFAULT_MS),
      attribution: requireAttribution(input.attribution),
    };
    return this.committer.submit((b) => commands.hold(b, checked), {
      accountId: checked.accountId,
      key: checked.key,
    });
  }

  async capture(input: { holdId: string; key: string; credits?: number }) {
    const checked: commands.ResolveInput = {
      holdId: requireId(input.holdId, 'hold'),
      key: requireKey(input.key),
      ...(input.credits === undefined ? {} : { credits: requireCredits(input.credits) }),
    };
    return this.resolve(checked, 'capture');
  }

  async release(input: { holdId: string; key: string }) {
    const checked = { holdId: requireId(input.holdId, 'hold'), key: requireKey(input.key) };
    return this.resolve(checked, 'release');
  }

  private async resolve(checked: commands.ResolveInput, mode: 'capture' | 'release') {
    // A hold never changes account, so its account can be looked up before the batch; the
    // lookup is awaited when the batch starts, so commands keep the order they came in.
    const hint = this.store.findHold(checked.holdId).then((hold) => ({
      ...(hold ? { accountId: hold.accountId } : {}),
      key: checked.key,
      holdId: checked.holdId,
    }));
    return this.committer.submit((b) => commands.resolve(b, checked, mode), hint);
  }

  async charge(
    input: AmountInput & { accountId: string; key: string; attribution?: Partial<Attribution> },
  ) {
    const checked: commands.ChargeInput = {
      accountId: requireId(input.accountId, 'account'),
      key: requireKey(input.key),
      amount: requireAmount(input),
      attribution: requireAttribution(input.attribution),
    };
    return this.committer.submit((b) => commands.charge(b, checked), {
      accountId: checked.accountId,
      key: checked.key,
    });
  }

  /** Subscribes the account to a plan; its cycle is anchored on the start (default now). */
  async subscribe(input: {
    accountId: string;
    key: string;
    plan: string;
    startsAt?: number;
    providerRef?: string;
  }) {
    const checked: subscriptions.SubscribeInput = {
      accountId: requireId(input.accountId, 'account'),
      key: requireKey(input.key),
      plan: requireId(input.plan, 'plan'),
      ...(input.startsAt === undefined ? {} : { startsAt: requireTime(input.startsAt, 'start') }),
      ...(input.providerRef === undefined ? {} : { providerRef: requireKey(input.providerRef) }),
    };
    return this.committer.submit((b) => subscriptions.subscribe(b, checked), {
      accountId: checked.accountId,
      key: checked.key,
    });
  }

  /** Upgrade (at once, prorated) or downgrade (at the next renewal) to `plan`. */
  async changePlan(input: { accountId: string; key: string; plan: string }) {
    return this.submitChange({ ...input, plan: requireId(input.plan, 'plan') });
  }

  /** Ends the plan at the end of the current cycle; purchased credits are not touched. */
  async cancelPlan(input: { accountId: string; key: string }) {
    return this.submitChange({ ...input, plan: null });
  }

  private async submitChange(input: { accountId: string; key: string; plan: string | null }) {
    const checked: subscriptions.ChangePlanInput = {
      accountId: requireId(input.accountId, 'account'),
      key: requireKey(input.key),
      plan: input.plan,
    };
    return this.committer.submit((b) => subscriptions.changePlan(b, checked), {
      accountId: checked.accountId,
      key: checked.key,
    });
  }

  /**
   * What changing to `plan` would do now, changing nothing: an upgrade's prorated price and
   * credits, or the renewal a downgrade waits for. A plan due for renewal is renewed first (the
   * read settles the account), so the figures are the current cycle's.
   */
  async previewPlanChange(accountId: string, planId: string): Promise<PlanChangePreview> {
    const sub = await this.getSubscription(requireId(accountId, 'account'));
    if (sub.status !== 'active') {
      throw new AmisiError('no_subscription', `account ${accountId} has no active plan`, {
        accountId,
      });
    }
    const { body } = await this.activeCatalog();
    const to = subscriptions.planIn(body, requireId(planId, 'plan'));
    const change = planChange(sub, subscriptions.planIn(body, sub.plan), to, this.clock.now());
    const kind = change.kind === 'same' || planId === sub.plan ? 'unchanged' : change.kind;
    return {
      accountId,
      from: sub.plan,
      plan: planId,
      change: kind,
      chargeCents: change.chargeCents,
      credits: change.credits,
      currency: body.currency,
      effectiveAt: kind === 'downgrade' ? change.cycleEndsAt : this.clock.now(),
    };
  }

  /** The account's subscription as of now (a renewal due is applied first). */
  async getSubscription(accountId: string): Promise<Subscription> {
    await this.settle(accountId);
    const sub = await this.store.getSubscription(accountId);
    if (!sub) {
      throw new AmisiError('no_subscription', `account ${accountId} has no plan`, { accountId });
    }
    return sub;
  }

  /**
   * Renews every subscription due at or before `until` (default now), catching up missed
   * cycles in order. Renewal also runs lazily whenever an account is touched.
   */
  async renew(until?: number, onProgress?: (renewed: number) => void): Promise<number> {
    const now = this.clock.now();
    const bound = until === undefined ? now : requireTime(until, 'until');
    if (bound > now) {
      throw new AmisiError('invalid_argument', 'renewals cannot run ahead of the clock', {
        field: 'until',
        value: bound,
      });
    }
    let renewed = 0;
    for (;;) {
      const due = await this.store.dueSubscriptions(bound, 1000);
      if (due.length === 0) return renewed;
      const results = await Promise.allSettled(
        due.map((id) => this.committer.submit((b) => commands.maintain(b, id), { accountId: id })),
      );
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed.length === due.length) throw failed[0]!.reason;
      renewed += due.length - failed.length;
      onProgress?.(renewed);
    }
  }

  /** A pending purchase of a pack (the service then asks the payment provider for a checkout). */
  async createPurchase(input: { accountId: string; key: string; pack: string; provider: string }) {
    const checked: purchases.CreatePurchaseInput = {
      accountId: requireId(input.accountId, 'account'),
      key: requireKey(input.key),
      pack: requireId(input.pack, 'pack'),
      provider: requireId(input.provider, 'provider'),
    };
    return this.committer.submit((b) => purchases.createPurchase(b, checked), {
      accountId: checked.accountId,
      key: checked.key,
    });
  }

  /** Sets the account's auto top-up rule (see core/autotopup.ts); `provider` pays for it. */
  async setAutoTopup(input: {
    accountId: string;
    pack: string;
    thresholdCredits: number;
    maxPerPeriod: number;
    period?: string;
    provider: string;
  }) {
    const period = input.period ?? 'month';
    if (!(AUTO_TOPUP_PERIODS as readonly string[]).includes(period)) {
      throw new AmisiError(
        'invalid_argument',
        `period must be one of ${AUTO_TOPUP_PERIODS.join(', ')}`,
        {
          field: 'period',
          value: period,
          allowed: AUTO_TOPUP_PERIODS,
        },
      );
    }
    const max = input.maxPerPeriod;
    if (!Number.isSafeInteger(max) || max < 1 || max > 1000) {
      throw new AmisiError(
        'invalid_argument',
        'max per period must be a whole number from 1 to 1000',
        {
          field: 'max',
          value: String(max),
        },
      );
    }
    const checked: purchases.AutoTopupInput = {
      accountId: requireId(input.accountId, 'account'),
      pack: requireId(input.pack, 'pack'),
      thresholdCredits: requireCredits(input.thresholdCredits, 'threshold'),
      maxPerPeriod: max,
      period: period as AutoTopupPeriod,
      provider: requireId(input.provider, 'provider'),
    };
    const set = await this.committer.submit((b) => purchases.setAutoTopup(b, checked), {
      accountId: checked.accountId,
    });
    // The rule as its batch left it: already fired (below the threshold) or re-armed.
    return (await this.store.getAutoTopup(checked.accountId)) ?? set;
  }

  async clearAutoTopup(accountId: string): Promise<boolean> {
    const id = requireId(accountId, 'account');
    return this.committer.submit((b) => purchases.clearAutoTopup(b, id), { accountId: id });
  }

  async getAutoTopup(accountId: string): Promise<AutoTopup | null> {
    await this.settle(accountId);
    return (await this.store.getAutoTopup(accountId)) ?? null;
  }

  /** Registers a webhook endpoint (for one account, or every account when accountId is null). */
  async registerWebhook(input: {
    url: string;
    secret: string;
    eventTypes: readonly string[];
    accountId?: string | null;
    key: string;
    publicOnly?: boolean;
  }) {
    const checked: webhooks.RegisterInput = {
      url: requireUrl(input.url),
      secret: requireKey(input.secret),
      eventTypes: requireEventTypes(input.eventTypes),
      accountId: input.accountId == null ? null : requireId(input.accountId, 'account'),
      publicOnly: input.publicOnly === true,
      key: requireKey(input.key),
    };
    return this.committer.submit(
      (b) => webhooks.registerEndpoint(b, checked),
      checked.accountId === null ? {} : { accountId: checked.accountId, key: checked.key },
    );
  }

  async disableWebhook(endpointId: string): Promise<void> {
    const id = requireId(endpointId, 'endpoint');
    const done = await this.committer.submit((b) => webhooks.disableEndpoint(b, id));
    if (!done) throw webhooks.unknownWebhook(endpointId);
  }

  /** Takes up to `limit` due deliveries for `leaseMs` (the deliverer then posts them). */
  claimDeliveries(limit: number, leaseMs: number): Promise<Delivery[]> {
    return this.committer.submit((b) => webhooks.claimDeliveries(b, limit, leaseMs));
  }

  finishAttempt(delivery: Delivery, outcome: webhooks.AttemptOutcome): Promise<Delivery> {
    return this.committer.submit((b) => webhooks.finishAttempt(b, delivery, outcome));
  }

  async getDelivery(deliveryId: string): Promise<Delivery> {
    const d = await this.store.findDelivery(requireId(deliveryId, 'delivery'));
    if (!d) throw webhooks.unknownDelivery(deliveryId);
    return d;
  }

  /** A new delivery of the same event to the same endpoint, due now. */
  async redeliver(deliveryId: string): Promise<Delivery> {
    const old = await this.getDelivery(deliveryId);
    return this.committer.submit((b) => webhooks.redeliver(b, old));
  }

  /**
   * grant.expiring for every grant with credits that expires within `withinMs` (default 7 days),
   * once per grant. Returns how many events it made.
   */
  async announceExpiringGrants(withinMs = 7 * 86_400_000): Promise<number> {
    const now = this.clock.now();
    const grants = await this.store.grantsExpiring(now, now + withinMs, 10_000);
    const byAccount = new Map<string, Grant[]>();
    for (const g of grants) byAccount.set(g.accountId, [...(byAccount.get(g.accountId) ?? []), g]);
    const counts = await Promise.all(
      [...byAccount].map(([accountId, list]) =>
        this.committer.submit((b) => webhooks.announceExpiring(b, accountId, list), { accountId }),
      ),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  async recordCheckout(purchaseId: string, checkoutRef: string) {
    const id = requireId(purchaseId, 'purchase');
    return this.committer.submit(
      (b) => purchases.recordCheckout(b, id, checkoutRef),
      this.purchaseHint(id),
    );
  }

  /** The payment arrived: grants the pack's credits exactly once (a redelivery is a replay). */
  async confirmPayment(input: { purchaseId: string; paymentRef: string; eventId?: string }) {
    const checked: purchases.ConfirmInput = {
      purchaseId: requireId(input.purchaseId, 'purchase'),
      paymentRef: requireKey(input.paymentRef),
      ...(input.eventId === undefined ? {} : { eventId: requireKey(input.eventId) }),
    };
    return this.committer.submit(
      (b) => purchases.confirmPayment(b, checked),
      this.purchaseHint(checked.purchaseId),
    );
  }

  /** Reclaims a purchase's unspent credits for a refund (proportional money unless `full`). */
  async reclaimForRefund(input: {
    purchaseId: string;
    key: string;
    full?: boolean;
    providerCents?: number;
  }) {
    const checked: purchases.RefundInput = {
      purchaseId: requireId(input.purchaseId, 'purchase'),
      key: requireKey(input.key),
      full: input.full === true,
      ...(input.providerCents === undefined
        ? {}
        : { providerCents: requireCents(input.providerCents) }),
    };
    return this.committer.submit((b) => purchases.reclaimForRefund(b, checked), {
      ...(await this.purchaseHint(checked.purchaseId)),
      key: checked.key,
    });
  }

  /** A paid subscription invoice: recorded once per provider event (renewal is on our clock). */
  async applyPaidInvoice(input: { accountId: string; eventId: string }) {
    const checked = {
      accountId: requireId(input.accountId, 'account'),
      eventId: requireKey(input.eventId),
    };
    return this.committer.submit((b) => purchases.applyPaidInvoice(b, checked), {
      accountId: checked.accountId,
    });
  }

  async markRefunded(purchaseId: string, refundRef: string) {
    const id = requireId(purchaseId, 'purchase');
    return this.committer.submit(
      (b) => purchases.markRefunded(b, id, refundRef),
      this.purchaseHint(id),
    );
  }

  async getPurchase(purchaseId: string): Promise<Purchase> {
    const p = await this.store.findPurchase(requireId(purchaseId, 'purchase'));
    if (!p)
      throw new AmisiError('unknown_purchase', `unknown purchase "${purchaseId}"`, { purchaseId });
    return p;
  }

  private purchaseHint(purchaseId: string): Promise<{ accountId?: string }> {
    return this.store.findPurchase(purchaseId).then((p) => (p ? { accountId: p.accountId } : {}));
  }

  /**
   * A page of accounts by id, as of now: an account in the page whose renewal is due is renewed
   * first, so the plan each row shows is the one in force (a due downgrade or cancellation),
   * as its own read would show it. Only a renewal changes what a row shows.
   */
  async listAccounts(query: {
    afterId: string | null;
    limit: number;
    search?: string;
  }): Promise<AccountView[]> {
    const read = () => this.store.listAccounts(query.afterId, query.limit, query.search);
    const page = await read();
    const now = this.clock.now();
    const subs = await Promise.all(
      page.filter((a) => a.plan !== null).map((a) => this.store.getSubscription(a.id)),
    );
    const due = subs.filter((sub) => sub?.status === 'active' && sub.nextRenewalAt <= now);
    if (due.length === 0) return page;
    await Promise.all(due.map((sub) => this.maintain(sub!.accountId)));
    return read();
  }

  /** The account, once what is due in it now is settled (like every read of its state). */
  async getAccount(accountId: string): Promise<AccountView> {
    return this.settle(accountId);
  }

  /** The account as stored, or unknown_account: no settling (callers that settle themselves). */
  private async known(accountId: string): Promise<AccountView> {
    const account = await this.store.getAccount(requireId(accountId, 'account'));
    if (!account)
      throw new AmisiError('unknown_account', `unknown account "${accountId}"`, { accountId });
    return account;
  }

  /**
   * Settles what is due in the account now, so a read of its state answers as of now (README:
   * renewal "on any access"), whatever the jobs do: the renewals up to now, grants past their
   * expiry that still have credits, holds past their ttl; cycle budgets then read their new
   * period. Only reads when nothing is due (no commit); else the account's maintenance runs
   * through the committer, as a write touching the account would run it. Returns the account.
   */
  private async settle(accountId: string): Promise<AccountView> {
    const account = await this.known(accountId);
    const [view, sub] = await Promise.all([
      this.store.accountView(account.id),
      this.store.getSubscription(account.id),
    ]);
    if (!isDue(view, sub, this.clock.now())) return account;
    await this.maintain(account.id);
    // The account's plan is its subscription's, which the renewal may just have changed.
    return this.known(account.id);
  }

  private async maintain(accountId: string): Promise<void> {
    await this.committer.submit((b) => commands.maintain(b, accountId), { accountId });
  }

  /** The hold as of now (a hold past its ttl has expired, and reads so). */
  async getHold(holdId: string): Promise<Hold> {
    let hold = await this.store.findHold(requireId(holdId, 'hold'));
    if (!hold) throw new AmisiError('unknown_hold', `unknown hold "${holdId}"`, { holdId });
    if (hold.status === 'held' && hold.expiresAt <= this.clock.now()) {
      await this.settle(hold.accountId);
      hold = (await this.store.findHold(holdId)) ?? hold;
    }
    return hold;
  }

  /** Prices a list of requests line by line under the active catalog: the total and each item. */
  async quoteBatch(items: readonly BatchItemRequest[]): Promise<BatchQuote> {
    const checked = batches.requireBatchItems(items, {});
    return priceBatch((await this.activeCatalog()).body, checked);
  }

  /**
   * Holds a list of requests all or nothing under one key: one hold per item, made together.
   * A refusal names the item at fault and writes nothing; the same key again answers the batch.
   */
  async holdBatch(input: {
    accountId: string;
    key: string;
    items: readonly BatchItemRequest[];
    ttlMs?: number;
    attribution?: Partial<Attribution>;
  }) {
    const attribution = requireAttribution(input.attribution);
    const checked: batches.HoldBatchInput = {
      accountId: requireId(input.accountId, 'account'),
      key: requireKey(input.key),
      items: batches.requireBatchItems(input.items, attribution.labels),
      ttlMs: requireTtl(input.ttlMs ?? HOLD_TTL_DEFAULT_MS),
      attribution,
    };
    return this.committer.submit((b) => batches.holdBatch(b, checked), {
      accountId: checked.accountId,
      key: checked.key,
    });
  }

  /** The batch as it stands now, item by item (holds past their ttl are settled first). */
  async getBatch(batchId: string): Promise<BatchView> {
    let read = await this.readBatch(batchId);
    const now = this.clock.now();
    if (read.holds.some((h) => h.status === 'held' && h.expiresAt <= now)) {
      const accountId = read.batch.accountId;
      await this.maintain(accountId);
      read = await this.readBatch(batchId);
    }
    return viewBatch(read.batch, read.holds);
  }

  /** Captures one item of a batch (all of it, or `credits`): the capture of the item's hold. */
  async captureBatchItem(input: { batchId: string; index: number; key: string; credits?: number }) {
    const key = requireKey(input.key);
    const credits = input.credits === undefined ? undefined : requireCredits(input.credits);
    const item = await this.batchItem(input.batchId, input.index);
    const r = await this.capture({
      holdId: item.holdId,
      key,
      ...(credits === undefined ? {} : { credits }),
    });
    return { batchId: input.batchId, index: item.index, ...r };
  }

  /** Releases one item of a batch: the release of the item's hold. */
  async releaseBatchItem(input: { batchId: string; index: number; key: string }) {
    const key = requireKey(input.key);
    const item = await this.batchItem(input.batchId, input.index);
    const r = await this.release({ holdId: item.holdId, key });
    return { batchId: input.batchId, index: item.index, ...r };
  }

  /** Releases every item of the batch still held, under one key. */
  async releaseBatch(input: { batchId: string; key: string }) {
    const key = requireKey(input.key);
    const { batch } = await this.readBatch(input.batchId);
    const checked: batches.ReleaseBatchInput = {
      accountId: batch.accountId,
      batchId: batch.id,
      key,
    };
    return this.committer.submit((b) => batches.releaseBatch(b, checked), {
      accountId: batch.accountId,
      key,
    });
  }

  /** The batch as stored (its items name their holds); getBatch has their figures. */
  async findBatch(batchId: string): Promise<RequestBatch> {
    return (await this.readBatch(batchId)).batch;
  }

  private async readBatch(batchId: string) {
    const read = await this.store.findRequestBatch(requireId(batchId, 'batch'));
    if (!read) throw new AmisiError('unknown_batch', `unknown batch "${batchId}"`, { batchId });
    return read;
  }

  private async batchItem(batchId: string, index: number) {
    if (!Number.isSafeInteger(index) || index < 0) {
      throw new AmisiError('invalid_argument', 'item must be a whole number from 0', {
        field: 'item',
        value: String(index),
      });
    }
    const { batch } = await this.readBatch(batchId);
    const item = batch.items[index];
    if (!item) {
      throw new AmisiError(
        'unknown_batch_item',
        `batch ${batchId} has ${batch.items.length} items (0 to ${batch.items.length - 1}), not ${index}`,
        { batchId, item: index, items: batch.items.length },
      );
    }
    return item;
  }

  async createOrganization(input: {
    accountId: string;
    name: string;
    owner: { id: string; name?: string | null; email?: string | null };
  }) {
    const checked: teams.CreateOrganizationInput = {
      accountId: requireId(input.accountId, 'account'),
      name: requireText(input.name, 'name'),
      owner: {
        id: requireId(input.owner?.id, 'owner'),
        name: optionalText(input.owner?.name, 'owner name') ?? null,
        email: optionalText(input.owner?.email, 'email') ?? null,
      },
    };
    return this.committer.submit((b) => teams.createOrganization(b, checked), {
      accountId: checked.accountId,
    });
  }

  /**
   * Adds, invites or changes a member. An invitation returns its code once (only its hash is
   * kept); the member accepts it with acceptInvitation before acting.
   */
  async setMember(input: {
    accountId: string;
    memberId: string;
    role: string;
    name?: string | null;
    email?: string | null;
    invite?: boolean;
    actor?: Role | null;
  }): Promise<teams.MemberResult & { replay: boolean; invitationCode: string | null }> {
    const code = input.invite ? randomBytes(24).toString('base64url') : null;
    const name = optionalText(input.name, 'name');
    const email = optionalText(input.email, 'email');
    const checked: teams.PutMemberInput = {
      accountId: requireId(input.accountId, 'account'),
      memberId: requireId(input.memberId, 'member'),
      role: requireOneOf(input.role, ROLES, 'role'),
      ...(name === undefined ? {} : { name }),
      ...(email === undefined ? {} : { email }),
      inviteHash: code === null ? null : invitationHash(code),
      actor: input.actor ?? null,
    };
    const r = await this.committer.submit((b) => teams.putMember(b, checked), {
      accountId: checked.accountId,
    });
    return { ...r, invitationCode: r.invited ? code : null };
  }

  async removeMember(input: { accountId: string; memberId: string; actor?: Role | null }) {
    const checked = {
      accountId: requireId(input.accountId, 'account'),
      memberId: requireId(input.memberId, 'member'),
      actor: input.actor ?? null,
    };
    return this.committer.submit((b) => teams.removeMember(b, checked), {
      accountId: checked.accountId,
    });
  }

  async acceptInvitation(input: { accountId: string; memberId: string; code: string }) {
    const refuse = () =>
      new AmisiError('invalid_invitation', 'the invitation is not valid or was used already', {});
    if (typeof input.code !== 'string' || input.code.length === 0 || input.code.length > 100) {
      throw refuse();
    }
    const checked = {
      accountId: requireId(input.accountId, 'account'),
      memberId: requireId(input.memberId, 'member'),
      codeHash: invitationHash(input.code),
    };
    return this.committer.submit((b) => teams.acceptInvitation(b, checked), {
      accountId: checked.accountId,
    });
  }

  async setProject(input: { accountId: string; projectId: string; name?: string }) {
    const projectId = requireId(input.projectId, 'project');
    const checked = {
      accountId: requireId(input.accountId, 'account'),
      projectId,
      name: input.name === undefined ? projectId : requireText(input.name, 'name'),
    };
    return this.committer.submit((b) => teams.putProject(b, checked), {
      accountId: checked.accountId,
    });
  }

  async setBudget(input: {
    accountId: string;
    scope: string;
    target?: string;
    limit: number;
    mode?: string;
    period?: string;
    startsAt?: number;
    endsAt?: number;
  }) {
    const scope = requireOneOf(input.scope, BUDGET_SCOPES, 'scope');
    const period = requireOneOf(input.period ?? 'cycle', BUDGET_PERIODS, 'period');
    const checked: teams.SetBudgetInput = {
      accountId: requireId(input.accountId, 'account'),
      scope,
      target: scope === 'pool' ? POOL_TARGET : requireId(input.target, scope),
      limitCredits: requireLimit(input.limit),
      mode: requireOneOf(input.mode ?? 'hard', BUDGET_MODES, 'mode'),
      period,
      ...(input.startsAt === undefined
        ? {}
        : { startsAt: requireTime(input.startsAt, 'startsAt') }),
      ...(input.endsAt === undefined ? {} : { endsAt: requireTime(input.endsAt, 'endsAt') }),
    };
    const r = await this.committer.submit((b) => teams.setBudget(b, checked), {
      accountId: checked.accountId,
    });
    const [view] = await this.viewBudgets(checked.accountId, [r.budget]);
    return { budget: view!, replay: r.replay };
  }

  async removeBudget(input: { accountId: string; scope: string; target?: string }) {
    const scope = requireOneOf(input.scope, BUDGET_SCOPES, 'scope');
    const checked = {
      accountId: requireId(input.accountId, 'account'),
      scope,
      target: scope === 'pool' ? POOL_TARGET : requireId(input.target, scope),
    };
    return this.committer.submit((b) => teams.removeBudget(b, checked), {
      accountId: checked.accountId,
    });
  }

  /** The account, if it is an organization (not_an_organization otherwise). */
  async getOrganization(accountId: string): Promise<AccountView> {
    const account = await this.known(accountId);
    if (account.kind !== 'organization') {
      throw new AmisiError('not_an_organization', `account ${accountId} is not an organization`, {
        accountId,
      });
    }
    return account;
  }

  async organization(accountId: string): Promise<Organization> {
    // Settles what is due first: a renewal may change the plan, so the seats, and the account
    // read afterwards shows the same plan.
    const account = await this.settle((await this.getOrganization(accountId)).id);
    const [members, projects, sub, catalog] = await Promise.all([
      this.store.listMembers(account.id),
      this.store.listProjects(account.id),
      this.store.getSubscription(account.id),
      this.store.activeCatalog(),
    ]);
    const active = sub?.status === 'active' ? sub : undefined;
    const limit = seatLimit(active, catalog?.body.plans ?? {});
    return {
      account,
      plan: active?.plan ?? null,
      teamAccess: limit.teamAccess,
      seats: limit.seats,
      members,
      projects,
    };
  }

  async listMembers(accountId: string): Promise<Member[]> {
    const account = await this.getOrganization(accountId);
    return this.store.listMembers(account.id);
  }

  async getMember(accountId: string, memberId: string): Promise<Member> {
    const account = await this.getOrganization(accountId);
    const m = await this.store.getMember(account.id, requireId(memberId, 'member'));
    if (!m) {
      throw new AmisiError('unknown_member', `unknown member "${memberId}" of ${accountId}`, {
        accountId,
        memberId,
      });
    }
    return m;
  }

  async listProjects(accountId: string): Promise<Project[]> {
    const account = await this.getOrganization(accountId);
    return this.store.listProjects(account.id);
  }

  /** The organization's budgets in their current periods, pool first. */
  async budgets(accountId: string): Promise<BudgetView[]> {
    const account = await this.getOrganization(accountId);
    // Settles what is due first (holds past their ttl, a renewal), so held, used and the
    // period are now's.
    await this.settle(account.id);
    return this.viewBudgets(account.id, await this.store.listBudgets(account.id));
  }

  /** Budgets of a settled account (budgets, or setBudget's batch) in their current periods. */
  private async viewBudgets(accountId: string, budgets: readonly Budget[]): Promise<BudgetView[]> {
    const sub = await this.store.getSubscription(accountId);
    const now = this.clock.now();
    const start = teamPeriodStart(sub, now);
    const needsPool = budgets.some((b) => b.limitCredits === null);
    const available = needsPool ? (await this.balance(accountId)).available : 0;
    const order: Record<BudgetScope, number> = { pool: 0, member: 1, project: 2 };
    return budgets
      .map((stored) => {
        const b = rollPeriod(stored, start);
        const size = b.limitCredits ?? b.used + b.held + available;
        const periodEnd =
          b.period === 'fixed' ? b.endsAt : sub?.status === 'active' ? sub.nextRenewalAt : null;
        const spent = b.used + b.held;
        // A limit of 0 that something was spent against is over it: 100%, not 0.
        const percent = size > 0 ? Math.floor((spent * 100) / size) : spent > 0 ? 100 : 0;
        return { ...b, size, percent, periodEnd };
      })
      .sort((a, b) => order[a.scope] - order[b.scope] || (a.target < b.target ? -1 : 1));
  }

  async budgetAlerts(accountId: string, limit = 100): Promise<BudgetAlert[]> {
    const account = await this.getOrganization(accountId);
    await this.settle(account.id);
    return this.store.listBudgetAlerts(account.id, Math.min(Math.max(limit, 1), MAX_HISTORY_PAGE));
  }

  /**
   * Balance as of now. Anything due (a renewal, an expired grant, a hold past its ttl) is
   * settled first.
   */
  async balance(accountId: string): Promise<Balance> {
    await this.known(accountId);
    // One snapshot: a hold committed between two reads would otherwise count twice.
    const [first, sub] = await Promise.all([
      this.store.accountView(accountId),
      this.store.getSubscription(accountId),
    ]);
    let view = first;
    if (isDue(view, sub, this.clock.now())) {
      await this.maintain(accountId);
      view = await this.store.accountView(accountId);
    }
    return summarize(accountId, view.grants, view.holds, this.clock.now());
  }

  async history(query: {
    accountId: string;
    kinds?: readonly string[];
    since?: number;
    until?: number;
    before?: string;
    limit?: number;
  }): Promise<HistoryPage> {
    await this.settle(query.accountId);
    const limit = query.limit ?? 50;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_HISTORY_PAGE) {
      throw new AmisiError('invalid_argument', `limit must be from 1 to ${MAX_HISTORY_PAGE}`, {
        field: 'limit',
        value: limit,
      });
    }
    const kinds = query.kinds?.map((k) => requireKind(k));
    const rows = await this.store.listTransactions({
      accountId: query.accountId,
      limit: limit + 1,
      ...(kinds ? { kinds } : {}),
      ...(query.since === undefined ? {} : { since: requireTime(query.since, 'since') }),
      ...(query.until === undefined ? {} : { until: requireTime(query.until, 'until') }),
      ...(query.before === undefined ? {} : { before: requireId(query.before, 'cursor') }),
    });
    const page = rows.slice(0, limit);
    return {
      transactions: page,
      nextCursor: rows.length > limit ? page[page.length - 1]!.id : null,
    };
  }

  /**
   * The sweep: settles every account with something due, in pages of `pageSize`.
   * Returns how many accounts it settled. Idempotent: a second run finds nothing due.
   */
  async sweep(pageSize = 500, onProgress?: (settled: number) => void): Promise<number> {
    let settled = 0;
    for (;;) {
      const due = await this.store.accountsDue(this.clock.now(), pageSize);
      if (due.length === 0) return settled;
      // One account that fails to settle must not stop the others; if a whole page fails,
      // retrying cannot help, so the sweep stops with the first error.
      const results = await Promise.allSettled(
        due.map((id) => this.committer.submit((b) => commands.maintain(b, id), { accountId: id })),
      );
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed.length === due.length) throw failed[0]!.reason;
      settled += due.length - failed.length;
      onProgress?.(settled);
    }
  }

  /** Forgets idempotency keys older than the retention period. */
  async purgeIdempotency(): Promise<number> {
    const before = this.clock.now() - this.idempotencyRetentionMs;
    let total = 0;
    for (;;) {
      const n = await this.store.purgeIdempotency(before, 10_000);
      total += n;
      if (n < 10_000) return total;
    }
  }

  /**
   * Records what became of a charge or capture (kept or discarded, with labels such as concept,
   * phase or use). Idempotent by its natural key: the same again is a replay, a change replaces.
   */
  async recordOutcome(input: {
    accountId: string;
    transactionId: string;
    outcome: string;
    labels?: Record<string, string>;
  }): Promise<commands.Replayable<{ outcome: Outcome }>> {
    const checked: reports.RecordOutcomeInput = {
      accountId: requireId(input.accountId, 'account'),
      transactionId: requireId(input.transactionId, 'transaction'),
      outcome: requireOneOf(input.outcome, OUTCOMES, 'outcome'),
      labels: requireAttribution({ labels: input.labels ?? {} }).labels,
    };
    return this.committer.submit((b) => reports.recordOutcome(b, checked), {
      accountId: checked.accountId,
    });
  }

  /** The period a report covers, and the one before it (see core/reports.ts resolvePeriod). */
  private async periods(accountId: string, input: PeriodInput) {
    // Settles what is due first (a renewal, expiries), so the current cycle is now's.
    const account = await this.settle(accountId);
    const sub = await this.store.getSubscription(accountId);
    const basis = {
      anchorAt: sub?.anchorAt ?? null,
      accountCreatedAt: account.createdAt,
      now: this.clock.now(),
    };
    const checked: PeriodInput = {
      ...(input.cycle === undefined ? {} : { cycle: input.cycle }),
      ...(input.from === undefined ? {} : { from: requireTime(input.from, 'from') }),
      ...(input.to === undefined ? {} : { to: requireTime(input.to, 'until') }),
    };
    const period = resolvePeriod(basis, checked);
    return { period, previous: previousPeriod(basis, period), basis, sub };
  }

  /**
   * The closed cycles before cycle `end` (up to SEASON_WINDOW, oldest first), as advice reads
   * them: each from the rollups of its range (core/reports.ts usageCycle). A plan started in
   * the past (subscribe with startsAt) catches up the cycles before it was made, each renewal
   * dated at its boundary, so those cycles show their own allocation; but nothing was metered
   * under the plan then (usage before the plan was made is not its usage), and the cycle it was
   * made in was metered only in part. Both are left out: they would read as cycles that used
   * little, and advise a downgrade the account never earned.
   */
  private async closedCycles(
    accountId: string,
    basis: PeriodBasis,
    end: number,
    sub: Subscription,
    plans: CatalogRecord['body']['plans'],
  ): Promise<ReportedCycle[]> {
    // Made in cycle k > 0 of its anchor: cycles 0..k were not (wholly) metered under the plan.
    const made = sub.createdAt > sub.anchorAt ? cycleAt(sub.anchorAt, sub.createdAt).index : 0;
    const firstClean = made === 0 ? 0 : made + 1;
    const indexes: number[] = [];
    for (let i = Math.max(firstClean, end - SEASON_WINDOW); i < end; i += 1) indexes.push(i);
    if (indexes.length === 0) return [];
    const [account, projects] = await Promise.all([
      this.known(accountId),
      this.store.listProjects(accountId),
    ]);
    const withProjects = account.kind === 'organization' && projects.length > 0;
    const read = async (cycle: number) => {
      const p = resolvePeriod(basis, { cycle });
      const t = await this.totals(accountId, p, { before: false, usage: true });
      return usageCycle(p, t, plans, sub.plan, withProjects);
    };
    // The first read rebuilds rollups that await it, once; the others then read them.
    const first = await read(indexes[0]!);
    return [first, ...(await Promise.all(indexes.slice(1).map(read)))];
  }

  /** Members a plan must seat: an organization's members (invited ones too), else 1. */
  private async seatsNeeded(accountId: string): Promise<number> {
    const account = await this.known(accountId);
    if (account.kind !== 'organization') return 1;
    return Math.max(1, (await this.store.listMembers(accountId)).length);
  }

  /**
   * The run-out forecast's input: the current cycle's spending so far, the balance, the renewal.
   * `now` is the instant the period was resolved at, so a boundary passing meanwhile cannot put
   * it outside the period.
   */
  private async forecastInput(
    accountId: string,
    period: Period,
    now: number,
  ): Promise<ForecastInput> {
    const [balance, totals] = await Promise.all([
      this.balance(accountId),
      this.totals(accountId, period, { before: false, usage: false }),
    ]);
    return {
      now,
      available: balance.available,
      renewalAt: period.to,
      spentSoFarThisCycle: totals.flows
        .filter((r) => r.flow === 'consumed')
        .reduce((sum, r) => sum + r.credits, 0),
      cycleStartsAt: period.from,
    };
  }

  /**
   * Advice for the account now (core/advice.ts): the tier item (packs, upgrade, downgrade, or the
   * plan fits) and seasonal planning over its closed cycles, and the run-out forecast of the
   * current one. Without a plan, the forecast only: the tier rules compare plans.
   */
  async advice(accountId: string): Promise<AccountAdvice> {
    const { period, basis, sub } = await this.periods(accountId, {});
    const [catalog, members, forecast] = await Promise.all([
      this.activeCatalog(),
      this.seatsNeeded(accountId),
      this.forecastInput(accountId, period, basis.now),
    ]);
    // A plan the active catalog no longer sells cannot be compared with the others.
    const active = sub?.status === 'active' && Object.hasOwn(catalog.body.plans, sub.plan);
    const plan = active ? sub.plan : null;
    const cycles =
      !active || period.cycle === null
        ? []
        : await this.closedCycles(accountId, basis, period.cycle, sub, catalog.body.plans);
    return {
      accountId,
      asOf: forecast.now,
      plan,
      members,
      period,
      cycles,
      advice:
        plan === null
          ? [forecastRunOut(catalog.body, forecast)]
          : advise({ catalog: catalog.body, cycles, plan, members, forecast }),
    };
  }

  /**
   * When the credits run out at the current cycle's pace, against the renewal (the end of the
   * calendar month without a plan), with the cheapest packs for any shortfall.
   */
  async forecast(
    accountId: string,
  ): Promise<{ accountId: string; asOf: number; forecast: Advice }> {
    const { period, basis } = await this.periods(accountId, {});
    const [catalog, input] = await Promise.all([
      this.activeCatalog(),
      this.forecastInput(accountId, period, basis.now),
    ]);
    return { accountId, asOf: input.now, forecast: forecastRunOut(catalog.body, input) };
  }

  /**
   * Exact totals of [from, to) from the rollups of its whole hours and the journal of its edge
   * hours, read as one snapshot; `before` adds every flow before `from` (an opening balance).
   * An account whose journal predates its rollups is rebuilt first (once).
   */
  private async totals(
    accountId: string,
    p: { from: number; to: number },
    want: { before: boolean; usage: boolean },
  ): Promise<RangeTotals> {
    const w = exactWindow(p.from, p.to);
    const query = {
      accountId,
      hoursFrom: w.hoursFrom,
      hoursTo: w.hoursTo,
      journal: w.journal,
      ...want,
    };
    let read = await this.store.rollupWindow(query);
    if (read.pending) {
      await this.rebuildRollups(accountId);
      read = await this.store.rollupWindow(query);
    }
    return rangeTotals(w, read);
  }

  /**
   * A statement of the account for a cycle (the current one by default), or a range: opening
   * balance, granted by source, spent, expired, rolled over, lost to the cap, refunded, closing.
   */
  async statement(accountId: string, input: PeriodInput = {}): Promise<Statement> {
    const { period } = await this.periods(accountId, input);
    const totals = await this.totals(accountId, period, { before: true, usage: false });
    return buildStatement(accountId, period, totals);
  }

  /** Credits and units by operation, resolution, member and project, against the period before. */
  async usage(accountId: string, input: PeriodInput = {}): Promise<UsageReport> {
    const { period, previous } = await this.periods(accountId, input);
    const [current, before] = await Promise.all([
      this.totals(accountId, period, { before: false, usage: true }),
      this.totals(accountId, previous, { before: false, usage: true }),
    ]);
    return buildUsage(accountId, period, previous, current, before);
  }

  /** The usage report and its findings (each with the credits involved and the saving). */
  async audit(
    accountId: string,
    input: PeriodInput = {},
  ): Promise<{
    usage: UsageReport;
    findings: Finding[];
    outcomes: number;
    catalogVersion: string;
  }> {
    const { period, previous, basis, sub } = await this.periods(accountId, input);
    const [current, before, outcomes, catalog] = await Promise.all([
      this.totals(accountId, period, { before: false, usage: true }),
      this.totals(accountId, previous, { before: false, usage: true }),
      this.store.outcomesBetween(accountId, period.from, period.to),
      this.activeCatalog(),
    ]);
    const fit = await this.tierFitOf(accountId, basis, period, sub, catalog.body);
    return {
      usage: buildUsage(accountId, period, previous, current, before),
      findings: [
        ...findings({
          catalog: catalog.body,
          period,
          previous,
          flows: current.flows,
          previousFlows: before.flows,
          outcomes,
        }),
        ...(fit ? [fit] : []),
      ],
      outcomes: outcomes.length,
      catalogVersion: catalog.version,
    };
  }

  /**
   * The audit's tier-fit finding for a cycle: the tier advice over the closed cycles up to it
   * (the audited cycle included once it has closed). None for a range, or without a plan.
   */
  private async tierFitOf(
    accountId: string,
    basis: PeriodBasis,
    period: Period,
    sub: Subscription | undefined,
    catalog: CatalogRecord['body'],
  ): Promise<Finding | null> {
    if (
      sub?.status !== 'active' ||
      period.cycle === null ||
      !Object.hasOwn(catalog.plans, sub.plan)
    ) {
      return null;
    }
    // Cycles closed by the end of the audited one, and never past now's.
    const current = resolvePeriod(basis, {}).cycle ?? 0;
    const closed = Math.min(period.to <= basis.now ? period.cycle + 1 : period.cycle, current);
    const [cycles, members] = await Promise.all([
      this.closedCycles(accountId, basis, closed, sub, catalog.plans),
      this.seatsNeeded(accountId),
    ]);
    if (cycles.length === 0) return null;
    // An audit of a past cycle judges the plan of that time (told by its allocation).
    const plan = closed < current ? cycles.at(-1)!.plan : sub.plan;
    return tierFit({ catalog, cycles, plan, members });
  }

  /** Outcomes of the account's charges and captures made in [from, to), oldest first. */
  async outcomes(accountId: string, from: number, to: number): Promise<Outcome[]> {
    await this.known(accountId);
    return this.store.outcomesBetween(accountId, requireTime(from, 'from'), requireTime(to, 'to'));
  }

  /**
   * Recomputes one account's rollups from its journal in one write transaction (the account is
   * locked meanwhile). `onProgress` hears the journal transactions read so far.
   */
  async rebuildRollups(
    accountId: string,
    onProgress?: (transactions: number) => void,
  ): Promise<reports.RebuildResult> {
    const id = requireId(accountId, 'account');
    return this.committer.submit((b) => reports.rebuildRollups(b, id, onProgress), {
      accountId: id,
    });
  }

  /** Waits for every submitted change to commit. */
  idle(): Promise<void> {
    return this.committer.idle();
  }

  async close(): Promise<void> {
    await this.committer.idle();
    await this.store.close();
  }
}

/** Advice for an account now, with the closed cycles it was computed from. */
export interface AccountAdvice {
  readonly accountId: string;
  readonly asOf: number;
  /** The plan the account is on; null without one. */
  readonly plan: string | null;
  /** Members a plan must seat (1 for an individual account). */
  readonly members: number;
  /** The current cycle (the forecast's). */
  readonly period: Period;
  /** Closed cycles, oldest first, up to 12. */
  readonly cycles: readonly ReportedCycle[];
  readonly advice: readonly Advice[];
}

const KINDS: readonly TransactionKind[] = TRANSACTION_KINDS;

function requireUrl(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || value.length > 2000) {
    throw new AmisiError('invalid_argument', 'url must be an http or https URL', {
      field: 'url',
      value: String(value).slice(0, 200),
    });
  }
  return url.toString();
}

function requireEventTypes(values: readonly string[]): WebhookEventType[] {
  const bad = values.filter((v) => !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(v));
  if (values.length === 0 || bad.length > 0) {
    throw new AmisiError(
      'invalid_argument',
      `events must be one or more of ${WEBHOOK_EVENT_TYPES.join(', ')}`,
      { field: 'events', value: bad.join(','), allowed: WEBHOOK_EVENT_TYPES },
    );
  }
  return [...new Set(values)] as WebhookEventType[];
}

function requireCents(value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new AmisiError('invalid_argument', 'cents must be a whole number from 0', {
      field: 'cents',
      value: String(value),
    });
  }
  return value;
}

function requireKind(value: string): TransactionKind {
  if (!(KINDS as readonly string[]).includes(value)) {
    throw new AmisiError('invalid_argument', `kind must be one of ${KINDS.join(', ')}`, {
      field: 'kind',
      value,
      allowed: KINDS,
    });
  }
  return value as TransactionKind;
}

/**
 * Whether anything is due in the account at `now`: a renewal, a grant past its expiry that still
 * has credits, a hold past its ttl. Settling then changes state; otherwise a read needs no write.
 */
function isDue(
  view: { readonly grants: readonly Grant[]; readonly holds: readonly Hold[] },
  sub: Subscription | undefined,
  now: number,
): boolean {
  return (
    (sub?.status === 'active' && sub.nextRenewalAt <= now) ||
    view.grants.some((g) => g.remaining > 0 && isExpired(g, now)) ||
    view.holds.some((h) => h.status === 'held' && h.expiresAt <= now)
  );
}

export function summarize(
  accountId: string,
  grants: readonly Grant[],
  holds: readonly Hold[],
  now: number,
): Balance {
  const heldByGrant = new Map<string, number>();
  let held = 0;
  for (const h of holds) {
    if (h.status !== 'held') continue;
    held += h.credits;
    for (const d of h.draws)
      heldByGrant.set(d.grantId, (heldByGrant.get(d.grantId) ?? 0) + d.credits);
  }
  const shown = grants.filter((g) => g.remaining > 0 || (heldByGrant.get(g.id) ?? 0) > 0);
  let available = 0;
  let nextExpiry: { at: number; credits: number } | null = null;
  for (const g of shown) {
    if (!isSpendable(g, now)) continue;
    available += g.remaining;
    if (g.expiresAt !== null) {
      if (nextExpiry === null || g.expiresAt < nextExpiry.at)
        nextExpiry = { at: g.expiresAt, credits: 0 };
      if (g.expiresAt === nextExpiry.at) nextExpiry.credits += g.remaining;
    }
  }
  return {
    accountId,
    asOf: now,
    available,
    held,
    grants: shown.map((g) => ({
      id: g.id,
      source: g.source,
      amount: g.amount,
      remaining: g.remaining,
      held: heldByGrant.get(g.id) ?? 0,
      startsAt: g.startsAt,
      expiresAt: g.expiresAt,
    })),
    nextExpiry,
  };
}
