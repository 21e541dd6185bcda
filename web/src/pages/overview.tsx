import { useState } from 'react';
import type {
  AdviceItem,
  Balance,
  DailyUsage,
  GrantBalance,
  Plan,
  PlanList,
  Subscription,
} from '../../../src/client/index.js';
import { BarChart } from '../components/bar-chart.js';
import { MemberBudgetCard } from '../components/budget.js';
import { DailyChart } from '../components/daily-chart.js';
import { Async } from '../components/status.js';
import { Table } from '../components/table.js';
import { formatCredits, formatDate, formatMoney, formatNumber } from '../format.js';
import type { PageProps } from '../page-props.js';
import { accountPath } from '../router.js';
import { Link } from '../shell.js';
import { planName, subscriptionOrNull } from '../subscription.js';
import { useRequest, type RequestState } from '../use-request.js';

/**
 * The account at a glance: available credits, the plan with its price and credits per cycle and
 * how much of them this cycle used, one piece of advice with its action, the cycle's usage by
 * day, and the grants by expiry (what rolls over at the renewal shown as such).
 */
export function OverviewPage(props: PageProps) {
  const { client, account } = props;
  const [balance] = useRequest(
    (signal) => client.balance.get(account.id, { signal }),
    [account.id],
  );
  // The cycle's total for the meter: by operation, so the chart's switch does not reload it.
  const [used] = useRequest(
    (signal) => client.reports.dailyUsage(account.id, { by: 'operation' }, { signal }),
    [account.id],
  );
  return (
    <div className="grid">
      <section className="card" aria-labelledby="available-title">
        <h2 id="available-title">Available</h2>
        <Async state={balance} what="the balance">
          {(b) => <BalanceSummary balance={b} />}
        </Async>
      </section>
      <MemberBudgetCard {...props} />
      <PlanCard {...props} used={used} />
      <AdviceCard {...props} />
      <UsageCard {...props} />
      <section className="card wide" aria-labelledby="grants-title">
        <h2 id="grants-title">Where the credits come from</h2>
        <Async state={balance} what="the grants">
          {(b) => <Grants grants={b.grants} />}
        </Async>
      </section>
    </div>
  );
}

function BalanceSummary({ balance }: { readonly balance: Balance }) {
  return (
    <>
      <p className="big" data-testid="available">
        {formatNumber(balance.available)}
        <span className="unit"> credits</span>
      </p>
      <p>{formatCredits(balance.held)} held for jobs in progress.</p>
      <OverdraftLine overdraft={balance.overdraft} />
      <NextExpiry grants={balance.grants} />
    </>
  );
}

/** Credits of a grant that expire at its expiry: what the renewal does not roll over. */
function expiring(g: GrantBalance): number {
  return g.remaining - g.rollsOver;
}

/** The soonest expiry of credits that really expire (rolled-over credits live on). */
function NextExpiry({ grants }: { readonly grants: readonly GrantBalance[] }) {
  let next: { at: number; credits: number } | null = null;
  for (const g of grants) {
    if (g.expiresAt === null || expiring(g) <= 0) continue;
    if (next === null || g.expiresAt < next.at) next = { at: g.expiresAt, credits: 0 };
    if (g.expiresAt === next.at) next.credits += expiring(g);
  }
  const rolling = grants.reduce((s, g) => s + g.rollsOver, 0);
  return (
    <>
      {next && (
        <p data-testid="next-expiry">
          Next expiry: {formatCredits(next.credits)} on {formatDate(next.at)}.
        </p>
      )}
      {rolling > 0 && (
        <p data-testid="rolling-over">{formatCredits(rolling)} roll over at the renewal.</p>
      )}
    </>
  );
}

