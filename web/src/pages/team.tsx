import { useState, type FormEvent } from 'react';
import type {
  Budget,
  BudgetAlert,
  BudgetScope,
  Member,
  MemberResult,
  Organization,
} from '../../../src/client/index.js';
import { budgetName, BudgetSummary, namesOf, type Names } from '../components/budget.js';
import { ActionForm, Confirm, SelectField, TextField } from '../components/fields.js';
import { ActionStatus, Async } from '../components/status.js';
import { Table } from '../components/table.js';
import { formatCredits, formatDate, formatDateTime, formatNumber } from '../format.js';
import type { PageProps } from '../page-props.js';
import { KeyResult } from './operator.js';
import { useAction, useRequest, type ActionState } from '../use-request.js';

/**
 * Members and roles, projects, budgets with what they used and hold against their limit, the
 * alert feed. Owners and admins (and account and operator keys) manage them; each button is
 * offered only to a key the API lets use it.
 */
export function TeamPage(props: PageProps) {
  if (props.account.kind !== 'organization') {
    return <p className="notice">Teams are for organizations: this account is a person's own.</p>;
  }
  return <Team {...props} />;
}

/** What the signed-in key may do on this page (the API decides; this only hides buttons). */
function powersOf({ me, can }: PageProps) {
  const owner = me.scope !== 'member' || me.role === 'owner';
  return {
    manage: can.manage,
    /** Only owners make, change or remove owners. */
    owners: can.manage && owner,
    /** A member key makes keys for itself; owners (account, operator keys) for anyone. */
    keyFor: (memberId: string) =>
      can.write && (owner || (me.scope === 'member' && me.memberId === memberId)),
    alerts: can.allUsage,
  };
}

type Powers = ReturnType<typeof powersOf>;

function Team(props: PageProps) {
  const { client, account } = props;
  const powers = powersOf(props);
  const [org, reloadOrg] = useRequest(
    (signal) => client.teams.get(account.id, { signal }),
    [account.id],
  );
  const [budgets, reloadBudgets] = useRequest(
    (signal) => client.teams.budgets(account.id, { signal }),
    [account.id],
  );
  return (
    <Async state={org} what="the team">
      {(o) => {
        const names = namesOf(o);
        return (
          <>
            <section aria-labelledby="members-title">
              <h2 id="members-title">Members</h2>
              <p>
                {formatNumber(o.members.length)} of {formatNumber(o.seats)} seats
                {o.plan ? ` on ${o.plan}` : ''}
                {o.teamAccess ? '' : ' (this plan seats the owner alone)'}.
              </p>
              <Members {...props} org={o} powers={powers} onChange={reloadOrg} />
              {powers.manage && <InviteForm {...props} powers={powers} onDone={reloadOrg} />}
            </section>
            <section aria-labelledby="projects-title">
              <h2 id="projects-title">Projects</h2>
              <Projects org={o} />
              {powers.manage && <ProjectForm {...props} org={o} onDone={reloadOrg} />}
            </section>
            <section aria-labelledby="budgets-title">
              <h2 id="budgets-title">Budgets</h2>
              <Async state={budgets} what="budgets">
                {(b) => (
                  <>
                    <Budgets
                      {...props}
                      budgets={b.budgets}
                      names={names}
                      powers={powers}
                      onDone={reloadBudgets}
                    />
                    <BudgetForm
                      {...props}
                      org={o}
                      names={names}
                      budgets={b.budgets}
                      allowed={powers.manage}
                      onDone={reloadBudgets}
                    />
                  </>
                )}
              </Async>
            </section>
            {powers.alerts && <Alerts {...props} names={names} />}
          </>
        );
      }}
    </Async>
  );
}

