/**
 * The closed set of expected outcomes (STYLE.md, "Errors: three kinds").
 * Every code maps to one HTTP status and one CLI exit code; adding a code without a row here
 * does not compile.
 */
export type ErrorCode =
  | 'invalid_argument'
  | 'invalid_credits'
  | 'unknown_operation'
  | 'invalid_parameter'
  | 'unknown_account'
  | 'account_exists'
  | 'unknown_hold'
  | 'hold_already_captured'
  | 'hold_already_released'
  | 'hold_expired'
  | 'capture_exceeds_hold'
  | 'hold_lifetime_exceeded'
  | 'unknown_test_clock'
  | 'test_clock_exists'
  | 'live_payment_on_test_clock'
  | 'insufficient_credits'
  | 'overdraft_limit_reached'
  | 'overdraft_below_used'
  | 'idempotency_key_reused'
  | 'catalog_invalid'
  | 'catalog_version_exists'
  | 'unknown_catalog'
  | 'not_initialized'
  | 'store_busy'
  | 'verify_failed'
  | 'unknown_pack'
  | 'unknown_purchase'
  | 'purchase_not_refundable'
  | 'purchase_not_pending'
  | 'subscription_exists'
  | 'no_subscription'
  | 'not_an_upgrade'
  | 'unknown_upgrade'
  | 'upgrade_already_paid'
  | 'webhook_signature_invalid'
  | 'payment_provider_error'
  | 'unknown_api_key'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'rate_limited'
  | 'unknown_webhook'
  | 'unknown_delivery'
  | 'budget_exceeded'
  | 'unknown_member'
  | 'member_not_active'
  | 'unknown_project'
  | 'not_an_organization'
  | 'seat_limit_reached'
  | 'team_access_required'
  | 'last_owner'
  | 'invalid_invitation'
  | 'unknown_batch'
  | 'unknown_batch_item'
  | 'unknown_transaction'
  | 'not_a_charge'
  | 'address_in_use'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'uri_too_long'
  | 'header_too_large'
  | 'request_timeout'
  | 'shutting_down'
  | 'routes_invalid'
  | 'request_in_progress'
  | 'upstream_unavailable'
  | 'upstream_timeout'
  | 'internal';

export interface ErrorInfo {
  readonly status: number;
  readonly exit: number;
  readonly title: string;
  /** What the caller can do about it, shown by the CLI after the message. */
  readonly hint: string;
  readonly retryable: boolean;
}