/** What is owed past zero and what the overdraft still allows; nothing without one. */
function OverdraftLine({ overdraft: o }: { readonly overdraft: Balance['overdraft'] }) {
  if (o.limit === 0 && o.debt === 0 && o.held === 0) return null;
  return (
    <p data-testid="overdraft">
      {o.debt > 0 && (
        <>
          <strong>{formatCredits(o.debt)} owed</strong>, paid first from your next credits.{' '}
        </>
      )}
      {o.held > 0 && <>{formatCredits(o.held)} of the held credits are past zero. </>}
      {o.mode === 'hard'
        ? `Overdraft: ${formatCredits(o.remaining)} of ${formatCredits(o.limit)} left.`
        : `Overdraft limit ${formatCredits(o.limit)} (soft).`}
    </p>
  );
}

const SOURCE_NAMES: Record<GrantBalance['source'], string> = {
  allocation: 'Plan allocation',
  rollover: 'Rollover',
  purchase: 'Pack',
  promotion: 'Promotion',
  trial: 'Trial',
  adjustment: 'Adjustment',
};

/** Soonest expiry first, never-expiring last; then as the balance lists them. */
function byExpiry(a: GrantBalance, b: GrantBalance): number {
  return (a.expiresAt ?? Infinity) - (b.expiresAt ?? Infinity);
}

/** At its expiry: "Rolls over" (all of it), "Expires", or both with the figures. */
function atExpiry(g: GrantBalance): string {
  const date = formatDate(g.expiresAt);
  if (g.rollsOver === 0) return g.expiresAt === null ? 'Never expires' : `Expires ${date}`;
  if (expiring(g) === 0) return `Rolls over ${date}`;
  return `${formatNumber(g.rollsOver)} roll over, ${formatNumber(expiring(g))} expire ${date}`;
}

function Grants({ grants }: { readonly grants: readonly GrantBalance[] }) {
  const open = grants.filter((g) => g.remaining > 0 || g.held > 0).sort(byExpiry);
  if (open.length === 0) return <p className="muted">No credits yet.</p>;
  const bars = new Map<string, number>();
  const rolling = open.reduce((s, g) => s + g.rollsOver, 0);
  if (rolling > 0) bars.set('Roll over', rolling);
  for (const g of open) {
    if (expiring(g) <= 0) continue;
    const label = g.expiresAt === null ? 'Never' : formatDate(g.expiresAt);
    bars.set(label, (bars.get(label) ?? 0) + expiring(g));
  }
  return (
    <>
      <Table
        caption="Grants with credits left"
        columns={[
          { label: 'Source' },
          { label: 'Remaining', numeric: true },
          { label: 'At expiry' },
          { label: 'Held', numeric: true },
          { label: 'Granted', numeric: true },
        ]}
      >
        {/* What happens at expiry next to what remains: on a phone, before the table scrolls. */}
        {open.map((g) => (
          <tr key={g.id} data-testid="grant-row">
            <th scope="row">{SOURCE_NAMES[g.source]}</th>
            <td className="num">{formatNumber(g.remaining)}</td>
            <td>{atExpiry(g)}</td>
            <td className="num">{formatNumber(g.held)}</td>
            <td className="num">{formatNumber(g.amount)}</td>
          </tr>
        ))}
      </Table>
      <BarChart
        title="Credits by expiry date"
        unit="credits"
        bars={[...bars].map(([label, value]) => ({ label, value }))}
      />
    </>
  );
}

/** The plan: its name, price and credits per cycle, the renewal, and this cycle's use. */
function PlanCard(props: PageProps & { readonly used: RequestState<DailyUsage> }) {
  const { client, account, used } = props;
  const [sub] = useRequest(
    (signal) => subscriptionOrNull(client, account.id, signal),
    [account.id],
  );
  const [plans] = useRequest((signal) => client.catalog.plans({ signal }), []);
  return (
    <section className="card" aria-labelledby="plan-title">
      <h2 id="plan-title">Plan</h2>
      <Async state={sub} what="the plan">
        {(s: Subscription | null) =>
          s === null || s.status !== 'active' ? (
            <>
              <p>No plan: credits come from packs and grants only.</p>
              <UsedMeter used={used} plan={null} mine={!props.can.allUsage} />
            </>
          ) : (
            <Async state={plans} what="the plans">
              {(list) => <PlanSummary sub={s} list={list} used={used} mine={!props.can.allUsage} />}
            </Async>
          )
        }
      </Async>
    </section>
  );
}

