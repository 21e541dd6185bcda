import { errorTable, type ErrorCode } from '../../core/errors.js';
import { codes, type Problems } from '../../ledger/problems.js';
import { Problem, ref } from './common.js';

/** Who may call a route: anyone, an account key (for its own account) or an operator key. */
export type Access = 'public' | 'account' | 'operator';

/**
 * Codes the HTTP layer adds to every route, whatever its use-case (src/http/errors.ts): a bug
 * (`internal`), the rate limit, a request that fails its schema or is not valid HTTP
 * (`invalid_argument`), an id too long for the router, headers too large, a request not
 * received in time, a request that arrives while the server shuts down.
 */
export const EDGE_PROBLEMS: Problems = [
  'internal',
  'rate_limited',
  'invalid_argument',
  'uri_too_long',
  'header_too_large',
  'request_timeout',
  'shutting_down',
];

/** A route with a body: too large, or not JSON. */
export const BODY_PROBLEMS: Problems = ['payload_too_large', 'unsupported_media_type'];

/**
 * A route behind an API key: none or a bad one, the key's lookup in the store, and a key that
 * may not do this (a read-only key writing, a member's role, an account key on an operator
 * route).
 */
export const AUTH_PROBLEMS: Problems = ['unauthorized', 'store_busy', 'forbidden'];

/** The HTTP layer's codes for a route of this access, with a body (write) or not. */
export function httpProblems(access: Access, write: boolean): Problems {
  return codes(EDGE_PROBLEMS, write ? BODY_PROBLEMS : [], access === 'public' ? [] : AUTH_PROBLEMS);
}

/** Every code a route declares: the HTTP layer's and those of the use-cases it calls. */
export function routeProblems(
  access: Access,
  write: boolean,
  ...useCases: readonly (ErrorCode | Problems)[]
): Problems {
  return codes(httpProblems(access, write), ...useCases);
}

/**
 * The problem+json responses of a route, one per HTTP status (from the error table), each
 * naming the codes it may carry in its description ("Problem: a, b"). The codes are the HTTP layer's for the route's access and those the
 * use-cases it calls declare (src/ledger/<domain>/api.ts, src/service/*): never written here
 * by hand.
 */
export function problems(
  access: Access,
  write: boolean,
  ...useCases: readonly (ErrorCode | Problems)[]
) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of routeProblems(access, write, ...useCases)) {
    const status = errorTable[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const out: Record<number, ProblemResponse> = {};
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    out[status] = {
      description: `Problem: ${list.join(', ')}`,
      content: { 'application/problem+json': { schema: ref(Problem) } },
    };
  }
  return out;
}

interface ProblemResponse {
  readonly description: string;
  readonly content: {
    readonly 'application/problem+json': {
      readonly schema: ReturnType<typeof ref<typeof Problem>>;
    };
  };
}
