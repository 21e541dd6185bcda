/**
 * amisi-credits/client: the typed SDK over the HTTP API. Browser-safe: nothing here imports
 * Node modules or server code at run time (types only), so a dashboard can bundle it. The
 * webhook signature verifier needs node:crypto and lives in amisi-credits/webhooks.
 */

export { createClient } from './client.js';
export type {
  AccountsApi,
  AmisiClient,
  AutoTopupApi,
  BalanceApi,
  BatchesApi,
  CatalogApi,
  ChargesApi,
  ChecksApi,
  GrantsApi,
  HistoryApi,
  HoldsApi,
  OperationsApi,
  PurchasesApi,
  QuotesApi,
  ReportsApi,
  SubscriptionsApi,
  WebhooksApi,
} from './client.js';
export {
  AmisiApiError,
  AmisiNetworkError,
  isAmisiApiError,
  isAmisiNetworkError,
  type ProblemData,
} from './errors.js';
export {
  DEFAULT_TIMEOUT_MS,
  newIdempotencyKey,
  type ClientOptions,
  type RequestOptions,
  type WriteOptions,
} from './transport.js';
export { DEFAULT_RETRIES } from './retry.js';
export type * from './types.js';
