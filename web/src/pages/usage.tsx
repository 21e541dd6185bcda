import { useMemo } from 'react';
import type { Audit } from '../../../src/client/index.js';
import { BarChart } from '../components/bar-chart.js';
import { Async } from '../components/status.js';
import { formatCredits, formatDate, formatNumber } from '../format.js';
import type { PageProps } from '../page-props.js';
import { navigate, useLocation, withQuery } from '../router.js';
import { useRequest } from '../use-request.js';
import { bars, withRest } from '../usage-bars.js';

/** A cycle's usage by operation, resolution, member and project against the one before; findings. */
export function UsagePage(props: PageProps) {
  if (!props.can.allUsage) {
    return (
      <p className="notice">
        Usage reports cover the whole organization: its owners and admins see them. Your own
        transactions are under History.
      </p>
    );
  }
  return <Usage {...props} />;
}

/** ?cycle=N (0 = the first), as the API counts them; anything else: the current cycle. */
function cycleOf(search: string): number | null {
  const text = new URLSearchParams(search).get('cycle') ?? '';
  return /^\d{1,4}$/.test(text) && Number(text) <= 1200 ? Number(text) : null;
}

function Usage({ client, account }: PageProps) {
  const { search } = useLocation();
  const cycle = useMemo(() => cycleOf(search), [search]);
  const [audit] = useRequest(
    (signal) => client.reports.audit(account.id, cycle === null ? {} : { cycle }, { signal }),
    [account.id, cycle],
  );
  return (
    <Async state={audit} what="usage">
      {(a) => (
        <>
          <CyclePicker audit={a} onPick={(c) => navigate(withQuery({ cycle: String(c) }))} />
          <p className="medium" data-testid="usage-total">
            {formatCredits(a.usage.credits)} used
            <span className="muted small">
              {' '}
              ({formatNumber(a.usage.previousCredits)} in the period before)
            </span>
          </p>
          <div className="charts">
            {(
              [
                ['By operation', bars(a.usage.byOperation)],
                ['By resolution', bars(a.usage.byResolution)],
                ['By member', withRest(a, a.usage.byMember, 'no member')],
                ['By project', withRest(a, a.usage.byProject, 'no project')],
              ] as const
            ).map(([title, lines]) => (
              <BarChart
                key={title}
                title={title}
                unit="credits"
                bars={lines}
                previousLabel="period before"
              />
            ))}
          </div>
          <Findings audit={a} />
        </>
      )}
    </Async>
  );
}

/** "Cycle 3: Mar 4, 2026 to Apr 4, 2026": the end shown is the last day inside the cycle. */
function periodText(from: number, to: number): string {
  return `${formatDate(from)} to ${formatDate(to - 1)}`;
}

function CyclePicker(props: { readonly audit: Audit; readonly onPick: (cycle: number) => void }) {
  const { period } = props.audit.usage;
  const { cycles } = props.audit;
  const current = period.cycle;
  // An older cycle than the list holds (asked for by a link) is offered too.
  const options =
    current !== null && !cycles.some((c) => c.cycle === current) ? [period, ...cycles] : cycles;
  return (
    <div className="inline-form">
      <span data-testid="usage-period">{periodText(period.from, period.to)}</span>
      {current !== null && options.length > 0 && (
        <>
          <label htmlFor="cycle">{period.basis === 'month' ? 'Month' : 'Cycle'}</label>
          <select id="cycle" value={current} onChange={(e) => props.onPick(Number(e.target.value))}>
            {options.map((c) => (
              <option key={c.cycle} value={c.cycle ?? 0}>
                {`${(c.cycle ?? 0) + 1}: ${periodText(c.from, c.to)}`}
                {c.cycle === cycles[0]?.cycle ? ' (current)' : ''}
              </option>
            ))}
          </select>
        </>
      )}
    </div>
  );
}

/** Each finding as a card that wraps at any width: what, the credits, the saving, the advice. */
function Findings({ audit }: { readonly audit: Audit }) {
  return (
    <section aria-labelledby="findings-title">
      <h2 id="findings-title">Findings</h2>
      {audit.findings.length === 0 ? (
        <p className="muted">Nothing to improve in this period.</p>
      ) : (
        <ul className="findings" data-testid="findings">
          {audit.findings.map((f) => (
            <li key={f.kind} className="card finding">
              <h3>{f.summary}</h3>
              <p className="figures">
                {formatCredits(f.credits)} involved
                {f.savingCredits > 0 && <>, {formatCredits(f.savingCredits)} could be saved</>}
              </p>
              <p>{f.advice}</p>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
