import { pages } from './pages.js';
import {
  Transport,
  type ClientOptions,
  type RequestOptions,
  type WriteOptions,
} from './transport.js';
import type * as T from './types.js';

/**
 * The typed client: one method per API operation, grouped by resource as the API's docs are
 * (accounts, catalog, quotes, grants, holds, charges, checks, balance, history, subscriptions,
 * purchases, auto top-up, webhooks, teams, operations, insights, reports). Methods that change credits or money take WriteOptions: their
 * Idempotency-Key is made once per call and reused by every retry of it.
 */

export interface AccountsApi {
  /** Who the client's key is: operator, account or member (with its role). */
  me(options?: RequestOptions): Promise<T.Me>;
  /**
   * Idempotent by id: creating it again answers the account with replay true. With a plan the
   * account is subscribed at once, by options.idempotencyKey when given (else the server's
   * `create-<id>`, so the same call again is a replay).
   */
  create(input: T.CreateAccountInput, options?: WriteOptions): Promise<T.AccountResult>;
  get(accountId: string, options?: RequestOptions): Promise<T.Account>;
  /** One page, in id order (operator key); query.search keeps ids or names containing it. */
  list(query?: T.AccountListQuery, options?: RequestOptions): Promise<T.AccountList>;
  /** Every page from query.cursor (or the start) to the end. */
  pages(query?: T.AccountListQuery, options?: RequestOptions): AsyncIterable<T.AccountList>;
  /** Every account, page after page. */
  all(query?: T.AccountListQuery, options?: RequestOptions): AsyncIterable<T.Account>;
  /**
   * One page of the operator's account list (operator key): each account with its balance,
   * plan status and last activity, in id order; query.search as for list.
   */
  summaries(query?: T.AccountSummaryQuery, options?: RequestOptions): Promise<T.AccountSummaryList>;
  /**
   * Operator: makes an API key for the account; the answer is the only place the key exists.
   * Not idempotent (each call makes a key), so it is never retried after a lost answer.
   */
  createKey(
    accountId: string,
    input?: T.CreateAccountKeyInput,
    options?: RequestOptions,
  ): Promise<T.AccountKey>;
}

export interface CatalogApi {
  get(options?: RequestOptions): Promise<T.CatalogVersion>;
  packs(options?: RequestOptions): Promise<T.PackList>;
  plans(options?: RequestOptions): Promise<T.PlanList>;
}

export interface QuotesApi {
  /** Prices a request under the active catalog; changes nothing. */
  create(input: T.QuoteInput, options?: RequestOptions): Promise<T.Quote>;
}

/** Test clocks (operator): simulated time for the accounts made on them. */
export interface TestClocksApi {
  create(input: T.TestClockInput, options?: RequestOptions): Promise<T.TestClockResult>;
  list(options?: RequestOptions): Promise<T.TestClockList>;
  get(clockId: string, options?: RequestOptions): Promise<T.TestClock>;
  /** Moves the clock forward to `to`; what falls due on its accounts runs, day by day. */
  advance(clockId: string, to: number, options?: RequestOptions): Promise<T.AdvancedTestClock>;
}

export interface GrantsApi {
  create(input: T.GrantInput, options?: WriteOptions): Promise<T.GrantResult>;
}

export interface HoldsApi {
  /** Reserves credits, all or nothing: by credits, or by items priced by the catalog. */
  create(input: T.HoldInput, options?: WriteOptions): Promise<T.HoldResult>;
  get(holdId: string, options?: RequestOptions): Promise<T.Hold>;
  /**
   * Takes input.credits (default: all still held) and returns the rest; with `final: false`
   * takes them and keeps the rest held (a long job billed as it goes).
   */
  capture(holdId: string, input?: T.CaptureInput, options?: WriteOptions): Promise<T.ResolveResult>;
  release(holdId: string, options?: WriteOptions): Promise<T.ResolveResult>;
  /** A new ttl from now for a hold still held (at most 30 days after it was made). */
  extend(holdId: string, input: T.ExtendInput, options?: WriteOptions): Promise<T.HoldResult>;
  /** Reserves more on the same hold, all or nothing (items or credits, as it was held). */
  increase(
    holdId: string,
    input: T.IncreaseInput,
    options?: WriteOptions,
  ): Promise<T.IncreaseResult>;
}

