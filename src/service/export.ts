import type { Attribution } from '../core/holds.js';
import type { JournalTransaction } from '../core/journal.js';
import {
  attributionOf,
  isPurchaseGrant,
  isSubscriptionChange,
  linesOf,
  type DetailOf,
} from '../core/journal-detail.js';
import { formatMoney } from '../core/money.js';
import type { QuoteLine } from '../core/quote.js';
import {
  LEDGER_PROBLEMS as L,
  MAX_HISTORY_PAGE,
  type HistoryPage,
  type Ledger,
} from '../ledger/ledger.js';
import { codes } from '../ledger/problems.js';

/**
 * An account's journal as CSV, streamed page by page (issue 7, item 7).
 *
 * Format (RFC 4180):
 * - UTF-8, no byte-order mark; a header row first; every row ends with CRLF (RFC 4180's line
 *   end, and what spreadsheets expect). A CR or LF inside a field is kept as is, in quotes.
 * - A field is quoted when it contains a comma, a double quote, CR or LF; quotes inside are
 *   doubled. Nothing else is quoted.
 * - One row per journal transaction, **newest first**: the journal's own order and the only
 *   one its paged reader (a `before` cursor) walks with flat memory. Sort by `time` to read it
 *   chronologically. The walk starts at the newest transaction when the export starts and
 *   goes back, so transactions committed meanwhile (newer ids) are not in it.
 * - Formula injection: a text field that begins with `=`, `+`, `-`, `@`, a tab or a CR gets a
 *   leading apostrophe (`'`), so a spreadsheet shows it as text instead of running it (OWASP's
 *   list). The numeric columns (`credits`, `held`) are integers this module writes and are
 *   never prefixed: -5 stays -5 and sums as a number. (The guard cannot be undone blindly:
 *   text that itself began with an apostrophe and a formula character looks the same.)
 *
 * Columns (EXPORT_COLUMNS):
 * - transaction_id, time (ISO 8601 UTC, milliseconds), kind;
 * - credits: the signed change to the customer's credits (available + held): +granted,
 *   -spent, -expired, -refunded; a hold or a release moves credits between available and
 *   held and shows 0;
 * - held: the signed change to held credits (+ on a hold, - when it is captured, released or
 *   expires), so available changes by credits - held;
 * - grant_source: the source of the grant a grant or grant expiry concerns (purchase,
 *   allocation, promotion...); grant_id: that grant (and a refund's);
 * - hold_id: for holds and their capture, release or expiry;
 * - member, project, labels (`key=value; ...`, by key): the attribution of a hold or charge
 *   (and of the hold's capture, release or expiry);
 * - operations and resolutions: the quote lines of a hold or charge (a capture, release or
 *   expiry shows its hold's), `; `-separated, in line order; resolutions[i] is the
 *   `resolution` parameter of line i (empty when it has none);
 * - catalog_version, idempotency_key, description (a short sentence for people);
 * - test_clock: the test clock the account runs on, on every row of a clocked account (its
 *   times are the clock's, not real ones: docs/adr/0016-test-clocks.md), empty for a real
 *   account. Last, so readers of the earlier columns by position are not moved.
 */

export const EXPORT_COLUMNS = [
  'transaction_id',
  'time',
  'kind',
  'credits',
  'held',
  'grant_source',
  'grant_id',
  'hold_id',
  'member',
  'project',
  'labels',
  'operations',
  'resolutions',
  'catalog_version',
  'idempotency_key',
  'description',
  'test_clock',
] as const;
export type ExportColumn = (typeof EXPORT_COLUMNS)[number];

/** Columns written as integers: never quoted, never given the formula guard. */
export const NUMERIC_COLUMNS: ReadonlySet<ExportColumn> = new Set(['credits', 'held']);

/** Every row ends with this (RFC 4180). */
export const CSV_EOL = '\r\n';

export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8';

/** Rows read per query by default (the most the history reader gives in one page). */
export const DEFAULT_EXPORT_PAGE = MAX_HISTORY_PAGE;

