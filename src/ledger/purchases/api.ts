import { accountOf } from '../reads.js';
import { AmisiError } from '../../core/errors.js';
import { AUTO_TOPUP_PERIODS, type AutoTopup, type AutoTopupPeriod } from '../../core/autotopup.js';
import { requireCredits } from '../../core/credits.js';
import { MAX_PACKS_PER_LINE, MAX_PURCHASE_LINES, type Purchase } from '../../core/purchases.js';
import * as purchases from './commands.js';
import type { LedgerContext } from '../context.js';
import type { AccountsApi } from '../accounts/api.js';
import { requireId, requireKey } from '../validate.js';
import {
  ACCOUNT,
  BASE,
  CATALOG,
  codes,
  CREDITS,
  KEYED,
  STORE,
  type UseCaseProblems,
} from '../problems.js';

/** The problem codes of each use-case below (src/ledger/problems.ts). */
export const PURCHASES_PROBLEMS = {
  createPurchase: codes(ACCOUNT, KEYED, CATALOG, 'unknown_pack'),
  cancelPurchase: codes(BASE, 'unknown_purchase', 'purchase_not_pending'),
  setAutoTopup: codes(ACCOUNT, CATALOG, CREDITS, 'unknown_pack'),
  clearAutoTopup: ACCOUNT,
  getAutoTopup: ACCOUNT,
  autoTopupsAwaitingCheckout: STORE,
  recordCheckout: codes(BASE, 'unknown_purchase'),
  confirmPayment: codes(BASE, CATALOG, 'unknown_purchase'),
  reclaimForRefund: codes(BASE, KEYED, 'unknown_purchase', 'purchase_not_refundable'),
  applyPaidInvoice: codes(ACCOUNT, CATALOG),
  markRefunded: codes(BASE, 'unknown_purchase'),
  getPurchase: codes(BASE, 'unknown_purchase'),
  listPurchases: ACCOUNT,
} as const satisfies UseCaseProblems<PurchasesApi>;

/** Purchases of packs, their payment and refund, paid invoices, and auto top-up rules. */
export class PurchasesApi {
  constructor(
    private readonly ctx: LedgerContext,
    private readonly accounts: AccountsApi,
  ) {}

  /**
   * A pending purchase of a pack, or of several packs in one payment (`packs`: one line per
   * pack); the service then asks the payment provider for a checkout.
   */
  async createPurchase(input: {
    accountId: string;
    key: string;
    pack?: string;
    packs?: readonly { pack: string; count: number }[];
    provider: string;
  }) {
    const checked: purchases.CreatePurchaseInput = {
      accountId: requireId(input.accountId, 'account'),
      key: requireKey(input.key),
      packs: requirePacks(input.pack, input.packs),
      provider: requireId(input.provider, 'provider'),
    };
    return this.ctx.committer.submit((b) => purchases.createPurchase(b, checked), {
      accountId: checked.accountId,
      key: checked.key,
    });
  }

  /** Sets the account's auto top-up rule (see core/autotopup.ts); `provider` pays for it. */
  async setAutoTopup(input: {
    accountId: string;
    pack: string;
    thresholdCredits: number;
    maxPerPeriod: number;
    period?: string;
    provider: string;
  }) {
    // The period and the maximum are checked first, as they always were (the first problem
    // named is the same).
    const period = requirePeriod(input.period ?? 'month');
    const maxPerPeriod = requireMaxPerPeriod(input.maxPerPeriod);
    const checked: purchases.AutoTopupInput = {
      accountId: requireId(input.accountId, 'account'),
      pack: requireId(input.pack, 'pack'),
      thresholdCredits: requireCredits(input.thresholdCredits, 'threshold'),
      maxPerPeriod,
      period,
      provider: requireId(input.provider, 'provider'),
    };
    const set = await this.ctx.committer.submit((b) => purchases.setAutoTopup(b, checked), {
      accountId: checked.accountId,
    });
    // The rule as its batch left it: already fired (below the threshold) or re-armed.
    return (await this.ctx.store.get('autotopups', { accountId: checked.accountId })) ?? set;
  }

  async clearAutoTopup(accountId: string): Promise<boolean> {
    const id = requireId(accountId, 'account');
    return this.ctx.committer.submit((b) => purchases.clearAutoTopup(b, id), { accountId: id });
  }

  async getAutoTopup(accountId: string): Promise<AutoTopup | null> {
    await this.accounts.settle(accountId);
    return (await this.ctx.store.get('autotopups', { accountId: accountId })) ?? null;
  }

  /** Auto top-up purchases still waiting for their checkout (the purchase service's job). */
  autoTopupsAwaitingCheckout(limit: number): Promise<Purchase[]> {
    return this.ctx.store.find(
      'purchases',
      { origin: 'autotopup', status: 'pending', checkoutRef: null },
      { order: ['createdAt', 'id'], limit: limit },
    );
  }

  /** Cancels a pending purchase (again: a replay); no credits move. */
  async cancelPurchase(purchaseId: string) {
    const id = requireId(purchaseId, 'purchase');
    return this.ctx.committer.submit((b) => purchases.cancelPurchase(b, id), this.purchaseHint(id));
  }

  async recordCheckout(purchaseId: string, checkoutRef: string) {
    const id = requireId(purchaseId, 'purchase');
    return this.ctx.committer.submit(
      (b) => purchases.recordCheckout(b, id, checkoutRef),
      this.purchaseHint(id),
    );
  }

