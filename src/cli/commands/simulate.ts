import type { Command } from 'commander';
import { parseCatalog } from '../../core/catalog.js';
import type { AccountAdvice } from '../../ledger/ledger.js';
import { simulate, type CycleRow } from '../../service/simulate.js';
import { adviceText } from './advice.js';
import { DEFAULT_CATALOG_PATH, readJsonFile, type GlobalOptions } from '../context.js';
import { iso, output, progressBar, table } from '../output.js';
import { parseCount, parseTime } from '../parse.js';

type Globals = () => GlobalOptions;

export function registerSimulate(program: Command, globals: Globals): void {
  program
    .command('simulate')
    .description('play a year (or --months) of one customer on a fake clock and print each cycle')
    .option('--plan <plan>', 'the plan to subscribe to', 'pro')
    .option('--daily <credits>', 'credits spent each day', '8')
    .option('--months <n>', 'how many cycles', '12')
    .option('--pack <pack>', 'buy this pack when a day would not fit (else the day is refused)')
    .option('--start <iso>', 'the first day (the renewal anchor)', '2027-01-31')
    .option('--catalog <file>', 'catalog to use (default: the shipped default catalog)')
    .option('--advise', 'then print what amisi advise says at the renewal after the last cycle')
    .action(
      async (o: {
        plan: string;
        daily: string;
        months: string;
        pack?: string;
        start: string;
        catalog?: string;
        advise?: boolean;
      }) => {
        const out = output(globals().json ?? false);
        const catalog = parseCatalog(
          readJsonFile(o.catalog ?? DEFAULT_CATALOG_PATH, 'catalog_invalid'),
        );
        const months = parseCount(o.months, 'months');
        let advice: AccountAdvice | null = null;
        const rows = await simulate(
          {
            catalog,
            plan: o.plan,
            startsAt: parseTime(o.start, 'start'),
            months: Math.max(1, Math.min(months, 120)),
            dailyCredits: parseCount(o.daily, 'daily'),
            pack: o.pack ?? null,
          },
          (done, of) => {
            if (!out.json && process.stderr.isTTY)
              process.stderr.write(`\r${progressBar(done, of, 30)} ${done}/${of} cycles`);
          },
          o.advise
            ? async (ledger, accountId) => {
                advice = await ledger.advice(accountId);
              }
            : undefined,
        );
        const advised = advice as AccountAdvice | null;
        if (!out.json && process.stderr.isTTY) process.stderr.write('\n');
        out.print(
          () =>
            [
              cycleTable(rows),
              ...(advised ? ['', adviceText(advised, catalog.currency)] : []),
            ].join('\n'),
          advised ? { cycles: rows, advice: advised } : rows,
        );
      },
    );
}

function cycleTable(rows: readonly CycleRow[]): string {
  return table(rows, [
    { header: 'cycle', value: (r) => r.cycle },
    { header: 'starts', value: (r) => iso(r.startsAt)?.slice(0, 10) ?? null },
    { header: 'allocation', value: (r) => r.allocation },
    { header: 'rollover', value: (r) => r.rollover },
    { header: 'purchased', value: (r) => r.purchased },
    { header: 'spent', value: (r) => r.spent },
    { header: 'expired', value: (r) => r.expired },
    { header: 'refused', value: (r) => r.refused },
    { header: 'closing', value: (r) => r.closing },
  ]);
}