/** Request batches: a list of requests held all or nothing, resolved item by item. */
export interface BatchesApi {
  /** Prices a list of requests: each item and the total; changes nothing. */
  quote(input: T.BatchQuoteInput, options?: RequestOptions): Promise<T.BatchQuote>;
  /** Holds every item or none (the problem names the item at fault), under one key. */
  hold(input: T.HoldBatchInput, options?: WriteOptions): Promise<T.BatchResult>;
  /** The batch as it stands: every item's status and figures, and the totals. */
  get(batchId: string, options?: RequestOptions): Promise<T.Batch>;
  /** Captures item `index` (from 0): input.credits, default all held; the rest returns. */
  captureItem(
    batchId: string,
    index: number,
    input?: T.BatchCaptureInput,
    options?: WriteOptions,
  ): Promise<T.BatchItemResult>;
  releaseItem(batchId: string, index: number, options?: WriteOptions): Promise<T.BatchItemResult>;
  /** Releases every item still held (a partially captured batch returns the rest). */
  release(batchId: string, options?: WriteOptions): Promise<T.BatchReleaseResult>;
}

export interface ChargesApi {
  /** A hold captured at once. */
  create(input: T.ChargeInput, options?: WriteOptions): Promise<T.ChargeResult>;
}

export interface ChecksApi {
  /**
   * May this request run now: allowed or not, its price line by line, what blocks it (the code
   * a hold would be refused with) and the balance after. A check that is not allowed answers
   * (allowed false); it does not throw. With `hold: true` it reserves at once, keyed like
   * holds.create (an Idempotency-Key made once per call, or options.idempotencyKey).
   */
  create(input: T.CheckInput, options?: WriteOptions): Promise<T.CheckResult>;
}

export interface BalanceApi {
  get(accountId: string, options?: RequestOptions): Promise<T.Balance>;
  /** Operator: sets the account's overdraft limit (null: its plan's); answers the overdraft. */
  setOverdraft(
    accountId: string,
    input: T.OverdraftInput,
    options?: RequestOptions,
  ): Promise<T.Overdraft>;
}

export interface HistoryApi {
  /** One page, newest first; pass nextCursor as query.cursor for the next (older) one. */
  list(accountId: string, query?: T.HistoryQuery, options?: RequestOptions): Promise<T.HistoryPage>;
  pages(
    accountId: string,
    query?: T.HistoryQuery,
    options?: RequestOptions,
  ): AsyncIterable<T.HistoryPage>;
  /** Every transaction, newest first, page after page. */
  all(
    accountId: string,
    query?: T.HistoryQuery,
    options?: RequestOptions,
  ): AsyncIterable<T.Transaction>;
  /** The history as CSV (one row per transaction, newest first), the whole text. */
  exportCsv(accountId: string, query?: T.ExportQuery, options?: RequestOptions): Promise<string>;
}

export interface SubscriptionsApi {
  get(accountId: string, options?: RequestOptions): Promise<T.Subscription>;
  /** What changing to `plan` would do now (prorated upgrade, or downgrade date); changes nothing. */
  preview(accountId: string, plan: string, options?: RequestOptions): Promise<T.PlanChangePreview>;
  /** Starts the plan now (manual provider or startsAt given), or answers a checkout URL. */
  subscribe(
    accountId: string,
    input: T.SubscribeInput,
    options?: WriteOptions,
  ): Promise<T.SubscribeResult>;
  /**
   * Upgrades (prorated) or downgrades at the next renewal; the current plan undoes a queued
   * downgrade or cancellation. With an operator key an upgrade applies at once; with an
   * account key it answers the pending upgrade and where to pay (`'upgrade' in result`).
   */
  change(
    accountId: string,
    input: T.ChangePlanInput,
    options?: WriteOptions,
  ): Promise<T.ChangePlanResult>;
  /** Ends the plan at the end of the cycle; purchased credits stay. */
  cancel(accountId: string, options?: WriteOptions): Promise<T.SubscriptionResult>;
  /** The account's upgrades (pending, paid, cancelled), newest first. */
  upgrades(accountId: string, options?: RequestOptions): Promise<T.PlanUpgradeList>;
  /** Cancels a pending upgrade (again: a replay). */
  cancelUpgrade(upgradeId: string, options?: RequestOptions): Promise<T.PlanUpgradeResult>;
  /** Manual provider, operator key: the upgrade's payment arrived (applied once). */
  confirmUpgrade(
    upgradeId: string,
    input?: { paymentRef?: string },
    options?: RequestOptions,
  ): Promise<T.PlanUpgradeResult>;
}

