import type { Command } from 'commander';
import { parseCredits } from '../../core/credits.js';
import {
  guideline,
  guidelines,
  IMAGE_OPERATION,
  imageResolutionPrices,
  type Guideline,
} from '../../core/guidance.js';
import type { Catalog } from '../../core/catalog.js';
import { formatMoney } from '../../core/money.js';
import { cheapestPacks, type PackCombination } from '../../core/packs.js';
import { planPhases, type PhasePlan, type PhaseRequest } from '../../core/phases.js';
import { withLedger, type GlobalOptions } from '../context.js';
import { credits, formatMillicents, pairs, table } from '../output.js';
import { parseCount } from '../parse.js';

type Globals = () => GlobalOptions;

/** 5185 basis points as "51.85%", without floats. */
function percent(basisPoints: number): string {
  const whole = (basisPoints - (basisPoints % 100)) / 100;
  return `${whole}.${String(basisPoints % 100).padStart(2, '0')}%`;
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

/** The same plan with its finals at each resolution that costs more (the seed's 8K case). */
function higherResolutions(catalog: Catalog, request: PhaseRequest, plan: PhasePlan) {
  const final = plan.phases.find((p) => p.phase === 'finalize')!;
  return imageResolutionPrices(catalog)
    .filter((r) => r.credits > final.unitCredits)
    .map((r) => {
      const p = planPhases(catalog, { ...request, resolution: r.resolution });
      return {
        resolution: p.resolution,
        phasedCredits: p.phasedCredits,
        allAtFinalCredits: p.allAtFinalCredits,
        savingCredits: p.savingCredits,
        savingBasisPoints: p.savingBasisPoints,
      };
    });
}

type Comparison = ReturnType<typeof higherResolutions>[number];

function phaseReport(plan: PhasePlan, higher: readonly Comparison[]): string {
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
      ['phased', `${credits(plan.phasedCredits)} (${plan.images} images)`],
      [
        `all at ${plan.resolution}`,
        `${credits(plan.allAtFinalCredits)} (${plan.images} × ${final.unitCredits})`,
      ],
      ['saving', `${credits(plan.savingCredits)} (${percent(plan.savingBasisPoints)})`],
      ...higher.map((h): [string, string] => [
        `finals at ${h.resolution}`,
        `${credits(h.phasedCredits)} against ${h.allAtFinalCredits} all at ${h.resolution}: ${h.savingCredits} saved (${percent(h.savingBasisPoints)})`,
      ]),
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
      ['shortfall', credits(c.shortfall)],
      ['cheapest', `${sum} = ${money(c.priceCents)}`],
      ['credits', `${c.credits} (${c.surplus} more than needed)`],
      ['cents/credit', formatMillicents(c.pricePerCreditMillicents)],
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
          const catalog = (await ledger.activeCatalog()).body;
          const request: PhaseRequest = {
            finals: parseCount(o.finals, 'finals', 1),
            resolution: o.resolution,
            explore: o.explore === undefined ? undefined : parseCount(o.explore, 'explore'),
            refine: o.refine === undefined ? undefined : parseCount(o.refine, 'refine'),
          };
          const plan = planPhases(catalog, request);
          const higher = higherResolutions(catalog, request, plan);
          out.print(() => phaseReport(plan, higher), { ...plan, higherResolutions: higher });
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
