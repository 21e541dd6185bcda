import { AmisiError } from '../../core/errors.js';
import { attributionOf } from '../../core/journal-detail.js';
import { OUTCOMES, type Outcome } from '../../core/outcomes.js';
import {
  exactWindow,
  rangeTotals,
  spendOf,
  type RangeTotals,
  type UsageRow,
} from '../../core/rollups.js';
import {
  DAILY_DIMS,
  dailyUsage,
  usageOfRollups,
  usageOfSpend,
  type DailyDim,
  type DailyUsage,
  type UsageAt,
} from '../../core/daily-usage.js';
import {
  buildStatement,
  buildUsage,
  findings,
  previousPeriod,
  recentCycles,
  resolvePeriod,
  tierFit,
  usageCycle,
  type Finding,
  type Period,
  type PeriodBasis,
  type ReportedCycle,
  type PeriodInput,
  type Statement,
  type UsageReport,
} from '../../core/reports.js';
import {
  advise,
  forecastRunOut,
  headlineAdvice,
  SEASON_WINDOW,
  type Advice,
  type ForecastInput,
} from '../../core/advice.js';
import type { Subscription } from '../../core/subscriptions.js';
import { cycleAt } from '../../core/cycles.js';
import type { Replayable } from '../idempotency.js';
import * as reports from './commands.js';
import type { LedgerContext } from '../context.js';
import type { AccountsApi } from '../accounts/api.js';
import type { CatalogApi } from '../catalog/api.js';
import type { TeamsApi } from '../teams/api.js';
import type { CatalogRecord } from '../store.js';
import { requireAttribution, requireId, requireOneOf, requireTime } from '../validate.js';
import { currentSubscription } from '../reads.js';
import { ACCOUNT, CATALOG, codes, STORE, type UseCaseProblems } from '../problems.js';

/** Advice for an account now, with the closed cycles it was computed from. */
export interface AccountAdvice {
  readonly accountId: string;
  readonly asOf: number;
  /** The plan the account is on; null without one. */
  readonly plan: string | null;
  /** Members a plan must seat (1 for an individual account). */
  readonly members: number;
  /** The current cycle (the forecast's). */
  readonly period: Period;
  /** Closed cycles, oldest first, up to 12. */
  readonly cycles: readonly ReportedCycle[];
  readonly advice: readonly Advice[];
  /** The one item to lead with (core/advice-headline.ts); null when none applies. */
  readonly headline: Advice | null;
}

export interface Audit {
  readonly usage: UsageReport;
  /** The current cycle and those before it, newest first, up to MAX_LISTED_CYCLES. */
  readonly cycles: readonly Period[];
  readonly findings: Finding[];
  readonly outcomes: number;
  readonly catalogVersion: string;
}

/** A cycle's usage by UTC day (core/daily-usage.ts), as the dashboard charts it. */
export interface DailyUsageReport extends DailyUsage {
  readonly accountId: string;
  readonly asOf: number;
  readonly period: Period;
  /** Only this member's usage (a member that sees its own); null: everyone's. */
  readonly member: string | null;
  /** False when the read stopped at its bound (MAX_DAILY_ROWS); the days then count less. */
  readonly complete: boolean;
}

/**
 * Rows one daily-usage read takes at most: hourly rollup rows (a month has 744 hours, so this
 * is some 60 keys each hour), or a member's charges and captures in the journal.
 */
export const MAX_DAILY_ROWS = 50_000;

const SPEND_KINDS = ['charge', 'capture', 'partial_capture'] as const;

/** The problem codes of each use-case below (src/ledger/problems.ts). */
export const REPORTS_PROBLEMS = {
  recordOutcome: codes(ACCOUNT, 'unknown_transaction', 'not_a_charge'),
  advice: codes(ACCOUNT, CATALOG),
  forecast: codes(ACCOUNT, CATALOG),
  statement: ACCOUNT,
  usage: ACCOUNT,
  dailyUsage: ACCOUNT,
  audit: codes(ACCOUNT, CATALOG),
  outcomes: ACCOUNT,
  rebuildRollups: ACCOUNT,
  accountsPendingRollups: STORE,
} as const satisfies UseCaseProblems<ReportsApi>;