export interface PurchasesApi {
  /**
   * A pending purchase and where to pay: one pack (`pack`) or several in one payment (`packs`,
   * one line per pack); the credits come when the payment is confirmed.
   */
  buy(input: T.BuyInput, options?: WriteOptions): Promise<T.BuyResult>;
  get(purchaseId: string, options?: RequestOptions): Promise<T.Purchase>;
  /**
   * Cancels a pending purchase (its checkout is closed; no credits move). Cancelling again is
   * a replay; a paid one is purchase_not_pending.
   */
  cancel(purchaseId: string, options?: RequestOptions): Promise<T.PurchaseResult>;
  /** The account's purchases, newest first. */
  list(accountId: string, options?: RequestOptions): Promise<T.PurchaseList>;
  /** Manual provider: the money arrived. Confirming again is a replay. */
  confirm(
    purchaseId: string,
    input?: T.ConfirmInput,
    options?: RequestOptions,
  ): Promise<T.PurchaseResult>;
  /** Reclaims the unspent credits and pays back their share (or all with input.full). */
  refund(
    purchaseId: string,
    input?: T.RefundInput,
    options?: WriteOptions,
  ): Promise<T.PurchaseResult>;
}

export interface WebhooksApi {
  /**
   * Registers an endpoint; the answer holds its signing secret. Idempotent: one key per call
   * (options.idempotencyKey, or a new one) reused by every retry, so a lost answer is retried
   * and answers the same endpoint and secret.
   */
  register(
    input: T.RegisterWebhookInput,
    options?: WriteOptions,
  ): Promise<T.WebhookEndpointCreated>;
  list(options?: RequestOptions): Promise<T.WebhookEndpointList>;
  /** Disables the endpoint; its deliveries stay on record. */
  remove(endpointId: string, options?: RequestOptions): Promise<void>;
  /** Deliveries, newest first. */
  deliveries(query?: T.DeliveryQuery, options?: RequestOptions): Promise<T.DeliveryList>;
  /** One delivery and every attempt made. */
  delivery(deliveryId: string, options?: RequestOptions): Promise<T.DeliveryDetail>;
  /** Sends the event again as a new delivery, due now. Not retried after a lost answer. */
  redeliver(deliveryId: string, options?: RequestOptions): Promise<T.DeliveryDetail>;
}

export interface AutoTopupApi {
  /** Sets the rule; setting the same rule again changes nothing. */
  set(accountId: string, input: T.AutoTopupInput, options?: RequestOptions): Promise<T.AutoTopup>;
  /** The rule; not_found when the account has none. */
  get(accountId: string, options?: RequestOptions): Promise<T.AutoTopup>;
  clear(accountId: string, options?: RequestOptions): Promise<void>;
}

export interface OperationsApi {
  health(options?: RequestOptions): Promise<T.Health>;
  /** Answers the readiness report whether or not the server is ready (ready: false). */
  readiness(options?: RequestOptions): Promise<T.Readiness>;
  /** Prometheus text. */
  metrics(options?: RequestOptions): Promise<string>;
  /** Recomputes every account from the journal; a violation throws verify_failed (data.report). */
  verify(options?: RequestOptions): Promise<T.VerifyReport>;
}

/** Organizations: members, invitations, member keys, projects, budgets and alerts. */
export interface TeamsApi {
  /** Operator key. Idempotent by id. */
  createOrganization(
    input: T.CreateOrganizationInput,
    options?: RequestOptions,
  ): Promise<T.OrganizationCreated>;
  get(accountId: string, options?: RequestOptions): Promise<T.Organization>;
  members(accountId: string, options?: RequestOptions): Promise<T.MemberList>;
  /** Adds, invites or changes a member; the same input again changes nothing. */
  putMember(
    accountId: string,
    memberId: string,
    input: T.PutMemberInput,
    options?: RequestOptions,
  ): Promise<T.MemberResult>;
  removeMember(accountId: string, memberId: string, options?: RequestOptions): Promise<void>;
  createMemberKey(
    accountId: string,
    memberId: string,
    input?: T.CreateMemberKeyInput,
    options?: RequestOptions,
  ): Promise<T.MemberKey>;
  /** Needs no key: the invitation code is the credential. */
  acceptInvitation(input: T.AcceptInvitationInput, options?: RequestOptions): Promise<T.MemberKey>;
  projects(accountId: string, options?: RequestOptions): Promise<T.ProjectList>;
  putProject(
    accountId: string,
    projectId: string,
    input?: T.PutProjectInput,
    options?: RequestOptions,
  ): Promise<T.ProjectResult>;
  budgets(accountId: string, options?: RequestOptions): Promise<T.BudgetList>;
  /** target: the member or project id; ignored for the pool. */
  putBudget(
    accountId: string,
    scope: T.BudgetScope,
    target: string,
    input: T.PutBudgetInput,
    options?: RequestOptions,
  ): Promise<T.BudgetResult>;
  removeBudget(
    accountId: string,
    scope: T.BudgetScope,
    target: string,
    options?: RequestOptions,
  ): Promise<void>;
  alerts(accountId: string, options?: RequestOptions): Promise<T.BudgetAlertList>;
}

