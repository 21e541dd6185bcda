import { useState, type FormEvent } from 'react';
import type { AccountSummary } from '../../../src/client/index.js';
import { Pager, useCursors } from '../components/pager.js';
import { ActionForm, SelectField, TextField } from '../components/fields.js';
import { ActionStatus, Async } from '../components/status.js';
import { formatDateTime, formatNumber } from '../format.js';
import { useKeyedAction } from '../keyed-action.js';
import { accountPath } from '../router.js';
import type { Session } from '../session.js';
import { Link } from '../shell.js';
import { useRequest, type ActionState } from '../use-request.js';

const PAGE_SIZE = 50;

/**
 * The operator's view: every account with its balance, plan, status and last activity,
 * searched by id or name, page by page (GET /v1/account-summaries, in id order); a column's
 * header sorts the page shown, and says so when there is more than one page. New accounts and
 * organizations are made here.
 */
export function AccountsPage({ session }: { readonly session: Session }) {
  const [text, setText] = useState('');
  const [search, setSearch] = useState('');
  const pages = useCursors();
  const { cursor } = pages;
  const [page, reload] = useRequest(
    (signal) =>
      session.client.accounts.summaries(
        {
          limit: PAGE_SIZE,
          ...(search === '' ? {} : { search }),
          ...(cursor === undefined ? {} : { cursor }),
        },
        { signal },
      ),
    [search, cursor],
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    pages.reset();
    setSearch(text.trim());
  };
  return (
    <>
      <h1>Accounts</h1>
      <form role="search" className="inline-form" onSubmit={submit}>
        <label htmlFor="account-search">Search by id or name</label>
        <input
          id="account-search"
          type="search"
          value={text}
          maxLength={100}
          onChange={(e) => setText(e.target.value)}
        />
        <button type="submit">Search</button>
      </form>
      <Async state={page} what="accounts">
        {({ summaries, nextCursor }) => (
          <>
            <AccountTable rows={summaries} paged={nextCursor !== null || !pages.atStart} />
            <Pager
              pages={pages}
              nextCursor={nextCursor}
              backLabel="Previous page"
              forwardLabel="Next page"
            />
          </>
        )}
      </Async>
      {!session.me.readOnly && <CreateAccount session={session} onCreated={reload} />}
    </>
  );
}

type SortKey = 'id' | 'plan' | 'status' | 'available' | 'lastActivity';

const STATUS_TEXT: Record<AccountSummary['status'], string> = {
  active: 'active',
  ending: 'ending',
  no_plan: 'no plan',
};

function sortValue(r: AccountSummary, key: SortKey): string | number {
  switch (key) {
    case 'id':
      return r.account.id;
    case 'plan':
      return r.account.plan ?? '';
    case 'status':
      return STATUS_TEXT[r.status];
    case 'available':
      return r.available;
    case 'lastActivity':
      return r.lastActivityAt ?? -1;
  }
}

function sorted(rows: readonly AccountSummary[], key: SortKey, descending: boolean) {
  return [...rows].sort((a, b) => {
    const x = sortValue(a, key);
    const y = sortValue(b, key);
    const order = x < y ? -1 : x > y ? 1 : a.account.id < b.account.id ? -1 : 1;
    return descending ? -order : order;
  });
}

const COLUMNS: readonly { key: SortKey | null; label: string; numeric?: boolean }[] = [
  { key: 'id', label: 'Account' },
  { key: null, label: 'Name' },
  { key: 'plan', label: 'Plan' },
  { key: 'status', label: 'Status' },
  { key: 'available', label: 'Available', numeric: true },
  { key: null, label: 'Held', numeric: true },
  { key: 'lastActivity', label: 'Last activity' },
];

type Sort = { readonly key: SortKey; readonly descending: boolean };

/** Each sortable column's header is a button; aria-sort says the order (arrows are decoration). */
function SortHeader({ sort, by }: { readonly sort: Sort; readonly by: (key: SortKey) => void }) {
  return (
    <thead>
      <tr>
        {COLUMNS.map((c) => (
          <th
            key={c.label}
            scope="col"
            className={c.numeric ? 'num' : undefined}
            aria-sort={
              c.key !== null && c.key === sort.key
                ? sort.descending
                  ? 'descending'
                  : 'ascending'
                : undefined
            }
          >
            {c.key === null ? (
              c.label
            ) : (
              <button type="button" className="sort" onClick={() => by(c.key!)}>
                {c.label}
                <span aria-hidden="true">
                  {c.key === sort.key ? (sort.descending ? ' ▼' : ' ▲') : ''}
                </span>
              </button>
            )}
          </th>
        ))}
      </tr>
    </thead>
  );
}

