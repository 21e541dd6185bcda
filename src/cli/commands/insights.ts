import type { Command } from 'commander';
import { parseCredits } from '../../core/credits.js';
import { guideline, guidelines, IMAGE_OPERATION, type Guideline } from '../../core/guidance.js';
import { formatMoney } from '../../core/money.js';
import { cheapestPacks, type PackCombination } from '../../core/packs.js';
import { planPhases, type PhasePlan } from '../../core/phases.js';
import { withLedger, type GlobalOptions } from '../context.js';
import { pairs, table } from '../output.js';
import { parseCount } from '../parse.js';

type Globals = () => GlobalOptions;

/** 5185 basis points as "51.85%", without floats. */
function percent(basisPoints: number): string {
  const whole = (basisPoints - (basisPoints % 100)) / 100;
  return `${whole}.${String(basisPoints % 100).padStart(2, '0')}%`;
}

/** 42829 millicents as "42.829", the cents per credit. */
function cents(millicents: number): string {
  const whole = (millicents - (millicents % 1000)) / 1000;
  return `${whole}.${String(millicents % 1000).padStart(3, '0')}`;
}

function guideTable(rows: readonly Guideline[]): string {
  const notes = rows.flatMap((r) => (r.note ? [`${r.use}: ${r.note}`] : []));
  return [
    table(rows, [
      { header: 'use', value: (r) => r.use },
      { header: 'for', value: (r) => r.description },
      { header: 'resolution', value: (r) => r.resolution },
      { header: 'credits/image', value: (r) => r.credits, align: 'right' },
    ]),
    ...notes,
  ].join('\n');
}

function phaseReport(plan: PhasePlan): string {
  const final = plan.phases.find((p) => p.phase === 'finalize')!;
  return [
    table(plan.phases, [
      { header: 'phase', value: (p) => p.phase },
      { header: 'resolution', value: (p) => p.resolution },
      { header: 'images', value: (p) => p.images },
      { header: 'credits/image', value: (p) => p.unitCredits },
      { header: 'credits', value: (p) => p.credits },
      { header: 'from', value: (p) => p.source },
    ]),
    '',
    pairs([
      ['phased', `${plan.phasedCredits} credits (${plan.images} images)`],
      [
        `all at ${plan.resolution}`,
        `${plan.allAtFinalCredits} credits (${plan.images} × ${final.unitCredits})`,
      ],
      ['saving', `${plan.savingCredits} credits (${percent(plan.savingBasisPoints)})`],
      ['catalog', plan.catalogVersion],
    ]),
  ].join('\n');
}

function packReport(c: PackCombination, currency: string): string {
  const money = (n: number) => formatMoney(n, currency);
  const sum = c.lines.map((l) => `${l.count} × ${l.pack} (${money(l.priceCents)})`).join(' + ');
  return [
    table(c.lines, [
      { header: 'pack', value: (l) => l.pack },
      { header: 'count', value: (l) => l.count },
      { header: 'credits', value: (l) => l.credits },
      { header: 'price', value: (l) => money(l.priceCents), align: 'right' },
    ]),
    '',
    pairs([
      ['shortfall', `${c.shortfall} credits`],
      ['cheapest', `${sum} = ${money(c.priceCents)}`],
      ['credits', `${c.credits} (${c.surplus} more than needed)`],
      ['cents/credit', cents(c.pricePerCreditMillicents)],
    ]),
  ].join('\n');
}

export function registerInsights(program: Command, globals: Globals): void {
  program
    .command('guide [use]')
    .description('the resolution for an intended use and its credits (every use without one)')
    .action(async (use: string | undefined) => {
      await withLedger(globals(), async (ledger, out) => {
        const c = (await ledger.activeCatalog()).body;
        const rows = use === undefined ? guidelines(c) : [guideline(c, use)];
        out.print(() => guideTable(rows), {
          catalogVersion: c.version,
          operation: IMAGE_OPERATION,
          guidelines: rows,
        });
      });
    });

  program
    .command('plan-phases')
    .description('explore at 720p, refine at 1080p, finalize at --resolution: credits and saving')
    .requiredOption('--finals <n>', 'final images wanted')
    .requiredOption('--resolution <r>', 'final resolution, e.g. 4k')
    .option('--explore <n>', 'images to explore at 720p (default 6 per final)')
    .option('--refine <n>', 'images to refine at 1080p (default 2 per final)')
    .action(
      async (o: { finals: string; resolution: string; explore?: string; refine?: string }) => {
        await withLedger(globals(), async (ledger, out) => {
          const plan = planPhases((await ledger.activeCatalog()).body, {
            finals: parseCount(o.finals, 'finals'),
            resolution: o.resolution,
            explore: o.explore === undefined ? undefined : parseCount(o.explore, 'explore'),
            refine: o.refine === undefined ? undefined : parseCount(o.refine, 'refine'),
          });
          out.print(() => phaseReport(plan), plan);
        });
      },
    );

  program
    .command('packs-for <credits>')
    .description('the cheapest packs that cover a shortfall of <credits> (exact, not greedy)')
    .action(async (credits: string) => {
      const shortfall = parseCredits(credits, 'credits');
      await withLedger(globals(), async (ledger, out) => {
        const c = (await ledger.activeCatalog()).body;
        const combination = cheapestPacks(c.packs, shortfall);
        out.print(() => packReport(combination, c.currency), {
          catalogVersion: c.version,
          currency: c.currency,
          ...combination,
        });
      });
    });
}