/** Advice from the active catalog: resolution by use, the phased planner, pack combinations. */
export interface InsightsApi {
  /** Resolution and credits per image for one intended use (id or alias), or every use. */
  guide(use?: string, options?: RequestOptions): Promise<T.GuideList>;
  /** Explore at 720p, refine at 1080p, finalize: credits against all at the final resolution. */
  phases(input: T.PhasePlanInput, options?: RequestOptions): Promise<T.PhasePlan>;
  /** The cheapest packs covering `credits` (exact, not greedy). */
  cheapestPacks(credits: number, options?: RequestOptions): Promise<T.PackCombination>;
}

/** Reports read from rollups: statements and audits of a cycle or range; outcomes of charges. */
export interface ReportsApi {
  /** Opening, granted by source, spent, expired, rolled over, refunded, closing. */
  statement(
    accountId: string,
    query?: T.PeriodQuery,
    options?: RequestOptions,
  ): Promise<T.Statement>;
  /** Usage by operation, resolution, member and project against the period before, with findings. */
  audit(accountId: string, query?: T.PeriodQuery, options?: RequestOptions): Promise<T.Audit>;
  /**
   * A cycle's credits by UTC day, split by operation, member or project (the top five, other,
   * none); a member key without usage.all gets its own usage.
   */
  dailyUsage(
    accountId: string,
    query?: T.DailyUsageQuery,
    options?: RequestOptions,
  ): Promise<T.DailyUsage>;
  /** Buy packs or change plan, seasonal planning and the run-out forecast, with the arithmetic. */
  advice(accountId: string, options?: RequestOptions): Promise<T.AccountAdvice>;
  /** When the credits run out at the current cycle's pace, against the renewal. */
  forecast(accountId: string, options?: RequestOptions): Promise<T.Forecast>;
  /** Kept or discarded, with labels; idempotent by the transaction (no Idempotency-Key). */
  recordOutcome(input: T.OutcomeInput, options?: RequestOptions): Promise<T.OutcomeResult>;
}

export interface AmisiClient {
  readonly accounts: AccountsApi;
  readonly catalog: CatalogApi;
  readonly quotes: QuotesApi;
  readonly grants: GrantsApi;
  readonly testClocks: TestClocksApi;
  readonly holds: HoldsApi;
  readonly batches: BatchesApi;
  readonly charges: ChargesApi;
  readonly checks: ChecksApi;
  readonly balance: BalanceApi;
  readonly history: HistoryApi;
  readonly subscriptions: SubscriptionsApi;
  readonly purchases: PurchasesApi;
  readonly autoTopup: AutoTopupApi;
  readonly webhooks: WebhooksApi;
  readonly teams: TeamsApi;
  readonly operations: OperationsApi;
  readonly insights: InsightsApi;
  readonly reports: ReportsApi;
}

const seg = encodeURIComponent;

function accountsApi(t: Transport): AccountsApi {
  const list = (query: T.AccountListQuery = {}, o?: RequestOptions) =>
    t.send<T.AccountList>({ method: 'GET', path: '/v1/accounts', query }, o);
  return {
    me: (o) => t.send({ method: 'GET', path: '/v1/me' }, o),
    create: (input, o) =>
      t.send(
        {
          method: 'POST',
          path: '/v1/accounts',
          body: input,
          keyed: o?.idempotencyKey !== undefined,
        },
        o,
      ),
    get: (id, o) => t.send({ method: 'GET', path: `/v1/accounts/${seg(id)}` }, o),
    list,
    summaries: (query = {}, o) =>
      t.send({ method: 'GET', path: '/v1/account-summaries', query }, o),
    createKey: (id, input = {}, o) =>
      t.send(
        { method: 'POST', path: `/v1/accounts/${seg(id)}/keys`, body: input, unsafe: true },
        o,
      ),
    pages: (query = {}, o) => pages(query, (q) => list(q, o)),
    all: (query = {}, o) =>
      items(
        pages(query, (q) => list(q, o)),
        (p) => p.accounts,
      ),
  };
}

