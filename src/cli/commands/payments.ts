import type { Command } from 'commander';
import { overdraftLine } from './reads.js';
import { AmisiError } from '../../core/errors.js';
import { formatMoney } from '../../core/money.js';
import type { Purchase } from '../../core/purchases.js';
import type { AutoTopup } from '../../core/autotopup.js';
import { parseCredits } from '../../core/credits.js';
import type { Ledger } from '../../ledger/ledger.js';
import { providerFromEnv } from '../../service/payments/from-env.js';
import { PurchaseService } from '../../service/purchases.js';
import { withLedger, type GlobalOptions } from '../context.js';
import { centsPerCredit, iso, pairs, table } from '../output.js';

type Globals = () => GlobalOptions;

export const service = (ledger: Ledger) => new PurchaseService(ledger, providerFromEnv());

function purchasePairs(p: Purchase, extra: [string, string | number | null][] = []): string {
  return pairs([
    ['purchase', p.id],
    ['account', p.accountId],
    ['pack', p.pack],
    ...(p.lines.length > 1 || p.lines.some((l) => l.count > 1)
      ? ([['lines', p.lines.map((l) => `${l.count} x ${l.pack}`).join(' + ')]] as [
          string,
          string,
        ][])
      : []),
    ['credits', p.credits],
    ['price', formatMoney(p.priceCents, p.currency)],
    ['status', p.status],
    ['provider', p.provider],
    ['grant', p.grantId],
    ['refunded credits', p.refundedCredits],
    ['refunded', p.refundedCents > 0 ? formatMoney(p.refundedCents, p.currency) : null],
    ...(p.cancelledAt === null ? [] : ([['cancelled', iso(p.cancelledAt)]] as [string, string][])),
    ...extra,
  ]);
}

/** One line of `amisi buy`: "pack-50" (one) or "pack-50:2" (a count from 1). */
function parsePackLine(arg: string): { pack: string; count: number } {
  const m = /^([^:]+)(?::(\d{1,3}))?$/.exec(arg);
  const pack = m?.[1];
  const count = m?.[2] === undefined ? 1 : Number(m[2]);
  if (pack === undefined || !Number.isSafeInteger(count) || count < 1) {
    throw new AmisiError('invalid_argument', `a pack is "pack" or "pack:count", got "${arg}"`, {
      field: 'pack',
      value: arg,
    });
  }
  return { pack, count };
}

export function registerPayments(program: Command, globals: Globals): void {
  program
    .command('packs')
    .description('the packs of the active catalog, with price per credit')
    .action(async () => {
      await withLedger(globals(), async (ledger, out) => {
        const c = (await ledger.activeCatalog()).body;
        const rows = Object.entries(c.packs).map(([id, p]) => ({ id, ...p }));
        out.print(
          () =>
            table(rows, [
              { header: 'pack', value: (r) => r.id },
              { header: 'credits', value: (r) => r.credits },
              {
                header: 'price',
                value: (r) => formatMoney(r.priceCents, c.currency),
                align: 'right',
              },
              {
                header: 'cents/credit',
                value: (r) => centsPerCredit(r.priceCents, r.credits),
                align: 'right',
              },
              { header: 'expires after', value: (r) => `${r.expiresAfterMonths} months` },
            ]),
          rows,
        );
      });
    });

  program
    .command('buy <account> <pack...>')
    .description(
      'buy a pack, or several in one payment (pack:count, e.g. pack-50:2 pack-20): a pending purchase; credits arrive when the payment is confirmed',
    )
    .requiredOption('--key <key>', 'idempotency key')
    .action(async (account: string, packs: string[], o: { key: string }) => {
      const lines = packs.map(parsePackLine);
      const [only] = lines;
      const what =
        lines.length === 1 && only && only.count === 1 ? { pack: only.pack } : { packs: lines };
      await withLedger(globals(), async (ledger, out) => {
        const r = await service(ledger).buy({ accountId: account, ...what, key: o.key });
        out.print(
          () =>
            purchasePairs(r.purchase, [
              [
                'checkout',
                r.checkoutUrl ??
                  (r.purchase.provider === 'manual'
                    ? `amisi payments confirm ${r.purchase.id}`
                    : null),
              ],
              ...(r.replay
                ? ([['replay', 'yes: the original result of this key']] as [string, string][])
                : []),
            ]),
          r,
        );
      });
    });

  const payments = program.command('payments').description('payments of purchases');
  payments
    .command('confirm <purchase>')
    .description('the manual provider: record that the payment arrived (grants the credits once)')
    .option('--payment-ref <ref>', "the payment's reference (a bank transfer id, say)")
    .action(async (purchase: string, o: { paymentRef?: string }) => {
      await withLedger(globals(), async (ledger, out) => {
        const r = await service(ledger).confirm(purchase, o.paymentRef);
        out.print(
          () =>
            purchasePairs(
              r.purchase,
              r.replay ? [['replay', 'already confirmed: nothing granted again']] : [],
            ),
          r,
        );
      });
    });

  payments
    .command('cancel <purchase>')
    .description(
      'cancel a pending purchase: its checkout is closed, no credits move (a payment that still arrives is granted)',
    )
    .action(async (purchase: string) => {
      await withLedger(globals(), async (ledger, out) => {
        const r = await service(ledger).cancel(purchase);
        out.print(
          () => purchasePairs(r.purchase, r.replay ? [['replay', 'already cancelled']] : []),
          r,
        );
      });
    });

  program
    .command('refund <purchase>')
    .description(
      'refund a purchase: reclaims its unspent credits, pays back their share of the price',
    )
    .requiredOption('--key <key>', 'idempotency key')
    .option('--full', 'pay back the whole price (the unspent credits are reclaimed either way)')
    .action(async (purchase: string, o: { key: string; full?: boolean }) => {
      await withLedger(globals(), async (ledger, out) => {
        const r = await service(ledger).refund({
          purchaseId: purchase,
          key: o.key,
          full: o.full === true,
        });
        out.print(() => purchasePairs(r.purchase, r.replay ? [['replay', 'yes']] : []), r);
      });
    });

  program
    .command('purchases <account>')
    .description("an account's purchases, newest first")
    .action(async (account: string) => {
      await withLedger(globals(), async (ledger, out) => {
        await ledger.getAccount(account);
        const rows = await ledger.listPurchases(account);
        out.print(
          () =>
            table(rows, [
              { header: 'purchase', value: (p) => p.id },
              { header: 'pack', value: (p) => p.pack },
              { header: 'credits', value: (p) => p.credits },
              {
                header: 'price',
                value: (p) => formatMoney(p.priceCents, p.currency),
                align: 'right',
              },
              { header: 'status', value: (p) => p.status },
              { header: 'created', value: (p) => iso(p.createdAt) },
            ]),
          rows,
        );
      });
    });

  registerAutoTopup(program, globals);
  registerOverdraft(program, globals);
}

