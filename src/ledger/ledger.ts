import { AccountTimes } from './clocks/times.js';
import { ClocksApi, CLOCKS_PROBLEMS } from './clocks/api.js';
import { Committer, DEFAULT_COMMITTER_OPTIONS, type CommitterOptions } from './committer.js';
import type { LedgerContext } from './context.js';
import { systemClock, UlidIds, type Clock, type Ids } from './ports.js';
import type { AccountView, Store } from './store.js';
import { verify, type VerifyReport } from './verify.js';
import { ACCOUNT, STORE, type UseCaseProblems } from './problems.js';
import { AccountsApi, ACCOUNTS_PROBLEMS } from './accounts/api.js';
import { CatalogApi, CATALOG_PROBLEMS } from './catalog/api.js';
import { CreditsApi, CREDITS_PROBLEMS } from './credits/api.js';
import { CheckApi, CHECK_PROBLEMS } from './credits/check.js';
import { findHoldByKey, KEYED_HOLD_PROBLEMS } from './credits/keyed-hold.js';
import { KeysApi, KEYS_PROBLEMS } from './keys/api.js';
import { GatewayJobsApi, GATEWAY_PROBLEMS } from './gateway/api.js';
import { PurchasesApi, PURCHASES_PROBLEMS } from './purchases/api.js';
import { ReportsApi, REPORTS_PROBLEMS } from './reports/api.js';
import { RequestBatchesApi, REQUEST_BATCHES_PROBLEMS } from './request-batches/api.js';
import { SubscriptionsApi, SUBSCRIPTIONS_PROBLEMS } from './subscriptions/api.js';
import { TeamsApi, TEAMS_PROBLEMS } from './teams/api.js';
import { WebhooksApi, WEBHOOKS_PROBLEMS } from './webhooks/api.js';

export {
  ACCOUNT_STATUSES,
  MAX_HISTORY_PAGE,
  MAX_SUMMARY_PAGE,
  type AccountStatus,
  type AccountSummary,
  MAX_HISTORY_SCAN,
  summarize,
  type Balance,
  type GrantBalance,
  type HistoryPage,
} from './accounts/api.js';
export type { AmountInput } from './credits/api.js';
export {
  BLOCK_REASON_NAMES,
  CHECK_BLOCKS,
  type CheckBlock,
  type CheckInput,
  type CheckResult,
} from './credits/check.js';
export type { ApiKeyView, KeyForCheck } from './keys/api.js';
export type { AccountAdvice, Audit, DailyUsageReport } from './reports/api.js';
export type { PlanChangePreview } from './subscriptions/api.js';
export { invitationHash, type BudgetView, type Organization } from './teams/api.js';
export type { DeliveryDetail, WebhookEndpointView, WebhookScope } from './webhooks/api.js';

export interface LedgerOptions {
  readonly store: Store;
  readonly clock?: Clock;
  readonly ids?: Ids;
  readonly committer?: Partial<CommitterOptions>;
  /** How long idempotency keys are kept; at least 24 hours. */
  readonly idempotencyRetentionMs?: number;
  /**
   * A hold, charge or grant naming an unknown account creates it, with the catalog's default
   * plan and trial (off by default: an unknown account is refused).
   */
  readonly accountsOnFirstUse?: boolean;
}

export const MIN_IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;

/**
 * The problem codes of every use-case of the facade, from the domain module each forwards to
 * (src/ledger/problems.ts): what the HTTP routes and the OpenAPI document declare.
 */
export const LEDGER_PROBLEMS = {
  ...ACCOUNTS_PROBLEMS,
  ...CATALOG_PROBLEMS,
  ...CREDITS_PROBLEMS,
  ...CHECK_PROBLEMS,
  ...KEYED_HOLD_PROBLEMS,
  ...SUBSCRIPTIONS_PROBLEMS,
  ...PURCHASES_PROBLEMS,
  ...WEBHOOKS_PROBLEMS,
  ...REQUEST_BATCHES_PROBLEMS,
  ...TEAMS_PROBLEMS,
  ...REPORTS_PROBLEMS,
  ...KEYS_PROBLEMS,
  ...CLOCKS_PROBLEMS,
  ...GATEWAY_PROBLEMS,
  getAccount: ACCOUNT,
  // A report of violations, not a refusal: the caller decides (HTTP answers verify_failed).
  verify: STORE,
  idle: STORE,
  close: STORE,
} as const satisfies UseCaseProblems<Ledger>;

