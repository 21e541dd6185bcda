import { useState, type FormEvent } from 'react';
import type { Budget, BudgetScope, Organization } from '../../../src/client/index.js';
import { ActionStatus, Async } from '../components/status.js';
import { Table } from '../components/table.js';
import { formatDate, formatNumber } from '../format.js';
import type { PageProps } from '../page-props.js';
import { useAction, useRequest } from '../use-request.js';

/** Members and roles; budgets with what they used and hold against their limit; admins edit. */
export function TeamPage(props: PageProps) {
  if (props.account.kind !== 'organization') {
    return <p className="notice">Teams are for organizations: this account is a person's own.</p>;
  }
  return <Team {...props} />;
}

function Team({ client, account, can }: PageProps) {
  const [org] = useRequest((signal) => client.teams.get(account.id, { signal }), [account.id]);
  const [budgets, reloadBudgets] = useRequest(
    (signal) => client.teams.budgets(account.id, { signal }),
    [account.id],
  );
  return (
    <Async state={org} what="the team">
      {(o) => (
        <>
          <section aria-labelledby="members-title">
            <h2 id="members-title">Members</h2>
            <p>
              {formatNumber(o.members.length)} of {formatNumber(o.seats)} seats
              {o.plan ? ` on ${o.plan}` : ''}
              {o.teamAccess ? '' : ' (this plan seats the owner alone)'}.
            </p>
            <Members org={o} />
          </section>
          <section aria-labelledby="budgets-title">
            <h2 id="budgets-title">Budgets</h2>
            <Async state={budgets} what="budgets">
              {(b) => <Budgets budgets={b.budgets} />}
            </Async>
            <BudgetForm
              org={o}
              allowed={can.manage}
              save={(scope, target, limit, mode) =>
                client.teams
                  .putBudget(account.id, scope, target, { limit, mode })
                  .then(reloadBudgets)
              }
            />
          </section>
        </>
      )}
    </Async>
  );
}

function Members({ org }: { readonly org: Organization }) {
  return (
    <Table
      caption="Members and their roles"
      columns={[{ label: 'Member' }, { label: 'Role' }, { label: 'Status' }, { label: 'Joined' }]}
    >
      {org.members.map((m) => (
        <tr key={m.id}>
          <th scope="row">
            {m.name ?? m.id}
            {m.name !== null && <span className="muted small"> ({m.id})</span>}
          </th>
          <td>{m.role}</td>
          <td>{m.status}</td>
          <td>{formatDate(m.joinedAt)}</td>
        </tr>
      ))}
    </Table>
  );
}

function budgetName(b: Budget): string {
  return b.scope === 'pool' ? 'Pool (everyone)' : `${b.scope} ${b.target}`;
}

function Budgets({ budgets }: { readonly budgets: readonly Budget[] }) {
  if (budgets.length === 0) return <p className="muted">No budgets yet.</p>;
  return (
    <ul className="budgets">
      {budgets.map((b) => (
        <li key={`${b.scope}/${b.target}`} className="card">
          <h3>{budgetName(b)}</h3>
          <BudgetBar budget={b} />
          <p>
            {formatNumber(b.used)} used, {formatNumber(b.held)} held of{' '}
            {b.limitCredits === null
              ? `${formatNumber(b.size)} (no cap)`
              : formatNumber(b.limitCredits)}{' '}
            · {b.mode === 'hard' ? 'hard: refuses past the limit' : 'soft: alerts only'}
            {b.periodEnd !== null && ` · until ${formatDate(b.periodEnd)}`}
          </p>
        </li>
      ))}
    </ul>
  );
}

/** Used and held as parts of the limit, drawn in SVG (attributes, not inline styles: the CSP). */
function BudgetBar({ budget }: { readonly budget: Budget }) {
  const size = Math.max(1, budget.size);
  const used = Math.min(100, (budget.used / size) * 100);
  const held = Math.min(100 - used, (budget.held / size) * 100);
  return (
    <svg
      className="budget-bar"
      viewBox="0 0 100 8"
      preserveAspectRatio="none"
      role="img"
      aria-label={`${budgetName(budget)}: ${budget.percent}% of the budget used or held`}
    >
      <rect className="track" x={0} y={0} width={100} height={8} />
      <rect className="used" x={0} y={0} width={used} height={8} />
      <rect className="held" x={used} y={0} width={held} height={8} />
    </svg>
  );
}

function BudgetForm(props: {
  readonly org: Organization;
  readonly allowed: boolean;
  readonly save: (
    scope: BudgetScope,
    target: string,
    limit: number,
    mode: 'hard' | 'soft',
  ) => Promise<void>;
}) {
  const { org } = props;
  const [scope, setScope] = useState<BudgetScope>('member');
  const [target, setTarget] = useState('');
  const [limit, setLimit] = useState('');
  const [mode, setMode] = useState<'hard' | 'soft'>('hard');
  const [state, save] = useAction(props.save);
  const targets = scope === 'member' ? org.members.map((m) => m.id) : org.projects.map((p) => p.id);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void save(scope, scope === 'pool' ? '-' : target || (targets[0] ?? ''), Number(limit), mode);
  };
  return (
    <form className="card budget-form" onSubmit={submit} aria-labelledby="budget-form-title">
      <h3 id="budget-form-title">Set a budget</h3>
      {!props.allowed && <p className="notice">Only owners and admins set budgets.</p>}
      <fieldset disabled={!props.allowed || state.status === 'running'}>
        <legend className="visually-hidden">Budget</legend>
        <BudgetTargetFields
          scope={scope}
          onScope={setScope}
          target={target || (targets[0] ?? '')}
          targets={targets}
          onTarget={setTarget}
        />
        <div>
          <label htmlFor="budget-limit">Limit (credits per cycle)</label>
          <input
            id="budget-limit"
            type="number"
            inputMode="numeric"
            min={0}
            step={1}
            required
            value={limit}
            onChange={(e) => setLimit(e.target.value)}
          />
        </div>
        <div>
          <label htmlFor="budget-mode">Mode</label>
          <select
            id="budget-mode"
            value={mode}
            onChange={(e) => setMode(e.target.value as 'hard' | 'soft')}
          >
            <option value="hard">Hard: refuse past the limit</option>
            <option value="soft">Soft: allow and alert</option>
          </select>
        </div>
        <button type="submit">Save budget</button>
      </fieldset>
      <ActionStatus state={state} running="Saving" />
      {state.status === 'ok' && (
        <p role="status" className="notice">
          Budget saved.
        </p>
      )}
    </form>
  );
}

/** Whom a budget is for: a member, a project or the pool, and which member or project. */
function BudgetTargetFields(props: {
  readonly scope: BudgetScope;
  readonly onScope: (scope: BudgetScope) => void;
  readonly target: string;
  readonly targets: readonly string[];
  readonly onTarget: (target: string) => void;
}) {
  return (
    <>
      <div>
        <label htmlFor="budget-scope">For</label>
        <select
          id="budget-scope"
          value={props.scope}
          onChange={(e) => props.onScope(e.target.value as BudgetScope)}
        >
          <option value="member">A member</option>
          <option value="project">A project</option>
          <option value="pool">The pool</option>
        </select>
      </div>
      {props.scope !== 'pool' && (
        <div>
          <label htmlFor="budget-target">{props.scope === 'member' ? 'Member' : 'Project'}</label>
          <select
            id="budget-target"
            value={props.target}
            onChange={(e) => props.onTarget(e.target.value)}
          >
            {props.targets.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
      )}
    </>
  );
}
