import type { Command } from 'commander';
import { AmisiError } from '../../core/errors.js';
import type { Outcome } from '../../core/outcomes.js';
import type { Finding, Period, Statement, UsageLine, UsageReport } from '../../core/reports.js';
import type { DailyUsageReport, Ledger } from '../../ledger/ledger.js';
import { withLedger, type GlobalOptions } from '../context.js';
import { iso, pairs, progressBar, table } from '../output.js';
import { collect, parseCount, parsePairs, parseTime } from '../parse.js';

type Globals = () => GlobalOptions;

interface PeriodOptions {
  readonly cycle?: string;
  readonly from?: string;
  readonly until?: string;
}

function periodFrom(o: PeriodOptions) {
  return {
    ...(o.cycle === undefined ? {} : { cycle: parseCount(o.cycle, 'cycle') }),
    ...(o.from === undefined ? {} : { from: parseTime(o.from, 'from') }),
    ...(o.until === undefined ? {} : { to: parseTime(o.until, 'until') }),
  };
}

function withPeriod(command: Command): Command {
  return command
    .option('--cycle <n>', 'the cycle by index (0 = the first); default: the current cycle')
    .option('--from <time>', 'start of a range (ISO 8601; with --until)')
    .option('--until <time>', 'end of a range, excluded');
}

/** 2333 basis points as "+23.33%", without floats; null as "new". */
export function signedPercent(basisPoints: number | null): string {
  if (basisPoints === null) return 'new';
  const abs = Math.abs(basisPoints);
  const whole = (abs - (abs % 100)) / 100;
  const sign = basisPoints > 0 ? '+' : basisPoints < 0 ? '-' : '';
  return `${sign}${whole}.${String(abs % 100).padStart(2, '0')}%`;
}

const signed = (n: number) => (n > 0 ? `+${n}` : String(n));

function describePeriod(p: Period): string {
  const what =
    p.basis === 'cycle' ? `cycle ${p.cycle}` : p.basis === 'month' ? `month ${p.cycle}` : 'range';
  return `${what}: ${iso(p.from)} .. ${iso(p.to)}`;
}

function bySource(rows: readonly { source: string; credits: number }[]): string {
  return rows.map((r) => `${r.source} ${r.credits}`).join(', ');
}

export function statementText(s: Statement): string {
  const detail = (n: number, rows: readonly { source: string; credits: number }[]) =>
    rows.length > 0 ? `${n}  (${bySource(rows)})` : String(n);
  return pairs([
    ['account', s.accountId],
    ['period', describePeriod(s.period)],
    ['opening', s.opening],
    ['granted', detail(s.granted.credits, s.granted.bySource)],
    ['spent', detail(s.spent.credits, s.spent.bySource)],
    ['expired', detail(s.expired.credits, s.expired.bySource)],
    ['refunded', s.refunded.credits],
    ['closing', s.closing],
    ['rolled over', `${s.rolledOver}  (unused allocation kept at the renewal)`],
    ['lost to the cap', `${s.lostToCap}  (part of expired)`],
    ...(s.overdraft.overdrawn + s.overdraft.repaid + s.overdraft.owedAtClose > 0
      ? ([
          [
            'overdraft',
            `${s.overdraft.overdrawn} past zero (part of spent), ${s.overdraft.repaid} repaid, ${s.overdraft.owedAtClose} owed at the end`,
          ],
        ] as [string, string][])
      : []),
    [
      'check',
      `${s.opening} + ${s.granted.credits} - ${s.spent.credits} - ${s.expired.credits} - ${s.refunded.credits} = ${s.closing}`,
    ],
  ]);
}

function usageTable(title: string, rows: readonly UsageLine[]): string {
  if (rows.length === 0) return `${title}: none`;
  return table(rows, [
    { header: title, value: (l) => l.key },
    { header: 'credits', value: (l) => l.credits },
    { header: 'units', value: (l) => l.units },
    { header: 'previous', value: (l) => l.previousCredits },
    { header: 'change', value: (l) => signed(l.changeCredits), align: 'right' },
    { header: 'change %', value: (l) => signedPercent(l.changeBasisPoints), align: 'right' },
  ]);
}

