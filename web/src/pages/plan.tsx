import { useState } from 'react';
import type {
  ChangePlanResult,
  Plan,
  PlanChangePreview,
  PlanUpgrade,
  SubscribeResult,
  Subscription,
} from '../../../src/client/index.js';
import { useKeyedAction } from '../keyed-action.js';
import { ActionStatus, Async } from '../components/status.js';
import { formatCredits, formatDate, formatMoney, formatNumber } from '../format.js';
import type { PageProps } from '../page-props.js';
import { planName, subscriptionOrNull } from '../subscription.js';
import { useAction, useRequest } from '../use-request.js';

/**
 * The plans side by side, and a change with its prorated preview first. The owner changes its
 * own plan; money decides the path (the API's rule): an upgrade with a difference to pay waits
 * for the payment (Stripe Checkout, or an operator confirms it), a downgrade or a cancellation
 * is queued for the renewal and can be undone before it. Operators' changes apply at once.
 */
export function PlanPage({ client, account, can }: PageProps) {
  const [plans] = useRequest((signal) => client.catalog.plans({ signal }), []);
  const [sub, reloadSub] = useRequest(
    (signal) => subscriptionOrNull(client, account.id, signal),
    [account.id],
  );
  const [upgrades, reloadUpgrades] = useRequest(
    (signal) =>
      can.billing
        ? client.subscriptions.upgrades(account.id, { signal })
        : Promise.resolve({ upgrades: [] }),
    [account.id, can.billing],
  );
  const [chosen, setChosen] = useState<string | null>(null);
  const reload = () => {
    reloadSub();
    reloadUpgrades();
  };
  return (
    <Async state={sub} what="the plan">
      {(s) => (
        <>
          <CurrentPlan
            {...{ client, account, can }}
            subscription={s}
            name={(id) => planName(plans, id)}
            onDone={reload}
          />
          <Async state={upgrades} what="upgrades">
            {({ upgrades: list }) => (
              <PendingUpgrades
                {...{ client, can }}
                upgrades={list.filter((u) => u.status === 'pending')}
                name={(id) => planName(plans, id)}
                onDone={reload}
              />
            )}
          </Async>
          <Async state={plans} what="plans">
            {({ plans: list, currency }) => (
              <ul className="cards plans">
                {list.map((p) => (
                  <PlanCard
                    key={p.id}
                    plan={p}
                    currency={currency}
                    current={s?.status === 'active' && s.plan === p.id}
                    onChoose={() => setChosen(p.id)}
                  />
                ))}
              </ul>
            )}
          </Async>
          {chosen !== null && (
            <Change
              key={chosen}
              {...{ client, account, can }}
              plan={chosen}
              name={planName(plans, chosen)}
              subscription={s}
              onDone={reload}
            />
          )}
        </>
      )}
    </Async>
  );
}

/** Upgrades asked for and not paid yet: cancel one, or (an operator) confirm its payment. */
function PendingUpgrades(
  props: Pick<PageProps, 'client' | 'can'> & {
    readonly upgrades: readonly PlanUpgrade[];
    readonly name: (id: string) => string;
    readonly onDone: () => void;
  },
) {
  const { client, onDone } = props;
  const [state, act] = useAction(async (id: string, how: 'cancel' | 'confirm') => {
    const r =
      how === 'cancel'
        ? await client.subscriptions.cancelUpgrade(id)
        : await client.subscriptions.confirmUpgrade(id);
    onDone();
    return r;
  });
  if (props.upgrades.length === 0 && state.status !== 'ok') return null;
  return (
    <section className="card" aria-labelledby="upgrades-title">
      <h2 id="upgrades-title">Upgrades awaiting payment</h2>
      <ul>
        {props.upgrades.map((u) => (
          <li key={u.id} data-testid="pending-upgrade">
            To {props.name(u.plan)}: {formatMoney(u.priceCents, u.currency)} for{' '}
            {formatCredits(u.credits)} for the rest of the cycle, asked on {formatDate(u.createdAt)}
            .{' '}
            {props.can.operator && u.provider === 'manual' && (
              <button
                type="button"
                className="small-button"
                disabled={state.status === 'running'}
                onClick={() => void act(u.id, 'confirm')}
              >
                Confirm the payment
              </button>
            )}{' '}
            <button
              type="button"
              className="small-button secondary"
              disabled={state.status === 'running'}
              onClick={() => void act(u.id, 'cancel')}
            >
              Cancel the upgrade
            </button>
          </li>
        ))}
      </ul>
      <ActionStatus state={state} running="Updating the upgrade" />
      {state.status === 'ok' && (
        <p role="status" className="notice">
          {state.data.upgrade.status === 'paid'
            ? `Paid: the plan is ${props.name(state.data.subscription?.plan ?? state.data.upgrade.plan)} and ${formatCredits(state.data.upgrade.credits)} were added.`
            : 'The upgrade is cancelled; nothing was charged.'}
        </p>
      )}
    </section>
  );
}

