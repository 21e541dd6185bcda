import { useState, type FormEvent } from 'react';
import type {
  AccountKey,
  Balance,
  GrantInput,
  GrantResult,
  Purchase,
  PurchaseResult,
  VerifyReport,
} from '../../../src/client/index.js';
import { isAmisiApiError } from '../../../src/client/index.js';
import { ActionForm, Confirm, SelectField, TextField, wholeOf } from '../components/fields.js';
import {
  ConfirmPaymentButton,
  ConfirmPaymentOutcome,
  PurchasesTable,
  useConfirmPayment,
} from '../components/payments.js';
import { ActionStatus, Async, replayNote } from '../components/status.js';
import { formatCredits, formatDateTime, formatMoney, formatNumber } from '../format.js';
import { useKeyedAction } from '../keyed-action.js';
import type { PageProps } from '../page-props.js';
import { useAction, useRequest, type ActionState } from '../use-request.js';

/**
 * What an operator does to one account: grant, adjust, confirm and refund payments, run verify,
 * make API keys. Every action asks for what it needs, shows what happened (or the API's problem
 * with its code), and sends one Idempotency-Key per intent (keyed-action.ts).
 */
export function OperatorPage(props: PageProps) {
  const { client, account, can } = props;
  const [balance, reloadBalance] = useRequest(
    (signal) => client.balance.get(account.id, { signal }),
    [account.id],
  );
  if (!can.operator) {
    return <p className="notice">These actions take an operator key.</p>;
  }
  const readOnly = !can.write;
  return (
    <div className="operator">
      <section className="card" aria-labelledby="op-balance-title">
        <h2 id="op-balance-title">Balance now</h2>
        <Async state={balance} what="the balance">
          {(b) => <BalanceLine balance={b} />}
        </Async>
      </section>
      {readOnly && <p className="notice">This operator key reads only: every action is off.</p>}
      <GrantForm {...props} disabled={readOnly} onDone={reloadBalance} />
      <AdjustForm {...props} disabled={readOnly} onDone={reloadBalance} />
      <Payments {...props} disabled={readOnly} onDone={reloadBalance} />
      <VerifySection {...props} />
      <KeyForm {...props} disabled={readOnly} />
    </div>
  );
}

function BalanceLine({ balance: b }: { readonly balance: Balance }) {
  return (
    <p data-testid="op-balance">
      {formatCredits(b.available)} available, {formatCredits(b.held)} held
      {b.overdraft.debt > 0 ? `, ${formatCredits(b.overdraft.debt)} owed` : ''}.
    </p>
  );
}

interface ActionProps extends PageProps {
  readonly disabled: boolean;
  readonly onDone: () => void;
}

const GRANT_SOURCES: readonly { value: GrantInput['source']; label: string }[] = [
  { value: 'promotion', label: 'Promotion' },
  { value: 'purchase', label: 'Purchase (paid outside the dashboard)' },
  { value: 'trial', label: 'Trial' },
  { value: 'adjustment', label: 'Adjustment' },
];

function GrantForm({ client, account, disabled, onDone }: ActionProps) {
  const [credits, setCredits] = useState('');
  const [source, setSource] = useState<GrantInput['source']>('promotion');
  const [expires, setExpires] = useState('');
  const [reason, setReason] = useState('');
  const grant = useKeyedAction(async (idempotencyKey: string) => {
    const expiresAt = expires === '' ? null : Date.parse(`${expires}T00:00:00Z`);
    const r = await client.grants.create(
      {
        accountId: account.id,
        credits: wholeOf(credits),
        source,
        ...(expiresAt === null ? {} : { expiresAt }),
        ...(reason.trim() === '' ? {} : { reason: reason.trim() }),
      },
      { idempotencyKey },
    );
    onDone();
    return r;
  });
  return (
    <ActionForm
      id="grant-title"
      title="Grant credits"
      disabled={disabled}
      onSubmit={() => void grant.start()}
      onEdit={grant.edited}
      outcome={<GrantOutcome state={grant.state} />}
    >
      <TextField
        id="grant-credits"
        label="Credits"
        inputMode="numeric"
        value={credits}
        onValue={setCredits}
      />
      <SelectField
        id="grant-source"
        label="Source"
        value={source}
        onValue={setSource}
        options={GRANT_SOURCES}
      />
      <TextField
        id="grant-expires"
        label="Expires (optional)"
        type="date"
        value={expires}
        onValue={setExpires}
      />
      <TextField
        id="grant-reason"
        label="Reason (for the journal)"
        maxLength={500}
        value={reason}
        onValue={setReason}
      />
      <button type="submit" disabled={grant.state.status === 'running'}>
        Grant
      </button>
    </ActionForm>
  );
}