function catalogApi(t: Transport): CatalogApi {
  return {
    get: (o) => t.send({ method: 'GET', path: '/v1/catalog' }, o),
    packs: (o) => t.send({ method: 'GET', path: '/v1/catalog/packs' }, o),
    plans: (o) => t.send({ method: 'GET', path: '/v1/catalog/plans' }, o),
  };
}

function holdsApi(t: Transport): HoldsApi {
  const hold = (id: string) => `/v1/holds/${seg(id)}`;
  return {
    create: (input, o) =>
      t.send({ method: 'POST', path: '/v1/holds', body: input, keyed: true }, o),
    get: (id, o) => t.send({ method: 'GET', path: hold(id) }, o),
    capture: (id, input = {}, o) =>
      t.send({ method: 'POST', path: `${hold(id)}/capture`, body: input, keyed: true }, o),
    release: (id, o) => t.send({ method: 'POST', path: `${hold(id)}/release`, keyed: true }, o),
    extend: (id, input, o) =>
      t.send({ method: 'POST', path: `${hold(id)}/extend`, body: input, keyed: true }, o),
    increase: (id, input, o) =>
      t.send({ method: 'POST', path: `${hold(id)}/increase`, body: input, keyed: true }, o),
  };
}

function batchesApi(t: Transport): BatchesApi {
  const batch = (id: string) => `/v1/batches/${seg(id)}`;
  const item = (id: string, index: number) => `${batch(id)}/items/${index}`;
  return {
    quote: (input, o) => t.send({ method: 'POST', path: '/v1/batches/quote', body: input }, o),
    hold: (input, o) =>
      t.send({ method: 'POST', path: '/v1/batches', body: input, keyed: true }, o),
    get: (id, o) => t.send({ method: 'GET', path: batch(id) }, o),
    captureItem: (id, index, input = {}, o) =>
      t.send({ method: 'POST', path: `${item(id, index)}/capture`, body: input, keyed: true }, o),
    releaseItem: (id, index, o) =>
      t.send({ method: 'POST', path: `${item(id, index)}/release`, keyed: true }, o),
    release: (id, o) => t.send({ method: 'POST', path: `${batch(id)}/release`, keyed: true }, o),
  };
}

function historyApi(t: Transport): HistoryApi {
  const list = (id: string, query: T.HistoryQuery = {}, o?: RequestOptions) =>
    t.send<T.HistoryPage>({ method: 'GET', path: `/v1/accounts/${seg(id)}/history`, query }, o);
  return {
    list,
    pages: (id, query = {}, o) => pages(query, (q) => list(id, q, o)),
    all: (id, query = {}, o) =>
      items(
        pages(query, (q) => list(id, q, o)),
        (p) => p.transactions,
      ),
    exportCsv: (id, query = {}, o) =>
      t.send<string>(
        { method: 'GET', path: `/v1/accounts/${seg(id)}/export.csv`, query, text: true },
        o,
      ),
  };
}

function subscriptionsApi(t: Transport): SubscriptionsApi {
  const sub = (id: string) => `/v1/accounts/${seg(id)}/subscription`;
  return {
    get: (id, o) => t.send({ method: 'GET', path: sub(id) }, o),
    preview: (id, plan, o) =>
      t.send({ method: 'GET', path: `${sub(id)}/preview`, query: { plan } }, o),
    subscribe: (id, input, o) =>
      t.send({ method: 'POST', path: sub(id), body: input, keyed: true }, o),
    change: (id, input, o) =>
      t.send({ method: 'POST', path: `${sub(id)}/change`, body: input, keyed: true }, o),
    cancel: (id, o) => t.send({ method: 'POST', path: `${sub(id)}/cancel`, keyed: true }, o),
    upgrades: (id, o) => t.send({ method: 'GET', path: `${sub(id)}/upgrades` }, o),
    cancelUpgrade: (id, o) =>
      t.send({ method: 'POST', path: `/v1/plan-upgrades/${seg(id)}/cancel` }, o),
    confirmUpgrade: (id, input = {}, o) =>
      t.send({ method: 'POST', path: `/v1/plan-upgrades/${seg(id)}/confirm`, body: input }, o),
  };
}