/** Reports: outcomes, statements, usage, audits, advice and forecasts, all from rollups. */
export class ReportsApi {
  constructor(
    private readonly ctx: LedgerContext,
    private readonly accounts: AccountsApi,
    private readonly catalog: CatalogApi,
    private readonly teams: TeamsApi,
  ) {}

  /**
   * Records what became of a charge or capture (kept or discarded, with labels such as concept,
   * phase or use). Idempotent by its natural key: the same again is a replay, a change replaces.
   * With `member` (a member that sees only its own usage), another member's charge reads as an
   * unknown transaction.
   */
  async recordOutcome(input: {
    accountId: string;
    transactionId: string;
    outcome: string;
    labels?: Record<string, string>;
    member?: string | null;
  }): Promise<Replayable<{ outcome: Outcome }>> {
    if (input.member != null) await this.refuseOthersCharge(input, input.member);
    const checked: reports.RecordOutcomeInput = {
      accountId: requireId(input.accountId, 'account'),
      transactionId: requireId(input.transactionId, 'transaction'),
      outcome: requireOneOf(input.outcome, OUTCOMES, 'outcome'),
      labels: requireAttribution({ labels: input.labels ?? {} }).labels,
    };
    return this.ctx.committer.submit((b) => reports.recordOutcome(b, checked), {
      accountId: checked.accountId,
    });
  }

  private async refuseOthersCharge(
    input: { accountId: string; transactionId: string },
    member: string,
  ): Promise<void> {
    const { accountId, transactionId } = input;
    const t = await this.accounts.transaction(accountId, transactionId);
    const attributed = t ? attributionOf(t)?.member : undefined;
    if (t && attributed !== member) {
      throw new AmisiError(
        'unknown_transaction',
        `unknown transaction "${transactionId}" of ${accountId}`,
        { accountId, transactionId },
      );
    }
  }

  /** The period a report covers, and the one before it (see core/reports.ts resolvePeriod). */
  private async periods(accountId: string, input: PeriodInput) {
    // Settles what is due first (a renewal, expiries), so the current cycle is now's.
    const account = await this.accounts.settle(accountId);
    const sub = await currentSubscription(this.ctx.store, accountId);
    const basis = {
      anchorAt: sub?.anchorAt ?? null,
      accountCreatedAt: account.createdAt,
      now: await this.ctx.times.nowFor(accountId),
    };
    const checked: PeriodInput = {
      ...(input.cycle === undefined ? {} : { cycle: input.cycle }),
      ...(input.from === undefined ? {} : { from: requireTime(input.from, 'from') }),
      ...(input.to === undefined ? {} : { to: requireTime(input.to, 'until') }),
    };
    const period = resolvePeriod(basis, checked);
    return { period, previous: previousPeriod(basis, period), basis, sub };
  }

  /**
   * The closed cycles before cycle `end` (up to SEASON_WINDOW, oldest first), as advice reads
   * them: each from the rollups of its range (core/reports.ts usageCycle). A plan started in
   * the past (subscribe with startsAt) catches up the cycles before it was made, each renewal
   * dated at its boundary, so those cycles show their own allocation; but nothing was metered
   * under the plan then (usage before the plan was made is not its usage), and the cycle it was
   * made in was metered only in part. Both are left out: they would read as cycles that used
   * little, and advise a downgrade the account never earned.
   */
  private async closedCycles(
    accountId: string,
    basis: PeriodBasis,
    end: number,
    sub: Subscription,
    plans: CatalogRecord['body']['plans'],
  ): Promise<ReportedCycle[]> {
    // Made in cycle k > 0 of its anchor: cycles 0..k were not (wholly) metered under the plan.
    const made = sub.createdAt > sub.anchorAt ? cycleAt(sub.anchorAt, sub.createdAt).index : 0;
    const firstClean = made === 0 ? 0 : made + 1;
    const indexes: number[] = [];
    for (let i = Math.max(firstClean, end - SEASON_WINDOW); i < end; i += 1) indexes.push(i);
    if (indexes.length === 0) return [];
    const [account, projects] = await Promise.all([
      this.accounts.known(accountId),
      this.ctx.store.find('projects', { accountId: accountId }, { order: ['id'] }),
    ]);
    const withProjects = account.kind === 'organization' && projects.length > 0;
    const read = async (cycle: number) => {
      const p = resolvePeriod(basis, { cycle });
      const t = await this.totals(accountId, p, { before: false, usage: true });
      return usageCycle(p, t, plans, sub.plan, withProjects);
    };
    // The first read rebuilds rollups that await it, once; the others then read them.
    const first = await read(indexes[0]!);
    return [first, ...(await Promise.all(indexes.slice(1).map(read)))];
  }