function AccountTable(props: {
  readonly rows: readonly AccountSummary[];
  /** More than one page: a header's sort orders this page only, and says so. */
  readonly paged: boolean;
}) {
  const { rows } = props;
  const [sort, setSort] = useState<Sort>({
    key: 'id',
    descending: false,
  });
  if (rows.length === 0) return <p className="muted">No account matches.</p>;
  const shown = sorted(rows, sort.key, sort.descending);
  const by = (key: SortKey) =>
    setSort((s) => ({ key, descending: s.key === key ? !s.descending : key !== 'id' }));
  const sortedBy = COLUMNS.find((c) => c.key === sort.key)!.label.toLowerCase();
  return (
    <div className="table-scroll">
      {props.paged && sort.key !== 'id' && (
        <p className="muted small" data-testid="page-sort-note">
          Sorted by {sortedBy} within this page of {formatNumber(rows.length)}; the pages go in id
          order, and a search narrows them all.
        </p>
      )}
      <table>
        <caption className="visually-hidden">
          Accounts, sorted by {sortedBy}
          {sort.descending ? ', descending' : ', ascending'}
          {props.paged ? ' within this page' : ''}
        </caption>
        <SortHeader sort={sort} by={by} />
        <tbody>
          {shown.map((r) => (
            <tr key={r.account.id}>
              <th scope="row">
                <Link to={accountPath(r.account.id, 'overview')}>{r.account.id}</Link>
              </th>
              <td>
                {r.account.name ?? '—'}
                {r.account.kind === 'organization' && <span className="muted small"> (team)</span>}
              </td>
              <td>{r.account.plan ?? '—'}</td>
              <td>
                {STATUS_TEXT[r.status]}
                {r.debt > 0 && <span className="tag danger"> owes {formatNumber(r.debt)}</span>}
                {r.account.testClockId !== null && <span className="tag"> test clock</span>}
              </td>
              <td className="num">{formatNumber(r.available)}</td>
              <td className="num">{formatNumber(r.held)}</td>
              <td>{r.lastActivityAt === null ? 'none yet' : formatDateTime(r.lastActivityAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * Makes the account: a person's (subscribed at once with a plan, by the key), or an
 * organization (idempotent by its id) then subscribed by the same key.
 */
async function createAccount(
  client: Session['client'],
  idempotencyKey: string,
  input: { kind: string; id: string; plan: string; name: string; owner: string },
): Promise<{ id: string; replay: boolean }> {
  if (input.kind !== 'organization') {
    const r = await client.accounts.create(
      { id: input.id, ...(input.plan === '' ? {} : { plan: input.plan }) },
      { idempotencyKey },
    );
    return { id: r.account.id, replay: r.replay };
  }
  const r = await client.teams.createOrganization({
    id: input.id,
    name: input.name,
    owner: { id: input.owner },
  });
  if (input.plan !== '') {
    await client.subscriptions.subscribe(r.account.id, { plan: input.plan }, { idempotencyKey });
  }
  return { id: r.account.id, replay: r.replay };
}

/** A person's account (optionally on a plan) or an organization with its first owner. */
function CreateAccount(props: { readonly session: Session; readonly onCreated: () => void }) {
  const { client } = props.session;
  const [kind, setKind] = useState<'individual' | 'organization'>('individual');
  const [id, setId] = useState('');
  const [plan, setPlan] = useState('');
  const [name, setName] = useState('');
  const [owner, setOwner] = useState('');
  const [plans] = useRequest((signal) => client.catalog.plans({ signal }), []);
  const create = useKeyedAction(async (idempotencyKey: string) => {
    const made = await createAccount(client, idempotencyKey, {
      kind,
      id: id.trim(),
      plan,
      name: name.trim(),
      owner: owner.trim(),
    });
    props.onCreated();
    return made;
  });
  const planOptions = [
    { value: '', label: 'No plan' },
    ...(plans.status === 'ok' ? plans.data.plans.map((p) => ({ value: p.id, label: p.name })) : []),
  ];
  return (
    <ActionForm
      id="create-account-title"
      title="Create an account"
      disabled={false}
      onSubmit={() => void create.start()}
      onEdit={create.edited}
      outcome={<CreateOutcome state={create.state} />}
    >
      <SelectField id="new-kind" label="Kind" value={kind} onValue={setKind} options={KINDS} />
      <TextField id="new-id" label="Account id" maxLength={128} value={id} onValue={setId} />
      {kind === 'organization' && (
        <>
          <TextField id="new-name" label="Name" maxLength={100} value={name} onValue={setName} />
          <TextField
            id="new-owner"
            label="First owner (member id)"
            maxLength={128}
            value={owner}
            onValue={setOwner}
          />
        </>
      )}
      <SelectField
        id="new-plan"
        label="Plan"
        value={plan}
        onValue={setPlan}
        options={planOptions}
      />
      <button type="submit" disabled={create.state.status === 'running'}>
        Create
      </button>
    </ActionForm>
  );
}

const KINDS = [
  { value: 'individual', label: 'A person' },
  { value: 'organization', label: 'An organization (team)' },
] as const;

function CreateOutcome(props: {
  readonly state: ActionState<{ readonly id: string; readonly replay: boolean }>;
}) {
  const { state } = props;
  if (state.status !== 'ok') return <ActionStatus state={state} running="Creating the account" />;
  return (
    <p role="status" className="result" data-testid="create-result">
      {state.data.replay ? 'Already there: ' : 'Created '}
      <Link to={accountPath(state.data.id, 'overview')}>{state.data.id}</Link>
      {state.data.replay ? ' (nothing changed).' : '.'}
    </p>
  );
}
