/**
 * When to send a request again, and how long to wait first. Retrying is safe because every
 * write carries one Idempotency-Key for all its attempts: a retry of a call the server already
 * applied answers the original result and changes nothing.
 */

export const DEFAULT_RETRIES = 2;
/** Retries beyond this are refused: a stuck call should fail, not hang for minutes. */
export const MAX_RETRIES = 10;
export const BASE_DELAY_MS = 200;
export const MAX_BACKOFF_MS = 5_000;
/** A Retry-After longer than this is not waited out: the call fails and the caller decides. */
export const MAX_RETRY_AFTER_MS = 60_000;

/** Statuses that, without a problem body, mean "not now" from a proxy or a closing server. */
const TRANSIENT_STATUSES = new Set([429, 502, 503, 504]);

export function isTransientStatus(status: number): boolean {
  return TRANSIENT_STATUSES.has(status);
}

/**
 * Exponential backoff with "equal jitter": half the step is fixed, half random, so clients
 * that failed together do not all come back together.
 */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const step = Math.min(MAX_BACKOFF_MS, BASE_DELAY_MS * 2 ** attempt);
  return Math.floor(step / 2 + random() * (step / 2));
}

/** Retry-After as delta-seconds or an HTTP date, in ms from now; null when absent or unreadable. */
export function parseRetryAfter(header: string | null, nowMs: number = Date.now()): number | null {
  if (header === null) return null;
  const text = header.trim();
  if (/^[0-9]{1,9}$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

/** The wait before the next attempt: the backoff, but never sooner than the server asked. */
export function delayBeforeRetry(attempt: number, retryAfterMs: number | null): number {
  return Math.max(backoffMs(attempt), retryAfterMs ?? 0);
}

/** Resolves after ms, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
