import type { PlanUpgrade, Purchase } from '../../../src/client/index.js';
import { formatDateTime, formatMoney, formatNumber } from '../format.js';
import type { PageProps } from '../page-props.js';
import { useRequest } from '../use-request.js';
import { linesText } from './payments.js';
import { ProblemMessage } from './status.js';
import { Table } from './table.js';

interface Receipt {
  readonly id: string;
  readonly paidAt: number;
  readonly what: string;
  readonly credits: number;
  readonly cents: number;
  readonly currency: string;
  readonly reference: string | null;
  readonly status: string;
}

/** A paid pack purchase (cancelled and paid anyway too); a refund says what was paid back. */
function purchaseReceipt(p: Purchase): Receipt | null {
  if (p.paidAt === null) return null;
  const refunded = p.status === 'refunded' || p.status === 'refunding';
  return {
    id: p.id,
    paidAt: p.paidAt,
    what: `Packs: ${linesText(p)}`,
    credits: p.credits,
    cents: p.priceCents,
    currency: p.currency,
    reference: p.paymentRef,
    status: refunded ? `${p.status}: ${formatMoney(p.refundedCents, p.currency)} back` : 'paid',
  };
}

function upgradeReceipt(u: PlanUpgrade): Receipt | null {
  if (u.status !== 'paid' || u.paidAt === null) return null;
  return {
    id: u.id,
    paidAt: u.paidAt,
    what: `Plan upgrade: ${u.fromPlan} to ${u.plan}`,
    credits: u.credits,
    cents: u.priceCents,
    currency: u.currency,
    reference: u.paymentRef,
    status: 'paid',
  };
}

/**
 * What was paid, when, for what: pack purchases and (for a key that sees billing) paid plan
 * upgrades, newest first, with the amount, the provider's reference, and refunds marked.
 */
export function Receipts(
  props: Pick<PageProps, 'client' | 'account' | 'can'> & {
    readonly purchases: readonly Purchase[];
  },
) {
  const { client, account, can } = props;
  const [upgrades] = useRequest(
    (signal) =>
      can.billing
        ? client.subscriptions.upgrades(account.id, { signal })
        : Promise.resolve({ upgrades: [] }),
    [account.id, can.billing],
  );
  const paidUpgrades = upgrades.status === 'ok' ? upgrades.data.upgrades : [];
  const receipts = [...props.purchases.map(purchaseReceipt), ...paidUpgrades.map(upgradeReceipt)]
    .filter((r): r is Receipt => r !== null)
    .sort((a, b) => b.paidAt - a.paidAt || (a.id < b.id ? 1 : -1));
  return (
    <section aria-labelledby="receipts-title">
      <h2 id="receipts-title">Receipts</h2>
      {upgrades.status === 'error' && <ProblemMessage error={upgrades.error} />}
      {receipts.length === 0 ? (
        <p className="muted">Nothing paid yet.</p>
      ) : (
        <Table
          caption="What was paid, newest first"
          columns={[
            { label: 'Paid' },
            { label: 'For' },
            { label: 'Credits', numeric: true },
            { label: 'Amount', numeric: true },
            { label: 'Reference' },
            { label: 'Status' },
          ]}
        >
          {receipts.map((r) => (
            <tr key={r.id} data-testid="receipt">
              <th scope="row">{formatDateTime(r.paidAt)}</th>
              <td>{r.what}</td>
              <td className="num">{formatNumber(r.credits)}</td>
              <td className="num">{formatMoney(r.cents, r.currency)}</td>
              <td>{r.reference === null ? '—' : <code>{r.reference}</code>}</td>
              <td>{r.status}</td>
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}