function GrantOutcome({ state }: { readonly state: ActionState<GrantResult> }) {
  if (state.status !== 'ok') return <ActionStatus state={state} running="Granting" />;
  const { grant, replay } = state.data;
  return (
    <p role="status" className="result" data-testid="grant-result">
      Granted {formatCredits(grant.amount)} ({grant.source})
      {grant.expiresAt !== null && `, expiring ${formatDateTime(grant.expiresAt)}`}
      {replayNote(replay)}.
    </p>
  );
}

function AdjustOutcome(props: {
  readonly state: ActionState<{ readonly credits: number; readonly replay: boolean }>;
}) {
  const { state } = props;
  if (state.status !== 'ok') return <ActionStatus state={state} running="Adjusting" />;
  return (
    <p role="status" className="result" data-testid="adjust-result">
      {state.data.credits >= 0 ? 'Added' : 'Removed'} {formatCredits(Math.abs(state.data.credits))}
      {replayNote(state.data.replay)}.
    </p>
  );
}

const DIRECTIONS = [
  { value: 'add', label: 'Add credits' },
  { value: 'remove', label: 'Remove credits' },
] as const;

/**
 * A correction: adding is a grant from the adjustment source; removing is a charge of that
 * many credits labelled as an adjustment (the journal never edits an entry).
 */
function AdjustForm({ client, account, disabled, onDone }: ActionProps) {
  const [direction, setDirection] = useState<'add' | 'remove'>('add');
  const [credits, setCredits] = useState('');
  const [reason, setReason] = useState('');
  const adjust = useKeyedAction(async (idempotencyKey: string) => {
    const n = wholeOf(credits);
    const why = reason.trim();
    if (direction === 'add') {
      const r = await client.grants.create(
        {
          accountId: account.id,
          credits: n,
          source: 'adjustment',
          ...(why ? { reason: why } : {}),
        },
        { idempotencyKey },
      );
      onDone();
      return { credits: r.grant.amount, replay: r.replay };
    }
    const labels = { adjustment: why === '' ? 'operator' : why };
    const r = await client.charges.create(
      { accountId: account.id, credits: n, attribution: { labels } },
      { idempotencyKey },
    );
    onDone();
    return { credits: -r.credits, replay: r.replay };
  });
  return (
    <ActionForm
      id="adjust-title"
      title="Adjust the balance"
      intro={
        <p className="muted small">
          Adding grants credits from the adjustment source; removing charges them, labelled as an
          adjustment. Both show in the history.
        </p>
      }
      disabled={disabled}
      onSubmit={() => void adjust.start()}
      onEdit={adjust.edited}
      outcome={<AdjustOutcome state={adjust.state} />}
    >
      <SelectField
        id="adjust-direction"
        label="Change"
        value={direction}
        onValue={setDirection}
        options={DIRECTIONS}
      />
      <TextField
        id="adjust-credits"
        label="Credits"
        inputMode="numeric"
        value={credits}
        onValue={setCredits}
      />
      <TextField
        id="adjust-reason"
        label="Reason"
        maxLength={200}
        value={reason}
        onValue={setReason}
      />
      <button type="submit" disabled={adjust.state.status === 'running'}>
        Apply the adjustment
      </button>
    </ActionForm>
  );
}

