import type { Command } from 'commander';
import type { Advice, ForecastFigures, PlanOption, Recommendation } from '../../core/advice.js';
import { formatMoney } from '../../core/money.js';
import type { AccountAdvice } from '../../ledger/ledger.js';
import { withLedger, type GlobalOptions } from '../context.js';
import { iso, pairs, table } from '../output.js';
import { signedPercent } from './reports.js';

type Globals = () => GlobalOptions;

/** 15000 basis points as "150.00%". */
function percent(basisPoints: number | null): string {
  return basisPoints === null ? '-' : signedPercent(basisPoints).replace(/^\+/, '');
}

function recommendationText(r: Recommendation, currency: string): string {
  if (r.action === 'buy-packs') {
    const packs = r.packs.lines.map((l) => `${l.count} x ${l.pack}`).join(' + ');
    return `buy ${packs} (${r.packs.credits} credits) for ${formatMoney(r.priceCents, currency)}`;
  }
  const saving =
    r.monthlySavingCents === null
      ? ''
      : `, saving ${formatMoney(r.monthlySavingCents, currency)} a month`;
  return `${r.action} from ${r.from} to ${r.plan} (${formatMoney(r.priceCents, currency)} a cycle)${saving}`;
}

function optionsTable(options: readonly PlanOption[], currency: string): string {
  const money = (cents: number | null) => (cents === null ? '-' : formatMoney(cents, currency));
  return table(options, [
    { header: 'option', value: (o) => (o.current ? `stay on ${o.plan}` : o.plan) },
    { header: 'plan price', value: (o) => money(o.planPriceCents), align: 'right' },
    { header: 'credits', value: (o) => o.creditsPerCycle },
    { header: 'short', value: (o) => o.shortfall },
    {
      header: 'packs',
      value: (o) =>
        o.packs === null ? '-' : o.packs.lines.map((l) => `${l.count} x ${l.pack}`).join(' + '),
    },
    { header: 'a month', value: (o) => money(o.monthlyCents), align: 'right' },
  ]);
}

function forecastText(f: ForecastFigures): string {
  return pairs([
    ['available', f.available],
    ['spent this cycle', `${f.spentSoFarThisCycle} since ${iso(f.cycleStartsAt)}`],
    ['pace', `about ${f.paceCreditsPerDay} credits a day`],
    ['renewal', iso(f.renewalAt)],
    ['runs out', f.runOutAt === null ? 'not before the renewal' : iso(f.runOutAt)],
    ['days before renewal', f.daysBeforeRenewal],
    ['needed to renewal', f.projectedToRenewal],
    ['short at renewal', f.shortfallAtRenewal],
    ['left at renewal', f.leftAtRenewal],
  ]);
}

/** One advice item: its kind, its summary, the figures people check, what to do. */
export function adviceItemText(a: Advice, currency: string): string {
  const lines = [`${a.kind}: ${a.summary}`];
  if (a.kind === 'consistent-overrun' || a.kind === 'frequent-overrun') {
    lines.push('', optionsTable(a.figures.options, currency));
  }
  if (a.kind === 'run-out' || a.kind === 'lasts-past-renewal') {
    lines.push('', forecastText(a.figures));
  }
  if (a.recommendation) lines.push('', `do: ${recommendationText(a.recommendation, currency)}`);
  return lines.join('\n');
}

export function adviceText(a: AccountAdvice, currency: string): string {
  const head = pairs([
    ['account', a.accountId],
    ['plan', a.plan ?? 'none'],
    ['members', a.members],
    ['as of', iso(a.asOf)],
    ['headline', a.headline?.kind ?? 'none'],
  ]);
  const cycles =
    a.cycles.length === 0
      ? 'closed cycles: none'
      : table(a.cycles, [
          { header: 'cycle from', value: (c) => iso(c.startsAt)?.slice(0, 10) ?? '' },
          { header: 'plan', value: (c) => c.plan },
          { header: 'allocation', value: (c) => c.allocation },
          { header: 'consumed', value: (c) => c.consumed },
          { header: 'over', value: (c) => Math.max(0, c.consumed - c.allocation) },
          {
            header: 'use',
            value: (c) =>
              c.allocation === 0
                ? '-'
                : percent(Math.floor((20_000 * c.consumed + c.allocation) / (2 * c.allocation))),
            align: 'right',
          },
          { header: 'packs bought', value: (c) => c.purchased },
        ]);
  return [head, '', cycles, ...a.advice.flatMap((x) => ['', adviceItemText(x, currency)])].join(
    '\n',
  );
}

export function registerAdvice(program: Command, globals: Globals): void {
  program
    .command('advise <account>')
    .description(
      'buy packs or change plan (with the arithmetic), seasonal planning and the run-out forecast',
    )
    .action(async (account: string) => {
      await withLedger(globals(), async (ledger, out) => {
        const [a, catalog] = await Promise.all([ledger.advice(account), ledger.activeCatalog()]);
        out.print(() => adviceText(a, catalog.body.currency), a);
      });
    });

  program
    .command('forecast <account>')
    .description('when the credits run out at the current pace, against the renewal')
    .action(async (account: string) => {
      await withLedger(globals(), async (ledger, out) => {
        const [f, catalog] = await Promise.all([ledger.forecast(account), ledger.activeCatalog()]);
        out.print(() => adviceItemText(f.forecast, catalog.body.currency), f);
      });
    });
}
