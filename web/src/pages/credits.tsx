import type { BuyResult, Pack, PackList, Purchase } from '../../../src/client/index.js';
import { ActionStatus, Async } from '../components/status.js';
import { Table } from '../components/table.js';
import {
  formatCredits,
  formatDateTime,
  formatMoney,
  formatNumber,
  formatPricePerCredit,
} from '../format.js';
import type { PageProps } from '../page-props.js';
import { useAction, useRequest, type ActionState, type RequestState } from '../use-request.js';

/**
 * Packs and buying one through the configured provider: Stripe answers a checkout URL to pay
 * at; the manual provider leaves the purchase pending until an operator confirms the payment.
 */
export function CreditsPage(props: PageProps) {
  const { client, account, can } = props;
  const [balance, reloadBalance] = useRequest(
    (signal) => client.balance.get(account.id, { signal }),
    [account.id],
  );
  const [packs] = useRequest((signal) => client.catalog.packs({ signal }), []);
  const [purchases, reloadPurchases] = useRequest(
    (signal) =>
      can.buyPacks ? client.purchases.list(account.id, { signal }) : Promise.resolve(null),
    [account.id, can.buyPacks],
  );
  const [buying, buy] = useAction(async (pack: string) => {
    const r = await client.purchases.buy({ accountId: account.id, pack });
    if (r.checkoutUrl !== null) window.location.assign(r.checkoutUrl);
    reloadPurchases();
    return r;
  });
  const [confirming, confirm] = useAction(async (purchaseId: string) => {
    const r = await client.purchases.confirm(purchaseId);
    reloadPurchases();
    reloadBalance();
    return r;
  });
  return (
    <>
      <section className="card" aria-labelledby="credits-available">
        <h2 id="credits-available">Available now</h2>
        <Async state={balance} what="the balance">
          {(b) => (
            <p className="medium" data-testid="credits-available">
              {formatCredits(b.available)}
            </p>
          )}
        </Async>
      </section>
      <PacksSection
        packs={packs}
        canBuy={can.buyPacks}
        buying={buying}
        onBuy={(id) => void buy(id)}
      />
      {can.buyPacks && (
        <section aria-labelledby="purchases-title">
          <h2 id="purchases-title">Purchases</h2>
          <ActionStatus state={confirming} running="Confirming the payment" />
          <Async state={purchases} what="purchases">
            {(r) =>
              r && (
                <Purchases
                  purchases={r.purchases}
                  canConfirm={can.operator}
                  busy={confirming.status === 'running'}
                  onConfirm={(id) => void confirm(id)}
                />
              )
            }
          </Async>
        </section>
      )}
    </>
  );
}

/** The catalog's packs, each with its buy button, and what the last purchase started. */
function PacksSection(props: {
  readonly packs: RequestState<PackList>;
  readonly canBuy: boolean;
  readonly buying: ActionState<BuyResult>;
  readonly onBuy: (pack: string) => void;
}) {
  const { buying } = props;
  return (
    <section aria-labelledby="packs-title">
      <h2 id="packs-title">Packs</h2>
      {!props.canBuy && <p className="muted">Buying packs takes an owner, admin or account key.</p>}
      <Async state={props.packs} what="packs">
        {({ packs: list, currency }) => (
          <ul className="cards">
            {list.map((p) => (
              <PackCard
                key={p.id}
                pack={p}
                currency={currency}
                disabled={buying.status === 'running'}
                onBuy={props.canBuy ? () => props.onBuy(p.id) : null}
              />
            ))}
          </ul>
        )}
      </Async>
      <ActionStatus state={buying} running="Starting the purchase" />
      {buying.status === 'ok' && buying.data.checkoutUrl === null && (
        <p role="status" className="notice">
          Purchase {buying.data.purchase.id} is waiting for the payment. The credits arrive when it
          is confirmed.
        </p>
      )}
    </section>
  );
}

function PackCard(props: {
  readonly pack: Pack;
  readonly currency: string;
  readonly disabled: boolean;
  /** null: this key cannot buy, so no button is offered. */
  readonly onBuy: (() => void) | null;
}) {
  const { pack, currency, onBuy } = props;
  return (
    <li className="card pack">
      <h3>{formatCredits(pack.credits)}</h3>
      <p className="medium">{formatMoney(pack.priceCents, currency)}</p>
      <p>{formatPricePerCredit(pack.priceCents, pack.credits, currency)} per credit</p>
      <p className="muted small">
        Credits expire {formatNumber(pack.expiresAfterMonths)} months after purchase.
      </p>
      {onBuy !== null && (
        <button
          type="button"
          disabled={props.disabled}
          onClick={onBuy}
          aria-label={`Buy ${pack.credits} credits for ${formatMoney(pack.priceCents, currency)}`}
        >
          Buy
        </button>
      )}
    </li>
  );
}

function Purchases(props: {
  readonly purchases: readonly Purchase[];
  readonly canConfirm: boolean;
  readonly busy: boolean;
  readonly onConfirm: (purchaseId: string) => void;
}) {
  if (props.purchases.length === 0) return <p className="muted">No purchases yet.</p>;
  return (
    <Table
      caption="Purchases, newest first"
      columns={[
        { label: 'Purchase' },
        { label: 'Pack' },
        { label: 'Credits', numeric: true },
        { label: 'Price', numeric: true },
        { label: 'Status' },
        { label: 'Made' },
      ]}
    >
      {props.purchases.map((p) => (
        <tr key={p.id}>
          <th scope="row">
            <code>{p.id}</code>
          </th>
          <td>{p.pack}</td>
          <td className="num">{formatNumber(p.credits)}</td>
          <td className="num">{formatMoney(p.priceCents, p.currency)}</td>
          <td>
            {p.status}
            {p.status === 'pending' && p.provider === 'manual' && props.canConfirm && (
              <button
                type="button"
                className="small-button"
                disabled={props.busy}
                onClick={() => props.onConfirm(p.id)}
              >
                Confirm payment
              </button>
            )}
          </td>
          <td>{formatDateTime(p.createdAt)}</td>
        </tr>
      ))}
    </Table>
  );
}
