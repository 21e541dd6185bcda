import type { Balance, GrantBalance, Subscription } from '../../../src/client/index.js';
import { isAmisiApiError } from '../../../src/client/index.js';
import { fetchAdvice, fetchForecast, type Advice, type Recommendation } from '../advice.js';
import { BarChart } from '../components/bar-chart.js';
import { Async, ProblemMessage, Loading } from '../components/status.js';
import { formatCredits, formatDate, formatNumber } from '../format.js';
import type { PageProps } from '../page-props.js';
import { accountPath } from '../router.js';
import { Link } from '../shell.js';
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
      {balance.nextExpiry && (
        <p>
          Next expiry: {formatCredits(balance.nextExpiry.credits)} on{' '}
          {formatDate(balance.nextExpiry.at)}.
        </p>
      )}
    </>
  );
}

const SOURCE_NAMES: Record<GrantBalance['source'], string> = {
  allocation: 'Plan allocation',
  rollover: 'Rollover',
  purchase: 'Pack',
  promotion: 'Promotion',
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
      <div className="table-scroll">
        <table>
          <caption className="visually-hidden">Grants with credits left</caption>
          <thead>
            <tr>
              <th scope="col">Source</th>
              <th scope="col" className="num">
                Remaining
              </th>
              <th scope="col" className="num">
                Held
              </th>
              <th scope="col" className="num">
                Granted
              </th>
              <th scope="col">Expires</th>
            </tr>
          </thead>
          <tbody>
            {open.map((g) => (
              <tr key={g.id}>
                <th scope="row">{SOURCE_NAMES[g.source]}</th>
                <td className="num">{formatNumber(g.remaining)}</td>
                <td className="num">{formatNumber(g.held)}</td>
                <td className="num">{formatNumber(g.amount)}</td>
                <td>{formatDate(g.expiresAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
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
    (signal) =>
      client.subscriptions.get(account.id, { signal }).catch((e: unknown) => {
        if (isAmisiApiError(e, 'no_subscription')) return null;
        throw e;
      }),
    [account.id],
  );
  return (
    <section className="card" aria-labelledby="renewal-title">
      <h2 id="renewal-title">Plan and renewal</h2>
      <Async state={sub} what="the plan">
        {(s: Subscription | null) =>
          s === null || s.status !== 'active' ? (
            <p>No plan: credits come from packs and grants only.</p>
          ) : (
            <>
              <p className="medium">{s.plan}</p>
              <p>
                {s.cancelAt !== null
                  ? `Ends on ${formatDate(s.cancelAt)}.`
                  : `Renews on ${formatDate(s.nextRenewalAt)}.`}
                {s.pendingPlan !== null && ` Changes to ${s.pendingPlan} then.`}
              </p>
            </>
          )
        }
      </Async>
    </section>
  );
}

/** A server without the advice routes says not_found: show that, not an error. */
function Unavailable({ error, what }: { readonly error: unknown; readonly what: string }) {
  if (isAmisiApiError(error, 'not_found'))
    return <p className="muted">{what} is not available on this server.</p>;
  return <ProblemMessage error={error} />;
}

function ForecastCard({ account, apiKey }: PageProps) {
  const [state] = useRequest((signal) => fetchForecast(apiKey, account.id, signal), [account.id]);
  return (
    <section className="card" aria-labelledby="forecast-title">
      <h2 id="forecast-title">Run-out forecast</h2>
      {state.status === 'loading' && <Loading what="the forecast" />}
      {state.status === 'error' && <Unavailable error={state.error} what="The forecast" />}
      {state.status === 'ok' && (
        <>
          <p>{state.data.forecast.summary}</p>
          <p className="muted small">
            Pace: {formatCredits(state.data.forecast.figures.paceCreditsPerDay)} a day.
            {state.data.forecast.figures.runOutAt !== null &&
              ` Runs out on ${formatDate(state.data.forecast.figures.runOutAt)}.`}
          </p>
        </>
      )}
    </section>
  );
}

function AdviceCard(props: PageProps) {
  const { account, apiKey } = props;
  const [state] = useRequest((signal) => fetchAdvice(apiKey, account.id, signal), [account.id]);
  return (
    <section className="card" aria-labelledby="advice-title">
      <h2 id="advice-title">Advice</h2>
      {state.status === 'loading' && <Loading what="advice" />}
      {state.status === 'error' && <Unavailable error={state.error} what="Advice" />}
      {state.status === 'ok' &&
        (state.data.advice.length === 0 ? (
          <p className="muted">No advice for now.</p>
        ) : (
          <ul className="advice">
            {state.data.advice.map((a: Advice) => (
              <li key={a.kind}>
                <p>{a.summary}</p>
                {a.recommendation && (
                  <Next accountId={account.id} recommendation={a.recommendation} />
                )}
              </li>
            ))}
          </ul>
        ))}
    </section>
  );
}

function Next({
  accountId,
  recommendation,
}: {
  readonly accountId: string;
  readonly recommendation: Recommendation;
}) {
  return recommendation.action === 'buy-packs' ? (
    <Link to={accountPath(accountId, 'credits')}>
      See packs for {formatCredits(recommendation.credits)}
    </Link>
  ) : (
    <Link to={accountPath(accountId, 'plan')}>Compare {recommendation.plan} with your plan</Link>
  );
}
