import { AmisiError } from '../../core/errors.js';
import { planChange, type Subscription } from '../../core/subscriptions.js';
import * as subscriptions from './commands.js';
import * as upgrades from './upgrades.js';
import type { PlanUpgrade } from '../../core/upgrades.js';
import { accountOf } from '../reads.js';
import type { LedgerContext } from '../context.js';
import type { AccountsApi } from '../accounts/api.js';
import type { CatalogApi } from '../catalog/api.js';
import { requireId, requireKey, requireTime } from '../validate.js';
import { currentSubscription, dueSubscriptions } from '../reads.js';
import { ACCOUNT, BASE, CATALOG, codes, KEYED, STORE, type UseCaseProblems } from '../problems.js';

/** What a plan change would do now (Ledger.previewPlanChange). */
export interface PlanChangePreview {
  readonly accountId: string;
  readonly from: string;
  readonly plan: string;
  readonly change: 'upgrade' | 'downgrade' | 'unchanged';
  /** Upgrade: the prorated price difference due now (cents, half up). */
  readonly chargeCents: number;
  /** Upgrade: the prorated allocation difference granted now. */
  readonly credits: number;
  readonly currency: string;
  /** Now for an upgrade; the next renewal for a downgrade. */
  readonly effectiveAt: number;
}

/**
 * What a plan change can meet: no plan to change, an unknown plan, and for an organization a
 * plan with fewer seats than it has members.
 */
const CHANGE = codes(
  ACCOUNT,
  KEYED,
  CATALOG,
  'no_subscription',
  'invalid_parameter',
  'seat_limit_reached',
);

/** The problem codes of each use-case below (src/ledger/problems.ts). */
export const SUBSCRIPTIONS_PROBLEMS = {
  subscribe: codes(
    ACCOUNT,
    KEYED,
    CATALOG,
    'subscription_exists',
    'invalid_parameter',
    'seat_limit_reached',
  ),
  changePlan: CHANGE,
  cancelPlan: codes(ACCOUNT, KEYED, CATALOG, 'no_subscription'),
  previewPlanChange: codes(ACCOUNT, CATALOG, 'no_subscription', 'invalid_parameter'),
  getSubscription: codes(ACCOUNT, 'no_subscription'),
  findSubscription: STORE,
  requestUpgrade: codes(CHANGE, 'not_an_upgrade'),
  recordUpgradeCheckout: codes(BASE, 'unknown_upgrade'),
  confirmUpgrade: codes(BASE, KEYED, CATALOG, 'unknown_upgrade', 'no_subscription'),
  cancelUpgrade: codes(BASE, 'unknown_upgrade', 'upgrade_already_paid'),
  getUpgrade: codes(BASE, 'unknown_upgrade'),
  listUpgrades: ACCOUNT,
  upgradeByKey: STORE,
  renew: BASE,
} as const satisfies UseCaseProblems<SubscriptionsApi>;

/** Subscriptions: subscribe, change or cancel a plan, previews, renewals. */
export class SubscriptionsApi {
  constructor(
    private readonly ctx: LedgerContext,
    private readonly accounts: AccountsApi,
    private readonly catalog: CatalogApi,
  ) {}

  /** Subscribes the account to a plan; its cycle is anchored on the start (default now). */
  async subscribe(input: {
    accountId: string;
    key: string;
    plan: string;
    startsAt?: number;
    providerRef?: string;
  }) {
    const checked: subscriptions.SubscribeInput = {
      accountId: requireId(input.accountId, 'account'),
      key: requireKey(input.key),
      plan: requireId(input.plan, 'plan'),
      ...(input.startsAt === undefined ? {} : { startsAt: requireTime(input.startsAt, 'start') }),
      ...(input.providerRef === undefined ? {} : { providerRef: requireKey(input.providerRef) }),
    };
    return this.ctx.committer.submit((b) => subscriptions.subscribe(b, checked), {
      accountId: checked.accountId,
      key: checked.key,
    });
  }

  /** Upgrade (at once, prorated) or downgrade (at the next renewal) to `plan`. */
  async changePlan(input: { accountId: string; key: string; plan: string }) {
    return this.submitChange({ ...input, plan: requireId(input.plan, 'plan') });
  }

  /** Ends the plan at the end of the current cycle; purchased credits are not touched. */
  async cancelPlan(input: { accountId: string; key: string }) {
    return this.submitChange({ ...input, plan: null });
  }

  private async submitChange(input: { accountId: string; key: string; plan: string | null }) {
    const checked: subscriptions.ChangePlanInput = {
      accountId: requireId(input.accountId, 'account'),
      key: requireKey(input.key),
      plan: input.plan,
    };
    return this.ctx.committer.submit((b) => subscriptions.changePlan(b, checked), {
      accountId: checked.accountId,
      key: checked.key,
    });
  }

  /**
   * A customer's upgrade to `plan`, quoted now and pending until it is paid (the service asks
   * the payment provider for its checkout); nothing changes before the payment.
   */
  async requestUpgrade(input: { accountId: string; key: string; plan: string; provider: string }) {
    const checked: upgrades.RequestUpgradeInput = {
      accountId: requireId(input.accountId, 'account'),
      key: requireKey(input.key),
      plan: requireId(input.plan, 'plan'),
      provider: requireId(input.provider, 'provider'),
    };
    return this.ctx.committer.submit((b) => upgrades.requestUpgrade(b, checked), {
      accountId: checked.accountId,
      key: checked.key,
    });
  }

