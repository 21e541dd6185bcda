import { useEffect } from 'react';
import { Async } from '../src/components/status.js';
import { formatCredits, formatDate, formatNumber } from '../src/format.js';
import { useRequest } from '../src/use-request.js';
import { useAmisi } from './provider.js';

export interface AmisiBalanceProps {
  /** Read the balance again every this many seconds (default: only when shown). */
  readonly refreshSeconds?: number;
  /** Changes to this value read the balance again, e.g. a counter raised after a generation. */
  readonly refreshKey?: unknown;
}

/** Available credits, what is held for jobs in progress, and the next expiry. */
export function AmisiBalance(props: AmisiBalanceProps) {
  const { client, accountId } = useAmisi();
  const [balance, reload] = useRequest(
    (signal) => client.balance.get(accountId, { signal }),
    [client, accountId, props.refreshKey],
  );
  useEffect(() => {
    if (props.refreshSeconds === undefined || props.refreshSeconds <= 0) return;
    const timer = setInterval(reload, props.refreshSeconds * 1000);
    return () => clearInterval(timer);
  }, [props.refreshSeconds, reload]);
  return (
    <section className="amisi-card amisi-balance" aria-label="Credits">
      <Async state={balance} what="the balance">
        {(b) => (
          <>
            <p className="amisi-big" data-testid="amisi-available">
              {formatNumber(b.available)}
              <span className="amisi-unit"> {b.available === 1 ? 'credit' : 'credits'}</span>
            </p>
            {b.held > 0 && (
              <p className="muted small">{formatCredits(b.held)} held for jobs in progress</p>
            )}
            {b.nextExpiry && (
              <p className="muted small">
                {formatCredits(b.nextExpiry.credits)} expire on {formatDate(b.nextExpiry.at)}
              </p>
            )}
          </>
        )}
      </Async>
    </section>
  );
}
