import type { Command } from 'commander';
import { formatMoney } from '../../core/money.js';
import type { Subscription } from '../../core/subscriptions.js';
import type { SubscriptionResult } from '../../ledger/subscriptions/commands.js';
import { service } from './payments.js';
import { withLedger, type GlobalOptions } from '../context.js';
import { iso, pairs, table } from '../output.js';
import { AmisiError } from '../../core/errors.js';
import { parseTime } from '../parse.js';

type Globals = () => GlobalOptions;

function subscriptionPairs(s: Subscription): [string, string | number | null][] {
  return [
    ['account', s.accountId],
    ['subscription', s.id],
    ['plan', s.plan],
    ['status', s.status],
    ['cycle', s.cycleIndex],
    ['anchored on', iso(s.anchorAt)],
    ['next renewal', s.status === 'active' ? iso(s.nextRenewalAt) : null],
    ['downgrade to', s.pendingPlan],
    ['ends at', iso(s.cancelAt)],
  ];
}

function resultPairs(r: SubscriptionResult & { replay: boolean }): string {
  return pairs([
    ...subscriptionPairs(r.subscription),
    ['change', r.change],
    ['credits granted now', r.credits],
    ['charged now', r.chargeCents > 0 ? formatMoney(r.chargeCents, r.currency) : null],
    ['transaction', r.transactionId],
    ...(r.replay
      ? ([['replay', 'yes: the original result of this key']] as [string, string][])
      : []),
  ]);
}

export function registerPlans(program: Command, globals: Globals): void {
  program
    .command('subscribe <account> <plan>')
    .description("subscribe an account to a plan; each cycle grants the plan's allocation")
    .requiredOption('--key <key>', 'idempotency key')
    .option(
      '--start <iso>',
      'when the first cycle starts (default now; the anchor of every renewal)',
    )
    .action(async (account: string, plan: string, o: { key: string; start?: string }) => {
      const input = {
        accountId: account,
        key: o.key,
        plan,
        ...(o.start === undefined ? {} : { startsAt: parseTime(o.start, 'start') }),
      };
      await withLedger(globals(), async (ledger, out) => {
        const payments = service(ledger);
        if (o.start === undefined && payments.providerName !== 'manual') {
          // A provider that takes money: the plan starts when the checkout is paid.
          const r = await payments.subscribe(input);
          out.print(() => pairs([['checkout', r.checkoutUrl]]), r);
          return;
        }
        const r = await ledger.subscribe(input);
        out.print(() => resultPairs(r), r);
      });
    });

  const plan = program.command('plan').description("change or cancel an account's plan");
  plan
    .command('change <account> <plan>')
    .description('upgrade at once (prorated, half up) or downgrade at the next renewal')
    .requiredOption('--key <key>', 'idempotency key')
    .action(async (account: string, to: string, o: { key: string }) => {
      await withLedger(globals(), async (ledger, out) => {
        const r = await service(ledger).changePlan({ accountId: account, key: o.key, plan: to });
        out.print(() => resultPairs(r), r);
      });
    });
  plan
    .command('cancel <account>')
    .description('end the plan at the end of the current cycle (purchased credits stay)')
    .requiredOption('--key <key>', 'idempotency key')
    .action(async (account: string, o: { key: string }) => {
      await withLedger(globals(), async (ledger, out) => {
        const r = await service(ledger).changePlan({ accountId: account, key: o.key, plan: null });
        out.print(() => resultPairs(r), r);
      });
    });
  plan
    .command('upgrades <account>')
    .description("the account's upgrades asked for with its own key: pending, paid, cancelled")
    .action(async (account: string) => {
      await withLedger(globals(), async (ledger, out) => {
        const upgrades = await ledger.listUpgrades(account);
        out.print(
          () =>
            upgrades.length === 0
              ? 'no upgrades'
              : table(upgrades, [
                  { header: 'upgrade', value: (u) => u.id },
                  { header: 'from', value: (u) => u.fromPlan },
                  { header: 'to', value: (u) => u.plan },
                  { header: 'credits', value: (u) => u.credits },
                  { header: 'price', value: (u) => formatMoney(u.priceCents, u.currency) },
                  { header: 'status', value: (u) => u.status },
                  { header: 'asked', value: (u) => iso(u.createdAt) },
                ]),
          { upgrades },
        );
      });
    });
  plan
    .command('confirm-upgrade <upgrade>')
    .description(
      'the manual provider: the upgrade was paid (the plan changes, its credits granted once)',
    )
    .option('--payment-ref <ref>', "the payment's reference (a bank transfer id, say)")
    .action(async (id: string, o: { paymentRef?: string }) => {
      await withLedger(globals(), async (ledger, out) => {
        const upgrade = await ledger.getUpgrade(id);
        if (upgrade.provider !== 'manual') {
          throw new AmisiError(
            'invalid_argument',
            `upgrade ${upgrade.id} is paid through ${upgrade.provider}: its webhook confirms it`,
            { field: 'upgrade', provider: upgrade.provider },
          );
        }
        const r = await service(ledger).confirmUpgrade(upgrade.id, o.paymentRef);
        out.print(
          () =>
            pairs([
              ['upgrade', r.upgrade.id],
              ['status', r.upgrade.status],
              ['plan', r.change?.subscription.plan ?? null],
              ['credits granted', r.upgrade.credits],
              ['transaction', r.upgrade.transactionId],
              ...(r.replay
                ? ([['replay', 'already confirmed: nothing granted again']] as [string, string][])
                : []),
            ]),
          r,
        );
      });
    });
  plan
    .command('show <account>')
    .description("the account's subscription: plan, cycle, next renewal")
    .action(async (account: string) => {
      await withLedger(globals(), async (ledger, out) => {
        const s = await ledger.getSubscription(account);
        out.print(() => pairs(subscriptionPairs(s)), s);
      });
    });

  program
    .command('renew')
    .description('renew every subscription due (catching up missed cycles in order)')
    .option('--until <iso>', 'only subscriptions due by this time (default now)')
    .action(async (o: { until?: string }) => {
      const until = o.until === undefined ? undefined : parseTime(o.until, 'until');
      await withLedger(globals(), async (ledger, out) => {
        const renewed = await ledger.renew(until, (n) => {
          if (!out.json && process.stderr.isTTY) process.stderr.write(`\rrenewed ${n} accounts`);
        });
        if (!out.json && process.stderr.isTTY) process.stderr.write('\n');
        out.print(() => `renewed ${renewed} account(s)`, { renewed });
      });
    });
}
