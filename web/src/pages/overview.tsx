import type { AdviceItem, Balance, GrantBalance, Subscription } from '../../../src/client/index.js';
import { BarChart } from '../components/bar-chart.js';
import { MemberBudgetCard } from '../components/budget.js';
import { Async } from '../components/status.js';
import { Table } from '../components/table.js';
import { formatCredits, formatDate, formatNumber } from '../format.js';
import type { PageProps } from '../page-props.js';
import { accountPath } from '../router.js';
import { Link } from '../shell.js';
import { planName, subscriptionOrNull } from '../subscription.js';
import { useRequest } from '../use-request.js';

/** Available credits, the grants they come from and when they expire, renewal, forecast, advice. */
export function OverviewPage(props: PageProps) {
  const { client, account } = props;
  const [balance] = useRequest(
    (signal) => client.balance.get(account.id, { signal }),
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
      <RenewalCard {...props} />
      <ForecastCard {...props} />
      <AdviceCard {...props} />
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
      {balance.nextExpiry && (
        <p>
          Next expiry: {formatCredits(balance.nextExpiry.credits)} on{' '}
          {formatDate(balance.nextExpiry.at)}.
        </p>
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

function Grants({ grants }: { readonly grants: readonly GrantBalance[] }) {
  const open = grants.filter((g) => g.remaining > 0 || g.held > 0);
  if (open.length === 0) return <p className="muted">No credits yet.</p>;
  const byExpiry = new Map<string, number>();
  for (const g of [...open].sort((a, b) => (a.expiresAt ?? Infinity) - (b.expiresAt ?? Infinity))) {
    const label = formatDate(g.expiresAt);
    byExpiry.set(label, (byExpiry.get(label) ?? 0) + g.remaining);
  }
  return (
    <>
      <Table
        caption="Grants with credits left"
        columns={[
          { label: 'Source' },
          { label: 'Remaining', numeric: true },
          { label: 'Held', numeric: true },
          { label: 'Granted', numeric: true },
          { label: 'Expires' },
        ]}
      >
        {open.map((g) => (
          <tr key={g.id}>
            <th scope="row">{SOURCE_NAMES[g.source]}</th>
            <td className="num">{formatNumber(g.remaining)}</td>
            <td className="num">{formatNumber(g.held)}</td>
            <td className="num">{formatNumber(g.amount)}</td>
            <td>{formatDate(g.expiresAt)}</td>
          </tr>
        ))}
      </Table>
      <BarChart
        title="Credits by expiry date"
        unit="credits"
        bars={[...byExpiry].map(([label, value]) => ({ label, value }))}
      />
    </>
  );
}

function RenewalCard({ client, account }: PageProps) {
  const [sub] = useRequest(
    (signal) => subscriptionOrNull(client, account.id, signal),
    [account.id],
  );
  const [plans] = useRequest((signal) => client.catalog.plans({ signal }), []);
  return (
    <section className="card" aria-labelledby="renewal-title">
      <h2 id="renewal-title">Plan and renewal</h2>
      <Async state={sub} what="the plan">
        {(s: Subscription | null) =>
          s === null || s.status !== 'active' ? (
            <p>No plan: credits come from packs and grants only.</p>
          ) : (
            <>
              <p className="medium">{planName(plans, s.plan)}</p>
              <p>
                {s.cancelAt !== null
                  ? `Ends on ${formatDate(s.cancelAt)}.`
                  : `Renews on ${formatDate(s.nextRenewalAt)}.`}
                {s.pendingPlan !== null && ` Changes to ${planName(plans, s.pendingPlan)} then.`}
              </p>
            </>
          )
        }
      </Async>
    </section>
  );
}

/** Forecast and advice read the whole organization's usage: owners and admins see them. */
function OrganizationOnly({ what }: { readonly what: string }) {
  return (
    <p className="muted">{what} covers the whole organization: its owners and admins see it.</p>
  );
}

function ForecastCard({ client, account, can }: PageProps) {
  const [state] = useRequest(
    (signal) =>
      can.allUsage ? client.reports.forecast(account.id, { signal }) : Promise.resolve(null),
    [account.id, can.allUsage],
  );
  return (
    <section className="card" aria-labelledby="forecast-title">
      <h2 id="forecast-title">Run-out forecast</h2>
      <Async state={state} what="the forecast">
        {(f) =>
          f === null ? (
            <OrganizationOnly what="The forecast" />
          ) : (
            <>
              <p data-testid="forecast">{f.forecast.summary}</p>
              <RunOut figures={f.forecast.figures} />
            </>
          )
        }
      </Async>
    </section>
  );
}

/** The run-out date, when the forecast has one (ForecastFigures in src/core/advice.ts). */
function RunOut({ figures }: { readonly figures: AdviceItem['figures'] }) {
  const f = figures as Readonly<Record<string, unknown>>;
  const runOutAt = f['runOutAt'];
  const pace = f['paceCreditsPerDay'];
  if (typeof runOutAt !== 'number' || typeof pace !== 'number') return null;
  return (
    <p className="muted small">
      At {formatCredits(pace)} a day, the credits run out on {formatDate(runOutAt)}.
    </p>
  );
}

function AdviceCard({ client, account, can }: PageProps) {
  const [state] = useRequest(
    (signal) =>
      can.allUsage ? client.reports.advice(account.id, { signal }) : Promise.resolve(null),
    [account.id, can.allUsage],
  );
  return (
    <section className="card wide" aria-labelledby="advice-title">
      <h2 id="advice-title">Advice</h2>
      <Async state={state} what="advice">
        {(a) =>
          a === null ? (
            <OrganizationOnly what="Advice" />
          ) : (
            <AdviceList accountId={account.id} advice={a.advice} />
          )
        }
      </Async>
    </section>
  );
}

/** The forecast has its own card, so the list leaves it out. */
const FORECAST_KINDS: readonly string[] = ['run-out', 'lasts-past-renewal'];

function AdviceList(props: { readonly accountId: string; readonly advice: readonly AdviceItem[] }) {
  const items = props.advice.filter((a) => !FORECAST_KINDS.includes(a.kind));
  if (items.length === 0) return <p className="muted">No advice for now.</p>;
  return (
    <ul className="advice" data-testid="advice">
      {items.map((item) => (
        <li key={item.kind}>
          <p>{item.summary}</p>
          {item.recommendation && (
            <Next accountId={props.accountId} recommendation={item.recommendation} />
          )}
        </li>
      ))}
    </ul>
  );
}

function Next(props: {
  readonly accountId: string;
  readonly recommendation: NonNullable<AdviceItem['recommendation']>;
}) {
  const r = props.recommendation;
  return r.action === 'buy-packs' ? (
    <Link to={accountPath(props.accountId, 'credits')}>
      Buy {r.packs.lines.map((l) => `${l.count} × ${l.pack}`).join(' + ')} (
      {formatCredits(r.packs.credits)})
    </Link>
  ) : (
    <Link to={accountPath(props.accountId, 'plan')}>Compare {r.plan} with your plan</Link>
  );
}
