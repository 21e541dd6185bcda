import { hash } from 'node:crypto';
import { canonicalJson } from '../core/canonical-json.js';
import { AmisiError } from '../core/errors.js';
import type { JournalTransaction } from '../core/journal.js';
import type { UnitOfWork } from './unit-of-work.js';

/**
 * Idempotency of commands: a key remembers its request's fingerprint and what the first run
 * produced; a replay answers the first answer, a different request under the key is refused.
 */

export type Replayable<T> = T & { readonly replay: boolean };

/** 128 bits of SHA-256: collisions between two requests under one key are out of reach. */
function fingerprint(text: string): string {
  return hash('sha256', text, 'base64url').slice(0, 22);
}

/**
 * The fingerprint of a request: over its canonical JSON (keys sorted at every depth), so two
 * requests with the same content fingerprint equally whatever order their keys were built in.
 */
export function requestHash(request: unknown): string {
  return fingerprint(canonicalJson(request));
}

/**
 * The fingerprint keys were stored with before it was canonical: JSON in the request's own key
 * order ("op" first). Replays of those keys, within their retention, compare against it too
 * (docs/adr/0013-journal-detail-and-fingerprint.md).
 */
export function legacyRequestHash(request: unknown): string {
  return fingerprint(JSON.stringify(request));
}

/**
 * Whether a stored fingerprint is this request's, in either form. Accepting the legacy form
 * never takes another request for this one: its text equals this request's canonical text only
 * when both hold the same content.
 */
export function sameRequest(stored: string, request: unknown, canonical: string): boolean {
  return stored === canonical || stored === legacyRequestHash(request);
}

/**
 * Runs `run` once per (account, key). The key remembers only the request's fingerprint and the
 * journal transaction it produced; a replay rebuilds the original result from that transaction
 * (`rebuild`), so idempotency costs one small row per write.
 */
export async function once<T extends { readonly transactionId: string }>(
  uow: UnitOfWork,
  accountId: string,
  key: string,
  request: unknown,
  run: () => Promise<T>,
  rebuild: (t: JournalTransaction) => Promise<T>,
): Promise<Replayable<T>> {
  return onceRef(
    uow,
    accountId,
    key,
    request,
    async () => {
      const result = await run();
      return { result, ref: result.transactionId };
    },
    async (ref) => rebuild(await uow.transaction(accountId, ref)),
  );
}

/**
 * The general form of `once`: the key remembers `ref` (a journal transaction id, or the id
 * of the row the write created, e.g. a purchase) and a replay rebuilds the result from it.
 */
export async function onceRef<T>(
  uow: UnitOfWork,
  accountId: string,
  key: string,
  request: unknown,
  run: () => Promise<{ result: T; ref: string }>,
  rebuild: (ref: string) => Promise<T>,
): Promise<Replayable<T>> {
  const hash = requestHash(request);
  const seen = await uow.getIdempotency(accountId, key);
  if (seen) {
    if (!sameRequest(seen.requestHash, request, hash)) {
      throw new AmisiError(
        'idempotency_key_reused',
        `key "${key}" was used for a different request on account ${accountId}`,
        { key, accountId },
      );
    }
    return { ...(await rebuild(seen.transactionId)), replay: true };
  }
  const { result, ref } = await run();
  uow.putIdempotency(accountId, key, hash, ref);
  return { ...result, replay: false };
}