/**
 * The ledger's public API: a thin facade over one module per domain (src/ledger/<domain>/
 * api.ts), each of which checks input, submits commands to the committer (group commit) and
 * reads the store. The store itself stays private: every read and write of the package's
 * callers (http, cli, service) goes through a method here.
 */
export class Ledger {
  readonly clock: Clock;
  readonly idempotencyRetentionMs: number;
  private readonly store: Store;
  private readonly committer: Committer;
  private readonly accounts: AccountsApi;
  private readonly catalog: CatalogApi;
  private readonly credits: CreditsApi;
  private readonly checks: CheckApi;
  private readonly subscriptions: SubscriptionsApi;
  private readonly purchases: PurchasesApi;
  private readonly webhooks: WebhooksApi;
  private readonly requestBatches: RequestBatchesApi;
  private readonly teams: TeamsApi;
  private readonly reports: ReportsApi;
  private readonly keys: KeysApi;
  private readonly clocks: ClocksApi;
  private readonly gatewayJobs: GatewayJobsApi;

  constructor(options: LedgerOptions) {
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    const ids = options.ids ?? new UlidIds(this.clock);
    const times = new AccountTimes(this.store, this.clock);
    this.committer = new Committer(
      this.store,
      this.clock,
      ids,
      { ...DEFAULT_COMMITTER_OPTIONS, ...options.committer },
      times,
    );
    this.idempotencyRetentionMs = Math.max(
      options.idempotencyRetentionMs ?? MIN_IDEMPOTENCY_RETENTION_MS,
      MIN_IDEMPOTENCY_RETENTION_MS,
    );
    const ctx: LedgerContext = {
      store: this.store,
      committer: this.committer,
      clock: this.clock,
      times,
      accountsOnFirstUse: options.accountsOnFirstUse ?? false,
    };
    this.accounts = new AccountsApi(ctx, this.idempotencyRetentionMs);
    this.catalog = new CatalogApi(ctx);
    this.credits = new CreditsApi(ctx, this.accounts);
    this.checks = new CheckApi(ctx, this.accounts);
    this.subscriptions = new SubscriptionsApi(ctx, this.accounts, this.catalog);
    this.purchases = new PurchasesApi(ctx, this.accounts);
    this.webhooks = new WebhooksApi(ctx);
    this.requestBatches = new RequestBatchesApi(ctx, this.accounts, this.catalog, this.credits);
    this.teams = new TeamsApi(ctx, this.accounts);
    this.reports = new ReportsApi(ctx, this.accounts, this.catalog, this.teams);
    this.keys = new KeysApi(ctx);
    this.clocks = new ClocksApi(ctx);
    this.gatewayJobs = new GatewayJobsApi(ctx);
  }

  /** The account, once what is due in it now is settled (like every read of its state). */
  async getAccount(accountId: string): Promise<AccountView> {
    return this.accounts.settle(accountId);
  }

  // Accounts: creating them, their state as of now, their journal, maintenance.
  createAccount(...a: Parameters<AccountsApi['createAccount']>) {
    return this.accounts.createAccount(...a);
  }
  listAccounts(...a: Parameters<AccountsApi['listAccounts']>) {
    return this.accounts.listAccounts(...a);
  }
  accountSummaries(...a: Parameters<AccountsApi['accountSummaries']>) {
    return this.accounts.accountSummaries(...a);
  }
  accountIds(...a: Parameters<AccountsApi['accountIds']>) {
    return this.accounts.accountIds(...a);
  }
  balance(...a: Parameters<AccountsApi['balance']>) {
    return this.accounts.balance(...a);
  }
  setOverdraft(...a: Parameters<AccountsApi['setOverdraft']>) {
    return this.accounts.setOverdraft(...a);
  }
  listGrants(...a: Parameters<AccountsApi['listGrants']>) {
    return this.accounts.listGrants(...a);
  }
  history(...a: Parameters<AccountsApi['history']>) {
    return this.accounts.history(...a);
  }
  sweep(...a: Parameters<AccountsApi['sweep']>) {
    return this.accounts.sweep(...a);
  }
  purgeIdempotency(...a: Parameters<AccountsApi['purgeIdempotency']>) {
    return this.accounts.purgeIdempotency(...a);
  }