function purchasesApi(t: Transport): PurchasesApi {
  const purchase = (id: string) => `/v1/purchases/${seg(id)}`;
  return {
    buy: (input, o) =>
      t.send({ method: 'POST', path: '/v1/purchases', body: input, keyed: true }, o),
    get: (id, o) => t.send({ method: 'GET', path: purchase(id) }, o),
    cancel: (id, o) => t.send({ method: 'POST', path: `${purchase(id)}/cancel` }, o),
    list: (accountId, o) =>
      t.send({ method: 'GET', path: `/v1/accounts/${seg(accountId)}/purchases` }, o),
    confirm: (id, input = {}, o) =>
      t.send({ method: 'POST', path: `${purchase(id)}/confirm`, body: input }, o),
    refund: (id, input = {}, o) =>
      t.send({ method: 'POST', path: `${purchase(id)}/refund`, body: input, keyed: true }, o),
  };
}

function webhooksApi(t: Transport): WebhooksApi {
  const delivery = (id: string) => `/v1/webhooks/deliveries/${seg(id)}`;
  return {
    register: (input, o) =>
      t.send({ method: 'POST', path: '/v1/webhooks', body: input, keyed: true }, o),
    list: (o) => t.send({ method: 'GET', path: '/v1/webhooks' }, o),
    // A retry after a lost answer would find the endpoint gone and say unknown_webhook.
    remove: (id, o) =>
      t.send({ method: 'DELETE', path: `/v1/webhooks/${seg(id)}`, unsafe: true }, o),
    deliveries: (query = {}, o) =>
      t.send({ method: 'GET', path: '/v1/webhooks/deliveries', query }, o),
    delivery: (id, o) => t.send({ method: 'GET', path: delivery(id) }, o),
    redeliver: (id, o) =>
      t.send({ method: 'POST', path: `${delivery(id)}/redeliver`, unsafe: true }, o),
  };
}

function autoTopupApi(t: Transport): AutoTopupApi {
  const rule = (id: string) => `/v1/accounts/${seg(id)}/autotopup`;
  return {
    set: (id, input, o) => t.send({ method: 'PUT', path: rule(id), body: input }, o),
    get: (id, o) => t.send({ method: 'GET', path: rule(id) }, o),
    clear: (id, o) => t.send({ method: 'DELETE', path: rule(id) }, o),
  };
}

function teamsApi(t: Transport): TeamsApi {
  const acct = (id: string) => `/v1/accounts/${seg(id)}`;
  const member = (id: string, m: string) => `${acct(id)}/members/${seg(m)}`;
  const budget = (id: string, scope: string, target: string) =>
    `${acct(id)}/budgets/${scope}/${scope === 'pool' ? '-' : seg(target)}`;
  return {
    createOrganization: (input, o) => t.send({ method: 'POST', path: '/v1/orgs', body: input }, o),
    get: (id, o) => t.send({ method: 'GET', path: `${acct(id)}/organization` }, o),
    members: (id, o) => t.send({ method: 'GET', path: `${acct(id)}/members` }, o),
    putMember: (id, m, input, o) => t.send({ method: 'PUT', path: member(id, m), body: input }, o),
    // A retry after a lost answer would find the member gone and say unknown_member.
    removeMember: (id, m, o) => t.send({ method: 'DELETE', path: member(id, m), unsafe: true }, o),
    // Each call makes a new key: never retried on its own.
    createMemberKey: (id, m, input = {}, o) =>
      t.send({ method: 'POST', path: `${member(id, m)}/keys`, body: input, unsafe: true }, o),
    acceptInvitation: (input, o) =>
      t.send({ method: 'POST', path: '/v1/invitations/accept', body: input, unsafe: true }, o),
    projects: (id, o) => t.send({ method: 'GET', path: `${acct(id)}/projects` }, o),
    putProject: (id, p, input = {}, o) =>
      t.send({ method: 'PUT', path: `${acct(id)}/projects/${seg(p)}`, body: input }, o),
    budgets: (id, o) => t.send({ method: 'GET', path: `${acct(id)}/budgets` }, o),
    putBudget: (id, scope, target, input, o) =>
      t.send({ method: 'PUT', path: budget(id, scope, target), body: input }, o),
    removeBudget: (id, scope, target, o) =>
      t.send({ method: 'DELETE', path: budget(id, scope, target), unsafe: true }, o),
    alerts: (id, o) => t.send({ method: 'GET', path: `${acct(id)}/alerts` }, o),
  };
}