export const errorTable = {
  invalid_argument: {
    status: 400,
    exit: 2,
    title: 'Invalid argument',
    hint: 'Check the command usage with --help.',
    retryable: false,
  },
  invalid_credits: {
    status: 400,
    exit: 2,
    title: 'Invalid credits',
    hint: 'Give whole credits as digits, from 1 to 1000000000000 (no sign, decimals or exponent).',
    retryable: false,
  },
  unknown_operation: {
    status: 400,
    exit: 2,
    title: 'Unknown operation',
    hint: 'Use one of the operations in the catalog (amisi catalog show).',
    retryable: false,
  },
  invalid_parameter: {
    status: 400,
    exit: 2,
    title: 'Invalid parameter',
    hint: 'Use one of the allowed values.',
    retryable: false,
  },
  unknown_account: {
    status: 404,
    exit: 3,
    title: 'Unknown account',
    hint: 'Create it first with amisi accounts create.',
    retryable: false,
  },
  account_exists: {
    status: 409,
    exit: 4,
    title: 'Account exists',
    hint: 'Account ids are unique; pick another id.',
    retryable: false,
  },
  unknown_hold: {
    status: 404,
    exit: 3,
    title: 'Unknown hold',
    hint: 'Check the hold id printed by amisi hold.',
    retryable: false,
  },
  hold_already_captured: {
    status: 409,
    exit: 4,
    title: 'Hold already captured',
    hint: 'A hold resolves once; make a new hold.',
    retryable: false,
  },
  hold_already_released: {
    status: 409,
    exit: 4,
    title: 'Hold already released',
    hint: 'A hold resolves once; make a new hold.',
    retryable: false,
  },
  hold_expired: {
    status: 409,
    exit: 4,
    title: 'Hold expired',
    hint: 'The hold passed its ttl and was released; make a new hold with a longer --ttl.',
    retryable: false,
  },
  capture_exceeds_hold: {
    status: 409,
    exit: 4,
    title: 'Capture exceeds hold',
    hint: 'Capture at most the credits the hold still holds.',
    retryable: false,
  },
  unknown_test_clock: {
    status: 404,
    exit: 3,
    title: 'Unknown test clock',
    hint: 'Check the clock id printed by amisi clocks create (amisi clocks show lists them).',
    retryable: false,
  },
  live_payment_on_test_clock: {
    status: 409,
    exit: 4,
    title: 'Live payment on a test clock',
    hint: 'Accounts on a test clock are simulations: pay them with the manual provider or a Stripe test key.',
    retryable: false,
  },
  test_clock_exists: {
    status: 409,
    exit: 4,
    title: 'Test clock exists',
    hint: 'A clock id is made once; pick another id, or advance the clock that has it.',
    retryable: false,
  },
  hold_lifetime_exceeded: {
    status: 409,
    exit: 4,
    title: 'Hold lifetime exceeded',
    hint: 'A hold lives at most 30 days from when it was made; capture what is done and hold again.',
    retryable: false,
  },
  insufficient_credits: {
    status: 402,
    exit: 5,
    title: 'Insufficient credits',
    hint: 'Grant or buy more credits, or ask for fewer.',
    retryable: false,
  },
  overdraft_limit_reached: {
    status: 402,
    exit: 5,
    title: 'Overdraft limit reached',
    hint: 'Grant or buy credits (they pay the debt first), raise the overdraft limit, or ask for fewer.',
    retryable: false,
  },
  overdraft_below_used: {
    status: 409,
    exit: 4,
    title: 'Overdraft limit below what is used',
    hint: 'Set a limit at least the debt plus what holds reserve past zero, or let them be paid first.',
    retryable: false,
  },
  idempotency_key_reused: {
    status: 422,
    exit: 4,
    title: 'Idempotency key reused',
    hint: 'Use a new key for a different request.',
    retryable: false,
  },
  catalog_invalid: {
    status: 400,
    exit: 6,
    title: 'Catalog invalid',
    hint: 'Fix the catalog file at the paths named.',
    retryable: false,
  },
  catalog_version_exists: {
    status: 409,
    exit: 6,
    title: 'Catalog version exists',
    hint: 'A loaded catalog version is immutable; give the changed catalog a new version.',
    retryable: false,
  },
  unknown_catalog: {
    status: 404,
    exit: 3,
    title: 'Unknown catalog version',
    hint: 'List loaded versions with amisi catalog show.',
    retryable: false,
  },
  not_initialized: {
    status: 503,
    exit: 7,
    title: 'Not initialized',
    hint: 'Run amisi init to create the database and load the default catalog.',
    retryable: false,
  },
  store_busy: {
    status: 503,
    exit: 8,
    title: 'Store busy',
    hint: 'The database is locked or unavailable; retry with the same key.',
    retryable: true,
  },
  verify_failed: {
    status: 500,
    exit: 9,
    title: 'Verification failed',
    hint: 'The journal and the balances disagree; see the report.',
    retryable: false,
  },
  unknown_pack: {
    status: 400,
    exit: 2,
    title: 'Unknown pack',
    hint: 'Use one of the packs in the catalog (amisi packs).',
    retryable: false,
  },
  unknown_purchase: {
    status: 404,
    exit: 3,
    title: 'Unknown purchase',
    hint: 'Check the purchase id printed by amisi buy.',
    retryable: false,
  },
  purchase_not_refundable: {
    status: 409,
    exit: 4,
    title: 'Purchase not refundable',
    hint: 'Only a paid purchase that was not refunded yet can be refunded.',
    retryable: false,
  },
  purchase_not_pending: {
    status: 409,
    exit: 4,
    title: 'Purchase not pending',
    hint: 'Only a pending purchase can be cancelled; a paid one is refunded by an operator.',
    retryable: false,
  },
  subscription_exists: {
    status: 409,
    exit: 4,
    title: 'Subscription exists',
    hint: 'The account has an active plan; change it with amisi plan change.',
    retryable: false,
  },
  no_subscription: {
    status: 404,
    exit: 3,
    title: 'No subscription',
    hint: 'Subscribe the account to a plan first (amisi subscribe).',
    retryable: false,
  },
  not_an_upgrade: {
    status: 409,
    exit: 4,
    title: 'Not an upgrade',
    hint: 'The plan is not dearer than the current one now: change to it directly (a downgrade waits for the renewal and needs no payment).',
    retryable: false,
  },
  unknown_upgrade: {
    status: 404,
    exit: 3,
    title: 'Unknown upgrade',
    hint: "Check the upgrade id (GET /v1/accounts/{id}/subscription/upgrades lists an account's upgrades).",
    retryable: false,
  },
  upgrade_already_paid: {
    status: 409,
    exit: 4,
    title: 'Upgrade already paid',
    hint: 'A paid upgrade has taken effect; change the plan again to undo it.',
    retryable: false,
  },
  webhook_signature_invalid: {
    status: 400,
    exit: 2,
    title: 'Webhook signature invalid',
    hint: 'The signature is missing, forged or too old; check the endpoint secret.',
    retryable: false,
  },
  payment_provider_error: {
    status: 502,
    exit: 10,
    title: 'Payment provider error',
    hint: 'The payment provider refused or failed; retry with the same key.',
    retryable: true,
  },
  unknown_api_key: {
    status: 404,
    exit: 3,
    title: 'Unknown API key',
    hint: 'List the keys with amisi keys list.',
    retryable: false,
  },
  unauthorized: {
    status: 401,
    exit: 11,
    title: 'Unauthorized',
    hint: 'Send an API key as Authorization: Bearer amk_... (amisi keys create).',
    retryable: false,
  },
  forbidden: {
    status: 403,
    exit: 11,
    title: 'Forbidden',
    hint: 'This key may not do this: use an operator key, or a key that is not read-only.',
    retryable: false,
  },
  not_found: {
    status: 404,
    exit: 3,
    title: 'Not found',
    hint: 'No such route; see /docs for the API.',
    retryable: false,
  },
  rate_limited: {
    status: 429,
    exit: 8,
    title: 'Rate limited',
    hint: 'Too many requests with this key; retry after the Retry-After header.',
    retryable: true,
  },
  unknown_webhook: {
    status: 404,
    exit: 3,
    title: 'Unknown webhook endpoint',
    hint: 'List the endpoints with amisi webhooks list.',
    retryable: false,
  },
  unknown_delivery: {
    status: 404,
    exit: 3,
    title: 'Unknown delivery',
    hint: 'List the deliveries with amisi webhooks deliveries.',
    retryable: false,
  },
  budget_exceeded: {
    status: 402,
    exit: 5,
    title: 'Budget exceeded',
    hint: 'Ask an admin to raise the budget (amisi budgets set), or ask for fewer credits.',
    retryable: false,
  },
  unknown_member: {
    status: 404,
    exit: 3,
    title: 'Unknown member',
    hint: 'List the members with amisi members list.',
    retryable: false,
  },
  member_not_active: {
    status: 409,
    exit: 4,
    title: 'Member not active',
    hint: 'The member must accept the invitation first (amisi members accept ORG MEMBER --code CODE, or POST /v1/invitations/accept); then make the key.',
    retryable: false,
  },
  unknown_project: {
    status: 404,
    exit: 3,
    title: 'Unknown project',
    hint: 'List the projects with amisi projects list, or create it.',
    retryable: false,
  },
  not_an_organization: {
    status: 409,
    exit: 4,
    title: 'Not an organization',
    hint: 'Members, projects and budgets belong to organizations (amisi org create).',
    retryable: false,
  },
  seat_limit_reached: {
    status: 409,
    exit: 4,
    title: 'Seat limit reached',
    hint: 'Remove members or move to a plan with more seats.',
    retryable: false,
  },
  team_access_required: {
    status: 409,
    exit: 4,
    title: 'Team access required',
    hint: 'Subscribe the organization to a plan with team access (Pro or Business).',
    retryable: false,
  },
  last_owner: {
    status: 409,
    exit: 4,
    title: 'Last owner',
    hint: 'Make another member owner first.',
    retryable: false,
  },
  invalid_invitation: {
    status: 403,
    exit: 11,
    title: 'Invalid invitation',
    hint: 'Ask an admin for a new invitation (amisi members add --invite).',
    retryable: false,
  },
  unknown_batch: {
    status: 404,
    exit: 3,
    title: 'Unknown batch',
    hint: 'Check the batch id printed by amisi batch hold.',
    retryable: false,
  },
  unknown_batch_item: {
    status: 404,
    exit: 3,
    title: 'Unknown batch item',
    hint: 'Items are numbered from 0 in the order given; amisi batch show lists them.',
    retryable: false,
  },
  unknown_transaction: {
    status: 404,
    exit: 3,
    title: 'Unknown transaction',
    hint: 'Check the transaction id printed by amisi charge or amisi capture (amisi history lists them).',
    retryable: false,
  },
  not_a_charge: {
    status: 409,
    exit: 4,
    title: 'Not a charge',
    hint: 'Outcomes are recorded for charge and capture transactions only.',
    retryable: false,
  },
  address_in_use: {
    // amisi serve only: the address is held by another process (never an HTTP answer).
    status: 409,
    exit: 4,
    title: 'Address in use',
    hint: 'Another process listens there: stop it, or choose another --port (or AMISI_PORT; 0 picks a free one).',
    retryable: false,
  },
  payload_too_large: {
    status: 413,
    exit: 2,
    title: 'Payload too large',
    hint: 'Request bodies are at most 1 MiB; split the work into smaller requests.',
    retryable: false,
  },
  unsupported_media_type: {
    status: 415,
    exit: 2,
    title: 'Unsupported media type',
    hint: 'Send the body as JSON with Content-Type: application/json.',
    retryable: false,
  },
  uri_too_long: {
    status: 414,
    exit: 2,
    title: 'URI too long',
    hint: 'Ids in a path are at most 128 characters.',
    retryable: false,
  },
  header_too_large: {
    status: 431,
    exit: 2,
    title: 'Request header fields too large',
    hint: 'The request line and headers are at most 16 KiB; send long input in a JSON body.',
    retryable: false,
  },
  request_timeout: {
    status: 408,
    exit: 8,
    title: 'Request timeout',
    hint: 'The request was not received in time; send it again, whole, with the same key.',
    retryable: true,
  },
  shutting_down: {
    status: 503,
    exit: 8,
    title: 'Shutting down',
    hint: 'The server is stopping; retry with the same key (another instance takes it, or this one once restarted).',
    retryable: true,
  },
  routes_invalid: {
    status: 400,
    exit: 6,
    title: 'Gateway routes invalid',
    hint: "Fix the routes file at the path named; operations and values must be the active catalog's.",
    retryable: false,
  },
  request_in_progress: {
    status: 409,
    exit: 8,
    title: 'Request in progress',
    hint: 'A request with this Idempotency-Key is still running (or its hold has not expired yet); retry later with the same key.',
    retryable: true,
  },
  upstream_unavailable: {
    status: 502,
    exit: 8,
    title: 'Upstream unavailable',
    hint: 'The API behind the gateway did not answer; nothing was charged. Retry with the same Idempotency-Key.',
    retryable: true,
  },
  upstream_timeout: {
    status: 504,
    exit: 8,
    title: 'Upstream timeout',
    hint: "The API behind the gateway did not answer within the route's timeout; nothing was charged. Retry with the same Idempotency-Key.",
    retryable: true,
  },
  internal: {
    status: 500,
    exit: 1,
    title: 'Internal error',
    hint: 'This is a bug; the log has the details.',
    retryable: false,
  },
} as const satisfies Record<ErrorCode, ErrorInfo>;

/** RFC 9457 problems: how the HTTP API and the gateway answer an expected failure. */
export const PROBLEM_TYPE = 'application/problem+json';

export interface ProblemBody {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly [member: string]: unknown;
}

export function problemBody(code: ErrorCode, detail: string, data: object = {}): ProblemBody {
  const info = errorTable[code];
  // The standard members come last, so data can never overwrite them.
  return {
    ...data,
    type: `urn:amisi:error:${code}`,
    title: info.title,
    status: info.status,
    detail,
    code,
    retryable: info.retryable,
  };
}

/** An expected failure with a stable code and the numbers that explain it. */
export class AmisiError extends Error {
  readonly code: ErrorCode;
  readonly data: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, data: Record<string, unknown> = {}) {
    super(message);
    this.name = 'AmisiError';
    this.code = code;
    this.data = data;
  }

  get info(): ErrorInfo {
    return errorTable[this.code];
  }
}

export function isAmisiError(e: unknown): e is AmisiError {
  return e instanceof AmisiError;
}

/** Programmer errors: a broken invariant is a bug, never an expected outcome. */
export function assert(condition: unknown, why: string): asserts condition {
  if (!condition) throw new Error(`invariant violated: ${why}`);
}