  /** The payment arrived: grants the pack's credits exactly once (a redelivery is a replay). */
  async confirmPayment(input: { purchaseId: string; paymentRef: string; eventId?: string }) {
    const checked: purchases.ConfirmInput = {
      purchaseId: requireId(input.purchaseId, 'purchase'),
      paymentRef: requireKey(input.paymentRef),
      ...(input.eventId === undefined ? {} : { eventId: requireKey(input.eventId) }),
    };
    return this.ctx.committer.submit(
      (b) => purchases.confirmPayment(b, checked),
      this.purchaseHint(checked.purchaseId),
    );
  }

  /** Reclaims a purchase's unspent credits for a refund (proportional money unless `full`). */
  async reclaimForRefund(input: {
    purchaseId: string;
    key: string;
    full?: boolean;
    providerCents?: number;
  }) {
    const checked: purchases.RefundInput = {
      purchaseId: requireId(input.purchaseId, 'purchase'),
      key: requireKey(input.key),
      full: input.full === true,
      ...(input.providerCents === undefined
        ? {}
        : { providerCents: requireCents(input.providerCents) }),
    };
    return this.ctx.committer.submit((b) => purchases.reclaimForRefund(b, checked), {
      ...(await this.purchaseHint(checked.purchaseId)),
      key: checked.key,
    });
  }

  /** A paid subscription invoice: recorded once per provider event (renewal is on our clock). */
  async applyPaidInvoice(input: { accountId: string; eventId: string }) {
    const checked = {
      accountId: requireId(input.accountId, 'account'),
      eventId: requireKey(input.eventId),
    };
    return this.ctx.committer.submit((b) => purchases.applyPaidInvoice(b, checked), {
      accountId: checked.accountId,
    });
  }

  async markRefunded(purchaseId: string, refundRef: string) {
    const id = requireId(purchaseId, 'purchase');
    return this.ctx.committer.submit(
      (b) => purchases.markRefunded(b, id, refundRef),
      this.purchaseHint(id),
    );
  }

  async getPurchase(purchaseId: string): Promise<Purchase> {
    const p = await this.ctx.store.get('purchases', { id: requireId(purchaseId, 'purchase') });
    if (!p)
      throw new AmisiError('unknown_purchase', `unknown purchase "${purchaseId}"`, { purchaseId });
    return p;
  }

  /** The account's purchases, newest first (unknown_account for an unknown account). */
  async listPurchases(accountId: string): Promise<Purchase[]> {
    const account = await this.accounts.known(accountId);
    return this.ctx.store.find(
      'purchases',
      { accountId: account.id },
      { order: ['createdAt desc', 'id desc'] },
    );
  }

  private purchaseHint(purchaseId: string): Promise<{ accountId?: string }> {
    return accountOf(this.ctx.store, 'purchases', purchaseId).then((accountId) =>
      accountId ? { accountId } : {},
    );
  }
}

/**
 * What a purchase buys: `pack` (one of it) or `packs` (distinct packs, each 1 to
 * MAX_PACKS_PER_LINE times, at most MAX_PURCHASE_LINES lines), never both.
 */
function requirePacks(
  pack: string | undefined,
  packs: readonly { pack: string; count: number }[] | undefined,
): { pack: string; count: number }[] {
  const bad = (message: string, data: Record<string, unknown>) =>
    new AmisiError('invalid_argument', message, { field: 'packs', ...data });
  if ((pack === undefined) === (packs === undefined)) {
    throw bad('name either a pack or packs (one line per pack), not both', {});
  }
  if (pack !== undefined) return [{ pack: requireId(pack, 'pack'), count: 1 }];
  const lines = packs ?? [];
  if (lines.length < 1 || lines.length > MAX_PURCHASE_LINES) {
    throw bad(`packs has 1 to ${MAX_PURCHASE_LINES} lines`, { lines: lines.length });
  }
  const seen = new Set<string>();
  return lines.map((l) => {
    const id = requireId(l.pack, 'pack');
    if (seen.has(id)) throw bad(`pack "${id}" is named on two lines`, { pack: id });
    seen.add(id);
    if (!Number.isSafeInteger(l.count) || l.count < 1 || l.count > MAX_PACKS_PER_LINE) {
      throw bad(`count is a whole number from 1 to ${MAX_PACKS_PER_LINE}`, {
        pack: id,
        value: String(l.count),
      });
    }
    return { pack: id, count: l.count };
  });
}

function requirePeriod(period: string): AutoTopupPeriod {
  if (!(AUTO_TOPUP_PERIODS as readonly string[]).includes(period)) {
    throw new AmisiError(
      'invalid_argument',
      `period must be one of ${AUTO_TOPUP_PERIODS.join(', ')}`,
      { field: 'period', value: period, allowed: AUTO_TOPUP_PERIODS },
    );
  }
  return period as AutoTopupPeriod;
}

function requireMaxPerPeriod(max: number): number {
  if (!Number.isSafeInteger(max) || max < 1 || max > 1000) {
    throw new AmisiError(
      'invalid_argument',
      'max per period must be a whole number from 1 to 1000',
      { field: 'max', value: String(max) },
    );
  }
  return max;
}

function requireCents(value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new AmisiError('invalid_argument', 'cents must be a whole number from 0', {
      field: 'cents',
      value: String(value),
    });
  }
  return value;
}