function CurrentPlan(
  props: Pick<PageProps, 'client' | 'account' | 'can'> & {
    readonly subscription: Subscription | null;
    readonly name: (id: string) => string;
    readonly onDone: () => void;
  },
) {
  const { subscription: s, name, client, account } = props;
  const [asking, setAsking] = useState(false);
  const keyed = useKeyedAction(async (idempotencyKey, how: 'undo' | 'cancel') => {
    const active = s?.plan ?? '';
    const r =
      how === 'undo'
        ? await client.subscriptions.change(account.id, { plan: active }, { idempotencyKey })
        : await client.subscriptions.cancel(account.id, { idempotencyKey });
    setAsking(false);
    props.onDone();
    return { how, result: r };
  });
  const { state } = keyed;
  // Each click after an answer is a new intent (undo, then cancel): a new key.
  const start = (how: 'undo' | 'cancel') => {
    if (state.status !== 'running') keyed.edited();
    return keyed.start(how);
  };
  if (s === null || s.status !== 'active') return <p className="notice">No plan yet.</p>;
  const queued = s.pendingPlan !== null || s.cancelAt !== null;
  return (
    <section aria-label="Current plan">
      <p className="medium" data-testid="current-plan">
        Current plan: <strong>{name(s.plan)}</strong>, renews on {formatDate(s.nextRenewalAt)}
        {s.pendingPlan !== null && `, then changes to ${name(s.pendingPlan)}`}
        {s.cancelAt !== null && `, ends on ${formatDate(s.cancelAt)}`}.
      </p>
      {props.can.billing && queued && (
        <button type="button" className="secondary" onClick={() => void start('undo')}>
          {s.cancelAt !== null ? 'Keep the plan' : `Stay on ${name(s.plan)}`}
        </button>
      )}
      {props.can.billing && !queued && !asking && (
        <button type="button" className="secondary" onClick={() => setAsking(true)}>
          Cancel the plan…
        </button>
      )}
      {asking && (
        <div className="card confirm" role="group" aria-label="Cancel the plan">
          <p>
            The plan ends on {formatDate(s.nextRenewalAt)}: no renewal, and this cycle&apos;s unused
            credits expire then. Purchased credits stay. You can undo it until then.
          </p>
          <button type="button" onClick={() => void start('cancel')}>
            Cancel at the renewal
          </button>{' '}
          <button type="button" className="secondary" onClick={() => setAsking(false)}>
            Keep it
          </button>
        </div>
      )}
      <ActionStatus state={state} running="Changing the plan" />
      {state.status === 'ok' && (
        <p role="status" className="notice">
          {state.data.how === 'undo'
            ? 'Undone: the plan renews as it is.'
            : `Cancelled: the plan ends on ${formatDate(s.nextRenewalAt)}.`}
        </p>
      )}
    </section>
  );
}

function PlanCard(props: {
  readonly plan: Plan;
  readonly currency: string;
  readonly current: boolean;
  readonly onChoose: () => void;
}) {
  const { plan: p, currency } = props;
  return (
    <li className={`card plan${props.current ? ' current' : ''}`}>
      <h3>
        {p.name}
        {props.current && <span className="badge">current</span>}
      </h3>
      <p className="medium">
        {formatMoney(p.priceCents, currency)}
        <span className="muted small"> a month</span>
      </p>
      <dl>
        <dt>Credits a month</dt>
        <dd>{formatNumber(p.creditsPerCycle)}</dd>
        <dt>Rollover up to</dt>
        <dd>{p.rolloverCap === 0 ? 'none' : formatNumber(p.rolloverCap)}</dd>
        <dt>Team seats</dt>
        <dd>{p.teamAccess ? formatNumber(p.seats) : 'owner only'}</dd>
      </dl>
      <button
        type="button"
        disabled={props.current}
        onClick={props.onChoose}
        {...(props.current ? {} : { 'aria-label': `Choose ${p.name}` })}
      >
        {props.current ? 'Your plan' : 'Choose'}
      </button>
    </li>
  );
}

