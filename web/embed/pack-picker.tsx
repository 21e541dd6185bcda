import { useId, useState } from 'react';
import type { BuyResult, Pack } from '../../src/client/index.js';
import { ActionStatus, Async } from '../src/components/status.js';
import { formatCredits, formatMoney, formatNumber, formatPricePerCredit } from '../src/format.js';
import { useKeyedAction } from '../src/keyed-action.js';
import { useRequest } from '../src/use-request.js';
import { useAmisi } from './provider.js';

export interface AmisiPackPickerProps {
  /**
   * Where the customer pays when the provider answers a checkout (Stripe): default, the
   * browser goes there. Give a function to open it another way.
   */
  readonly onCheckout?: (checkoutUrl: string) => void;
  /** After the purchase is made (paid later through checkout or by an operator). */
  readonly onPurchase?: (result: BuyResult) => void;
}

/**
 * The catalog's packs to choose from, then a confirmation of what is bought and its price, then
 * the purchase (one per confirmation: a double click or a retried answer buys once).
 */
export function AmisiPackPicker(props: AmisiPackPickerProps) {
  const { client, accountId } = useAmisi();
  const [packs] = useRequest((signal) => client.catalog.packs({ signal }), [client]);
  const [chosen, setChosen] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const name = useId();
  const buy = useKeyedAction(async (idempotencyKey: string, pack: string) => {
    const r = await client.purchases.buy({ accountId, pack }, { idempotencyKey });
    props.onPurchase?.(r);
    if (r.checkoutUrl !== null)
      (props.onCheckout ?? ((u) => window.location.assign(u)))(r.checkoutUrl);
    return r;
  });
  const choose = (id: string) => {
    setChosen(id);
    setConfirming(false);
    buy.reset();
  };
  return (
    <section className="amisi-card amisi-packs" aria-labelledby={`${name}-title`}>
      <h2 id={`${name}-title`} className="amisi-title">
        Buy credits
      </h2>
      <Async state={packs} what="packs">
        {({ packs: list, currency }) => {
          const pack = list.find((p) => p.id === chosen) ?? null;
          return (
            <>
              <fieldset className="amisi-pack-list" disabled={buy.state.status === 'running'}>
                <legend className="visually-hidden">Packs</legend>
                {list.map((p) => (
                  <PackOption
                    key={p.id}
                    pack={p}
                    currency={currency}
                    name={name}
                    checked={p.id === chosen}
                    onChoose={() => choose(p.id)}
                  />
                ))}
              </fieldset>
              {pack !== null && !confirming && buy.state.status !== 'ok' && (
                <button type="button" onClick={() => setConfirming(true)}>
                  Buy {formatCredits(pack.credits)}
                </button>
              )}
              {pack !== null && confirming && buy.state.status !== 'ok' && (
                <Confirm
                  pack={pack}
                  currency={currency}
                  busy={buy.state.status === 'running'}
                  onConfirm={() => void buy.start(pack.id)}
                  onCancel={() => setConfirming(false)}
                />
              )}
            </>
          );
        }}
      </Async>
      <ActionStatus state={buy.state} running="Starting the purchase" />
      {buy.state.status === 'ok' && <Bought result={buy.state.data} />}
    </section>
  );
}

function PackOption(props: {
  readonly pack: Pack;
  readonly currency: string;
  readonly name: string;
  readonly checked: boolean;
  readonly onChoose: () => void;
}) {
  const { pack, currency } = props;
  const id = `${props.name}-${pack.id}`;
  return (
    <div className={props.checked ? 'amisi-pack chosen' : 'amisi-pack'}>
      <input
        type="radio"
        id={id}
        name={props.name}
        value={pack.id}
        checked={props.checked}
        onChange={props.onChoose}
      />
      <label htmlFor={id}>
        <strong>{formatCredits(pack.credits)}</strong> {formatMoney(pack.priceCents, currency)}
        <span className="muted small">
          {' '}
          ({formatPricePerCredit(pack.priceCents, pack.credits, currency)} per credit)
        </span>
      </label>
    </div>
  );
}

function Confirm(props: {
  readonly pack: Pack;
  readonly currency: string;
  readonly busy: boolean;
  readonly onConfirm: () => void;
  readonly onCancel: () => void;
}) {
  const { pack, currency } = props;
  return (
    <div className="amisi-confirm" role="group" aria-label="Confirm the purchase">
      <p data-testid="amisi-confirm-text">
        {formatCredits(pack.credits)} for <strong>{formatMoney(pack.priceCents, currency)}</strong>.
        The credits expire {formatNumber(pack.expiresAfterMonths)} months after the payment.
      </p>
      <div className="amisi-actions">
        <button type="button" disabled={props.busy} onClick={props.onConfirm} autoFocus>
          Confirm and pay
        </button>
        <button type="button" className="secondary" disabled={props.busy} onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}

function Bought({ result }: { readonly result: BuyResult }) {
  const { purchase } = result;
  return (
    <p role="status" className="amisi-notice" data-testid="amisi-bought">
      {result.checkoutUrl === null
        ? `Purchase ${purchase.id} of ${formatCredits(purchase.credits)} is waiting for its payment; the credits arrive when it is confirmed.`
        : `Taking you to the payment for ${formatCredits(purchase.credits)}…`}
    </p>
  );
}
