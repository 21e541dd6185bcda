import type { Command } from 'commander';
import type { ClockView } from '../../ledger/clocks/api.js';
import { withLedger, type GlobalOptions } from '../context.js';
import { iso, pairs, progressBar, table } from '../output.js';
import { parseTime } from '../parse.js';

/** amisi clocks create | advance | show: test clocks, simulated time for their accounts. */

function clockPairs(c: ClockView, extra: [string, string | number][] = []): string {
  return pairs([
    ['clock', c.id],
    ['name', c.name],
    ['now', iso(c.now)],
    ['accounts', c.accounts.length > 0 ? c.accounts.join(', ') : 'none yet'],
    ['advanced', c.advancedAt === null ? 'never' : iso(c.advancedAt)],
    ...extra,
  ]);
}

export function registerClocks(program: Command, globals: () => GlobalOptions): void {
  const clocks = program
    .command('clocks')
    .description('test clocks: make accounts on one, advance it, and a year passes in seconds');
  clocks
    .command('create <id>')
    .description(
      'make a test clock (amisi accounts create ID --test-clock CLOCK puts accounts on it)',
    )
    .option('--name <name>', 'what it simulates')
    .option('--start <date>', 'its first time (default now; never before now)')
    .action(async (id: string, o: { name?: string; start?: string }) => {
      const input = {
        id,
        ...(o.name === undefined ? {} : { name: o.name }),
        ...(o.start === undefined ? {} : { startsAt: parseTime(o.start, 'start') }),
      };
      await withLedger(globals(), async (ledger, out) => {
        const r = await ledger.createClock(input);
        const replay: [string, string][] = r.replay ? [['replay', 'yes: it existed']] : [];
        out.print(() => clockPairs(r.clock, replay), r);
      });
    });
  clocks
    .command('advance <id>')
    .description('move a test clock forward: what falls due on its accounts runs, day by day')
    .requiredOption('--to <date>', 'its new time (forward only, at most 731 days ahead)')
    .action(async (id: string, o: { to: string }) => {
      const to = parseTime(o.to, 'to');
      const g = globals();
      const tty = !g.json && process.stderr.isTTY;
      await withLedger(g, async (ledger, out) => {
        const r = await ledger.advanceClock({
          id,
          to,
          onProgress: (at, step, steps) => {
            if (tty) {
              process.stderr.write(
                `\radvancing ${id} ${progressBar(step, steps)} ${step}/${steps} days, at ${iso(at)}\u001b[K`,
              );
            }
          },
        });
        if (tty && r.steps > 0) process.stderr.write('\n');
        out.print(() => clockPairs(r, [['days stepped', r.steps]]), r);
      });
    });
  clocks
    .command('show [id]')
    .description('one test clock, or all of them')
    .action(async (id: string | undefined) => {
      await withLedger(globals(), async (ledger, out) => {
        if (id !== undefined) {
          const c = await ledger.getClock(id);
          out.print(() => clockPairs(c), c);
          return;
        }
        const all = await ledger.listClocks();
        out.print(
          () =>
            all.length === 0
              ? 'no test clocks (amisi clocks create ID makes one)'
              : table(all, [
                  { header: 'clock', value: (c) => c.id },
                  { header: 'name', value: (c) => c.name ?? '' },
                  { header: 'now', value: (c) => iso(c.now) },
                  { header: 'accounts', value: (c) => c.accounts.length },
                ]),
          { clocks: all },
        );
      });
    });
}
