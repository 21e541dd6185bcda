import { Type } from '@sinclair/typebox';
import { MAX_LABELS } from '../../core/holds.js';
import { OUTCOMES } from '../../core/outcomes.js';
import { ADVICE_KINDS } from '../../core/advice.js';
import { FINDING_KINDS } from '../../core/reports.js';
import { DAILY_DIMS, DAILY_TOP } from '../../core/daily-usage.js';
import { Cents, Id, list, nullable, oneOf, ref, Replay, Time } from './common.js';
import { PackCombination } from './insights.js';

/** Reports read from rollups: statements, audits (usage and findings), and outcomes. */

export const PeriodQuery = Type.Object({
  cycle: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 1200,
      description: 'The cycle by index (0 = the first); default: the current cycle.',
    }),
  ),
  from: Type.Optional(Time('Start of a range (inclusive); with until, instead of cycle.')),
  until: Type.Optional(Time('End of a range (exclusive).')),
});

export const ReportPeriod = Type.Object(
  {
    from: Time('Start (inclusive).'),
    to: Time('End (exclusive).'),
    cycle: nullable(
      Type.Integer({ description: "The cycle's index; null for a range asked for as such." }),
    ),
    basis: oneOf(['cycle', 'month', 'range'] as const, {
      description:
        "cycle: the subscription's cycles; month: calendar months (no plan); range: as asked.",
    }),
  },
  {
    $id: 'ReportPeriod',
    description:
      'A half-open period [from, to). What happens at a boundary belongs to the period it opens.',
  },
);

const SourceCredits = Type.Object({ source: Type.String(), credits: Type.Integer() });

export const FlowTotal = Type.Object(
  {
    credits: Type.Integer(),
    bySource: list(SourceCredits, { description: 'By the source of the grants involved.' }),
  },
  { $id: 'FlowTotal' },
);

export const Statement = Type.Object(
  {
    accountId: Type.String(),
    period: ref(ReportPeriod),
    opening: Type.Integer({ description: 'Available and held credits at from.' }),
    granted: ref(FlowTotal),
    spent: ref(FlowTotal),
    expired: ref(FlowTotal),
    refunded: ref(FlowTotal),
    rolledOver: Type.Integer({
      description: 'Unused allocation that became rollover at a renewal in the period.',
    }),
    lostToCap: Type.Integer({
      description: 'Part of expired: allocation over the rollover cap and trimmed rollover.',
    }),
    closing: Type.Integer({
      description:
        'Available and held credits at to: opening + granted - spent - expired - refunded.',
    }),
    overdraft: Type.Object(
      {
        overdrawn: Type.Integer({
          description: 'Charged or captured past zero in the period (part of spent).',
        }),
        repaid: Type.Integer({ description: 'Debt repaid in the period by credits that arrived.' }),
        owedAtClose: Type.Integer({ description: 'What the account owes at to.' }),
      },
      { description: 'The overdraft: what went past zero, what was repaid, what is owed.' },
    ),
  },
  { $id: 'Statement', description: 'What came in and went out of an account in a period.' },
);

export const UsageLine = Type.Object(
  {
    key: Type.String(),
    credits: Type.Integer(),
    units: Type.Integer({ description: 'Images, edits... as the catalog counts them.' }),
    previousCredits: Type.Integer(),
    previousUnits: Type.Integer(),
    changeCredits: Type.Integer(),
    changeBasisPoints: nullable(
      Type.Integer({
        description:
          'The change against the previous period in hundredths of a percent; null when it had none.',
      }),
    ),
  },
  { $id: 'UsageLine' },
);

