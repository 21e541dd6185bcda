import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import type { HistoryQuery, Transaction } from '../../../src/client/index.js';
import { Pager, type Paging } from '../components/pager.js';
import { ActionStatus, Async } from '../components/status.js';
import { Table } from '../components/table.js';
import { formatDateTime } from '../format.js';
import type { PageProps } from '../page-props.js';
import { navigate, useLocation, withQuery } from '../router.js';
import { describeTransaction } from '../transaction-text.js';
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

/** What the URL says: the filters, and the cursors walked to the page shown (none: the first). */
interface HistoryView {
  readonly filters: Filters;
  readonly cursors: readonly string[];
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const CURSOR = /^[A-Za-z0-9_-]{1,128}$/;
/** Pages a link remembers; deeper than that, Newer walks back from the oldest one kept. */
const MAX_PAGES_IN_URL = 40;

/** Reads ?kind=&since=&until=&pages=c1,c2: anything malformed is left out, never sent. */
function viewOf(search: string): HistoryView {
  const q = new URLSearchParams(search);
  const kind = q.get('kind') ?? '';
  const day = (key: string) => {
    const v = q.get(key) ?? '';
    return DAY.test(v) && !Number.isNaN(new Date(`${v}T00:00:00`).getTime()) ? v : '';
  };
  return {
    filters: {
      kind: (KINDS as readonly string[]).includes(kind) ? kind : '',
      since: day('since'),
      until: day('until'),
    },
    cursors: (q.get('pages') ?? '')
      .split(',')
      .filter((c) => CURSOR.test(c))
      .slice(-MAX_PAGES_IN_URL),
  };
}

function pathOf(v: HistoryView): string {
  return withQuery({
    kind: v.filters.kind,
    since: v.filters.since,
    until: v.filters.until,
    pages: v.cursors.join(','),
  });
}

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

/**
 * The journal, newest first, filtered and paged; the same filters export as CSV. The filters
 * and the page live in the URL, so a reload, Back and a shared link show the same rows.
 */
export function HistoryPage({ client, account }: PageProps) {
  const { search } = useLocation();
  const { filters, cursors } = useMemo(() => viewOf(search), [search]);
  const cursor = cursors[cursors.length - 1];
  const [draft, setDraft] = useState<Filters>(filters);
  // Back, Forward or a link changes the filters: the form shows them.
  useEffect(() => setDraft(filters), [filters]);
  const [page] = useRequest(
    (signal) =>
      client.history.list(
        account.id,
        { ...queryOf(filters), limit: PAGE_SIZE, ...(cursor === undefined ? {} : { cursor }) },
        { signal },
      ),
    [account.id, filters, cursor],
  );
  const { list, paging } = usePaging(page, filters, cursors);
  const [exporting, exportCsv] = useCsvExport(client, account.id, filters);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    navigate(pathOf({ filters: draft, cursors: [] }));
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
      <section
        ref={list}
        tabIndex={-1}
        className="history-list"
        aria-label={`Transactions, page ${cursors.length + 1}`}
        data-testid="history-list"
      >
        <Async state={page} what="the history">
          {({ transactions, nextCursor }) => (
            <>
              <p className="muted small" data-testid="history-page">
                Page {cursors.length + 1}
              </p>
              <Transactions transactions={transactions} />
              <Pager
                pages={paging}
                nextCursor={nextCursor}
                backLabel="Newer"
                forwardLabel="Older"
              />
            </>
          )}
        </Async>
      </section>
    </>
  );
}

/**
 * Newer and Older as links in the URL's history; after either, the focus moves to the list
 * that replaced the one it was on.
 */
function usePaging(page: unknown, filters: Filters, cursors: readonly string[]) {
  const list = useRef<HTMLElement>(null);
  const paged = useRef(false);
  useEffect(() => {
    if (!paged.current) return;
    paged.current = false;
    list.current?.focus();
  }, [page]);
  const paging: Paging = {
    atStart: cursors.length === 0,
    back: () => {
      paged.current = true;
      navigate(pathOf({ filters, cursors: cursors.slice(0, -1) }));
    },
    forward: (next) => {
      paged.current = true;
      navigate(pathOf({ filters, cursors: [...cursors, next] }));
    },
  };
  return { list, paging };
}

/** The filters' rows as a CSV download. */
function useCsvExport(client: PageProps['client'], accountId: string, filters: Filters) {
  // The file's object URL lives until the next export or until the page closes: the browser
  // reads it after the click returns.
  const fileUrl = useRef<string | null>(null);
  const forget = () => {
    if (fileUrl.current !== null) URL.revokeObjectURL(fileUrl.current);
    fileUrl.current = null;
  };
  useEffect(() => forget, []);
  const [exporting, exportCsv] = useAction(async () => {
    const csv = await client.history.exportCsv(accountId, queryOf(filters));
    forget();
    fileUrl.current = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
    const a = document.createElement('a');
    a.href = fileUrl.current;
    a.download = `${accountId}-history.csv`;
    a.click();
  });
  return [exporting, exportCsv] as const;
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
        { label: 'What' },
        { label: 'For' },
        { label: 'Credits', numeric: true },
        { label: 'Transaction' },
      ]}
    >
      {transactions.map((t) => {
        const row = describeTransaction(t);
        return (
          <tr key={t.id}>
            <td className="nowrap">{formatDateTime(t.createdAt)}</td>
            <td>{t.kind.replaceAll('_', ' ')}</td>
            <td className="what">{row.what}</td>
            <td>{row.for}</td>
            <td className={row.held ? 'num held-credits' : 'num'}>{row.credits}</td>
            <th scope="row">
              <code>{t.id}</code>
            </th>
          </tr>
        );
      })}
    </Table>
  );
}
