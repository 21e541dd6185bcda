import { useState, type FormEvent } from 'react';
import type { Account } from '../../../src/client/index.js';
import { Pager, useCursors } from '../components/pager.js';
import { Async } from '../components/status.js';
import { Table } from '../components/table.js';
import { formatDate } from '../format.js';
import { accountPath } from '../router.js';
import type { Session } from '../session.js';
import { Link } from '../shell.js';
import { useRequest } from '../use-request.js';

const PAGE_SIZE = 50;

/** The operator's view: every account, searched by id or name, page by page. */
export function AccountsPage({ session }: { readonly session: Session }) {
  const [text, setText] = useState('');
  const [search, setSearch] = useState('');
  const pages = useCursors();
  const { cursor } = pages;
  const [page] = useRequest(
    (signal) =>
      session.client.accounts.list(
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
        {({ accounts, nextCursor }) => (
          <>
            <AccountTable accounts={accounts} />
            <Pager
              pages={pages}
              nextCursor={nextCursor}
              backLabel="Previous page"
              forwardLabel="Next page"
            />
          </>
        )}
      </Async>
    </>
  );
}

function AccountTable({ accounts }: { readonly accounts: readonly Account[] }) {
  if (accounts.length === 0) return <p className="muted">No account matches.</p>;
  return (
    <Table
      caption="Accounts"
      columns={[{ label: 'Account' }, { label: 'Name' }, { label: 'Kind' }, { label: 'Created' }]}
    >
      {accounts.map((a) => (
        <tr key={a.id}>
          <th scope="row">
            <Link to={accountPath(a.id, 'overview')}>{a.id}</Link>
          </th>
          <td>{a.name ?? '—'}</td>
          <td>{a.kind}</td>
          <td>{formatDate(a.createdAt)}</td>
        </tr>
      ))}
    </Table>
  );
}
