import type { Command } from 'commander';
import { errorTable } from '../../core/errors.js';
import type { JournalTransaction } from '../../core/journal.js';
import type { OverdraftView } from '../../core/overdraft.js';
import { isPurchaseGrant, linesOf } from '../../core/journal-detail.js';
import { withLedger, type GlobalOptions } from '../context.js';
import { iso, pairs, table } from '../output.js';
import { collect, parseCount, parseTime } from '../parse.js';

type Globals = () => GlobalOptions;

/** What a transaction did to the customer's credits, for people: +granted, -spent, held. */
function summary(t: JournalTransaction): { change: number; held: number } {
  let change = 0;
  let held = 0;
  for (const e of t.entries) {
    // The available balance is the grants' credits less what is owed past zero.
    if (e.book === 'grant' || e.book === 'overdraft') change += e.credits;
    if (e.book === 'held') held += e.credits;
  }
  return { change, held };
}

function describe(t: JournalTransaction): string {
  const lines = linesOf(t);
  if (lines.length > 0) {
    return lines
      .map((l) =>
        `${l.operation} ${Object.values(l.params).join(' ')} x${l.count}`.replace(/\s+/g, ' '),
      )
      .join(', ');
  }
  if (t.kind === 'grant') {
    const reason = isPurchaseGrant(t.detail) ? undefined : t.detail.reason;
    return `${t.detail.source}${reason ? `: ${reason}` : ''}`;
  }
  if (t.kind === 'capture') return `captured ${t.detail.captured}, returned ${t.detail.released}`;
  if (t.kind === 'repayment') return `repaid ${t.detail.credits} owed, ${t.detail.debt} still owed`;
  if (t.kind === 'partial_capture')
    return `captured ${t.detail.captured} in part, ${t.detail.held} still held`;
  if (t.kind === 'hold_extension')
    return `held until ${new Date(t.detail.expiresAt).toISOString()}`;
  if (t.kind === 'hold_increase') return `+${t.detail.credits}, ${t.detail.total} held in all`;
  return t.holdId ?? t.grantId ?? '';
}

/** The overdraft in one line: what is owed and held past zero, against which limit. */
export function overdraftLine(o: OverdraftView): string {
  if (o.from === 'none' && o.debt === 0 && o.held === 0) return 'none';
  const limit = `limit ${o.limit} (${o.mode}, ${o.from === 'account' ? 'own' : o.from})`;
  return `${o.debt} owed, ${o.held} held past zero, ${limit}, ${o.remaining} left`;
}

