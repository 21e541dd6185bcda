import type { TrialMoment } from '../../core/catalog.js';
import { activeCatalog } from '../reads.js';
import type { UnitOfWork } from '../unit-of-work.js';

const DAY = 86_400_000;

/**
 * The catalog's trial credits (`trial` in the catalog): one grant of source `trial` per account,
 * ever, at the moment the catalog names (the account's creation, or its first subscription),
 * expiring `expiresAfterDays` later. An account that has had a trial grant, by the catalog or
 * by an operator, gets none. No catalog loaded, or no trial in it: nothing. Journaled as a
 * grant without a key of its own: it is part of the command that creates or subscribes.
 */
export async function giveTrial(
  uow: UnitOfWork,
  accountId: string,
  moment: TrialMoment,
): Promise<void> {
  const catalog = await activeCatalog(uow.read);
  const trial = catalog?.body.trial;
  if (!catalog || !trial || trial.at !== moment) return;
  const state = await uow.account(accountId);
  if ([...state.grants.values()].some((g) => g.source === 'trial')) return;
  if ((await uow.read.count('grants', { accountId, source: 'trial' })) > 0) return;
  const g = uow.newGrant(
    accountId,
    'trial',
    trial.credits,
    uow.now,
    uow.now + trial.expiresAfterDays * DAY,
  );
  const entries = await uow.issueGrant(state, g);
  await uow.append(accountId, {
    kind: 'grant',
    grantId: g.id,
    detail: { source: 'trial', reason: `trial credits of catalog ${catalog.version}` },
    entries,
  });
}
