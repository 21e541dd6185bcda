import type { DailyUsage } from '../../src/client/index.js';
import { DailyChart } from '../src/components/daily-chart.js';
import { Async } from '../src/components/status.js';
import { formatCredits } from '../src/format.js';
import { useRequest } from '../src/use-request.js';
import { useAmisi } from './provider.js';

export interface AmisiDailyUsageProps {
  /** What each day's column is split by (default operation). */
  readonly by?: DailyUsage['by'];
  /** A past cycle (0 = the first); default the current one. */
  readonly cycle?: number;
  readonly title?: string;
}

/**
 * The cycle's credits a day, as the dashboard's Overview draws them (GET .../usage/daily): an
 * owner's, admin's or account key sees the whole account; a member's key its own usage.
 */
export function AmisiDailyUsage(props: AmisiDailyUsageProps) {
  const { client, accountId } = useAmisi();
  const by = props.by ?? 'operation';
  const { cycle } = props;
  const [usage] = useRequest(
    (signal) =>
      client.reports.dailyUsage(accountId, cycle === undefined ? { by } : { by, cycle }, {
        signal,
      }),
    [client, accountId, by, cycle],
  );
  return (
    <section className="amisi-card amisi-daily" aria-label="Usage a day">
      <Async state={usage} what="usage">
        {(u) => (
          <>
            <p className="muted small" data-testid="amisi-daily-total">
              {formatCredits(u.credits)} used this cycle
            </p>
            <DailyChart title={props.title ?? `Credits a day by ${u.by}`} usage={u} />
          </>
        )}
      </Async>
    </section>
  );
}