function Members(
  props: PageProps & {
    readonly org: Organization;
    readonly powers: Powers;
    readonly onChange: () => void;
  },
) {
  const { account, org, powers } = props;
  const [keyFor, setKeyFor] = useState<string | null>(null);
  const [removing, setRemoving] = useState<Member | null>(null);
  const { changed, change, removed, remove, made, make } = useMemberActions(
    props,
    account.id,
    () => {
      setRemoving(null);
      props.onChange();
    },
  );
  const busy = [changed, removed, made].some((s) => s.status === 'running');
  const actions = powers.manage || org.members.some((m) => powers.keyFor(m.id));
  return (
    <>
      <MemberTable
        org={org}
        powers={powers}
        actions={actions}
        busy={busy}
        onRole={(id, role) => void change(id, role)}
        onKey={(id) => {
          setKeyFor(id);
          void make(id);
        }}
        onRemove={setRemoving}
      />
      <Done state={changed} running="Changing the role">
        {(r) => `${r.member.id} is now ${r.member.role}.`}
      </Done>
      {removing !== null && (
        <Confirm
          id="remove-ask"
          yes={`Remove ${removing.id}`}
          no="Keep"
          busy={removed.status === 'running'}
          onYes={() => void remove(removing.id)}
          onNo={() => setRemoving(null)}
        >
          <p>
            Remove {removing.name ?? removing.id}? Their keys stop working and their budget is
            removed; what they spent stays in the history.
          </p>
        </Confirm>
      )}
      <Done state={removed} running="Removing">
        {(id) => `${id} was removed.`}
      </Done>
      {keyFor !== null && made.status !== 'idle' && (
        <div aria-label={`New key: ${keyFor}`} role="group">
          <KeyResult state={made} />
        </div>
      )}
    </>
  );
}

/** Role changes, removals and member keys; `onChange` after a change or a removal. */
function useMemberActions(
  { client }: Pick<PageProps, 'client'>,
  accountId: string,
  onChange: () => void,
) {
  const [changed, change] = useAction(async (memberId: string, role: Member['role']) => {
    const r = await client.teams.putMember(accountId, memberId, { role });
    onChange();
    return r;
  });
  const [removed, remove] = useAction(async (memberId: string) => {
    await client.teams.removeMember(accountId, memberId);
    onChange();
    return memberId;
  });
  const [made, make] = useAction((memberId: string) =>
    client.teams.createMemberKey(accountId, memberId, { name: 'dashboard' }),
  );
  return { changed, change, removed, remove, made, make };
}

/** An action's progress or problem, then one sentence of what it did. */
function Done<T>(props: {
  readonly state: ActionState<T>;
  readonly running: string;
  readonly children: (data: T) => string;
}) {
  if (props.state.status !== 'ok')
    return <ActionStatus state={props.state} running={props.running} />;
  return (
    <p role="status" className="result">
      {props.children(props.state.data)}
    </p>
  );
}

function MemberTable(props: {
  readonly org: Organization;
  readonly powers: Powers;
  readonly actions: boolean;
  readonly busy: boolean;
  readonly onRole: (memberId: string, role: Member['role']) => void;
  readonly onKey: (memberId: string) => void;
  readonly onRemove: (member: Member) => void;
}) {
  return (
    <Table
      caption="Members and their roles"
      columns={[
        { label: 'Member' },
        { label: 'Role' },
        { label: 'Status' },
        { label: 'Joined' },
        ...(props.actions ? [{ label: 'Actions' }] : []),
      ]}
    >
      {props.org.members.map((m) => (
        <MemberRow
          key={m.id}
          member={m}
          powers={props.powers}
          actions={props.actions}
          busy={props.busy}
          onRole={(role) => props.onRole(m.id, role)}
          onKey={() => props.onKey(m.id)}
          onRemove={() => props.onRemove(m)}
        />
      ))}
    </Table>
  );
}

