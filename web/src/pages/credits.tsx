import { useEffect, useRef, useState } from 'react';
import type { AccountAdvice, Pack, PackList, Purchase } from '../../../src/client/index.js';
import { AutoTopupSection } from '../components/auto-topup.js';
import { BuyConfirmation } from '../components/buy-confirmation.js';
import {
  ConfirmPaymentButton,
  ConfirmPaymentOutcome,
  PurchasesTable,
  parseBuyQuery,
  useConfirmPayment,
  type WantedLine,
} from '../components/payments.js';
import { Receipts } from '../components/receipts.js';
import { ActionStatus, Async, replayNote } from '../components/status.js';
import { formatCredits, formatMoney, formatNumber, formatPricePerCredit } from '../format.js';
import type { PageProps } from '../page-props.js';
import { navigate, useLocation, withQuery } from '../router.js';
import { useAction, useRequest, type RequestState } from '../use-request.js';

/**
 * Packs and buying them: every buy (one pack, or the advice's combination in one payment) goes
 * through a confirmation that shows what is bought, the price, the expiry and how it is paid
 * (sent to Stripe, or an operator confirms); pending purchases can be cancelled; the auto
 * top-up rule; and the receipts of what was paid (packs and plan upgrades).
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
  const [advice] = useRequest(
    (signal) =>
      can.buyPacks && can.allUsage
        ? client.reports.advice(account.id, { signal })
        : Promise.resolve(null),
    [account.id, can.buyPacks, can.allUsage],
  );
  const buying = useBuyQuestion(can.buyPacks);
  return (
    <>
      <section className="card" aria-labelledby="credits-available">
        <h2 id="credits-available">Available now</h2>
        <Async state={balance} what="the balance">
          {(b) => <Available credits={b.available} />}
        </Async>
      </section>
      {can.buyPacks && <AdvisedCombination advice={advice} onBuy={buying.ask} />}
      <PacksSection
        packs={packs}
        canBuy={can.buyPacks}
        busy={buying.wanted !== null}
        onBuy={(id) => buying.ask([{ pack: id, count: 1 }])}
      />
      {buying.wanted !== null && packs.status === 'ok' && (
        <BuyConfirmation
          key={JSON.stringify(buying.wanted)}
          client={props.client}
          accountId={props.account.id}
          packs={packs.data}
          wanted={buying.wanted}
          onBought={reloadPurchases}
          onClose={buying.close}
        />
      )}
      {can.buyPacks && (
        <Async state={purchases} what="purchases">
          {(r) =>
            r && (
              <>
                <PurchasesSection
                  {...props}
                  purchases={r.purchases}
                  onDone={() => {
                    reloadPurchases();
                    reloadBalance();
                  }}
                />
                <Receipts {...props} purchases={r.purchases} />
              </>
            )
          }
        </Async>
      )}
      {can.billing && packs.status === 'ok' && <AutoTopupSection {...props} packs={packs.data} />}
    </>
  );
}

function Available({ credits }: { readonly credits: number }) {
  return (
    <p className="medium" data-testid="credits-available">
      {formatCredits(credits)}
    </p>
  );
}

/**
 * Which lines the buy confirmation asks about, if it is open: asked by a button, or by a link
 * from the Overview's advice (?buy=pack-50:2,pack-20:1). Closing it gives the focus back to
 * the button that opened it and drops the link's query.
 */
function useBuyQuestion(canBuy: boolean) {
  const { search } = useLocation();
  const linked = canBuy ? parseBuyQuery(search) : null;
  const [asked, setAsked] = useState<readonly WantedLine[] | null>(null);
  const opener = useRef<HTMLElement | null>(null);
  const wanted = asked ?? linked;
  // Once the question is gone (and the buy buttons are enabled again), the focus goes back.
  useEffect(() => {
    if (wanted !== null || opener.current === null) return;
    opener.current.focus();
    opener.current = null;
  }, [wanted]);
  return {
    wanted,
    ask: (lines: readonly WantedLine[]) => {
      const active = document.activeElement;
      opener.current = active instanceof HTMLElement ? active : null;
      setAsked(lines);
    },
    close: () => {
      setAsked(null);
      if (linked !== null) navigate(withQuery({}));
    },
  };
}