  // The catalog and quotes.
  loadCatalog(...a: Parameters<CatalogApi['loadCatalog']>) {
    return this.catalog.loadCatalog(...a);
  }
  activateCatalog(...a: Parameters<CatalogApi['activateCatalog']>) {
    return this.catalog.activateCatalog(...a);
  }
  activeCatalog(...a: Parameters<CatalogApi['activeCatalog']>) {
    return this.catalog.activeCatalog(...a);
  }
  findActiveCatalog(...a: Parameters<CatalogApi['findActiveCatalog']>) {
    return this.catalog.findActiveCatalog(...a);
  }
  getCatalog(...a: Parameters<CatalogApi['getCatalog']>) {
    return this.catalog.getCatalog(...a);
  }
  listCatalogs(...a: Parameters<CatalogApi['listCatalogs']>) {
    return this.catalog.listCatalogs(...a);
  }
  quote(...a: Parameters<CatalogApi['quote']>) {
    return this.catalog.quote(...a);
  }

  // Test clocks: simulated time for the accounts made on them.
  createClock(...a: Parameters<ClocksApi['createClock']>) {
    return this.clocks.createClock(...a);
  }
  getClock(...a: Parameters<ClocksApi['getClock']>) {
    return this.clocks.getClock(...a);
  }
  listClocks(...a: Parameters<ClocksApi['listClocks']>) {
    return this.clocks.listClocks(...a);
  }
  advanceClock(...a: Parameters<ClocksApi['advanceClock']>) {
    return this.clocks.advanceClock(...a);
  }

  // Credits: grants, holds, captures, releases, charges.
  grant(...a: Parameters<CreditsApi['grant']>) {
    return this.credits.grant(...a);
  }
  hold(...a: Parameters<CreditsApi['hold']>) {
    return this.credits.hold(...a);
  }
  capture(...a: Parameters<CreditsApi['capture']>) {
    return this.credits.capture(...a);
  }
  release(...a: Parameters<CreditsApi['release']>) {
    return this.credits.release(...a);
  }
  extendHold(...a: Parameters<CreditsApi['extendHold']>) {
    return this.credits.extendHold(...a);
  }
  increaseHold(...a: Parameters<CreditsApi['increaseHold']>) {
    return this.credits.increaseHold(...a);
  }
  charge(...a: Parameters<CreditsApi['charge']>) {
    return this.credits.charge(...a);
  }
  getHold(...a: Parameters<CreditsApi['getHold']>) {
    return this.credits.getHold(...a);
  }
  findHold(...a: Parameters<CreditsApi['findHold']>) {
    return this.credits.findHold(...a);
  }
  countOpenHolds(...a: Parameters<CreditsApi['countOpenHolds']>) {
    return this.credits.countOpenHolds(...a);
  }

  /** The hold an idempotency key made, by the key alone (credits/keyed-hold.ts). */
  findHoldByKey(accountId: string, key: string) {
    return findHoldByKey(this.store, accountId, key);
  }

  /** May this request run now: the price, what blocks it, the balance after (credits/check.ts). */
  check(...a: Parameters<CheckApi['check']>) {
    return this.checks.check(...a);
  }

