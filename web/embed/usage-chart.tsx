import type { Audit } from '../../src/client/index.js';
import { BarChart, type Bar } from '../src/components/bar-chart.js';
import { Async } from '../src/components/status.js';
import { formatCredits, formatDate } from '../src/format.js';
import { useRequest } from '../src/use-request.js';
import { bars, withRest } from '../src/usage-bars.js';
import { useAmisi } from './provider.js';

export type UsageDimension = 'operation' | 'resolution' | 'member' | 'project';

export interface AmisiUsageChartProps {
  /** What the bars split the cycle's credits by (default operation). */
  readonly by?: UsageDimension;
  /** A past cycle (0 = the first); default the current one. */
  readonly cycle?: number;
  readonly title?: string;
}

const TITLES: Record<UsageDimension, string> = {
  operation: 'Credits used by operation',
  resolution: 'Credits used by resolution',
  member: 'Credits used by member',
  project: 'Credits used by project',
};

function barsBy(a: Audit, by: UsageDimension): Bar[] {
  switch (by) {
    case 'operation':
      return bars(a.usage.byOperation);
    case 'resolution':
      return bars(a.usage.byResolution);
    case 'member':
      return withRest(a, a.usage.byMember, 'no member');
    case 'project':
      return withRest(a, a.usage.byProject, 'no project');
  }
}

/**
 * A cycle's credits as bars against the cycle before (the audit's usage, so an owner's or
 * admin's key, or an account key: a plain member's key is refused, as on the dashboard).
 */
export function AmisiUsageChart(props: AmisiUsageChartProps) {
  const { client, accountId } = useAmisi();
  const by = props.by ?? 'operation';
  const { cycle } = props;
  const [audit] = useRequest(
    (signal) => client.reports.audit(accountId, cycle === undefined ? {} : { cycle }, { signal }),
    [client, accountId, cycle],
  );
  return (
    <section className="amisi-card amisi-usage" aria-label="Usage">
      <Async state={audit} what="usage">
        {(a) => (
          <>
            <p className="muted small" data-testid="amisi-usage-total">
              {formatCredits(a.usage.credits)} used from {formatDate(a.usage.period.from)} to{' '}
              {formatDate(a.usage.period.to - 1)}
            </p>
            <BarChart
              title={props.title ?? TITLES[by]}
              unit="credits"
              bars={barsBy(a, by)}
              previousLabel="period before"
            />
          </>
        )}
      </Async>
    </section>
  );
}