function PlanSummary(props: {
  readonly sub: Subscription;
  readonly list: PlanList;
  readonly used: RequestState<DailyUsage>;
  readonly mine: boolean;
}) {
  const { sub: s, list } = props;
  const plan = list.plans.find((p) => p.id === s.plan) ?? null;
  const name = (id: string) => list.plans.find((p) => p.id === id)?.name ?? id;
  return (
    <>
      <p className="medium" data-testid="plan-name">
        {plan?.name ?? s.plan}
      </p>
      {plan && (
        <p data-testid="plan-terms">
          {formatMoney(plan.priceCents, list.currency)} per cycle for{' '}
          {formatCredits(plan.creditsPerCycle)} per cycle
          {plan.rolloverCap > 0 ? `; up to ${formatNumber(plan.rolloverCap)} roll over.` : '.'}
        </p>
      )}
      <p>
        {s.cancelAt !== null
          ? `Ends on ${formatDate(s.cancelAt)}.`
          : `Renews on ${formatDate(s.nextRenewalAt)}.`}
        {s.pendingPlan !== null && ` Changes to ${name(s.pendingPlan)} then.`}
      </p>
      <UsedMeter used={props.used} plan={plan} mine={props.mine} />
    </>
  );
}

/** "Used X of Y this cycle" with a meter against the plan's credits (a member: its own use). */
function UsedMeter(props: {
  readonly used: RequestState<DailyUsage>;
  readonly plan: Plan | null;
  readonly mine: boolean;
}) {
  const { used, plan } = props;
  if (used.status !== 'ok') return null;
  const x = used.data.credits;
  const who = props.mine ? 'You used' : 'Used';
  if (plan === null || plan.creditsPerCycle === 0) {
    return <p data-testid="used">{`${who} ${formatCredits(x)} this cycle.`}</p>;
  }
  const y = plan.creditsPerCycle;
  return (
    <div>
      <label htmlFor="used-meter" data-testid="used">
        {`${who} ${formatNumber(x)} of ${formatCredits(y)} this cycle`}
        {x > y ? ` (${formatNumber(x - y)} over)` : ''}
      </label>
      <meter
        id="used-meter"
        className="usage-meter"
        min={0}
        max={y}
        high={y}
        value={Math.min(x, y)}
      />
    </div>
  );
}

/** Forecast and advice read the whole organization's usage: owners and admins see them. */
function OrganizationOnly({ what }: { readonly what: string }) {
  return (
    <p className="muted">{what} covers the whole organization: its owners and admins see it.</p>
  );
}

/**
 * One piece of advice, the one the server leads with (core/advice-headline.ts: never packs
 * beside a forecast that says the credits last), with its action as a button, and the
 * forecast's figures under it.
 */
function AdviceCard({ client, account, can }: PageProps) {
  const [state] = useRequest(
    (signal) =>
      can.allUsage ? client.reports.advice(account.id, { signal }) : Promise.resolve(null),
    [account.id, can.allUsage],
  );
  const [plans] = useRequest((signal) => client.catalog.plans({ signal }), []);
  return (
    <section className="card" aria-labelledby="advice-title">
      <h2 id="advice-title">Advice</h2>
      <Async state={state} what="advice">
        {(a) => {
          if (a === null) return <OrganizationOnly what="Advice" />;
          const forecast = a.advice.find((x) => FORECAST_KINDS.includes(x.kind));
          return (
            <>
              {a.headline === null ? (
                <p className="muted">No advice for now.</p>
              ) : (
                <p data-testid="advice">{a.headline.summary}</p>
              )}
              {/* The forecast's figures, unless it is the headline itself (said once). */}
              {forecast && forecast.kind !== a.headline?.kind && (
                <Pace figures={forecast.figures} />
              )}
              {a.headline?.recommendation && (
                <p>
                  <Next
                    accountId={account.id}
                    recommendation={a.headline.recommendation}
                    planName={(id) => planName(plans, id)}
                  />
                </p>
              )}
            </>
          );
        }}
      </Async>
    </section>
  );
}