  // Subscriptions and renewals.
  subscribe(...a: Parameters<SubscriptionsApi['subscribe']>) {
    return this.subscriptions.subscribe(...a);
  }
  changePlan(...a: Parameters<SubscriptionsApi['changePlan']>) {
    return this.subscriptions.changePlan(...a);
  }
  cancelPlan(...a: Parameters<SubscriptionsApi['cancelPlan']>) {
    return this.subscriptions.cancelPlan(...a);
  }
  requestUpgrade(...a: Parameters<SubscriptionsApi['requestUpgrade']>) {
    return this.subscriptions.requestUpgrade(...a);
  }
  recordUpgradeCheckout(...a: Parameters<SubscriptionsApi['recordUpgradeCheckout']>) {
    return this.subscriptions.recordUpgradeCheckout(...a);
  }
  confirmUpgrade(...a: Parameters<SubscriptionsApi['confirmUpgrade']>) {
    return this.subscriptions.confirmUpgrade(...a);
  }
  cancelUpgrade(...a: Parameters<SubscriptionsApi['cancelUpgrade']>) {
    return this.subscriptions.cancelUpgrade(...a);
  }
  getUpgrade(...a: Parameters<SubscriptionsApi['getUpgrade']>) {
    return this.subscriptions.getUpgrade(...a);
  }
  listUpgrades(...a: Parameters<SubscriptionsApi['listUpgrades']>) {
    return this.subscriptions.listUpgrades(...a);
  }
  upgradeByKey(...a: Parameters<SubscriptionsApi['upgradeByKey']>) {
    return this.subscriptions.upgradeByKey(...a);
  }
  previewPlanChange(...a: Parameters<SubscriptionsApi['previewPlanChange']>) {
    return this.subscriptions.previewPlanChange(...a);
  }
  getSubscription(...a: Parameters<SubscriptionsApi['getSubscription']>) {
    return this.subscriptions.getSubscription(...a);
  }
  findSubscription(...a: Parameters<SubscriptionsApi['findSubscription']>) {
    return this.subscriptions.findSubscription(...a);
  }
  renew(...a: Parameters<SubscriptionsApi['renew']>) {
    return this.subscriptions.renew(...a);
  }

  // Purchases of packs, payments, refunds, auto top-up.
  createPurchase(...a: Parameters<PurchasesApi['createPurchase']>) {
    return this.purchases.createPurchase(...a);
  }
  cancelPurchase(...a: Parameters<PurchasesApi['cancelPurchase']>) {
    return this.purchases.cancelPurchase(...a);
  }
  setAutoTopup(...a: Parameters<PurchasesApi['setAutoTopup']>) {
    return this.purchases.setAutoTopup(...a);
  }
  clearAutoTopup(...a: Parameters<PurchasesApi['clearAutoTopup']>) {
    return this.purchases.clearAutoTopup(...a);
  }
  getAutoTopup(...a: Parameters<PurchasesApi['getAutoTopup']>) {
    return this.purchases.getAutoTopup(...a);
  }
  autoTopupsAwaitingCheckout(...a: Parameters<PurchasesApi['autoTopupsAwaitingCheckout']>) {
    return this.purchases.autoTopupsAwaitingCheckout(...a);
  }
  recordCheckout(...a: Parameters<PurchasesApi['recordCheckout']>) {
    return this.purchases.recordCheckout(...a);
  }
  confirmPayment(...a: Parameters<PurchasesApi['confirmPayment']>) {
    return this.purchases.confirmPayment(...a);
  }
  reclaimForRefund(...a: Parameters<PurchasesApi['reclaimForRefund']>) {
    return this.purchases.reclaimForRefund(...a);
  }
  applyPaidInvoice(...a: Parameters<PurchasesApi['applyPaidInvoice']>) {
    return this.purchases.applyPaidInvoice(...a);
  }
  markRefunded(...a: Parameters<PurchasesApi['markRefunded']>) {
    return this.purchases.markRefunded(...a);
  }
  getPurchase(...a: Parameters<PurchasesApi['getPurchase']>) {
    return this.purchases.getPurchase(...a);
  }
  listPurchases(...a: Parameters<PurchasesApi['listPurchases']>) {
    return this.purchases.listPurchases(...a);
  }

