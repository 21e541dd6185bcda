import { assert } from '../../core/errors.js';
import type { Grant } from '../../core/grants.js';
import type { Hold } from '../../core/holds.js';
import type { JournalTransaction } from '../../core/journal.js';
import { grantsNamed, holdNamed, RollupAccumulator } from '../../core/rollups.js';
import type { AccountState, UnitOfWork } from '../unit-of-work.js';

/** Journal transactions read per page by a rollup rebuild. */
const REBUILD_PAGE = 5000;

/**
 * Adds a journal transaction to the unit of work's rollups (docs/adr/0008-rollups.md). The
 * grants whose sources key its flows and a capture's hold (its quote lines) are in the unit
 * already, but for a grant a capture drew empty, which is read once.
 */
export async function rollUp(
  uow: UnitOfWork,
  state: AccountState,
  t: JournalTransaction,
): Promise<void> {
  for (const id of grantsNamed(t)) {
    if (!uow.knownGrant(state, id)) await uow.grant(state, id);
  }
  const holdId = holdNamed(t);
  if (holdId !== null) {
    const h = await uow.hold(t.accountId, holdId);
    assert(h, `hold ${holdId} of ${t.accountId} exists`);
  }
  uow.rollups.add(t, {
    grantSource: (id) => uow.knownGrant(state, id)!.source,
    holdLines: (id) => uow.cachedHold(id)?.quote?.lines ?? [],
  });
}

/** The grants and holds a page of journal names that the rebuild has not seen yet. */
async function loadNamed(
  uow: UnitOfWork,
  state: AccountState,
  page: readonly JournalTransaction[],
  sources: Map<string, Grant>,
  holds: Map<string, Hold>,
): Promise<void> {
  const accountId = state.account.id;
  const wanted = new Set<string>();
  for (const t of page) {
    for (const id of grantsNamed(t)) {
      if (sources.has(id)) continue;
      const g =
        uow.knownGrant(state, id) ??
        (await uow.read.get('grants', { accountId: accountId, id: id }));
      assert(g, `grant ${id} of ${accountId} exists`);
      sources.set(id, g);
    }
    const h = holdNamed(t);
    if (h !== null && !holds.has(h)) wanted.add(h);
  }
  if (wanted.size > 0) {
    const keys = [...wanted].map((id) => ({ accountId, id }));
    for (const h of await uow.read.getMany('holds', keys)) holds.set(h.id, h);
  }
}

/**
 * Rebuilds the account's rollups from its journal (delete, then insert), in this transaction:
 * under the account's lock, so no other commit adds to them meanwhile, and this unit's own
 * transactions, not in the journal yet, are added by the flush as usual. `onProgress` hears
 * how many journal transactions were read so far.
 */
export async function rebuildRollups(
  uow: UnitOfWork,
  state: AccountState,
  onProgress?: (transactions: number) => void,
): Promise<number> {
  const accountId = state.account.id;
  await uow.clearRollups(accountId);
  const sources = new Map<string, Grant>();
  const holds = new Map<string, Hold>();
  const rebuilt = new RollupAccumulator();
  let after: string | null = null;
  let read = 0;
  for (;;) {
    const page: JournalTransaction[] = await uow.read.journal(
      { accountId: accountId, id: { gt: after ?? '' } },
      { order: ['id'], limit: REBUILD_PAGE },
    );
    if (page.length === 0) break;
    await loadNamed(uow, state, page, sources, holds);
    for (const t of page) {
      rebuilt.add(t, {
        grantSource: (id) => sources.get(id)!.source,
        holdLines: (id) => {
          const h = holds.get(id);
          assert(h, `hold ${id} of ${accountId} exists`);
          return h.quote?.lines ?? [];
        },
      });
      // A hold resolves once: its lines are not needed again.
      if (t.kind === 'capture' && t.holdId !== null) holds.delete(t.holdId);
    }
    read += page.length;
    after = page[page.length - 1]!.id;
    onProgress?.(read);
  }
  await uow.addRollups([...rebuilt.usage.values()], [...rebuilt.flows.values()]);
  return read;
}