export function registerReads(program: Command, globals: Globals): void {
  program
    .command('balance <account>')
    .description('available and held credits, per grant, and the next expiry')
    .action(async (account: string) => {
      await withLedger(globals(), async (ledger, out) => {
        const b = await ledger.balance(account);
        out.print(
          () =>
            [
              pairs([
                ['account', b.accountId],
                ['available', b.available],
                ['held', b.held],
                [
                  'next expiry',
                  b.nextExpiry
                    ? `${b.nextExpiry.credits} credits at ${iso(b.nextExpiry.at)}`
                    : 'none',
                ],
                ['overdraft', overdraftLine(b.overdraft)],
              ]),
              '',
              b.grants.length === 0
                ? 'no grants with credits left'
                : table(b.grants, [
                    { header: 'grant', value: (g) => g.id },
                    { header: 'source', value: (g) => g.source },
                    { header: 'amount', value: (g) => g.amount },
                    { header: 'remaining', value: (g) => g.remaining },
                    { header: 'held', value: (g) => g.held },
                    { header: 'expires', value: (g) => iso(g.expiresAt) ?? 'never' },
                  ]),
            ].join('\n'),
          b,
        );
      });
    });

  program
    .command('history <account>')
    .description('journal transactions, newest first, one page at a time')
    .option(
      '--kind <kind>',
      'only this kind (repeatable): grant, hold, capture, partial_capture, release, charge, hold_expiry, hold_extension, hold_increase, grant_expiry, repayment',
      collect,
      [],
    )
    .option('--since <iso>', 'from this time (inclusive)')
    .option('--until <iso>', 'before this time')
    .option('--limit <n>', 'page size (default 50, at most 500)')
    .option('--cursor <cursor>', 'the next-page cursor printed by the previous page')
    .action(
      async (
        account: string,
        o: { kind: string[]; since?: string; until?: string; limit?: string; cursor?: string },
      ) => {
        const query = {
          accountId: account,
          ...(o.kind.length > 0 ? { kinds: o.kind } : {}),
          ...(o.since === undefined ? {} : { since: parseTime(o.since, 'since') }),
          ...(o.until === undefined ? {} : { until: parseTime(o.until, 'until') }),
          ...(o.limit === undefined ? {} : { limit: parseCount(o.limit, 'limit') }),
          ...(o.cursor === undefined ? {} : { before: o.cursor }),
        };
        await withLedger(globals(), async (ledger, out) => {
          const page = await ledger.history(query);
          out.print(
            () =>
              [
                table(page.transactions, [
                  { header: 'time', value: (t) => iso(t.createdAt) },
                  { header: 'kind', value: (t) => t.kind },
                  { header: 'credits', value: (t) => summary(t).change, align: 'right' },
                  { header: 'held', value: (t) => summary(t).held, align: 'right' },
                  { header: 'what', value: (t) => describe(t) },
                  { header: 'transaction', value: (t) => t.id },
                ]),
                page.nextCursor ? `more: --cursor ${page.nextCursor}` : '(end)',
              ].join('\n'),
            page,
          );
        });
      },
    );

  program
    .command('verify')
    .description('recompute every account from the journal and check every invariant')
    .action(async () => {
      await withLedger(globals(), async (ledger, out) => {
        const report = await ledger.verify({
          onProgress: (n) => {
            if (!out.json && process.stderr.isTTY) process.stderr.write(`\rverified ${n} accounts`);
          },
        });
        if (!out.json && process.stderr.isTTY) process.stderr.write('\n');
        const t = report.totals;
        out.print(
          () =>
            [
              pairs([
                ['accounts', report.accounts],
                ['transactions', report.transactions],
                ['granted', t.granted],
                ['spent', t.consumed],
                ['expired', t.breakage],
                ['refunded', t.refunded],
                ['held', t.held],
                ['available', t.available],
                [
                  'conservation',
                  t.granted === t.consumed + t.breakage + t.refunded + t.held + t.available
                    ? 'holds'
                    : 'BROKEN',
                ],
                ['violations', report.violations.length],
              ]),
              ...(report.violations.length > 0
                ? [
                    '',
                    table(report.violations, [
                      { header: 'account', value: (v) => v.accountId },
                      { header: 'check', value: (v) => v.check },
                      { header: 'detail', value: (v) => v.detail },
                    ]),
                  ]
                : []),
              report.ok ? 'verify: clean' : 'verify: VIOLATIONS FOUND',
            ].join('\n'),
          report,
        );
        if (!report.ok) {
          // The report above is the answer; the exit code says it failed.
          if (!out.json) {
            process.stderr.write(
              `error [verify_failed]: ${report.violations.length} invariant violation(s). ${errorTable.verify_failed.hint}\n`,
            );
          }
          process.exitCode = errorTable.verify_failed.exit;
        }
      });
    });

  program
    .command('sweep')
    .description(
      'expire due grants and holds in every account, and forget idempotency keys past retention',
    )
    .action(async () => {
      await withLedger(globals(), async (ledger, out) => {
        const settled = await ledger.sweep(500, (n) => {
          if (!out.json && process.stderr.isTTY) process.stderr.write(`\rsettled ${n} accounts`);
        });
        const purged = await ledger.purgeIdempotency();
        out.print(
          () =>
            pairs([
              ['accounts settled', settled],
              ['idempotency keys forgotten', purged],
            ]),
          { settled, purged },
        );
      });
    });
}