  // Webhook endpoints, deliveries and their attempts.
  registerWebhook(...a: Parameters<WebhooksApi['registerWebhook']>) {
    return this.webhooks.registerWebhook(...a);
  }
  disableWebhook(...a: Parameters<WebhooksApi['disableWebhook']>) {
    return this.webhooks.disableWebhook(...a);
  }
  webhookEndpoints(...a: Parameters<WebhooksApi['webhookEndpoints']>) {
    return this.webhooks.webhookEndpoints(...a);
  }
  deliveryTargets(...a: Parameters<WebhooksApi['deliveryTargets']>) {
    return this.webhooks.deliveryTargets(...a);
  }
  webhookEvent(...a: Parameters<WebhooksApi['webhookEvent']>) {
    return this.webhooks.webhookEvent(...a);
  }
  eventTypes(...a: Parameters<WebhooksApi['eventTypes']>) {
    return this.webhooks.eventTypes(...a);
  }
  listDeliveries(...a: Parameters<WebhooksApi['listDeliveries']>) {
    return this.webhooks.listDeliveries(...a);
  }
  claimDeliveries(...a: Parameters<WebhooksApi['claimDeliveries']>) {
    return this.webhooks.claimDeliveries(...a);
  }
  finishAttempt(...a: Parameters<WebhooksApi['finishAttempt']>) {
    return this.webhooks.finishAttempt(...a);
  }
  getDelivery(...a: Parameters<WebhooksApi['getDelivery']>) {
    return this.webhooks.getDelivery(...a);
  }
  deliveryInScope(...a: Parameters<WebhooksApi['deliveryInScope']>) {
    return this.webhooks.deliveryInScope(...a);
  }
  deliveryDetail(...a: Parameters<WebhooksApi['deliveryDetail']>) {
    return this.webhooks.deliveryDetail(...a);
  }
  redeliver(...a: Parameters<WebhooksApi['redeliver']>) {
    return this.webhooks.redeliver(...a);
  }
  announceExpiringGrants(...a: Parameters<WebhooksApi['announceExpiringGrants']>) {
    return this.webhooks.announceExpiringGrants(...a);
  }

  // Request batches: many requests held together.
  quoteBatch(...a: Parameters<RequestBatchesApi['quoteBatch']>) {
    return this.requestBatches.quoteBatch(...a);
  }
  holdBatch(...a: Parameters<RequestBatchesApi['holdBatch']>) {
    return this.requestBatches.holdBatch(...a);
  }
  getBatch(...a: Parameters<RequestBatchesApi['getBatch']>) {
    return this.requestBatches.getBatch(...a);
  }
  captureBatchItem(...a: Parameters<RequestBatchesApi['captureBatchItem']>) {
    return this.requestBatches.captureBatchItem(...a);
  }
  releaseBatchItem(...a: Parameters<RequestBatchesApi['releaseBatchItem']>) {
    return this.requestBatches.releaseBatchItem(...a);
  }
  releaseBatch(...a: Parameters<RequestBatchesApi['releaseBatch']>) {
    return this.requestBatches.releaseBatch(...a);
  }
  findBatch(...a: Parameters<RequestBatchesApi['findBatch']>) {
    return this.requestBatches.findBatch(...a);
  }

  // Organizations: members, invitations, projects, budgets.
  createOrganization(...a: Parameters<TeamsApi['createOrganization']>) {
    return this.teams.createOrganization(...a);
  }
  setMember(...a: Parameters<TeamsApi['setMember']>) {
    return this.teams.setMember(...a);
  }
  removeMember(...a: Parameters<TeamsApi['removeMember']>) {
    return this.teams.removeMember(...a);
  }
  acceptInvitation(...a: Parameters<TeamsApi['acceptInvitation']>) {
    return this.teams.acceptInvitation(...a);
  }
  setProject(...a: Parameters<TeamsApi['setProject']>) {
    return this.teams.setProject(...a);
  }
  setBudget(...a: Parameters<TeamsApi['setBudget']>) {
    return this.teams.setBudget(...a);
  }
  removeBudget(...a: Parameters<TeamsApi['removeBudget']>) {
    return this.teams.removeBudget(...a);
  }
  getOrganization(...a: Parameters<TeamsApi['getOrganization']>) {
    return this.teams.getOrganization(...a);
  }
  organization(...a: Parameters<TeamsApi['organization']>) {
    return this.teams.organization(...a);
  }
  listMembers(...a: Parameters<TeamsApi['listMembers']>) {
    return this.teams.listMembers(...a);
  }
  getMember(...a: Parameters<TeamsApi['getMember']>) {
    return this.teams.getMember(...a);
  }
  listProjects(...a: Parameters<TeamsApi['listProjects']>) {
    return this.teams.listProjects(...a);
  }
  budgets(...a: Parameters<TeamsApi['budgets']>) {
    return this.teams.budgets(...a);
  }
  budgetAlerts(...a: Parameters<TeamsApi['budgetAlerts']>) {
    return this.teams.budgetAlerts(...a);
  }