export const UsageReport = Type.Object(
  {
    accountId: Type.String(),
    period: ref(ReportPeriod),
    previous: ref(ReportPeriod),
    credits: Type.Integer({ description: 'Credits consumed in the period.' }),
    previousCredits: Type.Integer(),
    changeCredits: Type.Integer(),
    changeBasisPoints: nullable(Type.Integer()),
    byOperation: list(ref(UsageLine), {
      description: '"(credits)" for charges and holds given in credits.',
    }),
    byResolution: list(ref(UsageLine)),
    byMember: list(ref(UsageLine)),
    byProject: list(ref(UsageLine)),
  },
  { $id: 'UsageReport' },
);

export const Finding = Type.Object(
  {
    kind: oneOf(FINDING_KINDS),
    summary: Type.String(),
    credits: Type.Integer({ description: 'Credits involved.' }),
    savingCredits: Type.Integer({ description: 'What following the advice would have saved.' }),
    advice: Type.String(),
    data: Type.Object({}, { additionalProperties: true, description: 'The figures behind it.' }),
  },
  { $id: 'Finding' },
);

export const Audit = Type.Object(
  {
    usage: ref(UsageReport),
    cycles: list(ref(ReportPeriod), {
      description:
        'The current cycle and those before it, newest first, up to 24: what a cycle picker offers, with dates.',
    }),
    findings: list(ref(Finding)),
    outcomes: Type.Integer({ description: 'Outcomes recorded for charges of the period.' }),
    catalogVersion: Type.String({ description: 'The catalog that priced the savings.' }),
  },
  {
    $id: 'Audit',
    description: 'Usage by operation, resolution, member and project, and findings.',
  },
);

const Labels = Type.Record(
  Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' }),
  Type.String({ maxLength: 256 }),
  {
    maxProperties: MAX_LABELS,
    description: 'Labels such as concept, phase (explore...), use (thumbnail, print...).',
  },
);

export const OutcomeRequest = Type.Object(
  {
    accountId: Id('The account of the charge or capture.'),
    transactionId: Id('The charge or capture transaction.'),
    outcome: oneOf(OUTCOMES),
    labels: Type.Optional(Labels),
  },
  { additionalProperties: false },
);

export const Outcome = Type.Object(
  {
    accountId: Type.String(),
    transactionId: Type.String(),
    outcome: oneOf(OUTCOMES),
    labels: Type.Record(Type.String(), Type.String()),
    credits: Type.Integer({ description: 'Credits the transaction consumed.' }),
    operation: Type.String(),
    resolution: nullable(Type.String()),
    units: Type.Integer(),
    member: nullable(Type.String()),
    project: nullable(Type.String()),
    createdAt: Time('When the charge or capture happened.'),
    recordedAt: Time('When this outcome was recorded.'),
  },
  { $id: 'Outcome', description: 'What became of a charged result.' },
);

export const OutcomeResult = Type.Object(
  { outcome: ref(Outcome), replay: Replay },
  { $id: 'OutcomeResult' },
);

const BuyPacks = Type.Object({
  action: Type.Literal('buy-packs'),
  credits: Type.Integer({ description: 'The credits to cover.' }),
  packs: Type.Omit(PackCombination, ['catalogVersion', 'currency']),
  priceCents: Cents('What the packs cost.'),
});

const ChangePlan = Type.Object({
  action: oneOf(['upgrade', 'downgrade'] as const),
  from: Type.String({ description: 'The plan the account is on.' }),
  plan: Type.String({ description: 'The plan to move to.' }),
  priceCents: Cents("The new plan's price per cycle."),
  monthlySavingCents: nullable(
    Type.Integer({ description: 'Per month against staying (with packs).' }),
  ),
});

export const AdviceItem = Type.Object(
  {
    kind: oneOf(ADVICE_KINDS),
    summary: Type.String({ description: 'One paragraph for people, with the arithmetic.' }),
    figures: Type.Object(
      {},
      {
        additionalProperties: true,
        description: 'The numbers the summary was computed from (per kind: src/core/advice.ts).',
      },
    ),
    recommendation: nullable(Type.Union([BuyPacks, ChangePlan])),
  },
  { $id: 'AdviceItem', description: 'One piece of advice (src/core/advice.ts).' },
);

