import { own } from '../../core/catalog.js';
import { decideAutoTopup, sameAutoTopup, type AutoTopup } from '../../core/autotopup.js';
import { pendingPurchase, purchaseLines, type Purchase } from '../../core/purchases.js';
import type { WriteTx } from '../store.js';
import type { UnitOfWork } from '../unit-of-work.js';

/** Auto top-up rules set or changed in a unit of work, by account, written at its flush. */
export class AutoTopupBuffer {
  private readonly dirty = new Map<string, AutoTopup>();

  set(accountId: string, rule: AutoTopup): void {
    this.dirty.set(accountId, rule);
  }

  delete(accountId: string): void {
    this.dirty.delete(accountId);
  }

  async flush(tx: WriteTx): Promise<void> {
    if (this.dirty.size > 0) await tx.insert('autotopups', [...this.dirty.values()], 'replace');
  }
}

/**
 * The last step of every commit group, after its commands: each account the unit of work
 * loaded is checked once against its balance as the unit leaves it: balance.low when it crossed
 * the low-balance threshold (the rule's, or the committer's), and an auto top-up when its rule
 * says so. The account is locked, so however many charges of a burst share this unit or the
 * next ones, one crossing of the threshold creates one pending purchase (core/autotopup.ts).
 */
export async function settleAutoTopups(uow: UnitOfWork): Promise<Purchase[]> {
  const fired: Purchase[] = [];
  for (const state of uow.loadedAccounts()) {
    const rule = state.autoTopup;
    const available = uow.available(state);
    const low = rule?.thresholdCredits ?? uow.lowBalanceCredits;
    if (state.availableAtLoad >= low && available < low) {
      await uow.outbox.emit(state.account.id, 'balance.low', { available, threshold: low });
    }
    if (!rule) continue;
    const decision = decideAutoTopup(rule, available, uow.now);
    let next = decision.next;
    if (decision.fire) {
      const catalog = await uow.activeCatalog();
      const pack = own(catalog.body.packs, rule.pack);
      if (pack) {
        const purchase = pendingPurchase({
          accountId: state.account.id,
          id: uow.newId('pur'),
          lines: purchaseLines([{ pack: rule.pack, count: 1 }], () => pack),
          currency: catalog.body.currency,
          provider: rule.provider,
          origin: 'autotopup',
          now: uow.now,
        });
        await uow.insertPurchase(purchase);
        fired.push(purchase);
      } else {
        // The catalog no longer sells the pack: keep the rule armed, buy nothing.
        next = rule;
      }
    }
    if (!sameAutoTopup(rule, next)) {
      uow.autoTopups.set(state.account.id, next);
      state.autoTopup = next;
    }
  }
  return fired;
}