function Change(
  props: Pick<PageProps, 'client' | 'account' | 'can'> & {
    readonly plan: string;
    /** The plan's name for people. */
    readonly name: string;
    readonly subscription: Subscription | null;
    readonly onDone: () => void;
  },
) {
  const { client, account, plan } = props;
  const active = props.subscription?.status === 'active';
  const [preview] = useRequest(
    (signal) =>
      active ? client.subscriptions.preview(account.id, plan, { signal }) : Promise.resolve(null),
    [account.id, plan, active],
  );
  const { state, start: confirm } = useKeyedAction(async (idempotencyKey) => {
    const r = active
      ? await client.subscriptions.change(account.id, { plan }, { idempotencyKey })
      : await client.subscriptions.subscribe(account.id, { plan }, { idempotencyKey });
    if ('checkoutUrl' in r && r.checkoutUrl !== null) window.location.assign(r.checkoutUrl);
    props.onDone();
    return r;
  });
  const allowed = props.can.billing && (active || props.can.operator);
  return (
    <section className="card" aria-labelledby="change-title" aria-live="polite">
      <h2 id="change-title">Change to {props.name}</h2>
      <Async state={preview} what="the preview">
        {(p) => <PreviewText preview={p} operator={props.can.operator} />}
      </Async>
      {!allowed && (
        <p className="muted small">
          {active
            ? "Only the account's owner changes the plan."
            : 'The platform starts a first plan; ask it to subscribe this account.'}
        </p>
      )}
      {allowed && (
        <button
          type="button"
          disabled={state.status === 'running' || state.status === 'ok'}
          onClick={() => void confirm()}
        >
          Confirm the change
        </button>
      )}
      <ActionStatus state={state} running="Changing the plan" />
      {state.status === 'ok' && <ChangeDone result={state.data} name={props.name} />}
    </section>
  );
}

function ChangeDone({
  result,
  name,
}: {
  readonly result: ChangePlanResult | SubscribeResult;
  readonly name: string;
}) {
  if ('upgrade' in result) {
    const u = result.upgrade;
    return (
      <p role="status" className="notice" data-testid="upgrade-pending">
        Upgrade asked for: {formatMoney(u.priceCents, u.currency)} to pay. When the payment is
        confirmed the plan becomes {name} and {formatCredits(u.credits)} are added; until then
        nothing changes.
      </p>
    );
  }
  const change = 'change' in result ? result.change : 'subscribe';
  return (
    <p role="status" className="notice">
      {change === 'unchanged'
        ? `No change: the plan stays ${name}, and any queued change is undone.`
        : `Done: the plan is ${name}${change === 'downgrade' ? ' from the next renewal' : ''}.`}
    </p>
  );
}

function PreviewText({
  preview,
  operator,
}: {
  readonly preview: PlanChangePreview | null;
  readonly operator: boolean;
}) {
  if (preview === null)
    return <p>Subscribing starts the plan now with its first month's credits.</p>;
  if (preview.change === 'unchanged') return <p>This is the plan already.</p>;
  if (preview.change === 'downgrade') {
    return (
      <p data-testid="preview">
        A downgrade: it takes effect at the renewal on {formatDate(preview.effectiveAt)}; nothing is
        charged now.
      </p>
    );
  }
  if (!operator && preview.chargeCents > 0) {
    return (
      <p data-testid="preview">
        An upgrade: {formatMoney(preview.chargeCents, preview.currency)} to pay for the rest of this
        cycle, and {formatCredits(preview.credits)} added once it is paid (both prorated).
      </p>
    );
  }
  return (
    <p data-testid="preview">
      An upgrade, at once: {formatMoney(preview.chargeCents, preview.currency)} now for the rest of
      this cycle, and {formatCredits(preview.credits)} added now (both prorated).
    </p>
  );
}
