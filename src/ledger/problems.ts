import type { ErrorCode } from '../core/errors.js';

/**
 * The problem codes a use-case can raise: each domain module (`<domain>/api.ts`) declares one
 * list per public method next to it, and the HTTP routes and the OpenAPI document take them
 * from there (src/http/schemas/problems.ts). A list names what can really come out of the
 * method's validation, its command's refusals and the core rules it calls; bugs (`internal`)
 * are not expected outcomes and are the HTTP layer's, like everything the edge answers
 * before a route runs.
 */
export type Problems = readonly ErrorCode[];

/** One list per public method of a domain module (a method without one does not compile). */
export type UseCaseProblems<T> = {
  readonly [K in keyof T as T[K] extends (...args: never[]) => unknown ? K : never]: Problems;
};

/** The codes of `list` but those named: what a caller knows cannot happen. */
export function except(list: Problems, ...gone: readonly ErrorCode[]): Problems {
  return list.filter((c) => !gone.includes(c));
}

/** The codes of every part, each once, in the order first named. */
export function codes(...parts: readonly (ErrorCode | Problems)[]): Problems {
  return [...new Set(parts.flat())];
}

/** Any read or write of the store: a database locked or unavailable. */
export const STORE: Problems = ['store_busy'];

/** Input shape checked before queuing (ids, keys, times, text: src/ledger/validate.ts). */
export const INPUT: Problems = ['invalid_argument'];

/** A read or write that checks its input and reaches the store. */
export const BASE: Problems = codes(INPUT, STORE);

/** A write under an idempotency key: the same key with a different request. */
export const KEYED: Problems = ['idempotency_key_reused'];

/** A use-case that names an account (it is locked or read, and must exist). */
export const ACCOUNT: Problems = codes(BASE, 'unknown_account');

/** A use-case that reads the active catalog. */
export const CATALOG: Problems = ['not_initialized'];

/** Credits given as a whole number (src/core/credits.ts). */
export const CREDITS: Problems = ['invalid_credits'];

/** Items priced by the active catalog (src/core/quote.ts). */
export const PRICED: Problems = codes(CATALOG, INPUT, 'unknown_operation', 'invalid_parameter');

/**
 * A spend from an account (hold, charge, request batch): core/spend.ts planSpend's refusals in
 * their precedence, the team rules of an organization first (its member named, active, the
 * project known, team access, the plan's seats), then its hard budgets, then the credits.
 */
export const SPEND: Problems = codes(
  INPUT,
  'unknown_member',
  'unknown_project',
  'team_access_required',
  'seat_limit_reached',
  'budget_exceeded',
  'insufficient_credits',
  'overdraft_limit_reached',
);

/** An organization's own use-cases (members, projects, budgets): the account must be one. */
export const ORGANIZATION: Problems = codes(ACCOUNT, 'not_an_organization');