/** The account's purchases: confirm a pending manual payment, refund a paid one (asks first). */
function Payments({ client, account, disabled, onDone }: ActionProps) {
  const [purchases, reload] = useRequest(
    (signal) => client.purchases.list(account.id, { signal }),
    [account.id],
  );
  const [refunding, setRefunding] = useState<Purchase | null>(null);
  const [full, setFull] = useState(false);
  const [confirmed, confirm] = useConfirmPayment(client, () => {
    reload();
    onDone();
  });
  const refund = useKeyedAction(async (idempotencyKey: string, purchaseId: string) => {
    const r = await client.purchases.refund(purchaseId, { full }, { idempotencyKey });
    setRefunding(null);
    reload();
    onDone();
    return r;
  });
  const busy = disabled || confirmed.status === 'running' || refund.state.status === 'running';
  return (
    <section className="card" aria-labelledby="payments-title">
      <h2 id="payments-title">Payments</h2>
      <Async state={purchases} what="purchases">
        {({ purchases: list }) => (
          <PurchaseTable
            purchases={list}
            busy={busy}
            onConfirm={(id) => void confirm(id)}
            onRefund={(p) => {
              refund.reset();
              setRefunding(p);
            }}
          />
        )}
      </Async>
      <ConfirmPaymentOutcome state={confirmed} />
      {refunding !== null && (
        <RefundAsk
          purchase={refunding}
          full={full}
          busy={refund.state.status === 'running'}
          onFull={(f) => {
            refund.edited();
            setFull(f);
          }}
          onYes={() => void refund.start(refunding.id)}
          onNo={() => setRefunding(null)}
        />
      )}
      <ActionStatus state={refund.state} running="Refunding" />
      {refund.state.status === 'ok' && <RefundResult result={refund.state.data} />}
    </section>
  );
}

function RefundAsk(props: {
  readonly purchase: Purchase;
  readonly full: boolean;
  readonly busy: boolean;
  readonly onFull: (full: boolean) => void;
  readonly onYes: () => void;
  readonly onNo: () => void;
}) {
  const p = props.purchase;
  return (
    <Confirm
      id="refund-ask"
      yes="Refund now"
      no="Keep the purchase"
      busy={props.busy}
      onYes={props.onYes}
      onNo={props.onNo}
    >
      <p>
        Refund {p.id} ({p.pack}, {formatMoney(p.priceCents, p.currency)})? Its unspent credits are
        taken back and their share of the price is paid back.
      </p>
      <label className="check">
        <input
          type="checkbox"
          checked={props.full}
          onChange={(e) => props.onFull(e.target.checked)}
        />{' '}
        Refund the whole price, spent credits too
      </label>
    </Confirm>
  );
}

function PurchaseTable(props: {
  readonly purchases: readonly Purchase[];
  readonly busy: boolean;
  readonly onConfirm: (purchaseId: string) => void;
  readonly onRefund: (purchase: Purchase) => void;
}) {
  return (
    <PurchasesTable
      caption="The account's purchases, newest first"
      purchases={props.purchases}
      actions={(p) => (
        <>
          <ConfirmPaymentButton purchase={p} busy={props.busy} onConfirm={props.onConfirm} />
          {p.status === 'paid' && (
            <button
              type="button"
              className="small-button secondary"
              disabled={props.busy}
              onClick={() => props.onRefund(p)}
              aria-label={`Refund ${p.id}`}
            >
              Refund…
            </button>
          )}
        </>
      )}
    />
  );
}