function registerOverdraft(program: Command, globals: Globals): void {
  const overdraft = program
    .command('overdraft')
    .description('how far below zero an account may go; what it owes');
  overdraft
    .command('set <account>')
    .description('set the account\'s own limit (or "plan": follow its plan\'s again)')
    .requiredOption('--limit <credits>', 'credits past zero, 0 for none, or "plan"')
    .option('--mode <mode>', 'hard (refuse past the limit) or soft (allow)', 'hard')
    .action(async (account: string, o: { limit: string; mode: string }) => {
      const limit =
        o.limit === 'plan' ? null : o.limit === '0' ? 0 : parseCredits(o.limit, 'limit');
      await withLedger(globals(), async (ledger, out) => {
        const view = await ledger.setOverdraft({ accountId: account, limit, mode: o.mode });
        out.print(() => `overdraft of ${account}: ${overdraftLine(view)}`, view);
      });
    });
  overdraft
    .command('show <account>')
    .description('the limit in force, what is owed and what holds reserve past zero')
    .action(async (account: string) => {
      await withLedger(globals(), async (ledger, out) => {
        const view = (await ledger.balance(account)).overdraft;
        out.print(() => `overdraft of ${account}: ${overdraftLine(view)}`, view);
      });
    });
}

function registerAutoTopup(program: Command, globals: Globals): void {
  const autotopup = program
    .command('autotopup')
    .description('auto top-up: buy a pack when the balance falls below a threshold');
  autotopup
    .command('set <account>')
    .description('set the rule (fires once per crossing; at most --max times per --period)')
    .requiredOption('--pack <pack>', 'the pack to buy')
    .requiredOption('--below <credits>', 'buy when available credits fall below this')
    .option('--max <n>', 'at most this many purchases per period', '3')
    .option('--period <period>', 'day, week or month (UTC)', 'month')
    .action(
      async (account: string, o: { pack: string; below: string; max: string; period: string }) => {
        const input = {
          accountId: account,
          pack: o.pack,
          thresholdCredits: parseCredits(o.below, 'below'),
          maxPerPeriod: parseWhole(o.max, 'max'),
          period: o.period,
        };
        await withLedger(globals(), async (ledger, out) => {
          const rule = await service(ledger).setAutoTopup(input);
          out.print(() => rulePairs(rule), rule);
        });
      },
    );
  autotopup
    .command('show <account>')
    .description("the account's rule and its auto top-up purchases")
    .action(async (account: string) => {
      await withLedger(globals(), async (ledger, out) => {
        const rule = await ledger.getAutoTopup(account);
        const bought = (await ledger.listPurchases(account)).filter(
          (p) => p.origin === 'autotopup',
        );
        out.print(
          () =>
            rule === null
              ? 'no auto top-up rule'
              : `${rulePairs(rule)}\n\n${bought.length} auto top-up purchases` +
                (bought.length > 0
                  ? `\n${table(bought, [
                      { header: 'purchase', value: (p) => p.id },
                      { header: 'pack', value: (p) => p.pack },
                      { header: 'status', value: (p) => p.status },
                      { header: 'created', value: (p) => iso(p.createdAt) },
                    ])}`
                  : ''),
          { rule, purchases: bought },
        );
      });
    });
  autotopup
    .command('clear <account>')
    .description('remove the rule (a pending purchase it made can still be paid)')
    .action(async (account: string) => {
      await withLedger(globals(), async (ledger, out) => {
        const removed = await ledger.clearAutoTopup(account);
        out.print(() => (removed ? 'auto top-up removed' : 'no auto top-up rule'), { removed });
      });
    });
}

function rulePairs(rule: AutoTopup): string {
  return pairs([
    ['account', rule.accountId],
    ['pack', rule.pack],
    ['below', rule.thresholdCredits],
    ['max per period', `${rule.maxPerPeriod} per ${rule.period}`],
    ['used this period', rule.firedInPeriod],
    ['armed', rule.armed ? 'yes' : 'no: waits for the balance to reach the threshold'],
    ['provider', rule.provider],
    ['last fired', rule.lastFiredAt === null ? null : iso(rule.lastFiredAt)],
  ]);
}

function parseWhole(text: string, field: string): number {
  if (!/^[0-9]{1,6}$/.test(text)) {
    throw new AmisiError('invalid_argument', `${field} must be a whole number`, {
      field,
      value: text,
    });
  }
  return Number(text);
}