  /**
   * The run-out forecast's input: the current cycle's spending so far, the balance, the renewal.
   * `now` is the instant the period was resolved at, so a boundary passing meanwhile cannot put
   * it outside the period.
   */
  private async forecastInput(
    accountId: string,
    period: Period,
    now: number,
  ): Promise<ForecastInput> {
    const [balance, totals] = await Promise.all([
      this.accounts.balance(accountId),
      this.totals(accountId, period, { before: false, usage: false }),
    ]);
    return {
      now,
      available: balance.available,
      renewalAt: period.to,
      spentSoFarThisCycle: totals.flows
        .filter((r) => r.flow === 'consumed')
        .reduce((sum, r) => sum + r.credits, 0),
      cycleStartsAt: period.from,
    };
  }

  /**
   * Advice for the account now (core/advice.ts): the tier item (packs, upgrade, downgrade, or the
   * plan fits) and seasonal planning over its closed cycles, and the run-out forecast of the
   * current one. Without a plan, the forecast only: the tier rules compare plans.
   */
  async advice(accountId: string): Promise<AccountAdvice> {
    const { period, basis, sub } = await this.periods(accountId, {});
    const [catalog, members, forecast] = await Promise.all([
      this.catalog.activeCatalog(),
      this.teams.seatsNeeded(accountId),
      this.forecastInput(accountId, period, basis.now),
    ]);
    // A plan the active catalog no longer sells cannot be compared with the others.
    const active = sub?.status === 'active' && Object.hasOwn(catalog.body.plans, sub.plan);
    const plan = active ? sub.plan : null;
    const cycles =
      !active || period.cycle === null
        ? []
        : await this.closedCycles(accountId, basis, period.cycle, sub, catalog.body.plans);
    const advice =
      plan === null
        ? [forecastRunOut(catalog.body, forecast)]
        : advise({ catalog: catalog.body, cycles, plan, members, forecast });
    return {
      accountId,
      asOf: forecast.now,
      plan,
      members,
      period,
      cycles,
      advice,
      headline: headlineAdvice(advice),
    };
  }

  /**
   * When the credits run out at the current cycle's pace, against the renewal (the end of the
   * calendar month without a plan), with the cheapest packs for any shortfall.
   */
  async forecast(
    accountId: string,
  ): Promise<{ accountId: string; asOf: number; forecast: Advice }> {
    const { period, basis } = await this.periods(accountId, {});
    const [catalog, input] = await Promise.all([
      this.catalog.activeCatalog(),
      this.forecastInput(accountId, period, basis.now),
    ]);
    return { accountId, asOf: input.now, forecast: forecastRunOut(catalog.body, input) };
  }

  /**
   * Exact totals of [from, to) from the rollups of its whole hours and the journal of its edge
   * hours, read as one snapshot; `before` adds every flow before `from` (an opening balance).
   * An account whose journal predates its rollups is rebuilt first (once).
   */
  private async totals(
    accountId: string,
    p: { from: number; to: number },
    want: { before: boolean; usage: boolean },
  ): Promise<RangeTotals> {
    const w = exactWindow(p.from, p.to);
    const query = {
      accountId,
      hoursFrom: w.hoursFrom,
      hoursTo: w.hoursTo,
      journal: w.journal,
      ...want,
    };
    let read = await this.ctx.store.rollupWindow(query);
    if (read.pending) {
      await this.rebuildRollups(accountId);
      read = await this.ctx.store.rollupWindow(query);
    }
    return rangeTotals(w, read);
  }

  /**
   * A statement of the account for a cycle (the current one by default), or a range: opening
   * balance, granted by source, spent, expired, rolled over, lost to the cap, refunded, closing.
   */
  async statement(accountId: string, input: PeriodInput = {}): Promise<Statement> {
    const { period } = await this.periods(accountId, input);
    const totals = await this.totals(accountId, period, { before: true, usage: false });
    return buildStatement(accountId, period, totals);
  }