function RefundResult({ result }: { readonly result: PurchaseResult }) {
  const p = result.purchase;
  return (
    <p role="status" className="result" data-testid="refund-result">
      {p.id} is {p.status}
      {p.refundedCents > 0 ? `: ${formatMoney(p.refundedCents, p.currency)} paid back` : ''}
      {replayNote(result.replay)}.
    </p>
  );
}

/** Verify reads the whole ledger; the account's own findings are listed first. */
function VerifySection({ client, account }: PageProps) {
  const [state, run] = useAction(async () => {
    try {
      return await client.operations.verify();
    } catch (error) {
      // A failed verify answers its report with the problem: show the report.
      if (isAmisiApiError(error) && error.code === 'verify_failed') {
        const report = (error.data as { report?: VerifyReport }).report;
        if (report) return report;
      }
      throw error;
    }
  });
  return (
    <section className="card" aria-labelledby="verify-title">
      <h2 id="verify-title">Verify</h2>
      <p className="muted small">
        Recomputes every account from the journal and checks every invariant (all accounts, not this
        one alone).
      </p>
      <button type="button" disabled={state.status === 'running'} onClick={() => void run()}>
        Run verify
      </button>
      <ActionStatus state={state} running="Verifying" />
      {state.status === 'ok' && <VerifyResult report={state.data} accountId={account.id} />}
    </section>
  );
}

function VerifyResult(props: { readonly report: VerifyReport; readonly accountId: string }) {
  const { report } = props;
  const own = report.violations.filter((v) => v.accountId === props.accountId);
  return (
    <div role="status" className={report.ok ? 'result' : 'problem'} data-testid="verify-result">
      <p>
        {report.ok ? 'Verified: no violations' : `${report.violations.length} violation(s)`} in{' '}
        {formatNumber(report.accounts)} accounts and {formatNumber(report.transactions)}{' '}
        transactions; {own.length === 0 ? 'none' : formatNumber(own.length)} in this account.
      </p>
      {report.violations.length > 0 && (
        <ul>
          {report.violations.slice(0, 20).map((v, i) => (
            <li key={i}>
              <code>{v.accountId}</code> {v.check}: {v.detail}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** An account key for this account, shown once (the server keeps only its hash). */
function KeyForm({ client, account, disabled }: Omit<ActionProps, 'onDone'>) {
  const [name, setName] = useState('');
  const [readOnly, setReadOnly] = useState(false);
  // Not keyed: a replay could not answer the key again. A click while one runs is ignored.
  const [made, make] = useAction(() =>
    client.accounts.createKey(account.id, {
      ...(name.trim() === '' ? {} : { name: name.trim() }),
      readOnly,
    }),
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (made.status !== 'running') void make();
  };
  return (
    <form className="card" aria-labelledby="key-title" onSubmit={submit}>
      <h2 id="key-title">API key for this account</h2>
      <p className="muted small">
        {account.kind === 'organization'
          ? 'An account key acts as the organization itself (like an owner); member keys are made on the Team page.'
          : 'The key reaches this account only.'}
      </p>
      <fieldset disabled={disabled || made.status === 'running'}>
        <legend className="visually-hidden">Key</legend>
        <div>
          <label htmlFor="key-name">Name (optional)</label>
          <input
            id="key-name"
            maxLength={100}
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
        </div>
        <label className="check">
          <input
            type="checkbox"
            checked={readOnly}
            onChange={(e) => setReadOnly(e.target.checked)}
          />{' '}
          Read only
        </label>
        <button type="submit">Make a key</button>
      </fieldset>
      <KeyResult state={made} />
    </form>
  );
}

export function KeyResult({ state }: { readonly state: ActionState<Pick<AccountKey, 'key'>> }) {
  if (state.status !== 'ok') return <ActionStatus state={state} running="Making the key" />;
  return (
    <div role="status" className="result" data-testid="key-result">
      <p>Copy this key now: it is shown only once.</p>
      <p>
        <code data-testid="new-key">{state.data.key}</code>
      </p>
    </div>
  );
}
