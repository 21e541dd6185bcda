import type { ReactNode } from 'react';
import type { AmisiClient, Purchase, PurchaseResult } from '../../../src/client/index.js';
import { formatCredits, formatDateTime, formatMoney, formatNumber } from '../format.js';
import { useAction, type ActionState } from '../use-request.js';
import { ActionStatus, replayNote } from './status.js';
import { Table } from './table.js';

/**
 * Purchases as the Credits and the Operator pages show them: what one buys, in words, and an
 * operator's confirmation of a pending manual payment (the same button and the same answer on
 * both pages).
 */

/** "2 × pack-50 + 1 × pack-20", or the pack alone for a one-pack purchase. */
export function linesText(p: Pick<Purchase, 'lines' | 'pack'>): string {
  const [only] = p.lines;
  if (p.lines.length === 1 && only?.count === 1) return only.pack;
  return p.lines.map((l) => `${l.count} × ${l.pack}`).join(' + ');
}

/**
 * Confirming a manual payment: idempotent by the purchase (a second confirm is a replay, so no
 * key is needed). `onDone` reloads what shows the purchase and the balance.
 */
export function useConfirmPayment(client: AmisiClient, onDone: () => void) {
  return useAction(async (purchaseId: string) => {
    const r = await client.purchases.confirm(purchaseId);
    onDone();
    return r;
  });
}

/** The operator's button on a pending manual purchase; nothing for any other. */
export function ConfirmPaymentButton(props: {
  readonly purchase: Purchase;
  readonly busy: boolean;
  readonly onConfirm: (purchaseId: string) => void;
}) {
  const p = props.purchase;
  if (p.status !== 'pending' || p.provider !== 'manual') return null;
  return (
    <button
      type="button"
      className="small-button"
      disabled={props.busy}
      onClick={() => props.onConfirm(p.id)}
      aria-label={`Confirm the payment of ${p.id}`}
    >
      Confirm payment
    </button>
  );
}

/** What the confirmation is doing, and what it did. */
export function ConfirmPaymentOutcome({ state }: { readonly state: ActionState<PurchaseResult> }) {
  return (
    <>
      <ActionStatus state={state} running="Confirming the payment" />
      {state.status === 'ok' && (
        <p role="status" className="result" data-testid="confirm-result">
          {state.data.purchase.id} is {state.data.purchase.status}:{' '}
          {formatCredits(state.data.purchase.credits)} granted
          {replayNote(state.data.replay)}.
        </p>
      )}
    </>
  );
}

/** One line of a purchase to make: a pack and how many. */
export interface WantedLine {
  readonly pack: string;
  readonly count: number;
}

/** Most lines a link may ask for (the API's own limit). */
const MAX_LINK_LINES = 10;

/**
 * The lines of a `buy=` query (`pack-50:2,pack-20:1`, as the Overview's advice button makes it:
 * pages/overview.tsx `adviceTarget`), or null when it has none or is malformed.
 */
export function parseBuyQuery(search: string): readonly WantedLine[] | null {
  const value = new URLSearchParams(search).get('buy');
  if (value === null || value === '') return null;
  const parts = value.split(',');
  if (parts.length > MAX_LINK_LINES) return null;
  const lines: WantedLine[] = [];
  for (const part of parts) {
    const m = /^([A-Za-z0-9._-]{1,64})(?::(\d{1,3}))?$/.exec(part);
    const count = m?.[2] === undefined ? 1 : Number(m[2]);
    if (!m?.[1] || count < 1) return null;
    lines.push({ pack: m[1], count });
  }
  return lines;
}

/**
 * An account's purchases, newest first, one row each: what was bought, the credits, the price,
 * the status, when; `actions` gives a row its buttons (the Credits and Operator pages differ).
 */
export function PurchasesTable(props: {
  readonly caption: string;
  readonly purchases: readonly Purchase[];
  readonly actions: (purchase: Purchase) => ReactNode;
}) {
  if (props.purchases.length === 0) return <p className="muted">No purchases yet.</p>;
  return (
    <Table
      caption={props.caption}
      columns={[
        { label: 'Purchase' },
        { label: 'Packs' },
        { label: 'Credits', numeric: true },
        { label: 'Price', numeric: true },
        { label: 'Status' },
        { label: 'Made' },
        { label: 'Action' },
      ]}
    >
      {props.purchases.map((p) => (
        <tr key={p.id}>
          <th scope="row">
            <code>{p.id}</code>
          </th>
          <td>{linesText(p)}</td>
          <td className="num">{formatNumber(p.credits)}</td>
          <td className="num">{formatMoney(p.priceCents, p.currency)}</td>
          <td>{p.status}</td>
          <td>{formatDateTime(p.createdAt)}</td>
          <td>{props.actions(p)}</td>
        </tr>
      ))}
    </Table>
  );
}
