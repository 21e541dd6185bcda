import type { Static } from '@sinclair/typebox';
import type { ErrorCode } from '../core/errors.js';
import type * as S from '../http/schemas/index.js';

/**
 * The SDK's types, derived from the very TypeBox schemas the server validates and serializes
 * with, so a field renamed on the server fails to compile here. Everything is imported as a
 * type: the compiled client carries none of the server's code.
 */

export type { ErrorCode };

export type Account = Static<typeof S.Account>;
export type AccountResult = Static<typeof S.AccountResult>;
export type TestClock = Static<typeof S.TestClock>;
export type TestClockList = Static<typeof S.TestClockList>;
export type TestClockInput = Static<typeof S.CreateTestClockRequest>;
export type TestClockResult = Static<typeof S.TestClockResult>;
export type AdvancedTestClock = Static<typeof S.AdvancedTestClock>;
export type AccountList = Static<typeof S.AccountList>;
export type CreateAccountInput = Static<typeof S.CreateAccountRequest>;
export type AccountListQuery = Static<typeof S.AccountListQuery>;
export type Me = Static<typeof S.Me>;
export type AccountSummary = Static<typeof S.AccountSummary>;
export type AccountSummaryList = Static<typeof S.AccountSummaryList>;
export type AccountSummaryQuery = Static<typeof S.AccountSummaryQuery>;
export type CreateAccountKeyInput = Static<typeof S.CreateAccountKeyRequest>;
export type AccountKey = Static<typeof S.AccountKey>;

export type CatalogVersion = Static<typeof S.CatalogVersion>;
export type Catalog = Static<typeof S.Catalog>;
export type Pack = Static<typeof S.Pack>;
export type PackList = Static<typeof S.PackList>;
export type Plan = Static<typeof S.Plan>;
export type PlanList = Static<typeof S.PlanList>;
export type Quote = Static<typeof S.Quote>;
export type QuoteLine = Static<typeof S.QuoteLine>;
export type QuoteItem = Static<typeof S.QuoteItem>;
export type QuoteInput = Static<typeof S.QuoteRequest>;

export type Grant = Static<typeof S.Grant>;
export type GrantInput = Static<typeof S.GrantRequest>;
export type GrantResult = Static<typeof S.GrantResult>;
export type Hold = Static<typeof S.Hold>;
export type HoldInput = Static<typeof S.HoldRequest>;
export type HoldResult = Static<typeof S.HoldResult>;
export type CaptureInput = Static<typeof S.CaptureRequest>;
export type ResolveResult = Static<typeof S.ResolveResult>;
export type ExtendInput = Static<typeof S.ExtendRequest>;
export type IncreaseInput = Static<typeof S.IncreaseRequest>;
export type IncreaseResult = Static<typeof S.IncreaseResult>;
export type ChargeInput = Static<typeof S.ChargeRequest>;
export type ChargeResult = Static<typeof S.ChargeResult>;
export type Attribution = Static<typeof S.Attribution>;
export type CheckInput = Static<typeof S.CheckRequest>;
export type CheckResult = Static<typeof S.CheckResult>;
export type CheckBlock = Static<typeof S.CheckBlock>;

export type BatchQuoteInput = Static<typeof S.BatchQuoteRequest>;
export type BatchQuote = Static<typeof S.BatchQuote>;
export type BatchQuoteItem = Static<typeof S.BatchQuoteItem>;
export type HoldBatchInput = Static<typeof S.HoldBatchRequest>;
export type BatchItemInput = Static<typeof S.BatchItemInput>;
export type Batch = Static<typeof S.Batch>;
export type BatchItem = Static<typeof S.BatchItem>;
export type BatchResult = Static<typeof S.BatchResult>;
export type BatchReleaseResult = Static<typeof S.BatchReleaseResult>;
export type BatchItemResult = Static<typeof S.BatchItemResult>;
export type BatchCaptureInput = Static<typeof S.BatchCaptureRequest>;
export type Draw = Static<typeof S.Draw>;

export type Balance = Static<typeof S.Balance>;
export type GrantBalance = Static<typeof S.GrantBalance>;
export type Overdraft = Static<typeof S.Overdraft>;
export type OverdraftInput = Static<typeof S.OverdraftRequest>;
export type Transaction = Static<typeof S.Transaction>;
export type Entry = Static<typeof S.Entry>;
export type HistoryPage = Static<typeof S.HistoryPage>;
export type HistoryQuery = Static<typeof S.HistoryQuery>;

export type Subscription = Static<typeof S.Subscription>;
export type SubscriptionResult = Static<typeof S.SubscriptionResult>;
export type SubscribeInput = Static<typeof S.SubscribeRequest>;
export type ChangePlanInput = Static<typeof S.ChangePlanRequest>;
export type PlanChangePreview = Static<typeof S.PlanChangePreview>;

/**
 * What subscribing answers when the payment provider takes the money first (HTTP 202): the
 * plan starts once the customer has paid at checkoutUrl.
 */
export type SubscriptionCheckout = Static<typeof S.SubscriptionCheckout>;

/** Subscribing answers the started plan, or (with a paying provider) where to pay. */
export type SubscribeResult = SubscriptionResult | SubscriptionCheckout;