function findingsText(findings: readonly Finding[]): string {
  if (findings.length === 0) return 'findings: none';
  return [
    table(findings, [
      { header: 'finding', value: (f) => f.kind },
      { header: 'credits', value: (f) => f.credits },
      { header: 'saving', value: (f) => f.savingCredits },
      { header: 'what', value: (f) => f.summary },
    ]),
    '',
    ...findings.map((f) => `${f.kind}: ${f.advice}`),
  ].join('\n');
}

export function auditText(u: UsageReport, findings: readonly Finding[], outcomes: number): string {
  return [
    pairs([
      ['account', u.accountId],
      ['period', describePeriod(u.period)],
      ['previous', describePeriod(u.previous)],
      [
        'spent',
        `${u.credits} credits (previous ${u.previousCredits}, ${signed(u.changeCredits)}, ${signedPercent(u.changeBasisPoints)})`,
      ],
      ['outcomes', `${outcomes} recorded`],
    ]),
    '',
    usageTable('operation', u.byOperation),
    '',
    usageTable('resolution', u.byResolution),
    '',
    usageTable('member', u.byMember),
    '',
    usageTable('project', u.byProject),
    '',
    findingsText(findings),
  ].join('\n');
}

function outcomeText(o: Outcome, replay: boolean): string {
  return pairs([
    ['transaction', o.transactionId],
    ['outcome', o.outcome],
    [
      'labels',
      Object.entries(o.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ') || '-',
    ],
    ['credits', o.credits],
    ['operation', o.operation],
    ['resolution', o.resolution],
    ['units', o.units],
    ['member', o.member],
    ['project', o.project],
    ['charged at', iso(o.createdAt)],
    ['replay', replay ? 'yes' : 'no'],
  ]);
}

/** One line when accounts wait for a rollup rebuild (their journal predates migration 10). */
export async function rollupsHint(ledger: Ledger): Promise<string | null> {
  const pending = await ledger.accountsPendingRollups(null, 1);
  if (pending.length === 0) return null;
  return (
    'some accounts have journal entries older than their rollups: run `amisi rollups rebuild` ' +
    '(until then the first report on such an account rebuilds it)'
  );
}

async function rebuild(ledger: Ledger, account: string | undefined, all: boolean, json: boolean) {
  const tty = !json && process.stderr.isTTY;
  const show = (text: string) => {
    if (tty) process.stderr.write(`\r${text}\u001b[K`);
  };
  const accounts: string[] = [];
  if (account !== undefined) {
    accounts.push(account);
  } else {
    const list = all
      ? (after: string | null) => ledger.accountIds(after, 500)
      : (after: string | null) => ledger.accountsPendingRollups(after, 500);
    for (let after: string | null = null; ;) {
      const page = await list(after);
      if (page.length === 0) break;
      accounts.push(...page);
      after = page[page.length - 1]!;
    }
  }
  const results = [];
  let transactions = 0;
  for (const [i, id] of accounts.entries()) {
    const prefix = `rebuilding rollups ${progressBar(i, accounts.length)} ${i}/${accounts.length} accounts`;
    show(prefix);
    const r = await ledger.rebuildRollups(id, (n) => show(`${prefix}, ${id}: ${n} transactions`));
    transactions += r.transactions;
    results.push(r);
  }
  show(`rebuilt rollups ${progressBar(1, 1)} ${accounts.length}/${accounts.length} accounts`);
  if (tty) process.stderr.write('\n');
  return { accounts: results.length, transactions, results };
}

/** A series' column header: its key, or "other" and "none" (no member or project). */
function seriesHeader(s: DailyUsageReport['series'][number], by: string): string {
  return s.kind === 'key' ? s.key! : s.kind === 'other' ? 'other' : `no ${by}`;
}

/** One row a day: its date, the credits, each series; then the cycle's totals. */
export function dailyUsageText(d: DailyUsageReport): string {
  const head = pairs([
    ['account', d.accountId],
    ['period', describePeriod(d.period)],
    ['by', d.by],
    ['credits', d.credits],
    ...(d.member === null ? [] : ([['member', d.member]] as [string, string][])),
    ...(d.complete
      ? []
      : ([['complete', 'no: the read stopped at its bound']] as [string, string][])),
  ]);
  type Row = { label: string; credits: number; split: readonly number[] };
  const rows: Row[] = [
    ...d.days.map((day) => ({ label: iso(day.from)!.slice(0, 10), ...day })),
    { label: 'total', credits: d.credits, split: d.series.map((s) => s.credits) },
  ];
  const body = table(rows, [
    { header: 'day', value: (r) => r.label },
    { header: 'credits', value: (r) => r.credits },
    ...d.series.map((s, i) => ({
      header: seriesHeader(s, d.by),
      value: (r: Row) => r.split[i] ?? 0,
    })),
  ]);
  return `${head}\n\n${body}`;
}

export function registerReports(program: Command, globals: Globals): void {
  program
    .command('daily-usage <account>')
    .description("a cycle's credits by UTC day, split by operation, member or project")
    .option('--cycle <n>', 'the cycle by index (0 = the first); default: the current cycle')
    .option('--by <dimension>', 'operation, member or project', 'operation')
    .action(async (account: string, o: { cycle?: string; by: string }) => {
      const query = {
        by: o.by,
        ...(o.cycle === undefined ? {} : { cycle: parseCount(o.cycle, 'cycle') }),
      };
      await withLedger(globals(), async (ledger, out) => {
        const d = await ledger.dailyUsage(account, query);
        out.print(() => dailyUsageText(d), d);
      });
    });

  withPeriod(
    program
      .command('statement <account>')
      .description(
        'opening balance, granted by source, spent, expired, rolled over, refunded and closing',
      ),
  ).action(async (account: string, o: PeriodOptions) => {
    const period = periodFrom(o);
    await withLedger(globals(), async (ledger, out) => {
      const s = await ledger.statement(account, period);
      out.print(() => statementText(s), s);
    });
  });

  withPeriod(
    program
      .command('audit <account>')
      .description(
        'credits by operation, resolution, member and project against the period before, with findings',
      ),
  ).action(async (account: string, o: PeriodOptions) => {
    const period = periodFrom(o);
    await withLedger(globals(), async (ledger, out) => {
      const a = await ledger.audit(account, period);
      out.print(() => auditText(a.usage, a.findings, a.outcomes), a);
    });
  });

  program
    .command('outcome <account> <transaction> <outcome>')
    .description('record what became of a charge or capture: kept or discarded, with labels')
    .option(
      '--label <k=v>',
      'a label such as concept=fox, phase=explore, use=print (repeatable)',
      collect,
      [],
    )
    .action(
      async (account: string, transaction: string, outcome: string, o: { label: string[] }) => {
        const labels = parsePairs(o.label, 'label');
        await withLedger(globals(), async (ledger, out) => {
          const r = await ledger.recordOutcome({
            accountId: account,
            transactionId: transaction,
            outcome,
            labels,
          });
          out.print(() => outcomeText(r.outcome, r.replay), r);
        });
      },
    );

  const rollups = program.command('rollups').description('the hourly rollups reports read');
  rollups
    .command('rebuild [account]')
    .description(
      'recompute rollups from the journal: one account, the accounts waiting for it (default), or --all',
    )
    .option('--all', 'every account')
    .action(async (account: string | undefined, o: { all?: boolean }) => {
      if (account !== undefined && o.all) {
        throw new AmisiError('invalid_argument', 'give an account or --all, not both', {
          field: 'all',
        });
      }
      await withLedger(globals(), async (ledger, out) => {
        const r = await rebuild(ledger, account, o.all === true, out.json);
        out.print(
          () =>
            pairs([
              ['accounts rebuilt', r.accounts],
              ['journal transactions read', r.transactions],
            ]),
          r,
        );
      });
    });
}