  /** Credits and units by operation, resolution, member and project, against the period before. */
  async usage(accountId: string, input: PeriodInput = {}): Promise<UsageReport> {
    const { period, previous } = await this.periods(accountId, input);
    const [current, before] = await Promise.all([
      this.totals(accountId, period, { before: false, usage: true }),
      this.totals(accountId, previous, { before: false, usage: true }),
    ]);
    return buildUsage(accountId, period, previous, current, before);
  }

  /**
   * A cycle's credits by UTC day (the current cycle by default; a test-clock account's days are
   * its clock's), split by operation, member or project: the hourly rollups of its whole hours
   * and the journal of its edge hours. With `member` (a member that sees only its own usage):
   * that member's charges and captures in the journal instead, since rollups do not cross
   * dimensions. A cycle that has not started yet is refused.
   */
  async dailyUsage(
    accountId: string,
    input: { cycle?: number; by?: string; member?: string | null } = {},
  ): Promise<DailyUsageReport> {
    const by = requireOneOf(input.by ?? 'operation', DAILY_DIMS, 'by');
    const member = input.member == null ? null : requireId(input.member, 'member');
    const { period, basis } = await this.periods(
      accountId,
      input.cycle === undefined ? {} : { cycle: input.cycle },
    );
    if (period.from > basis.now) {
      const current = resolvePeriod(basis, {}).cycle;
      throw new AmisiError(
        'invalid_argument',
        `cycle ${period.cycle} has not started: the current cycle is ${current}`,
        { field: 'cycle', value: String(period.cycle) },
      );
    }
    const read =
      member === null
        ? await this.usageByHour(accountId, period, by)
        : await this.memberUsage(accountId, period, by, member);
    return {
      accountId,
      asOf: basis.now,
      period,
      member,
      complete: read.complete,
      ...dailyUsage({ from: period.from, to: period.to, by, usage: read.usage }),
    };
  }

  /** Everyone's usage of a period under `by`: rollups by hour, the edge hours from the journal. */
  private async usageByHour(
    accountId: string,
    period: Period,
    by: DailyDim,
  ): Promise<{ usage: UsageAt[]; complete: boolean }> {
    const w = exactWindow(period.from, period.to);
    // The edges first: their read rebuilds rollups that await it, before the hours are read.
    const edges = await Promise.all(
      w.journal.map(async (i) => {
        const t = await this.totals(accountId, i, { before: false, usage: true });
        return usageOfRollups(i.from, t.usage, by);
      }),
    );
    const rows = await this.ctx.store.find(
      'usage_hourly',
      {
        accountId,
        hour: { gte: w.hoursFrom, lt: w.hoursTo },
        dim: by === 'operation' ? 'operation' : ['operation', by],
      },
      { order: ['hour'], limit: MAX_DAILY_ROWS + 1 },
    );
    const complete = rows.length <= MAX_DAILY_ROWS;
    const hours = new Map<number, UsageRow[]>();
    for (const r of rows.slice(0, MAX_DAILY_ROWS)) {
      const list = hours.get(r.hour);
      if (list) list.push(r);
      else hours.set(r.hour, [r]);
    }
    // A cut read may end inside an hour: that hour is left out whole, so no split is partial.
    if (!complete) hours.delete(rows[MAX_DAILY_ROWS - 1]!.hour);
    const usage = [...hours].flatMap(([hour, list]) => usageOfRollups(hour, list, by));
    return { usage: [...edges.flat(), ...usage], complete };
  }

  /** One member's usage of a period under `by`, from its charges and captures in the journal. */
  private async memberUsage(
    accountId: string,
    period: Period,
    by: DailyDim,
    member: string,
  ): Promise<{ usage: UsageAt[]; complete: boolean }> {
    const rows = await this.ctx.store.journal(
      { accountId, kind: [...SPEND_KINDS], createdAt: { gte: period.from, lt: period.to } },
      { order: ['createdAt', 'id'], limit: MAX_DAILY_ROWS + 1 },
    );
    const own = rows.slice(0, MAX_DAILY_ROWS).filter((t) => attributionOf(t)?.member === member);
    const holdIds = [
      ...new Set(own.flatMap((t) => (t.kind === 'charge' || t.holdId === null ? [] : [t.holdId]))),
    ];
    const holds = await this.ctx.store.getMany(
      'holds',
      holdIds.map((id) => ({ accountId, id })),
    );
    const lines = new Map(holds.map((h) => [h.id, h.quote?.lines ?? []]));
    const usage = own.flatMap((t) => {
      const spend = spendOf(t, { holdLines: (id) => lines.get(id) ?? [] });
      return spend ? usageOfSpend(t.createdAt, spend, by) : [];
    });
    return { usage, complete: rows.length <= MAX_DAILY_ROWS };
  }

