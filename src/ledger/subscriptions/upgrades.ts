import { AmisiError, assert } from '../../core/errors.js';
import { planChange } from '../../core/subscriptions.js';
import { pendingUpgrade, type PlanUpgrade } from '../../core/upgrades.js';
import type { AccountState, UnitOfWork } from '../unit-of-work.js';
import { onceRef, type Replayable } from '../idempotency.js';
import { accountOf } from '../reads.js';
import {
  activeOrRefuse,
  fromTransaction,
  planOf,
  refuseFewerSeats,
  upgrade as applyUpgrade,
  type SubscriptionResult,
} from './commands.js';

/**
 * Upgrades a customer pays for (core/upgrades.ts): asked for (quoted, pending), then paid
 * (applied exactly once: the plan changes and the quoted credits are granted) or cancelled.
 * The payment provider's checkout is made between commits by the purchase service.
 */

export interface UpgradeResult {
  readonly upgrade: PlanUpgrade;
}

export interface PaidUpgradeResult extends UpgradeResult {
  /** The plan change that applied it (the subscription as it left it), once paid. */
  readonly change: SubscriptionResult | null;
}

async function upgradeIn(
  uow: UnitOfWork,
  upgradeId: string,
): Promise<{ state: AccountState; upgrade: PlanUpgrade }> {
  const accountId = await accountOf(uow.read, 'plan_upgrades', upgradeId);
  if (!accountId) {
    throw new AmisiError('unknown_upgrade', `unknown upgrade "${upgradeId}"`, { upgradeId });
  }
  const state = await uow.account(accountId);
  const upgrade = await uow.read.get('plan_upgrades', { accountId, id: upgradeId });
  assert(upgrade, `upgrade ${upgradeId} exists in its account`);
  return { state, upgrade };
}

export interface RequestUpgradeInput {
  readonly accountId: string;
  readonly key: string;
  readonly plan: string;
  readonly provider: string;
}

/**
 * A pending upgrade to `plan`, quoted now (the prorated price and credits of the rest of the
 * cycle). Only a dearer plan with something to pay is an upgrade to ask for; anything else is
 * not_an_upgrade (it needs no payment: change to it directly). Asking again replaces the
 * account's earlier pending upgrades (they are cancelled; a payment that still arrives for one
 * applies it all the same).
 */
export async function requestUpgrade(
  uow: UnitOfWork,
  input: RequestUpgradeInput,
): Promise<Replayable<UpgradeResult>> {
  const state = await uow.account(input.accountId);
  const { key, ...request } = input;
  return onceRef(
    uow,
    input.accountId,
    key,
    { op: 'request_upgrade', ...request },
    async () => {
      const sub = activeOrRefuse(state);
      const current = await planOf(uow, sub.plan);
      const target = await planOf(uow, input.plan);
      const change = planChange(sub, current.plan, target.plan, uow.now);
      if (change.kind !== 'upgrade' || input.plan === sub.plan || change.chargeCents === 0) {
        throw new AmisiError(
          'not_an_upgrade',
          `plan "${input.plan}" costs nothing more than "${sub.plan}" for the rest of this cycle: change to it directly`,
          { accountId: input.accountId, from: sub.plan, plan: input.plan, change: change.kind },
        );
      }
      if (state.account.kind === 'organization') {
        await refuseFewerSeats(uow, state, input.plan, target.plan);
      }
      for (const earlier of await uow.read.find('plan_upgrades', {
        accountId: input.accountId,
        status: 'pending',
      })) {
        await uow.updateUpgrade({ ...earlier, status: 'cancelled', cancelledAt: uow.now });
      }
      const upgrade = pendingUpgrade({
        id: uow.newId('upg'),
        sub,
        plan: input.plan,
        change,
        currency: current.currency,
        provider: input.provider,
        now: uow.now,
      });
      await uow.insertUpgrade(upgrade);
      return { result: { upgrade }, ref: upgrade.id };
    },
    async (ref) => {
      const upgrade = await uow.read.get('plan_upgrades', { accountId: input.accountId, id: ref });
      assert(upgrade, `upgrade ${ref} exists`);
      return { upgrade };
    },
  );
}