function operationsApi(t: Transport): OperationsApi {
  return {
    health: (o) => t.send({ method: 'GET', path: '/healthz' }, o),
    readiness: (o) =>
      t.send({ method: 'GET', path: '/readyz', alsoAnswers: { status: 503, member: 'ready' } }, o),
    metrics: (o) => t.send({ method: 'GET', path: '/metrics', text: true }, o),
    verify: (o) => t.send({ method: 'GET', path: '/v1/verify' }, o),
  };
}

function insightsApi(t: Transport): InsightsApi {
  return {
    guide: (use, o) =>
      t.send({ method: 'GET', path: '/v1/guide', query: use === undefined ? {} : { use } }, o),
    phases: (input, o) => t.send({ method: 'POST', path: '/v1/plan-phases', body: input }, o),
    cheapestPacks: (credits, o) =>
      t.send({ method: 'GET', path: '/v1/packs/cheapest', query: { credits } }, o),
  };
}

function reportsApi(t: Transport): ReportsApi {
  const account = (id: string) => `/v1/accounts/${seg(id)}`;
  return {
    statement: (id, query = {}, o) =>
      t.send({ method: 'GET', path: `${account(id)}/statement`, query }, o),
    audit: (id, query = {}, o) => t.send({ method: 'GET', path: `${account(id)}/audit`, query }, o),
    dailyUsage: (id, query = {}, o) =>
      t.send({ method: 'GET', path: `${account(id)}/usage/daily`, query }, o),
    advice: (id, o) => t.send({ method: 'GET', path: `${account(id)}/advice` }, o),
    forecast: (id, o) => t.send({ method: 'GET', path: `${account(id)}/forecast` }, o),
    recordOutcome: (input, o) => t.send({ method: 'POST', path: '/v1/outcomes', body: input }, o),
  };
}

/** Flattens pages into their items. */
async function* items<P, I>(source: AsyncIterable<P>, of: (page: P) => readonly I[]) {
  for await (const page of source) yield* of(page);
}

export function createClient(options: ClientOptions): AmisiClient {
  const t = new Transport(options);
  return {
    accounts: accountsApi(t),
    catalog: catalogApi(t),
    quotes: {
      create: (input, o) => t.send({ method: 'POST', path: '/v1/quotes', body: input }, o),
    },
    grants: {
      create: (input, o) =>
        t.send({ method: 'POST', path: '/v1/grants', body: input, keyed: true }, o),
    },
    holds: holdsApi(t),
    testClocks: {
      create: (input, o) => t.send({ method: 'POST', path: '/v1/test-clocks', body: input }, o),
      list: (o) => t.send({ method: 'GET', path: '/v1/test-clocks' }, o),
      get: (id, o) => t.send({ method: 'GET', path: `/v1/test-clocks/${seg(id)}` }, o),
      advance: (id, to, o) =>
        t.send({ method: 'POST', path: `/v1/test-clocks/${seg(id)}/advance`, body: { to } }, o),
    },
    batches: batchesApi(t),
    charges: {
      create: (input, o) =>
        t.send({ method: 'POST', path: '/v1/charges', body: input, keyed: true }, o),
    },
    checks: {
      create: (input, o) =>
        t.send({ method: 'POST', path: '/v1/check', body: input, keyed: input.hold === true }, o),
    },
    balance: {
      get: (id, o) => t.send({ method: 'GET', path: `/v1/accounts/${seg(id)}/balance` }, o),
      setOverdraft: (id, input, o) =>
        t.send({ method: 'PUT', path: `/v1/accounts/${seg(id)}/overdraft`, body: input }, o),
    },
    history: historyApi(t),
    subscriptions: subscriptionsApi(t),
    purchases: purchasesApi(t),
    autoTopup: autoTopupApi(t),
    webhooks: webhooksApi(t),
    teams: teamsApi(t),
    operations: operationsApi(t),
    insights: insightsApi(t),
    reports: reportsApi(t),
  };
}