  /** The usage report and its findings (each with the credits involved and the saving). */
  async audit(accountId: string, input: PeriodInput = {}): Promise<Audit> {
    const { period, previous, basis, sub } = await this.periods(accountId, input);
    const [current, before, outcomes, catalog] = await Promise.all([
      this.totals(accountId, period, { before: false, usage: true }),
      this.totals(accountId, previous, { before: false, usage: true }),
      this.ctx.store.find(
        'outcomes',
        { accountId: accountId, createdAt: { gte: period.from, lt: period.to } },
        { order: ['createdAt', 'transactionId'] },
      ),
      this.catalog.activeCatalog(),
    ]);
    const fit = await this.tierFitOf(accountId, basis, period, sub, catalog.body);
    return {
      usage: buildUsage(accountId, period, previous, current, before),
      cycles: recentCycles(basis),
      findings: [
        ...findings({
          catalog: catalog.body,
          period,
          previous,
          flows: current.flows,
          previousFlows: before.flows,
          outcomes,
        }),
        ...(fit ? [fit] : []),
      ],
      outcomes: outcomes.length,
      catalogVersion: catalog.version,
    };
  }

  /**
   * The audit's tier-fit finding for a cycle: the tier advice over the closed cycles up to it
   * (the audited cycle included once it has closed). None for a range, or without a plan.
   */
  private async tierFitOf(
    accountId: string,
    basis: PeriodBasis,
    period: Period,
    sub: Subscription | undefined,
    catalog: CatalogRecord['body'],
  ): Promise<Finding | null> {
    if (
      sub?.status !== 'active' ||
      period.cycle === null ||
      !Object.hasOwn(catalog.plans, sub.plan)
    ) {
      return null;
    }
    // Cycles closed by the end of the audited one, and never past now's.
    const current = resolvePeriod(basis, {}).cycle ?? 0;
    const closed = Math.min(period.to <= basis.now ? period.cycle + 1 : period.cycle, current);
    const [cycles, members] = await Promise.all([
      this.closedCycles(accountId, basis, closed, sub, catalog.plans),
      this.teams.seatsNeeded(accountId),
    ]);
    if (cycles.length === 0) return null;
    // An audit of a past cycle judges the plan of that time (told by its allocation).
    const plan = closed < current ? cycles.at(-1)!.plan : sub.plan;
    return tierFit({ catalog, cycles, plan, members });
  }

  /** Outcomes of the account's charges and captures made in [from, to), oldest first. */
  async outcomes(accountId: string, from: number, to: number): Promise<Outcome[]> {
    await this.accounts.known(accountId);
    const checked = { from: requireTime(from, 'from'), to: requireTime(to, 'to') };
    return this.ctx.store.find(
      'outcomes',
      { accountId: accountId, createdAt: { gte: checked.from, lt: checked.to } },
      { order: ['createdAt', 'transactionId'] },
    );
  }

  /**
   * Recomputes one account's rollups from its journal in one write transaction (the account is
   * locked meanwhile). `onProgress` hears the journal transactions read so far.
   */
  async rebuildRollups(
    accountId: string,
    onProgress?: (transactions: number) => void,
  ): Promise<reports.RebuildResult> {
    const id = requireId(accountId, 'account');
    return this.ctx.committer.submit((b) => reports.rebuildRollups(b, id, onProgress), {
      accountId: id,
    });
  }

  /** A page of the accounts whose rollups await a rebuild (journal before migration 10). */
  async accountsPendingRollups(afterId: string | null, limit: number): Promise<string[]> {
    const where = { accountId: { gt: afterId ?? '' } };
    const o = { fields: ['accountId'], order: ['accountId'], limit } as const;
    return (await this.ctx.store.find('rollups_pending', where, o)).map((r) => r.accountId);
  }
}