const FORECAST_KINDS: readonly string[] = ['run-out', 'lasts-past-renewal'];

/** The pace, and the run-out date or what is left at the renewal (ForecastFigures, core/advice.ts). */
function Pace({ figures }: { readonly figures: AdviceItem['figures'] }) {
  const f = figures as Readonly<Record<string, unknown>>;
  const pace = f['paceCreditsPerDay'];
  const runOutAt = f['runOutAt'];
  const renewalAt = f['renewalAt'];
  const left = f['leftAtRenewal'];
  if (typeof pace !== 'number' || typeof renewalAt !== 'number') return null;
  return (
    <p className="muted small" data-testid="forecast">
      {typeof runOutAt === 'number'
        ? `At ${formatCredits(pace)} a day, the credits run out on ${formatDate(runOutAt)}, before the renewal on ${formatDate(renewalAt)}.`
        : `At ${formatCredits(pace)} a day, the credits last past the renewal on ${formatDate(renewalAt)}${typeof left === 'number' ? `, about ${formatNumber(left)} left` : ''}.`}
    </p>
  );
}

/** The Credits page with the advised packs (`?buy=pack:count,...`), or the Plan page. */
export function adviceTarget(
  accountId: string,
  r: NonNullable<AdviceItem['recommendation']>,
): string {
  if (r.action !== 'buy-packs') return accountPath(accountId, 'plan');
  const buy = r.packs.lines.map((l) => `${encodeURIComponent(l.pack)}:${l.count}`).join(',');
  return `${accountPath(accountId, 'credits')}?buy=${buy}`;
}

function Next(props: {
  readonly accountId: string;
  readonly recommendation: NonNullable<AdviceItem['recommendation']>;
  readonly planName: (id: string) => string;
}) {
  const r = props.recommendation;
  return (
    <Link to={adviceTarget(props.accountId, r)} className="button-link">
      {r.action === 'buy-packs'
        ? `Buy ${r.packs.lines.map((l) => `${l.count} × ${l.pack}`).join(' + ')} (${formatCredits(r.packs.credits)})`
        : `${r.action === 'upgrade' ? 'Upgrade' : 'Downgrade'} to ${props.planName(r.plan)}`}
    </Link>
  );
}

const DIMENSIONS = [
  { id: 'operation', label: 'Operation' },
  { id: 'member', label: 'Member' },
  { id: 'project', label: 'Project' },
] as const;

/** The current cycle's usage by day, split by operation, member or project. */
function UsageCard({ client, account, can }: PageProps) {
  const [by, setBy] = useState<DailyUsage['by']>('operation');
  const [daily] = useRequest(
    (signal) => client.reports.dailyUsage(account.id, { by }, { signal }),
    [account.id, by],
  );
  return (
    <section className="card wide" aria-labelledby="daily-title">
      <h2 id="daily-title">{can.allUsage ? 'Usage this cycle' : 'Your usage this cycle'}</h2>
      <div className="switch" role="group" aria-label="Split the days by">
        {DIMENSIONS.map((d) => (
          <button key={d.id} type="button" aria-pressed={by === d.id} onClick={() => setBy(d.id)}>
            {d.label}
          </button>
        ))}
      </div>
      <Async state={daily} what="the daily usage">
        {(u) => <DailyChart title={`Credits a day by ${u.by}`} usage={u} />}
      </Async>
    </section>
  );
}
