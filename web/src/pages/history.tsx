import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { HistoryQuery, Transaction } from '../../../src/client/index.js';
import { Pager, useCursors } from '../components/pager.js';
import { ActionStatus, Async } from '../components/status.js';
import { Table } from '../components/table.js';
import { formatDateTime, formatNumber } from '../format.js';
import type { PageProps } from '../page-props.js';
import { useAction, useRequest } from '../use-request.js';

const KINDS = [
  'grant',
  'hold',
  'capture',
  'partial_capture',
  'release',
  'hold_expiry',
  'hold_extension',
  'hold_increase',
  'charge',
  'grant_expiry',
  'renewal',
  'plan_change',
  'refund',
  'repayment',
] as const satisfies readonly NonNullable<HistoryQuery['kind']>[number][];
const PAGE_SIZE = 25;

interface Filters {
  readonly kind: string;
  /** yyyy-mm-dd from the date inputs, '' for none. */
  readonly since: string;
  readonly until: string;
}

const NO_FILTERS: Filters = { kind: '', since: '', until: '' };

/** Dates are the browser's local days: since at its start, until at the end of that day. */
function queryOf(f: Filters): HistoryQuery {
  const day = (text: string, offsetDays: number) =>
    new Date(`${text}T00:00:00`).getTime() + offsetDays * 86_400_000;
  return {
    ...(f.kind === '' ? {} : { kind: [f.kind as (typeof KINDS)[number]] }),
    ...(f.since === '' ? {} : { since: day(f.since, 0) }),
    ...(f.until === '' ? {} : { until: day(f.until, 1) }),
  };
}

/** Sum of the entries a transaction made on the customer's grants: its signed change. */
function change(t: Transaction): number {
  return t.entries
    .filter((e) => e.book === 'grant' || e.book === 'held')
    .reduce((sum, e) => sum + e.credits, 0);
}

/** The journal, newest first, filtered and paged; the same filters export as CSV. */
export function HistoryPage({ client, account }: PageProps) {
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const pages = useCursors();
  const { cursor } = pages;
  const [page] = useRequest(
    (signal) =>
      client.history.list(
        account.id,
        { ...queryOf(filters), limit: PAGE_SIZE, ...(cursor === undefined ? {} : { cursor }) },
        { signal },
      ),
    [account.id, filters, cursor],
  );
  // The file's object URL lives until the next export or until the page closes: the browser
  // reads it after the click returns.
  const fileUrl = useRef<string | null>(null);
  const forget = () => {
    if (fileUrl.current !== null) URL.revokeObjectURL(fileUrl.current);
    fileUrl.current = null;
  };
  useEffect(() => forget, []);
  const [exporting, exportCsv] = useAction(async () => {
    const csv = await client.history.exportCsv(account.id, queryOf(filters));
    forget();
    fileUrl.current = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
    const a = document.createElement('a');
    a.href = fileUrl.current;
    a.download = `${account.id}-history.csv`;
    a.click();
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    pages.reset();
    setFilters(draft);
  };
  return (
    <>
      <FilterForm
        draft={draft}
        onDraft={setDraft}
        onSubmit={submit}
        exporting={exporting.status === 'running'}
        onExport={() => void exportCsv()}
      />
      <ActionStatus state={exporting} running="Exporting" />
      <Async state={page} what="the history">
        {({ transactions, nextCursor }) => (
          <>
            <Transactions transactions={transactions} />
            <Pager pages={pages} nextCursor={nextCursor} backLabel="Newer" forwardLabel="Older" />
          </>
        )}
      </Async>
    </>
  );
}

/** The filters of the history (kind, from, to) and the CSV export of what they select. */
function FilterForm(props: {
  readonly draft: Filters;
  readonly onDraft: (draft: Filters) => void;
  readonly onSubmit: (e: FormEvent) => void;
  readonly exporting: boolean;
  readonly onExport: () => void;
}) {
  const { draft } = props;
  return (
    <form className="filters" onSubmit={props.onSubmit} aria-label="Filter the history">
      <div>
        <label htmlFor="kind">Kind</label>
        <select
          id="kind"
          value={draft.kind}
          onChange={(e) => props.onDraft({ ...draft, kind: e.target.value })}
        >
          <option value="">All</option>
          {KINDS.map((k) => (
            <option key={k} value={k}>
              {k.replaceAll('_', ' ')}
            </option>
          ))}
        </select>
      </div>
      <DateField
        id="since"
        label="From"
        value={draft.since}
        onChange={(since) => props.onDraft({ ...draft, since })}
      />
      <DateField
        id="until"
        label="To"
        value={draft.until}
        onChange={(until) => props.onDraft({ ...draft, until })}
      />
      <button type="submit">Apply</button>
      <button
        type="button"
        className="secondary"
        disabled={props.exporting}
        onClick={props.onExport}
      >
        Export CSV
      </button>
    </form>
  );
}

function DateField(props: {
  readonly id: string;
  readonly label: string;
  readonly value: string;
  readonly onChange: (value: string) => void;
}) {
  return (
    <div>
      <label htmlFor={props.id}>{props.label}</label>
      <input
        id={props.id}
        type="date"
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
      />
    </div>
  );
}

function Transactions({ transactions }: { readonly transactions: readonly Transaction[] }) {
  if (transactions.length === 0) return <p className="muted">No transactions match.</p>;
  return (
    <Table
      caption="Transactions, newest first"
      columns={[
        { label: 'When' },
        { label: 'Kind' },
        { label: 'Credits', numeric: true },
        { label: 'Transaction' },
      ]}
    >
      {transactions.map((t) => (
        <tr key={t.id}>
          <td>{formatDateTime(t.createdAt)}</td>
          <td>{t.kind.replaceAll('_', ' ')}</td>
          <td className="num">{signed(change(t))}</td>
          <th scope="row">
            <code>{t.id}</code>
          </th>
        </tr>
      ))}
    </Table>
  );
}

function signed(n: number): string {
  return n > 0 ? `+${formatNumber(n)}` : formatNumber(n);
}