/** A text field a spreadsheet would read as a formula (OWASP CSV injection). */
const FORMULA = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** One field: guarded against formulas (text only), then quoted when RFC 4180 needs it. */
export function csvField(value: string | number, numeric = false): string {
  if (numeric) {
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
      throw new Error(`invariant violated: a numeric CSV column holds an integer, got ${value}`);
    }
    return String(value);
  }
  let text = String(value);
  if (FORMULA.test(text)) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export type ExportRow = Readonly<Record<ExportColumn, string | number>>;

/** One row with its line end. */
export function csvRow(row: ExportRow): string {
  return EXPORT_COLUMNS.map((c) => csvField(row[c], NUMERIC_COLUMNS.has(c))).join(',') + CSV_EOL;
}

export const CSV_HEADER = EXPORT_COLUMNS.join(',') + CSV_EOL;

/** What a hold contributes to the rows that resolve it: its quote lines and attribution. */
export interface HoldContext {
  readonly lines: readonly QuoteLine[];
  readonly attribution: Attribution | null;
}

/** "image.generate 4k x3, image.edit x1": what the lines bought, for the description. */
function linesText(lines: readonly QuoteLine[]): string {
  return lines
    .map((l) => {
      const resolution = l.params?.resolution;
      return `${l.operation}${resolution ? ` ${resolution}` : ''} x${l.count}`;
    })
    .join(', ');
}

/** "1 credit", "2 credits". */
function creditsText(n: number): string {
  return `${n} ${n === 1 ? 'credit' : 'credits'}`;
}

function describeGrant(d: DetailOf['grant']): string {
  if (isPurchaseGrant(d) && d.pack) {
    return `purchase of pack ${d.pack}${d.purchaseId ? ` (${d.purchaseId})` : ''}`;
  }
  const reason = isPurchaseGrant(d) ? '' : (d.reason ?? '');
  return `${d.source} grant${reason ? `: ${reason}` : ''}`;
}

function describePlan(d: DetailOf['renewal'] | DetailOf['plan_change']): string {
  if (isSubscriptionChange(d)) {
    const sub = d.subscription;
    const pending = sub.pendingPlan ?? '';
    return `${d.change}: plan ${sub.plan}${pending ? `, ${pending} from the next cycle` : ''}${d.credits ? `, ${d.credits} credits` : ''}`;
  }
  const lost = d.expired + d.trimmed;
  return `renewal of plan ${d.plan}, cycle ${d.cycle}: allocation ${d.allocation}, rolled over ${d.rolled}, lost to the cap ${lost}${d.ended ? ', plan ended' : ''}`;
}

function describe(t: JournalTransaction, lines: readonly QuoteLine[]): string {
  const bought = lines.length > 0 ? ` for ${linesText(lines)}` : '';
  switch (t.kind) {
    case 'grant':
      return describeGrant(t.detail);
    case 'hold': {
      const batch = t.detail.batch;
      const of = batch && batch.id ? ` (batch ${batch.id} item ${batch.item})` : '';
      return `held ${creditsText(t.detail.credits)}${bought}${of}`;
    }
    case 'capture':
      return `captured ${t.detail.captured} held credits, ${t.detail.released} returned`;
    case 'release':
      return `released ${t.detail.released} held credits`;
    case 'hold_expiry':
      return `hold expired unresolved, ${t.detail.credits} held credits returned`;
    case 'charge':
      return `charged ${creditsText(t.detail.credits)}${bought}`;
    case 'grant_expiry':
      return `${t.detail.credits} ${t.detail.source} credits expired unused`;
    case 'renewal':
    case 'plan_change':
      return describePlan(t.detail);
    case 'refund': {
      const d = t.detail;
      const money = d.currency ? `, ${formatMoney(d.cents, d.currency)}` : '';
      return `refund of purchase ${d.purchaseId}: ${d.credits} credits reclaimed${money}`;
    }
    case 'repayment':
      return `${creditsText(t.detail.credits)} paid the overdraft debt, ${t.detail.debt} still owed`;
    case 'partial_capture':
      return `captured ${t.detail.captured} held credits in part, ${t.detail.held} still held`;
    case 'hold_extension':
      return `hold extended to ${new Date(t.detail.expiresAt).toISOString()}`;
    case 'hold_increase':
      return `hold increased by ${creditsText(t.detail.credits)}${bought}, ${t.detail.total} held in all`;
  }
}