function MemberRow(props: {
  readonly member: Member;
  readonly powers: Powers;
  readonly actions: boolean;
  readonly busy: boolean;
  readonly onRole: (role: Member['role']) => void;
  readonly onKey: () => void;
  readonly onRemove: () => void;
}) {
  const { member: m, powers, busy } = props;
  const manageable = powers.manage && (m.role !== 'owner' || powers.owners);
  return (
    <tr>
      <th scope="row">
        {m.name ?? m.id}
        {m.name !== null && <span className="muted small"> ({m.id})</span>}
      </th>
      <td>
        {manageable ? (
          <RoleSelect member={m} owners={powers.owners} disabled={busy} onRole={props.onRole} />
        ) : (
          m.role
        )}
      </td>
      <td>{m.status}</td>
      <td>{formatDate(m.joinedAt)}</td>
      {props.actions && (
        <td>
          {powers.keyFor(m.id) && m.status === 'active' && (
            <button
              type="button"
              className="small-button secondary"
              disabled={busy}
              aria-label={`Make a key as ${m.id}`}
              onClick={props.onKey}
            >
              Make a key
            </button>
          )}
          {manageable && (
            <button
              type="button"
              className="small-button secondary"
              disabled={busy}
              aria-label={`Remove ${m.id}`}
              onClick={props.onRemove}
            >
              Remove…
            </button>
          )}
        </td>
      )}
    </tr>
  );
}

function RoleSelect(props: {
  readonly member: Member;
  readonly owners: boolean;
  readonly disabled: boolean;
  readonly onRole: (role: Member['role']) => void;
}) {
  const roles = props.owners ? ROLES : ROLES.slice(1);
  return (
    <select
      aria-label={`Role of ${props.member.id}`}
      value={props.member.role}
      disabled={props.disabled}
      onChange={(e) => props.onRole(e.target.value as Member['role'])}
    >
      {roles.map((r) => (
        <option key={r} value={r}>
          {r}
        </option>
      ))}
    </select>
  );
}

/** The link an invited member opens: the dashboard's accept page, with the code in the fragment. */
export function acceptLink(accountId: string, memberId: string, code: string): string {
  const q = new URLSearchParams({ org: accountId, member: memberId, code });
  return `${window.location.origin}/invite#${q.toString()}`;
}

function InviteForm(props: PageProps & { readonly powers: Powers; readonly onDone: () => void }) {
  const { client, account, powers } = props;
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Member['role']>('member');
  // Adding a member is idempotent by its content (the same request again changes nothing).
  const [state, invite] = useAction(async (): Promise<MemberResult> => {
    const r = await client.teams.putMember(account.id, id.trim(), {
      role,
      invite: true,
      ...(name.trim() === '' ? {} : { name: name.trim() }),
      ...(email.trim() === '' ? {} : { email: email.trim() }),
    });
    props.onDone();
    return r;
  });
  const roles = (powers.owners ? ROLES : ROLES.slice(1)).map((r) => ({ value: r, label: r }));
  return (
    <ActionForm
      id="invite-title"
      title="Invite a member"
      level={3}
      disabled={state.status === 'running'}
      onSubmit={() => void invite()}
      outcome={<InviteOutcome accountId={account.id} state={state} />}
    >
      <TextField id="invite-id" label="Member id" maxLength={128} value={id} onValue={setId} />
      <TextField
        id="invite-name"
        label="Name (optional)"
        maxLength={100}
        value={name}
        onValue={setName}
      />
      <TextField
        id="invite-email"
        label="E-mail (optional)"
        type="email"
        maxLength={254}
        value={email}
        onValue={setEmail}
      />
      <SelectField id="invite-role" label="Role" value={role} onValue={setRole} options={roles} />
      <button type="submit">Invite</button>
    </ActionForm>
  );
}

const ROLES: readonly Member['role'][] = ['owner', 'admin', 'member'];

function InviteOutcome(props: {
  readonly accountId: string;
  readonly state: ActionState<MemberResult>;
}) {
  const { state } = props;
  if (state.status !== 'ok') return <ActionStatus state={state} running="Inviting" />;
  const { member, invitationCode } = state.data;
  if (invitationCode === null) {
    return (
      <p role="status" className="result" data-testid="invite-result">
        {member.id} is {member.status}: nothing to accept.
      </p>
    );
  }
  const link = acceptLink(props.accountId, member.id, invitationCode);
  return (
    <div role="status" className="result" data-testid="invite-result">
      <p>
        {member.id} is invited as {member.role}. Send this link (it is shown only once; inviting
        again makes a new one):
      </p>
      <p>
        <a href={link} data-testid="accept-link">
          {link}
        </a>
      </p>
    </div>
  );
}