/** The advice's pack combination, when its headline is packs, with its one-step buy. */
function AdvisedCombination(props: {
  readonly advice: RequestState<AccountAdvice | null>;
  readonly onBuy: (lines: readonly WantedLine[]) => void;
}) {
  if (props.advice.status !== 'ok' || props.advice.data === null) return null;
  // The advice the Overview leads with: packs only when they are what it recommends (never
  // beside a cheaper upgrade, or a forecast that says the credits last).
  const item = props.advice.data.headline;
  const r = item?.recommendation;
  if (!item || r?.action !== 'buy-packs' || r.packs.lines.length === 0) return null;
  const combination = r.packs;
  return (
    <section className="card" aria-labelledby="advised-title">
      <h2 id="advised-title">Advised</h2>
      <p>{item.summary}</p>
      <p data-testid="advised-combination">
        {combination.lines.map((l) => `${l.count} × ${l.pack}`).join(' + ')}:{' '}
        {formatCredits(combination.credits)}
      </p>
      <button
        type="button"
        onClick={() =>
          props.onBuy(combination.lines.map((l) => ({ pack: l.pack, count: l.count })))
        }
      >
        Buy this combination
      </button>
    </section>
  );
}

/** The catalog's packs, each with its buy button (which asks first). */
function PacksSection(props: {
  readonly packs: RequestState<PackList>;
  readonly canBuy: boolean;
  /** A confirmation is open: no second one until it is answered. */
  readonly busy: boolean;
  readonly onBuy: (pack: string) => void;
}) {
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
                disabled={props.busy}
                onBuy={props.canBuy ? () => props.onBuy(p.id) : null}
              />
            ))}
          </ul>
        )}
      </Async>
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
          Buy…
        </button>
      )}
    </li>
  );
}

/** Every purchase: cancel a pending one, or (an operator) confirm its manual payment. */
function PurchasesSection(
  props: PageProps & { readonly purchases: readonly Purchase[]; readonly onDone: () => void },
) {
  const { client, can } = props;
  const [confirmed, confirm] = useConfirmPayment(client, props.onDone);
  // Cancelling is idempotent by the purchase: again is a replay (no key needed).
  const [cancelled, cancel] = useAction(async (purchaseId: string) => {
    const r = await client.purchases.cancel(purchaseId);
    props.onDone();
    return r;
  });
  const busy = confirmed.status === 'running' || cancelled.status === 'running';
  return (
    <section aria-labelledby="purchases-title">
      <h2 id="purchases-title">Purchases</h2>
      <PurchasesTable
        caption="Purchases, newest first"
        purchases={props.purchases}
        actions={(p) => (
          <PurchaseActions
            purchase={p}
            busy={busy}
            operator={can.operator}
            onCancel={(id) => void cancel(id)}
            onConfirm={(id) => void confirm(id)}
          />
        )}
      />
      <ConfirmPaymentOutcome state={confirmed} />
      <ActionStatus state={cancelled} running="Cancelling the purchase" />
      {cancelled.status === 'ok' && (
        <p role="status" className="result" data-testid="cancel-result">
          {cancelled.data.purchase.id} is cancelled: nothing was paid, no credits moved
          {replayNote(cancelled.data.replay)}.
        </p>
      )}
    </section>
  );
}

/** A purchase's buttons here: cancel while pending; an operator also confirms its payment. */
function PurchaseActions(props: {
  readonly purchase: Purchase;
  readonly busy: boolean;
  readonly operator: boolean;
  readonly onCancel: (purchaseId: string) => void;
  readonly onConfirm: (purchaseId: string) => void;
}) {
  const p = props.purchase;
  return (
    <>
      {p.status === 'pending' && (
        <button
          type="button"
          className="small-button secondary"
          disabled={props.busy}
          onClick={() => props.onCancel(p.id)}
          aria-label={`Cancel purchase ${p.id}`}
        >
          Cancel
        </button>
      )}{' '}
      {props.operator && (
        <ConfirmPaymentButton purchase={p} busy={props.busy} onConfirm={props.onConfirm} />
      )}
    </>
  );
}
