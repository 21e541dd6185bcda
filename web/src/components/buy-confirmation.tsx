import type { BuyResult, Pack, PackList } from '../../../src/client/index.js';
import { formatCredits, formatMoney, formatNumber } from '../format.js';
import { useKeyedAction } from '../keyed-action.js';
import type { PageProps } from '../page-props.js';
import { Confirm } from './fields.js';
import type { WantedLine } from './payments.js';
import { ActionStatus, replayNote } from './status.js';
import { Table } from './table.js';

/** A line priced by the catalog, as the confirmation shows it. */
interface PricedLine {
  readonly pack: Pack;
  readonly count: number;
  readonly credits: number;
  readonly cents: number;
}

/** The wanted lines priced by the catalog's packs; packs it does not sell are named apart. */
function priced(packs: PackList, wanted: readonly WantedLine[]) {
  const byId = new Map(packs.packs.map((p) => [p.id, p]));
  const unknown = wanted.filter((w) => !byId.has(w.pack)).map((w) => w.pack);
  const lines: PricedLine[] = wanted.flatMap((w) => {
    const pack = byId.get(w.pack);
    if (!pack) return [];
    return [
      { pack, count: w.count, credits: pack.credits * w.count, cents: pack.priceCents * w.count },
    ];
  });
  return {
    unknown,
    lines,
    credits: lines.reduce((sum, l) => sum + l.credits, 0),
    cents: lines.reduce((sum, l) => sum + l.cents, 0),
    // One grant for the purchase: it takes the shortest expiry of its packs (as the ledger).
    months: Math.min(...lines.map((l) => l.pack.expiresAfterMonths)),
  };
}

/** The API's request for the lines: `pack` for one pack, `packs` for a combination. */
function buyRequest(wanted: readonly WantedLine[]) {
  const [only] = wanted;
  return wanted.length === 1 && only?.count === 1
    ? { pack: only.pack }
    : { packs: wanted.map((w) => ({ pack: w.pack, count: w.count })) };
}

/**
 * The confirmation before anything is bought: every line, the total, the expiry and how it is
 * paid. It takes the focus when it opens (Escape or Cancel closes it, and the page gives the
 * focus back). Confirm sends one Idempotency-Key per confirmation, so a double click, or a
 * retry after a lost answer, buys once.
 */
export function BuyConfirmation(props: {
  readonly client: PageProps['client'];
  readonly accountId: string;
  readonly packs: PackList;
  readonly wanted: readonly WantedLine[];
  readonly onBought: (result: BuyResult) => void;
  readonly onClose: () => void;
  /** Where the buyer pays when the provider answers a checkout (default: the browser goes). */
  readonly onCheckout?: (checkoutUrl: string) => void;
}) {
  const { client, accountId, packs } = props;
  const p = priced(packs, props.wanted);
  const { state, start } = useKeyedAction(async (idempotencyKey): Promise<BuyResult> => {
    const r = await client.purchases.buy(
      { accountId, ...buyRequest(props.wanted) },
      { idempotencyKey },
    );
    props.onBought(r);
    if (r.checkoutUrl !== null)
      (props.onCheckout ?? ((u) => window.location.assign(u)))(r.checkoutUrl);
    return r;
  });
  const money = (c: number) => formatMoney(c, packs.currency);
  const one = p.lines.length === 1 && p.lines[0]?.count === 1;
  return (
    <section aria-labelledby="buy-title" aria-live="polite">
      <Confirm
        id="buy-ask"
        role="alertdialog"
        focus
        yes={`Confirm: pay ${money(p.cents)}`}
        no={state.status === 'ok' ? 'Close' : 'Cancel'}
        busy={state.status === 'running' || p.unknown.length > 0 || p.lines.length === 0}
        done={state.status === 'ok'}
        onYes={() => void start()}
        onNo={props.onClose}
      >
        <h2 id="buy-title">{one ? 'Buy this pack?' : 'Buy these packs?'}</h2>
        {p.unknown.length > 0 && (
          <p className="problem" role="alert">
            The catalog sells no pack named {p.unknown.join(', ')}.
          </p>
        )}
        <LinesTable lines={p.lines} credits={p.credits} total={money(p.cents)} money={money} />
        <p>
          One payment for {formatCredits(p.credits)}. They expire {formatNumber(p.months)} months
          after the payment.{' '}
          {packs.provider === 'stripe'
            ? 'You will be sent to Stripe to pay.'
            : 'An operator confirms the payment; the credits arrive then.'}
        </p>
      </Confirm>
      <ActionStatus state={state} running="Starting the purchase" />
      {state.status === 'ok' && state.data.checkoutUrl === null && (
        <p role="status" className="notice" data-testid="buy-result">
          Purchase {state.data.purchase.id} is waiting for the payment. The credits arrive when it
          is confirmed{replayNote(state.data.replay)}.
        </p>
      )}
    </section>
  );
}

function LinesTable(props: {
  readonly lines: readonly PricedLine[];
  readonly credits: number;
  readonly total: string;
  readonly money: (cents: number) => string;
}) {
  return (
    <Table
      caption="What is bought"
      columns={[
        { label: 'Pack' },
        { label: 'Count', numeric: true },
        { label: 'Credits', numeric: true },
        { label: 'Price', numeric: true },
      ]}
    >
      {props.lines.map((l) => (
        <tr key={l.pack.id}>
          <th scope="row">{l.pack.id}</th>
          <td className="num">{formatNumber(l.count)}</td>
          <td className="num">{formatNumber(l.credits)}</td>
          <td className="num">{props.money(l.cents)}</td>
        </tr>
      ))}
      <tr>
        <th scope="row">Total</th>
        <td />
        <td className="num">{formatNumber(props.credits)}</td>
        <td className="num" data-testid="buy-total">
          {props.total}
        </td>
      </tr>
    </Table>
  );
}