function Projects({ org }: { readonly org: Organization }) {
  if (org.projects.length === 0) return <p className="muted">No projects yet.</p>;
  return (
    <Table caption="Projects" columns={[{ label: 'Project' }, { label: 'Id' }, { label: 'Made' }]}>
      {org.projects.map((p) => (
        <tr key={p.id}>
          <th scope="row">{p.name}</th>
          <td>
            <code>{p.id}</code>
          </td>
          <td>{formatDate(p.createdAt)}</td>
        </tr>
      ))}
    </Table>
  );
}

function ProjectForm(
  props: PageProps & { readonly org: Organization; readonly onDone: () => void },
) {
  const { client, account } = props;
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  const [state, save] = useAction(async () => {
    const r = await client.teams.putProject(account.id, id.trim(), {
      ...(name.trim() === '' ? {} : { name: name.trim() }),
    });
    props.onDone();
    return r;
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (state.status !== 'running') void save();
  };
  return (
    <form className="card" aria-labelledby="project-form-title" onSubmit={submit} noValidate>
      <h3 id="project-form-title">Create or rename a project</h3>
      <fieldset disabled={state.status === 'running'}>
        <legend className="visually-hidden">Project</legend>
        <div>
          <label htmlFor="project-id">Project id</label>
          <input
            id="project-id"
            value={id}
            maxLength={128}
            list="project-ids"
            onChange={(e) => setId(e.target.value)}
          />
          <datalist id="project-ids">
            {props.org.projects.map((p) => (
              <option key={p.id} value={p.id} />
            ))}
          </datalist>
        </div>
        <div>
          <label htmlFor="project-name">Name</label>
          <input
            id="project-name"
            value={name}
            maxLength={100}
            onChange={(e) => setName(e.target.value)}
          />
        </div>
        <button type="submit">Save project</button>
      </fieldset>
      <ActionStatus state={state} running="Saving" />
      {state.status === 'ok' && (
        <p role="status" className="result">
          Project {state.data.project.name} ({state.data.project.id}) saved.
        </p>
      )}
    </form>
  );
}

function Budgets(
  props: PageProps & {
    readonly budgets: readonly Budget[];
    readonly names: Names;
    readonly powers: Powers;
    readonly onDone: () => void;
  },
) {
  const { client, account, names } = props;
  const [removing, setRemoving] = useState<Budget | null>(null);
  const [removed, remove] = useAction(async (b: Budget) => {
    await client.teams.removeBudget(account.id, b.scope, b.target);
    setRemoving(null);
    props.onDone();
    return budgetName(b, names);
  });
  if (props.budgets.length === 0) return <p className="muted">No budgets yet.</p>;
  return (
    <>
      <ul className="budgets">
        {props.budgets.map((b) => (
          <li key={`${b.scope}/${b.target}`} className="card" data-testid="budget">
            <BudgetSummary budget={b} names={names} />
            {props.powers.manage && b.limitCredits !== null && (
              <button
                type="button"
                className="small-button secondary"
                aria-label={`Remove the budget of ${budgetName(b, names)}`}
                onClick={() => setRemoving(b)}
              >
                Remove the budget…
              </button>
            )}
          </li>
        ))}
      </ul>
      {removing !== null && (
        <div className="card confirm" role="group" aria-labelledby="remove-budget-ask">
          <p id="remove-budget-ask">
            Remove the budget of {budgetName(removing, names)}?{' '}
            {removing.scope === 'pool'
              ? 'The pool goes back to alerts only.'
              : 'Its spending is then limited by the pool alone.'}
          </p>
          <div className="row">
            <button
              type="button"
              disabled={removed.status === 'running'}
              onClick={() => void remove(removing)}
            >
              Remove the budget
            </button>
            <button type="button" className="secondary" onClick={() => setRemoving(null)}>
              Keep it
            </button>
          </div>
        </div>
      )}
      <ActionStatus state={removed} running="Removing the budget" />
      {removed.status === 'ok' && (
        <p role="status" className="result">
          The budget of {removed.data} was removed.
        </p>
      )}
    </>
  );
}

interface BudgetChange {
  readonly scope: BudgetScope;
  readonly target: string;
  readonly limit: number;
  readonly mode: 'hard' | 'soft';
}

/** What a hard limit below the budget's used and held credits would refuse: ask first. */
function needsAsking(change: BudgetChange, budgets: readonly Budget[]): number | null {
  const current = budgets.find(
    (b) => b.scope === change.scope && (b.scope === 'pool' || b.target === change.target),
  );
  const spent = current === undefined ? 0 : current.used + current.held;
  const lower = change.mode === 'hard' && Number.isSafeInteger(change.limit);
  return lower && change.limit < spent ? spent : null;
}

const SCOPES = [
  { value: 'member', label: 'A member' },
  { value: 'project', label: 'A project' },
  { value: 'pool', label: 'The pool' },
] as const;

const MODES = [
  { value: 'hard', label: 'Hard: refuse past the limit' },
  { value: 'soft', label: 'Soft: allow and alert' },
] as const;

interface BudgetFormState {
  readonly scope: BudgetScope;
  readonly target: string;
  readonly limit: string;
  readonly mode: 'hard' | 'soft';
}

/** The members or projects a budget can be for, by name. */
function targetsOf(org: Organization, scope: BudgetScope) {
  return (scope === 'member' ? org.members : org.projects).map((t) => {
    const name = 'role' in t ? (t.name ?? t.id) : t.name;
    return { value: t.id, label: name === t.id ? t.id : `${name} (${t.id})` };
  });
}

function BudgetForm(
  props: PageProps & {
    readonly org: Organization;
    readonly names: Names;
    readonly budgets: readonly Budget[];
    readonly allowed: boolean;
    readonly onDone: () => void;
  },
) {
  const { client, account, org } = props;
  const [form, setForm] = useState<BudgetFormState>({
    scope: 'member',
    target: '',
    limit: '',
    mode: 'hard',
  });
  const [asking, setAsking] = useState<{ change: BudgetChange; spent: number } | null>(null);
  // Setting a budget is idempotent by its content: the same request again changes nothing.
  const [state, save] = useAction(async (c: BudgetChange) => {
    setAsking(null);
    const r = await client.teams.putBudget(account.id, c.scope, c.target, {
      limit: c.limit,
      mode: c.mode,
    });
    props.onDone();
    return r;
  });
  const targets = targetsOf(org, form.scope);
  const chosen = form.target || (targets[0]?.value ?? '');
  const submit = () => {
    if (state.status === 'running') return;
    const change: BudgetChange = {
      scope: form.scope,
      target: form.scope === 'pool' ? '' : chosen,
      limit: /^\d+$/.test(form.limit.trim()) ? Number(form.limit.trim()) : Number.NaN,
      mode: form.mode,
    };
    const spent = needsAsking(change, props.budgets);
    if (spent === null) void save(change);
    else setAsking({ change, spent });
  };
  const outcome = (
    <>
      {asking !== null && (
        <BudgetAsk
          {...asking}
          names={props.names}
          onYes={() => void save(asking.change)}
          onNo={() => setAsking(null)}
        />
      )}
      <Done state={state} running="Saving">
        {() => 'Budget saved.'}
      </Done>
    </>
  );
  return (
    <ActionForm
      id="budget-form-title"
      title="Set a budget"
      level={3}
      intro={!props.allowed && <p className="notice">Only owners and admins set budgets.</p>}
      disabled={!props.allowed || state.status === 'running'}
      onSubmit={submit}
      outcome={outcome}
    >
      <BudgetFields form={{ ...form, target: chosen }} onForm={setForm} targets={targets} />
      <button type="submit">Save budget</button>
    </ActionForm>
  );
}

function BudgetFields(props: {
  readonly form: BudgetFormState;
  readonly onForm: (form: BudgetFormState) => void;
  readonly targets: readonly { readonly value: string; readonly label: string }[];
}) {
  const { form, onForm } = props;
  return (
    <>
      <SelectField
        id="budget-scope"
        label="For"
        value={form.scope}
        onValue={(scope) => onForm({ ...form, scope, target: '' })}
        options={SCOPES}
      />
      {form.scope !== 'pool' && (
        <SelectField
          id="budget-target"
          label={form.scope === 'member' ? 'Member' : 'Project'}
          value={form.target}
          onValue={(target) => onForm({ ...form, target })}
          options={props.targets}
        />
      )}
      <TextField
        id="budget-limit"
        label="Limit (credits per cycle)"
        type="number"
        inputMode="numeric"
        min={0}
        step={1}
        value={form.limit}
        onValue={(limit) => onForm({ ...form, limit })}
      />
      <SelectField
        id="budget-mode"
        label="Mode"
        value={form.mode}
        onValue={(mode) => onForm({ ...form, mode })}
        options={MODES}
      />
    </>
  );
}

function BudgetAsk(props: {
  readonly change: BudgetChange;
  readonly spent: number;
  readonly names: Names;
  readonly onYes: () => void;
  readonly onNo: () => void;
}) {
  const { change, names } = props;
  const who =
    change.scope === 'pool'
      ? 'The pool'
      : change.scope === 'member'
        ? `Member ${names.members.get(change.target) ?? change.target}`
        : `Project ${names.projects.get(change.target) ?? change.target}`;
  return (
    <Confirm
      id="budget-ask"
      role="alertdialog"
      yes="Set the lower limit"
      no="Cancel"
      busy={false}
      onYes={props.onYes}
      onNo={props.onNo}
    >
      <p>
        {who} already used or holds {formatCredits(props.spent)} this period. A hard limit of{' '}
        {formatCredits(change.limit)} refuses every new hold at once. Set it anyway?
      </p>
    </Confirm>
  );
}

/** Threshold alerts (50, 80 and 100%), newest first: owners and admins. */
function Alerts(props: PageProps & { readonly names: Names }) {
  const { client, account, names } = props;
  const [alerts] = useRequest(
    (signal) => client.teams.alerts(account.id, { signal }),
    [account.id],
  );
  const nameOf = (a: BudgetAlert) =>
    a.scope === 'pool'
      ? 'Pool (everyone)'
      : `${a.scope === 'member' ? 'Member' : 'Project'} ${
          (a.scope === 'member' ? names.members : names.projects).get(a.target) ?? a.target
        }`;
  return (
    <section aria-labelledby="alerts-title">
      <h2 id="alerts-title">Budget alerts</h2>
      <Async state={alerts} what="alerts">
        {({ alerts: list }) =>
          list.length === 0 ? (
            <p className="muted">No budget has reached 50% yet.</p>
          ) : (
            <Table
              caption="Budget alerts, newest first"
              columns={[
                { label: 'When' },
                { label: 'Budget' },
                { label: 'Reached', numeric: true },
                { label: 'Used and held', numeric: true },
                { label: 'Limit', numeric: true },
                { label: 'Mode' },
              ]}
            >
              {list.map((a) => (
                <tr key={a.id}>
                  <th scope="row">{formatDateTime(a.createdAt)}</th>
                  <td>{nameOf(a)}</td>
                  <td className="num">{a.threshold}%</td>
                  <td className="num">{formatNumber(a.used + a.held)}</td>
                  <td className="num">{formatNumber(a.limitCredits)}</td>
                  <td>{a.mode}</td>
                </tr>
              ))}
            </Table>
          )
        }
      </Async>
    </section>
  );
}