export const UsageCycle = Type.Object(
  {
    startsAt: Time('Start of the cycle.'),
    endsAt: Time('End of the cycle (exclusive).'),
    plan: Type.String({ description: 'The plan of the cycle, told by its allocation.' }),
    allocation: Type.Integer({ description: 'Credits the plan granted in the cycle.' }),
    consumed: Type.Integer({ description: 'Credits spent in the cycle.' }),
    purchased: Type.Integer({ description: 'Pack credits bought in the cycle.' }),
    byProject: Type.Optional(Type.Record(Type.String(), Type.Integer())),
  },
  { $id: 'UsageCycle' },
);

export const AccountAdvice = Type.Object(
  {
    accountId: Type.String(),
    asOf: Time('When the advice was computed.'),
    plan: nullable(Type.String({ description: 'The current plan; null without one.' })),
    members: Type.Integer({ description: 'Members a plan must seat.' }),
    period: ref(ReportPeriod),
    cycles: list(ref(UsageCycle), { description: 'Closed cycles, oldest first, up to 12.' }),
    advice: list(ref(AdviceItem), {
      description:
        'The tier item, seasonal planning and the run-out forecast (forecast only without a plan).',
    }),
    headline: Type.Union([ref(AdviceItem), Type.Null()], {
      description:
        'The one item to lead with, so that advice never disagrees with itself: an upgrade that is cheaper per month, then a run-out with its packs, then packs for overruns (none while the forecast says the credits last past the renewal), a downgrade, seasonal packs, then the forecast. Never a short-history item.',
    }),
  },
  { $id: 'AccountAdvice' },
);

export const Forecast = Type.Object(
  {
    accountId: Type.String(),
    asOf: Time('When the forecast was computed.'),
    forecast: ref(AdviceItem),
  },
  { $id: 'Forecast', description: "run-out or lasts-past-renewal, at the current cycle's pace." },
);

export const DailyUsageQuery = Type.Object({
  cycle: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 1200,
      description: 'The cycle by index (0 = the first); default: the current cycle.',
    }),
  ),
  by: Type.Optional(
    oneOf(DAILY_DIMS, { description: 'What each day is split by; default operation.' }),
  ),
});

export const DailySeries = Type.Object(
  {
    key: nullable(
      Type.String({ description: 'The operation, member or project; null for other and none.' }),
    ),
    kind: oneOf(['key', 'other', 'none'] as const, {
      description: `key: one of the ${DAILY_TOP} that spent the most; other: the rest; none: without a member (or project).`,
    }),
    credits: Type.Integer({ description: 'Credits over the whole cycle.' }),
  },
  { $id: 'DailySeries' },
);

export const UsageDay = Type.Object(
  {
    from: Time('Start of the day (UTC), or of the cycle on its first day.'),
    to: Time('End of the day (exclusive), or of the cycle on its last day.'),
    credits: Type.Integer({ description: 'Credits spent that day.' }),
    split: list(Type.Integer(), { description: 'Credits of each series, in the order of series.' }),
  },
  { $id: 'UsageDay' },
);

export const DailyUsage = Type.Object(
  {
    accountId: Type.String(),
    asOf: Time('Now, by the account’s clock (a test clock’s for its accounts).'),
    period: ref(ReportPeriod),
    by: oneOf(DAILY_DIMS),
    member: nullable(
      Type.String({ description: "Only this member's usage (a member key without usage.all)." }),
    ),
    complete: Type.Boolean({
      description: 'False when the read stopped at its bound (50,000 rows); days then count less.',
    }),
    credits: Type.Integer({ description: 'Credits spent in the cycle (so far).' }),
    series: list(ref(DailySeries)),
    days: list(ref(UsageDay), { description: 'Every UTC day of the cycle, the days to come too.' }),
  },
  { $id: 'DailyUsage' },
);
