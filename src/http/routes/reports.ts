import { LEDGER_PROBLEMS as L } from '../../ledger/ledger.js';
import type { App, Deps } from '../app.js';
import { replayed } from '../app.js';
import { accountInScope, ownUsageOnly, SCOPE_PROBLEMS as S } from '../auth.js';
import {
  AccountAdvice,
  AccountParams,
  Audit,
  DailyUsage,
  DailyUsageQuery,
  Forecast,
  OutcomeRequest,
  OutcomeResult,
  PeriodQuery,
  Statement,
  problems,
  ref,
} from '../schemas/index.js';

function period(q: { cycle?: number; from?: number; until?: number }) {
  return {
    ...(q.cycle === undefined ? {} : { cycle: q.cycle }),
    ...(q.from === undefined ? {} : { from: q.from }),
    ...(q.until === undefined ? {} : { to: q.until }),
  };
}

/**
 * Statements and audits (read from rollups, core/reports.ts) and outcomes of charges. Reports
 * show every member's usage, so member keys need usage.all; recording an outcome is part of
 * spending, and a member without usage.all records outcomes of its own charges only.
 */
export async function reportRoutes(app: App, { ledger }: Deps): Promise<void> {
  app.get(
    '/v1/accounts/:accountId/statement',
    {
      config: { access: 'account', action: 'usage.all' },
      schema: {
        summary: 'A statement: opening, granted, spent, expired, rolled over, refunded, closing',
        description:
          "For a cycle (the current one by default) or a range [from, until). Cycles are the plan's, anchored on its start; calendar months without a plan.",
        tags: ['reports'],
        params: AccountParams,
        querystring: PeriodQuery,
        response: { 200: ref(Statement), ...problems('account', false, S.account, L.statement) },
      },
    },
    async (request) =>
      ledger.statement(accountInScope(request, request.params.accountId), period(request.query)),
  );

  app.get(
    '/v1/accounts/:accountId/audit',
    {
      config: { access: 'account', action: 'usage.all' },
      schema: {
        summary: 'Usage by operation, resolution, member and project, with findings',
        description:
          'Each line with the change against the previous period; each finding with the credits involved and what would have saved them.',
        tags: ['reports'],
        params: AccountParams,
        querystring: PeriodQuery,
        response: {
          200: ref(Audit),
          ...problems('account', false, S.account, L.audit),
        },
      },
    },
    async (request) =>
      ledger.audit(accountInScope(request, request.params.accountId), period(request.query)),
  );

  app.get(
    '/v1/accounts/:accountId/usage/daily',
    {
      config: { access: 'account', action: 'read' },
      schema: {
        summary: "A cycle's credits by UTC day, split by operation, member or project",
        description:
          'Every day of the cycle (the current one by default; a test-clock account counts its clock’s days), the days to come at 0. The split names the five keys that spent the most over the cycle, then other, then none (spent without a member or project). A member key without usage.all sees its own usage only. A cycle that has not started is invalid_argument.',
        tags: ['reports'],
        params: AccountParams,
        querystring: DailyUsageQuery,
        response: {
          200: ref(DailyUsage),
          ...problems('account', false, S.account, L.dailyUsage),
        },
      },
    },
    async (request) =>
      ledger.dailyUsage(accountInScope(request, request.params.accountId), {
        ...request.query,
        member: ownUsageOnly(request),
      }),
  );

  app.get(
    '/v1/accounts/:accountId/advice',
    {
      config: { access: 'account', action: 'usage.all' },
      schema: {
        summary: 'Buy packs or change plan, seasonal planning and the run-out forecast',
        description:
          "Read from the rollups of the last 12 closed cycles and the current one. Each item shows its arithmetic: the cycles' allocation and use, the plans compared per month, the cheapest packs.",
        tags: ['reports'],
        params: AccountParams,
        response: {
          200: ref(AccountAdvice),
          ...problems('account', false, S.account, L.advice),
        },
      },
    },
    async (request) => ledger.advice(accountInScope(request, request.params.accountId)),
  );

  app.get(
    '/v1/accounts/:accountId/forecast',
    {
      config: { access: 'account', action: 'usage.all' },
      schema: {
        summary: 'When the credits run out at the current pace, against the renewal',
        description:
          "The pace is the current cycle's spending so far over the time elapsed (a day at least, so the first charges of a cycle do not extrapolate wildly); without a plan the cycle is the calendar month. A shortfall comes with the cheapest packs that cover it.",
        tags: ['reports'],
        params: AccountParams,
        response: {
          200: ref(Forecast),
          ...problems('account', false, S.account, L.forecast),
        },
      },
    },
    async (request) => ledger.forecast(accountInScope(request, request.params.accountId)),
  );

  app.post(
    '/v1/outcomes',
    {
      config: { access: 'account', action: 'spend' },
      schema: {
        summary: 'Record what became of a charge or capture: kept or discarded, with labels',
        description:
          'Idempotent by the transaction: the same outcome and labels again answers replay true; another outcome or other labels replace it. No Idempotency-Key is needed.',
        tags: ['reports'],
        body: OutcomeRequest,
        response: {
          200: ref(OutcomeResult),
          ...problems('account', true, S.account, L.recordOutcome),
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const accountId = accountInScope(request, body.accountId);
      // A member that sees only its own usage: another member's charge looks like an unknown one.
      const r = await ledger.recordOutcome({
        accountId,
        member: ownUsageOnly(request),
        transactionId: body.transactionId,
        outcome: body.outcome,
        ...(body.labels === undefined ? {} : { labels: body.labels }),
      });
      replayed(reply, r.replay);
      return r;
    },
  );
}
