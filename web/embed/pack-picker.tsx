import { useEffect, useId, useRef, useState } from 'react';
import type { BuyResult, Pack } from '../../src/client/index.js';
import { BuyConfirmation } from '../src/components/buy-confirmation.js';
import { Async } from '../src/components/status.js';
import { formatCredits, formatMoney, formatPricePerCredit } from '../src/format.js';
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
  const buyButton = useRef<HTMLButtonElement>(null);
  const wasConfirming = useRef(false);
  // Closing the confirmation gives the focus back to the button that opened it.
  useEffect(() => {
    if (wasConfirming.current && !confirming) buyButton.current?.focus();
    wasConfirming.current = confirming;
  }, [confirming]);
  return (
    <section className="amisi-card amisi-packs" aria-labelledby={`${name}-title`}>
      <h2 id={`${name}-title`} className="amisi-title">
        Buy credits
      </h2>
      <Async state={packs} what="packs">
        {(list) => {
          const pack = list.packs.find((p) => p.id === chosen) ?? null;
          return (
            <>
              <fieldset className="amisi-pack-list" disabled={confirming}>
                <legend className="visually-hidden">Packs</legend>
                {list.packs.map((p) => (
                  <PackOption
                    key={p.id}
                    pack={p}
                    currency={list.currency}
                    name={name}
                    checked={p.id === chosen}
                    onChoose={() => setChosen(p.id)}
                  />
                ))}
              </fieldset>
              {pack !== null && !confirming && (
                <button type="button" ref={buyButton} onClick={() => setConfirming(true)}>
                  Buy {formatCredits(pack.credits)}
                </button>
              )}
              {pack !== null && confirming && (
                // The dashboard's own confirmation: the lines, the total, the expiry, how it
                // is paid; one Idempotency-Key per confirmation.
                <BuyConfirmation
                  client={client}
                  accountId={accountId}
                  packs={list}
                  wanted={[{ pack: pack.id, count: 1 }]}
                  onBought={(r) => props.onPurchase?.(r)}
                  onClose={() => setConfirming(false)}
                  {...(props.onCheckout === undefined ? {} : { onCheckout: props.onCheckout })}
                />
              )}
            </>
          );
        }}
      </Async>
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
