import { errorTable, type ErrorCode } from '../../core/errors.js';
import { Problem, ref } from './common.js';

/** Who may call a route: anyone, an account key (for its own account) or an operator key. */
export type Access = 'public' | 'account' | 'operator';

/** Codes every route of this kind can answer, whatever it does. */
function baseline(access: Access, write: boolean): ErrorCode[] {
  // The edge answers these before any route runs (src/http/errors.ts): a bad path, an id too
  // long for the router, headers too large, a request not received in time, shutting down.
  const codes: ErrorCode[] = [
    'internal',
    'rate_limited',
    'invalid_argument',
    'uri_too_long',
    'header_too_large',
    'request_timeout',
    'shutting_down',
  ];
  if (write) codes.push('payload_too_large', 'unsupported_media_type');
  if (access === 'public') return codes;
  codes.push('unauthorized', 'store_busy');
  // Account routes: a member key's role may not allow them, whatever the method.
  if (access === 'operator' || access === 'account' || write) codes.push('forbidden');
  return codes;
}

/**
 * The problem+json responses of a route, one per HTTP status, each naming the codes it may
 * carry. The route's own `codes` come from the use-case it calls; the rest from its access.
 */
export function problems(access: Access, write: boolean, codes: readonly ErrorCode[] = []) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set([...baseline(access, write), ...codes])) {
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