  // Reports: outcomes, statements, usage, audits, advice.
  recordOutcome(...a: Parameters<ReportsApi['recordOutcome']>) {
    return this.reports.recordOutcome(...a);
  }
  advice(...a: Parameters<ReportsApi['advice']>) {
    return this.reports.advice(...a);
  }
  forecast(...a: Parameters<ReportsApi['forecast']>) {
    return this.reports.forecast(...a);
  }
  statement(...a: Parameters<ReportsApi['statement']>) {
    return this.reports.statement(...a);
  }
  usage(...a: Parameters<ReportsApi['usage']>) {
    return this.reports.usage(...a);
  }
  dailyUsage(...a: Parameters<ReportsApi['dailyUsage']>) {
    return this.reports.dailyUsage(...a);
  }
  audit(...a: Parameters<ReportsApi['audit']>) {
    return this.reports.audit(...a);
  }
  outcomes(...a: Parameters<ReportsApi['outcomes']>) {
    return this.reports.outcomes(...a);
  }
  rebuildRollups(...a: Parameters<ReportsApi['rebuildRollups']>) {
    return this.reports.rebuildRollups(...a);
  }
  accountsPendingRollups(...a: Parameters<ReportsApi['accountsPendingRollups']>) {
    return this.reports.accountsPendingRollups(...a);
  }

  // API keys (the service makes and checks them; these store and read them).
  issueApiKey(...a: Parameters<KeysApi['issueApiKey']>) {
    return this.keys.issueApiKey(...a);
  }
  revokeApiKey(...a: Parameters<KeysApi['revokeApiKey']>) {
    return this.keys.revokeApiKey(...a);
  }
  acceptInvitationWithKey(...a: Parameters<KeysApi['acceptInvitationWithKey']>) {
    return this.keys.acceptInvitationWithKey(...a);
  }
  listApiKeys(...a: Parameters<KeysApi['listApiKeys']>) {
    return this.keys.listApiKeys(...a);
  }
  getApiKey(...a: Parameters<KeysApi['getApiKey']>) {
    return this.keys.getApiKey(...a);
  }
  keyForCheck(...a: Parameters<KeysApi['keyForCheck']>) {
    return this.keys.keyForCheck(...a);
  }

  // The metering gateway's jobs (service/gateway/jobs.ts).
  startGatewayJob(...a: Parameters<GatewayJobsApi['startGatewayJob']>) {
    return this.gatewayJobs.startGatewayJob(...a);
  }
  updateGatewayJob(...a: Parameters<GatewayJobsApi['updateGatewayJob']>) {
    return this.gatewayJobs.updateGatewayJob(...a);
  }
  gatewayJobsDue(...a: Parameters<GatewayJobsApi['gatewayJobsDue']>) {
    return this.gatewayJobs.gatewayJobsDue(...a);
  }
  findGatewayJob(...a: Parameters<GatewayJobsApi['findGatewayJob']>) {
    return this.gatewayJobs.findGatewayJob(...a);
  }

  // Operations: what the entry points (amisi migrate, verify, serve) need of the store.

  /** Which store the ledger runs on ('sqlite' or 'postgres'). */
  get databaseKind(): string {
    return this.store.kind;
  }

  /** Recomputes every account from its journal (src/ledger/verify.ts). */
  verify(
    options: { pageSize?: number; onProgress?: (accounts: number) => void } = {},
  ): Promise<VerifyReport> {
    return verify(this.store, options);
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