/** Remembers the provider's checkout id (idempotent: the first one stays). */
export async function recordUpgradeCheckout(
  uow: UnitOfWork,
  upgradeId: string,
  checkoutRef: string,
): Promise<PlanUpgrade> {
  const { upgrade } = await upgradeIn(uow, upgradeId);
  if (upgrade.checkoutRef !== null) return upgrade;
  const updated = { ...upgrade, checkoutRef };
  await uow.updateUpgrade(updated);
  return updated;
}

export interface ConfirmUpgradeInput {
  readonly upgradeId: string;
  readonly paymentRef: string;
  /** The provider's event id: a redelivered event changes nothing. */
  readonly eventId?: string;
}

/**
 * The payment arrived: the upgrade takes effect, exactly once. The quoted credits are granted
 * (they expire at the end of the current cycle) and the plan becomes the upgrade's if the
 * account is still on the plan it was quoted from (a plan changed meanwhile is left as it is:
 * the credits paid for are granted all the same). A queued downgrade or cancellation is undone,
 * as by any upgrade. A cancelled upgrade that is paid anyway is applied: money paid buys what it
 * was paid for. An account without an active plan any more is no_subscription (the operator
 * refunds the payment).
 */
export async function confirmUpgrade(
  uow: UnitOfWork,
  input: ConfirmUpgradeInput,
): Promise<Replayable<PaidUpgradeResult>> {
  const { state, upgrade } = await upgradeIn(uow, input.upgradeId);
  const replay = async (): Promise<Replayable<PaidUpgradeResult>> => ({
    upgrade,
    change:
      upgrade.transactionId === null
        ? null
        : fromTransaction(await uow.transaction(state.account.id, upgrade.transactionId)),
    replay: true,
  });
  if (upgrade.status === 'paid') return replay();
  if (
    input.eventId !== undefined &&
    !(await uow.markPaymentEvent(state.account.id, input.eventId))
  ) {
    return replay();
  }
  const sub = activeOrRefuse(state);
  const change = await applyUpgrade(uow, state, {
    key: `upgrade:${upgrade.id}`,
    plan: sub.plan === upgrade.fromPlan ? upgrade.plan : sub.plan,
    sub,
    change: {
      credits: upgrade.credits,
      chargeCents: upgrade.priceCents,
      cycleEndsAt: sub.nextRenewalAt,
    },
    currency: upgrade.currency,
  });
  const paid: PlanUpgrade = {
    ...upgrade,
    status: 'paid',
    paymentRef: input.paymentRef,
    transactionId: change.transactionId,
    paidAt: uow.now,
  };
  await uow.updateUpgrade(paid);
  return { upgrade: paid, change, replay: false };
}

/**
 * The customer no longer wants it: a pending upgrade is cancelled (again: the same answer). A
 * paid one has taken effect: upgrade_already_paid.
 */
export async function cancelUpgrade(
  uow: UnitOfWork,
  upgradeId: string,
): Promise<Replayable<UpgradeResult>> {
  const { upgrade } = await upgradeIn(uow, upgradeId);
  if (upgrade.status === 'cancelled') return { upgrade, replay: true };
  if (upgrade.status === 'paid') {
    throw new AmisiError(
      'upgrade_already_paid',
      `upgrade ${upgradeId} is paid and has taken effect: change the plan again to undo it`,
      { upgradeId, transactionId: upgrade.transactionId },
    );
  }
  const cancelled: PlanUpgrade = { ...upgrade, status: 'cancelled', cancelledAt: uow.now };
  await uow.updateUpgrade(cancelled);
  return { upgrade: cancelled, replay: false };
}