/** Kinds whose detail has no quote lines of their own: they show their hold's. */
const RESOLVES_HOLD = new Set(['capture', 'partial_capture', 'release', 'hold_expiry']);

/**
 * The row of one transaction; `hold` is the context of the hold it resolves, if any;
 * `testClock` the account's test clock (null for a real account).
 */
export function exportRow(
  t: JournalTransaction,
  hold: HoldContext | null = null,
  testClock: string | null = null,
): ExportRow {
  let credits = 0;
  let held = 0;
  for (const e of t.entries) {
    if (e.book === 'grant') credits += e.credits;
    else if (e.book === 'held') {
      credits += e.credits;
      held += e.credits;
    }
  }
  const own = linesOf(t);
  const lines = own.length > 0 || !RESOLVES_HOLD.has(t.kind) ? own : (hold?.lines ?? []);
  const attribution = attributionOf(t) ?? (RESOLVES_HOLD.has(t.kind) ? hold?.attribution : null);
  // Sorted by key: a store may keep JSON objects in another key order (PostgreSQL's jsonb).
  const labels = Object.entries(attribution?.labels ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('; ');
  return {
    transaction_id: t.id,
    time: new Date(t.createdAt).toISOString(),
    kind: t.kind,
    credits,
    held,
    grant_source: t.kind === 'grant' || t.kind === 'grant_expiry' ? t.detail.source : '',
    grant_id: t.grantId ?? '',
    hold_id: t.holdId ?? '',
    member: attribution?.member ?? '',
    project: attribution?.project ?? '',
    labels,
    operations: lines.map((l) => l.operation).join('; '),
    resolutions: lines.some((l) => l.params?.resolution)
      ? lines.map((l) => l.params?.resolution ?? '').join('; ')
      : '',
    catalog_version: t.catalogVersion ?? '',
    idempotency_key: t.idempotencyKey ?? '',
    description: describe(t, lines),
    test_clock: testClock ?? '',
  };
}

export interface ExportQuery {
  readonly accountId: string;
  /** Inclusive lower bound on the transaction time (epoch ms). */
  readonly since?: number;
  /** Exclusive upper bound on the transaction time (epoch ms). */
  readonly until?: number;
  /** Only these kinds (all when absent or empty). */
  readonly kinds?: readonly string[];
}

export interface ExportProgress {
  /** Data rows handed out so far (the header is not a row). */
  readonly rows: number;
  /** UTF-8 bytes handed out so far, header included. */
  readonly bytes: number;
  /** The time of the oldest row so far: the walk goes back from `span.to` to `span.from`. */
  readonly reachedAt: number | null;
}

export interface ExportOptions {
  /** Rows read per query (1 to MAX_HISTORY_PAGE; default the most). */
  readonly pageSize?: number;
  /** Told after each page is handed out. */
  readonly onProgress?: (progress: ExportProgress) => void;
}

export interface HistoryExport {
  /**
   * The time the rows lie in, newest first: from the newest transaction at the start down to
   * `since` (or the account's creation, or its plan's start if earlier). A progress estimate
   * by time; null when no row.
   */
  readonly span: { readonly from: number; readonly to: number } | null;
  /** The header, then one chunk of rows per page. Read it once. */
  readonly chunks: AsyncGenerator<string, void, undefined>;
  /** Progress so far (also what onProgress was last told). */
  progress(): ExportProgress;
}

/** The problem codes of `openHistoryExport`: its ledger reads'. */
export const HISTORY_EXPORT_PROBLEMS = codes(
  L.getAccount,
  L.history,
  L.findSubscription,
  L.findHold,
);

/**
 * Starts an export: checks the account and the filters and reads the first page before
 * anything is handed out, so an unknown account or a bad filter fails before a byte is
 * written (an HTTP answer can still be a problem, a CLI leaves no file). Then each page is
 * rendered and handed out while the next one is read; memory holds two pages at most.
 */
export async function openHistoryExport(
  ledger: Ledger,
  query: ExportQuery,
  options: ExportOptions = {},
): Promise<HistoryExport> {
  const account = await ledger.getAccount(query.accountId);
  const limit = options.pageSize ?? DEFAULT_EXPORT_PAGE;
  const read = (before?: string) =>
    ledger.history({
      accountId: account.id,
      limit,
      ...(query.kinds && query.kinds.length > 0 ? { kinds: query.kinds } : {}),
      ...(query.since === undefined ? {} : { since: query.since }),
      ...(query.until === undefined ? {} : { until: query.until }),
      ...(before === undefined ? {} : { before }),
    });
  const first = await read();
  const newest = first.transactions[0]?.createdAt;
  // The walk ends at the account's creation, or at its plan's start when the plan started
  // before it (the catch-up renewals are dated at their boundaries: docs/adr/0010-renewal-times.md).
  const sub = await ledger.findSubscription(account.id);
  const oldest = Math.min(account.createdAt, sub?.anchorAt ?? account.createdAt);
  const floor = Math.max(query.since ?? oldest, oldest);
  const span = newest === undefined ? null : { from: Math.min(floor, newest), to: newest };
  let progress: ExportProgress = { rows: 0, bytes: 0, reachedAt: null };
  const handOut = (text: string, rows: number, reachedAt: number | null) => {
    progress = {
      rows: progress.rows + rows,
      bytes: progress.bytes + Buffer.byteLength(text, 'utf8'),
      reachedAt: reachedAt ?? progress.reachedAt,
    };
  };

  async function* chunks(): AsyncGenerator<string, void, undefined> {
    handOut(CSV_HEADER, 0, null);
    yield CSV_HEADER;
    let page: HistoryPage = first;
    for (;;) {
      // Read ahead: the next page loads while this one is written. A read that fails after the
      // consumer stopped is nobody's concern; one that fails before is thrown below.
      const next = page.nextCursor === null ? null : read(page.nextCursor);
      next?.catch(() => undefined);
      const text = await render(ledger, account, page.transactions);
      const last = page.transactions[page.transactions.length - 1];
      if (text !== '') {
        handOut(text, page.transactions.length, last?.createdAt ?? null);
        options.onProgress?.(progress);
        yield text;
      }
      if (next === null) return;
      page = await next;
    }
  }

  return { span, chunks: chunks(), progress: () => progress };
}

/**
 * A page's rows. Captures, releases and expiries carry no quote lines of their own: their
 * hold's come from the hold's row when it is in the same page (it usually is: holds resolve
 * within minutes), else from the hold itself (one read per hold, each hold resolves once).
 */
async function render(
  ledger: Ledger,
  account: { readonly id: string; readonly testClockId: string | null },
  transactions: readonly JournalTransaction[],
): Promise<string> {
  const holds = new Map<string, HoldContext | null>();
  for (const t of transactions) {
    if (t.kind === 'hold' && t.holdId !== null) {
      holds.set(t.holdId, { lines: t.detail.lines, attribution: t.detail.attribution });
    }
  }
  const missing = new Set<string>();
  for (const t of transactions) {
    if (RESOLVES_HOLD.has(t.kind) && t.holdId !== null && !holds.has(t.holdId)) {
      missing.add(t.holdId);
    }
  }
  await Promise.all(
    [...missing].map(async (holdId) => {
      const h = await ledger.findHold(holdId);
      holds.set(
        holdId,
        h && h.accountId === account.id
          ? { lines: h.quote?.lines ?? [], attribution: h.attribution }
          : null,
      );
    }),
  );
  let text = '';
  for (const t of transactions) {
    const hold = t.holdId === null ? null : (holds.get(t.holdId) ?? null);
    text += csvRow(exportRow(t, hold, account.testClockId));
  }
  return text;
}

/** The file name a download suggests: "<account>-history.csv". */
export function exportFileName(accountId: string): string {
  return `${accountId}-history.csv`;
}
