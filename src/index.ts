// The package's public entry (package.json "."): the Ledger API, the types it takes and
// answers, the errors it raises, and the one way to open a store. The engine's internals (the
// unit of work, the commands, the committer, the Store port's write side) are not part of it:
// they change with the engine, and a caller that reached them could write around the ledger.
// Tests and benchmarks import them from their own paths.

// core: every type, and the few values a caller needs to check input and read errors.
export type * from './core/index.js';
export { AmisiError, assert, errorTable, isAmisiError } from './core/errors.js';
export { CatalogSchema, catalogProblems, parseCatalog } from './core/catalog.js';
export { MAX_CREDITS, parseCredits } from './core/credits.js';
export { formatMoney } from './core/money.js';

// ledger: the facade, its clocks and ids, verify.
export { Ledger, MAX_HISTORY_PAGE, MIN_IDEMPOTENCY_RETENTION_MS } from './ledger/ledger.js';
export type {
  AccountAdvice,
  Balance,
  BudgetView,
  GrantBalance,
  HistoryPage,
  LedgerOptions,
  Organization,
  PlanChangePreview,
} from './ledger/ledger.js';
export { FakeClock, systemClock, UlidIds, type Clock, type Ids } from './ledger/ports.js';
export { verify, type Totals, type VerifyReport, type Violation } from './ledger/verify.js';
export type { CommitterOptions } from './ledger/committer.js';
export type { AccountView, CatalogRecord, Store } from './ledger/store.js';

// The results the Ledger's methods answer.
export type {
  ChargeResult,
  GrantResult,
  HoldResult,
  ResolveResult,
} from './ledger/credits/commands.js';
export type { Replayable } from './ledger/idempotency.js';
export type { BatchResult, ReleaseBatchResult } from './ledger/request-batches/commands.js';
export type { OpenedAccount, SubscriptionResult } from './ledger/subscriptions/commands.js';
export type { PurchaseResult } from './ledger/purchases/commands.js';
export type { MemberResult, OrganizationResult } from './ledger/teams/commands.js';
export type { AttemptOutcome } from './ledger/webhooks/commands.js';
export type { RebuildResult } from './ledger/reports/commands.js';

// Opening a store: entry points choose one (STYLE.md), and a library caller is one.
export { SqliteStore, type SqliteOptions } from './store/sqlite/sqlite-store.js';
export { openStore, type OpenStoreOptions } from './store/open.js';
