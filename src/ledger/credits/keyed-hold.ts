import type { Hold } from '../../core/holds.js';
import { BASE, type Problems } from '../problems.js';
import { journalTransaction } from '../reads.js';
import type { Reader } from '../store.js';
import { requireId, requireKey } from '../validate.js';

/**
 * The hold an idempotency key made, found by the key alone: a caller that names its holds by
 * its own ids (Autumn's lock_id, through the compatibility routes in http/routes/autumn.ts)
 * finds the hold again without keeping Amisi's hold id. The key's record points at the journal
 * transaction it produced, which names its hold. Two indexed reads, no write.
 *
 * A key is remembered for the idempotency retention (at least 24 hours); a caller that needs
 * the hold longer keeps its hold id.
 */
export const KEYED_HOLD_PROBLEMS = { findHoldByKey: BASE } as const satisfies Record<
  string,
  Problems
>;

/** The hold made under (account, key) by a hold or a check with hold, or undefined. */
export async function findHoldByKey(
  r: Reader,
  accountId: string,
  key: string,
): Promise<Hold | undefined> {
  const checked = { accountId: requireId(accountId, 'account'), key: requireKey(key) };
  const record = await r.get('idempotency', checked);
  if (!record) return undefined;
  const t = await journalTransaction(r, checked.accountId, record.transactionId);
  if (t?.kind !== 'hold' || t.holdId === null) return undefined;
  return r.get('holds', { accountId: checked.accountId, id: t.holdId });
}
