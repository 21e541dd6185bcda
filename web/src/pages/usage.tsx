import { useEffect, useState } from 'react';
import type { Audit, UsageLine } from '../../../src/client/index.js';
import { BarChart } from '../components/bar-chart.js';
import { Async } from '../components/status.js';
import { Table } from '../components/table.js';
import { formatCredits, formatDate, formatNumber } from '../format.js';
import type { PageProps } from '../page-props.js';
import { useRequest } from '../use-request.js';

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

function Usage({ client, account }: PageProps) {
  const [cycle, setCycle] = useState<number | null>(null);
  const [audit] = useRequest(
    (signal) => client.reports.audit(account.id, cycle === null ? {} : { cycle }, { signal }),
    [account.id, cycle],
  );
  // The current cycle, from the first answer: the picker offers it and every cycle before.
  const [latest, setLatest] = useState<number | null>(null);
  useEffect(() => {
    if (audit.status === 'ok' && cycle === null) setLatest(audit.data.usage.period.cycle);
  }, [audit, cycle]);
  return (
    <Async state={audit} what="usage">
      {(a) => (
        <>
          <CyclePicker audit={a} latest={latest} onPick={setCycle} />
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
                ['By operation', a.usage.byOperation],
                ['By resolution', a.usage.byResolution],
                ['By member', a.usage.byMember],
                ['By project', a.usage.byProject],
              ] as const
            ).map(([title, lines]) => (
              <BarChart
                key={title}
                title={title}
                unit="credits"
                bars={bars(lines)}
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

function bars(lines: readonly UsageLine[]) {
  return lines.map((l) => ({ label: l.key, value: l.credits, previous: l.previousCredits }));
}

function CyclePicker(props: {
  readonly audit: Audit;
  readonly latest: number | null;
  readonly onPick: (cycle: number) => void;
}) {
  const { period } = props.audit.usage;
  const current = period.cycle;
  const latest = props.latest ?? current;
  return (
    <div className="inline-form">
      <span>
        {formatDate(period.from)} to {formatDate(period.to)}
      </span>
      {current !== null && latest !== null && (
        <>
          <label htmlFor="cycle">Cycle</label>
          <select id="cycle" value={current} onChange={(e) => props.onPick(Number(e.target.value))}>
            {Array.from({ length: latest + 1 }, (_, i) => i)
              .reverse()
              .map((i) => (
                <option key={i} value={i}>
                  {i + 1}
                </option>
              ))}
          </select>
        </>
      )}
    </div>
  );
}

function Findings({ audit }: { readonly audit: Audit }) {
  return (
    <section aria-labelledby="findings-title">
      <h2 id="findings-title">Findings</h2>
      {audit.findings.length === 0 ? (
        <p className="muted">Nothing to improve in this period.</p>
      ) : (
        <Table
          caption="What the audit found, with the credits involved and what would save them"
          columns={[
            { label: 'Finding' },
            { label: 'Credits', numeric: true },
            { label: 'Saving', numeric: true },
            { label: 'Advice' },
          ]}
        >
          {audit.findings.map((f) => (
            <tr key={f.kind}>
              <th scope="row">{f.summary}</th>
              <td className="num">{formatNumber(f.credits)}</td>
              <td className="num">{formatNumber(f.savingCredits)}</td>
              <td>{f.advice}</td>
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}
