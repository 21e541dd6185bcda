import { isExpired, isOverdraftDraw, type Draw, type Grant } from '../../core/grants.js';
import { heldNow, type Hold } from '../../core/holds.js';
import type { Entry } from '../../core/journal.js';
import { countSpend } from '../teams/budgets.js';
import type { AccountState, UnitOfWork } from '../unit-of-work.js';

/**
 * Lazy expiry: holds past their ttl and grants past their expiry, settled on an account's first
 * access in a unit of work (subscriptions/renewal.ts settleDue orders them around renewals).
 * Each is dated when it was due; both are idempotent, since a settled grant has nothing left
 * and a settled hold is no longer held.
 */

/**
 * Returns held credits to their grants; a grant that has expired meanwhile passes them
 * straight on to breakage (the reservation outlived the grant, the credits do not). What was
 * reserved past zero goes back to the overdraft.
 */
export async function returnDraws(
  uow: UnitOfWork,
  state: AccountState,
  holdId: string,
  returned: readonly Draw[],
  at: number = uow.now,
): Promise<Entry[]> {
  const entries: Entry[] = [];
  for (const d of returned) {
    if (isOverdraftDraw(d)) {
      // Reserved past zero: back to the overdraft, nothing owed.
      entries.push({ book: 'held', grantId: null, holdId, credits: -d.credits });
      entries.push({ book: 'overdraft', grantId: null, holdId, credits: d.credits });
      uow.changeOverdraft(state, { held: -d.credits });
      continue;
    }
    const grant = await uow.grant(state, d.grantId);
    entries.push({ book: 'held', grantId: d.grantId, holdId, credits: -d.credits });
    if (isExpired(grant, at)) {
      entries.push({ book: 'breakage', grantId: d.grantId, holdId, credits: d.credits });
    } else {
      entries.push({ book: 'grant', grantId: d.grantId, holdId, credits: d.credits });
      await uow.setRemaining(state, grant, grant.remaining + d.credits);
    }
  }
  return entries;
}

/**
 * The hold's ttl ended: what it still reserves goes back as it would have then (dated then);
 * what it captured in parts stays captured.
 */
export async function expireHold(uow: UnitOfWork, state: AccountState, hold: Hold): Promise<void> {
  const at = Math.min(hold.expiresAt, uow.now);
  const held = heldNow(hold);
  const entries = await returnDraws(uow, state, hold.id, hold.draws, at);
  await uow.append(state.account.id, {
    kind: 'hold_expiry',
    at,
    holdId: hold.id,
    catalogVersion: hold.catalogVersion,
    detail: { credits: held, reason: 'ttl passed', attribution: hold.attribution },
    entries,
  });
  await uow.resolveHold(hold, 'expired', hold.capturedCredits, at);
  await countSpend(uow, state, hold.attribution, { held: -held, used: 0 });
}

/** Moves what remains of grants expired at `at` to breakage (all but those `keep` names). */
export async function expireGrants(
  uow: UnitOfWork,
  state: AccountState,
  at: number,
  keep: (g: Grant) => boolean,
): Promise<void> {
  const due = [...state.grants.values()]
    .filter((g) => g.remaining > 0 && isExpired(g, at) && !keep(g))
    .sort((a, b) => (a.expiresAt ?? 0) - (b.expiresAt ?? 0) || (a.id < b.id ? -1 : 1));
  for (const grant of due) {
    await uow.append(state.account.id, {
      kind: 'grant_expiry',
      // Dated at its expiry (a boundary's for an old allocation or rollover), never before
      // the grant was made.
      at: Math.max(grant.createdAt, Math.min(grant.expiresAt ?? at, at)),
      grantId: grant.id,
      detail: { credits: grant.remaining, source: grant.source },
      entries: [
        { book: 'grant', grantId: grant.id, holdId: null, credits: -grant.remaining },
        { book: 'breakage', grantId: grant.id, holdId: null, credits: grant.remaining },
      ],
    });
    await uow.setRemaining(state, grant, 0);
  }
}
