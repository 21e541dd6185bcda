import { useState } from 'react';
import type { Plan, PlanChangePreview, Subscription } from '../../../src/client/index.js';
import { ActionStatus, Async } from '../components/status.js';
import { formatCredits, formatDate, formatMoney, formatNumber } from '../format.js';
import type { PageProps } from '../page-props.js';
import { planName, subscriptionOrNull } from '../subscription.js';
import { useAction, useRequest } from '../use-request.js';

/**
 * The plans side by side, and a change with its prorated preview first. Changing a plan grants
 * credits, so the API takes an operator key for it; any other key sees the preview and, if it
 * confirms, the API's refusal.
 */
export function PlanPage({ client, account, can }: PageProps) {
  const [plans] = useRequest((signal) => client.catalog.plans({ signal }), []);
  const [sub, reloadSub] = useRequest(
    (signal) => subscriptionOrNull(client, account.id, signal),
    [account.id],
  );
  const [chosen, setChosen] = useState<string | null>(null);
  return (
    <Async state={sub} what="the plan">
      {(s) => (
        <>
          <CurrentPlan subscription={s} name={(id) => planName(plans, id)} />
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
              onDone={reloadSub}
            />
          )}
        </>
      )}
    </Async>
  );
}

function CurrentPlan(props: {
  readonly subscription: Subscription | null;
  readonly name: (id: string) => string;
}) {
  const { subscription: s, name } = props;
  if (s === null || s.status !== 'active') return <p className="notice">No plan yet.</p>;
  return (
    <p className="medium">
      Current plan: <strong>{name(s.plan)}</strong>, renews on {formatDate(s.nextRenewalAt)}
      {s.pendingPlan !== null && `, then changes to ${name(s.pendingPlan)}`}
      {s.cancelAt !== null && `, ends on ${formatDate(s.cancelAt)}`}.
    </p>
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
        aria-label={`Choose ${p.name}`}
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
  const [state, confirm] = useAction(async () => {
    const r = active
      ? await client.subscriptions.change(account.id, { plan })
      : await client.subscriptions.subscribe(account.id, { plan });
    if ('checkoutUrl' in r && r.checkoutUrl !== null) window.location.assign(r.checkoutUrl);
    props.onDone();
    return r;
  });
  return (
    <section className="card" aria-labelledby="change-title" aria-live="polite">
      <h2 id="change-title">Change to {props.name}</h2>
      <Async state={preview} what="the preview">
        {(p) => <PreviewText preview={p} />}
      </Async>
      {!props.can.operator && (
        <p className="muted small">
          Plan changes are confirmed by the platform with an operator key; the server may refuse
          this key.
        </p>
      )}
      <button
        type="button"
        disabled={state.status === 'running' || state.status === 'ok'}
        onClick={() => void confirm()}
      >
        Confirm the change
      </button>
      <ActionStatus state={state} running="Changing the plan" />
      {state.status === 'ok' && (
        <p role="status" className="notice">
          Done: the plan is {props.name}
          {'change' in state.data && state.data.change === 'downgrade'
            ? ' from the next renewal'
            : ''}
          .
        </p>
      )}
    </section>
  );
}

function PreviewText({ preview }: { readonly preview: PlanChangePreview | null }) {
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
  return (
    <p data-testid="preview">
      An upgrade, at once: {formatMoney(preview.chargeCents, preview.currency)} now for the rest of
      this cycle, and {formatCredits(preview.credits)} added now (both prorated).
    </p>
  );
}