  async recordUpgradeCheckout(upgradeId: string, checkoutRef: string): Promise<PlanUpgrade> {
    const id = requireId(upgradeId, 'upgrade');
    return this.ctx.committer.submit(
      (b) => upgrades.recordUpgradeCheckout(b, id, checkoutRef),
      await this.upgradeHint(id),
    );
  }

  /** The upgrade's payment arrived: it takes effect exactly once (a redelivery is a replay). */
  async confirmUpgrade(input: { upgradeId: string; paymentRef: string; eventId?: string }) {
    const checked: upgrades.ConfirmUpgradeInput = {
      upgradeId: requireId(input.upgradeId, 'upgrade'),
      paymentRef: requireKey(input.paymentRef),
      ...(input.eventId === undefined ? {} : { eventId: requireKey(input.eventId) }),
    };
    return this.ctx.committer.submit(
      (b) => upgrades.confirmUpgrade(b, checked),
      await this.upgradeHint(checked.upgradeId),
    );
  }

  /** Cancels a pending upgrade (a paid one has taken effect: upgrade_already_paid). */
  async cancelUpgrade(upgradeId: string) {
    const id = requireId(upgradeId, 'upgrade');
    return this.ctx.committer.submit(
      (b) => upgrades.cancelUpgrade(b, id),
      await this.upgradeHint(id),
    );
  }

  async getUpgrade(upgradeId: string): Promise<PlanUpgrade> {
    const id = requireId(upgradeId, 'upgrade');
    const u = await this.ctx.store.get('plan_upgrades', { id });
    if (!u) throw new AmisiError('unknown_upgrade', `unknown upgrade "${id}"`, { upgradeId: id });
    return u;
  }

  /** The account's upgrades, newest first (unknown_account for an unknown account). */
  async listUpgrades(accountId: string): Promise<PlanUpgrade[]> {
    const account = await this.accounts.known(accountId);
    return this.ctx.store.find(
      'plan_upgrades',
      { accountId: account.id },
      { order: ['createdAt desc', 'id desc'] },
    );
  }

  /** The upgrade an idempotency key asked for on the account, if it asked for one. */
  async upgradeByKey(accountId: string, key: string): Promise<PlanUpgrade | null> {
    const seen = await this.ctx.store.get('idempotency', {
      accountId: requireId(accountId, 'account'),
      key: requireKey(key),
    });
    if (!seen) return null;
    return (
      (await this.ctx.store.get('plan_upgrades', { accountId, id: seen.transactionId })) ?? null
    );
  }

  private async upgradeHint(upgradeId: string): Promise<{ accountId?: string }> {
    const accountId = await accountOf(this.ctx.store, 'plan_upgrades', upgradeId);
    return accountId ? { accountId } : {};
  }

  /**
   * What changing to `plan` would do now, changing nothing: an upgrade's prorated price and
   * credits, or the renewal a downgrade waits for. A plan due for renewal is renewed first (the
   * read settles the account), so the figures are the current cycle's.
   */
  async previewPlanChange(accountId: string, planId: string): Promise<PlanChangePreview> {
    const sub = await this.getSubscription(requireId(accountId, 'account'));
    if (sub.status !== 'active') {
      throw new AmisiError('no_subscription', `account ${accountId} has no active plan`, {
        accountId,
      });
    }
    const { body } = await this.catalog.activeCatalog();
    const to = subscriptions.planIn(body, requireId(planId, 'plan'));
    const now = await this.ctx.times.nowFor(sub.accountId);
    const change = planChange(sub, subscriptions.planIn(body, sub.plan), to, now);
    const kind = change.kind === 'same' || planId === sub.plan ? 'unchanged' : change.kind;
    return {
      accountId,
      from: sub.plan,
      plan: planId,
      change: kind,
      chargeCents: change.chargeCents,
      credits: change.credits,
      currency: body.currency,
      effectiveAt: kind === 'downgrade' ? change.cycleEndsAt : now,
    };
  }

  /** The account's subscription as of now (a renewal due is applied first). */
  async getSubscription(accountId: string): Promise<Subscription> {
    await this.accounts.settle(accountId);
    const sub = await currentSubscription(this.ctx.store, accountId);
    if (!sub) {
      throw new AmisiError('no_subscription', `account ${accountId} has no plan`, { accountId });
    }
    return sub;
  }

  /** The account's subscription as stored, settling nothing (callers that settled already). */
  findSubscription(accountId: string): Promise<Subscription | undefined> {
    return currentSubscription(this.ctx.store, accountId);
  }

  /**
   * Renews every subscription due at or before `until` (default now), catching up missed
   * cycles in order. Renewal also runs lazily whenever an account is touched.
   */
  async renew(until?: number, onProgress?: (renewed: number) => void): Promise<number> {
    const now = this.ctx.clock.now();
    const bound = until === undefined ? now : requireTime(until, 'until');
    if (bound > now) {
      throw new AmisiError('invalid_argument', 'renewals cannot run ahead of the clock', {
        field: 'until',
        value: bound,
      });
    }
    return this.accounts.maintainAll(
      () => dueSubscriptions(this.ctx.store, bound, 1000),
      onProgress,
    );
  }
}