/** An upgrade asked for by the account, paid through the payment provider. */
export type PlanUpgrade = Static<typeof S.PlanUpgrade>;
/** An account key's upgrade waits for its payment (HTTP 202): where to pay, and the upgrade. */
export type PlanUpgradeCheckout = Static<typeof S.PlanUpgradeCheckout>;
export type PlanUpgradeResult = Static<typeof S.PlanUpgradeResult>;
export type PlanUpgradeList = Static<typeof S.PlanUpgradeList>;
/** A plan change answers the change made, or (an account key's upgrade) the pending upgrade. */
export type ChangePlanResult = SubscriptionResult | PlanUpgradeCheckout;

export type Purchase = Static<typeof S.Purchase>;
export type PurchaseLine = Static<typeof S.PurchaseLine>;
export type BuyInput = Static<typeof S.BuyRequest>;
export type BuyResult = Static<typeof S.BuyResult>;
export type PurchaseResult = Static<typeof S.PurchaseResult>;
export type PurchaseList = Static<typeof S.PurchaseList>;
export type ConfirmInput = Static<typeof S.ConfirmRequest>;
export type RefundInput = Static<typeof S.RefundRequest>;

export type Health = Static<typeof S.Health>;
export type Readiness = Static<typeof S.Readiness>;
export type VerifyReport = Static<typeof S.VerifyReport>;

export type WebhookEndpoint = Static<typeof S.WebhookEndpoint>;
export type WebhookEndpointCreated = Static<typeof S.WebhookEndpointCreated>;
export type WebhookEndpointList = Static<typeof S.WebhookEndpointList>;
export type RegisterWebhookInput = Static<typeof S.RegisterWebhookRequest>;
export type Delivery = Static<typeof S.Delivery>;
export type DeliveryAttempt = Static<typeof S.DeliveryAttempt>;
export type DeliveryList = Static<typeof S.DeliveryList>;
export type DeliveryDetail = Static<typeof S.DeliveryDetail>;
export type DeliveryQuery = Static<typeof S.DeliveryQuery>;
export type AutoTopup = Static<typeof S.AutoTopup>;
export type AutoTopupInput = Static<typeof S.AutoTopupRequest>;

/** The body of every error answer (RFC 9457), with the stable code. */
export type Problem = Static<typeof S.Problem>;

export type Member = Static<typeof S.Member>;
export type Project = Static<typeof S.Project>;
export type Organization = Static<typeof S.Organization>;
export type CreateOrganizationInput = Static<typeof S.CreateOrganizationRequest>;
export type OrganizationCreated = Static<typeof S.OrganizationCreated>;
export type PutMemberInput = Static<typeof S.PutMemberRequest>;
export type MemberResult = Static<typeof S.MemberResult>;
export type MemberList = Static<typeof S.MemberList>;
export type AcceptInvitationInput = Static<typeof S.AcceptInvitationRequest>;
export type MemberKey = Static<typeof S.MemberKey>;
export type CreateMemberKeyInput = Static<typeof S.CreateMemberKeyRequest>;
export type PutProjectInput = Static<typeof S.PutProjectRequest>;
export type ProjectResult = Static<typeof S.ProjectResult>;
export type ProjectList = Static<typeof S.ProjectList>;
export type Budget = Static<typeof S.Budget>;
export type BudgetList = Static<typeof S.BudgetList>;
export type BudgetResult = Static<typeof S.BudgetResult>;
export type PutBudgetInput = Static<typeof S.PutBudgetRequest>;
export type BudgetAlert = Static<typeof S.BudgetAlert>;
export type BudgetAlertList = Static<typeof S.BudgetAlertList>;
export type BudgetScope = Budget['scope'];

export type Guideline = Static<typeof S.Guideline>;
export type GuideList = Static<typeof S.GuideList>;
export type PhasePlanInput = Static<typeof S.PhasePlanRequest>;
export type PhaseLine = Static<typeof S.PhaseLine>;
export type PhasePlan = Static<typeof S.PhasePlan>;
export type PackLine = Static<typeof S.PackLine>;
export type PackCombination = Static<typeof S.PackCombination>;

export type PeriodQuery = Static<typeof S.PeriodQuery>;
export type ReportPeriod = Static<typeof S.ReportPeriod>;
export type Statement = Static<typeof S.Statement>;
export type FlowTotal = Static<typeof S.FlowTotal>;
export type UsageLine = Static<typeof S.UsageLine>;
export type UsageReport = Static<typeof S.UsageReport>;
export type Finding = Static<typeof S.Finding>;
export type Audit = Static<typeof S.Audit>;
export type DailyUsageQuery = Static<typeof S.DailyUsageQuery>;
export type DailyUsage = Static<typeof S.DailyUsage>;
export type DailySeries = Static<typeof S.DailySeries>;
export type UsageDay = Static<typeof S.UsageDay>;
export type AdviceItem = Static<typeof S.AdviceItem>;
export type UsageCycle = Static<typeof S.UsageCycle>;
export type AccountAdvice = Static<typeof S.AccountAdvice>;
export type Forecast = Static<typeof S.Forecast>;
export type OutcomeInput = Static<typeof S.OutcomeRequest>;
export type Outcome = Static<typeof S.Outcome>;
export type OutcomeResult = Static<typeof S.OutcomeResult>;
export type ExportQuery = Static<typeof S.ExportQuery>;
