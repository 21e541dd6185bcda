import { assert } from './errors.js';
import type { GrantSource } from './grants.js';
import type { Attribution } from './holds.js';
import type { Entry, JournalTransaction } from './journal.js';
import type { QuoteLine } from './quote.js';
import { isSubscriptionChange } from './journal-detail.js';

/**
 * Rollups: what each journal transaction adds to an account's hourly usage and flows. The batch
 * adds them up as it appends transactions and writes them in the same database transaction
 * (src/ledger/unit-of-work.ts), reports read them instead of the journal, and the same function folds
 * in the journal transactions of the partial hours at a report's edges and rebuilds rollups
 * from a journal, so the three can never disagree. Pure.
 *
 * Usage (charges and captures): credits consumed and units (images, edits...) by
 * - operation: the quote line's operation, BY_CREDITS for a charge or hold priced in credits;
 * - resolution: the line's `resolution` parameter, else its `target` (none: no row);
 * - member and project of the attribution (none: no row).
 * A capture's credits are allocated over its hold's quote lines in order; a line covered in
 * part counts floor(allocated / unit credits) units.
 *
 * Flows (every transaction with entries), by key:
 * - granted: credits issued (minus the `issued` book), by the grant's source;
 * - consumed, expired (breakage), refunded: credits entering that book, by the source of the
 *   grant they came from (a renewal's unrolled allocation has no grant: key 'allocation');
 * - rolled: unused allocation that became rollover at a renewal (key '');
 * - capped: credits a renewal let expire because of the plan's rollover cap: unused allocation
 *   over the cap (key 'allocation') and older rollover trimmed to make room (key 'rollover').
 *   They are also in `expired`; a cancelled plan's last allocation expires but is not capped.
 * Conservation per account: granted - consumed - expired - refunded = available + held, so a
 * balance at any instant is a sum of flows before it.
 */

export const HOUR_MS = 3_600_000;

/** The start of the UTC hour that contains `t` (epoch ms). */
export function hourOf(t: number): number {
  return Math.floor(t / HOUR_MS) * HOUR_MS;
}

/** The first hour start at or after `t`. */
export function hourCeil(t: number): number {
  const h = hourOf(t);
  return h === t ? t : h + HOUR_MS;
}

export const USAGE_DIMS = ['operation', 'resolution', 'member', 'project'] as const;
export type UsageDim = (typeof USAGE_DIMS)[number];

export const FLOWS = [
  'granted',
  'consumed',
  'expired',
  'refunded',
  'rolled',
  'capped',
  'overdrawn',
  'repaid',
] as const;
export type Flow = (typeof FLOWS)[number];

/** The operation key of a charge or hold given in credits rather than priced items. */
export const BY_CREDITS = '(credits)';

export interface UsageRow {
  readonly dim: UsageDim;
  readonly key: string;
  readonly credits: number;
  readonly units: number;
}

export interface FlowRow {
  readonly flow: Flow;
  readonly key: string;
  readonly credits: number;
}

/** What one hour of one account adds to usage_hourly. */
export interface UsageIncrement extends UsageRow {
  readonly accountId: string;
  readonly hour: number;
}

/**
 * What one hour of one account adds to flows_hourly. The first and last transaction ids of the
 * hour that moved this flow let a report read exactly that hour's transactions back from the
 * journal through its account index (the partial hours at a report's edges).
 */
export interface FlowIncrement extends FlowRow {
  readonly accountId: string;
  readonly hour: number;
  readonly firstTransactionId: string;
  readonly lastTransactionId: string;
}

/** What the function needs besides the transaction; callers load these before calling. */
export interface RollupLookup {
  /** The source of a grant of the transaction's account. */
  grantSource(grantId: string): GrantSource;
  /** The quote lines of a captured hold (empty for a hold given in credits). */
  holdLines(holdId: string): readonly QuoteLine[];
}

export interface Rollup {
  readonly usage: readonly UsageRow[];
  readonly flows: readonly FlowRow[];
}

const NONE: Rollup = Object.freeze({ usage: [], flows: [] });

/** Books whose entries are flows (and so name the grant whose source keys them). */
const FLOW_BOOKS: ReadonlySet<Entry['book']> = new Set([
  'issued',
  'consumed',
  'breakage',
  'refunded',
]);

/** Grants whose source the rollup of `t` needs (lookup.grantSource is asked for these only). */
export function grantsNamed(t: JournalTransaction): string[] {
  const ids = new Set<string>();
  for (const e of t.entries) if (e.grantId !== null && FLOW_BOOKS.has(e.book)) ids.add(e.grantId);
  return [...ids];
}

/** The hold whose quote lines the rollup of `t` needs (a capture's), or null. */
export function holdNamed(t: JournalTransaction): string | null {
  return (t.kind === 'capture' || t.kind === 'partial_capture') && consumedOf(t) !== 0
    ? t.holdId
    : null;
}

function consumedOf(t: JournalTransaction): number {
  let sum = 0;
  for (const e of t.entries) if (e.book === 'consumed') sum += e.credits;
  return sum;
}

/** The resolution a quote line asked for, or null when it names none. */
export function lineResolution(line: Pick<QuoteLine, 'params'>): string | null {
  return line.params.resolution ?? line.params.target ?? null;
}

export interface SpendPart {
  readonly operation: string;
  readonly resolution: string | null;
  readonly credits: number;
  readonly units: number;
}

/**
 * Credits consumed, allocated over quote lines in order: a line fully covered counts all its
 * units, a line covered in part floor(credits / unit credits). No lines: one part in credits.
 */
export function allocate(lines: readonly QuoteLine[], consumed: number): SpendPart[] {
  assert(Number.isSafeInteger(consumed) && consumed >= 0, 'consumed credits are a whole number');
  if (lines.length === 0) {
    return consumed > 0
      ? [{ operation: BY_CREDITS, resolution: null, credits: consumed, units: 0 }]
      : [];
  }
  const parts: SpendPart[] = [];
  let left = consumed;
  for (const line of lines) {
    if (left === 0) break;
    const credits = Math.min(line.credits, left);
    left -= credits;
    const units =
      credits === line.credits
        ? line.count
        : line.unitCredits > 0
          ? Math.floor(credits / line.unitCredits)
          : 0;
    parts.push({ operation: line.operation, resolution: lineResolution(line), credits, units });
  }
  assert(left === 0, 'a capture never exceeds its quote');
  return parts;
}

/**
 * The part of a hold's lines that credits `from` to `from + consumed` cover (a capture after
 * `from` credits were captured in parts): the allocation up to the end less the allocation up
 * to the start, line by line, so the parts of a hold captured in pieces add up to the
 * allocation of the whole.
 */
export function allocateFrom(
  lines: readonly QuoteLine[],
  from: number,
  consumed: number,
): SpendPart[] {
  if (from === 0) return allocate(lines, consumed);
  const before = allocate(lines, from);
  return allocate(lines, from + consumed).flatMap((p, i) => {
    const b = before[i];
    const part = b ? { ...p, credits: p.credits - b.credits, units: p.units - b.units } : p;
    return part.credits > 0 ? [part] : [];
  });
}

/**
 * What a charge or a capture (whole or partial) spent, line by line, and who for; null for
 * other transactions.
 */
export function spendOf(
  t: JournalTransaction,
  lookup: Pick<RollupLookup, 'holdLines'>,
): { parts: SpendPart[]; attribution: Attribution | null } | null {
  if (t.kind === 'charge') {
    return { parts: allocate(t.detail.lines, consumedOf(t)), attribution: t.detail.attribution };
  }
  if (t.kind !== 'capture' && t.kind !== 'partial_capture') return null;
  const consumed = consumedOf(t);
  const lines = consumed > 0 && t.holdId !== null ? lookup.holdLines(t.holdId) : [];
  const from = t.detail.capturedBefore ?? 0;
  return {
    parts: lines.length > 0 ? allocateFrom(lines, from, consumed) : allocate(lines, consumed),
    attribution: t.detail.attribution,
  };
}

function usageOf(t: JournalTransaction, lookup: RollupLookup): UsageRow[] {
  const spend = spendOf(t, lookup);
  if (!spend || spend.parts.length === 0) return [];
  const rows = new Map<string, { dim: UsageDim; key: string; credits: number; units: number }>();
  const add = (dim: UsageDim, key: string, credits: number, units: number) => {
    const id = `${dim}\u0000${key}`;
    const row = rows.get(id);
    if (row) {
      row.credits += credits;
      row.units += units;
    } else {
      rows.set(id, { dim, key, credits, units });
    }
  };
  let credits = 0;
  let units = 0;
  for (const p of spend.parts) {
    add('operation', p.operation, p.credits, p.units);
    if (p.resolution !== null) add('resolution', p.resolution, p.credits, p.units);
    credits += p.credits;
    units += p.units;
  }
  const member = spend.attribution?.member ?? null;
  const project = spend.attribution?.project ?? null;
  if (member !== null) add('member', member, credits, units);
  if (project !== null) add('project', project, credits, units);
  return [...rows.values()];
}

function flowsOf(t: JournalTransaction, lookup: RollupLookup): FlowRow[] {
  const rows = new Map<string, { flow: Flow; key: string; credits: number }>();
  const add = (flow: Flow, key: string, credits: number) => {
    if (credits === 0) return;
    const id = `${flow}\u0000${key}`;
    const row = rows.get(id);
    if (row) row.credits += credits;
    else rows.set(id, { flow, key, credits });
  };
  const source = (grantId: string | null, none: string) =>
    grantId === null ? none : lookup.grantSource(grantId);
  for (const e of t.entries) {
    switch (e.book) {
      case 'issued':
        add('granted', source(e.grantId, ''), -e.credits);
        break;
      case 'consumed':
        // Consumed past zero names no grant: it is owed (core/overdraft.ts).
        add('consumed', source(e.grantId, 'overdraft'), e.credits);
        if (e.grantId === null) add('overdrawn', '', e.credits);
        break;
      case 'overdraft':
        if (t.kind === 'repayment') add('repaid', '', e.credits);
        break;
      case 'breakage':
        // A renewal's breakage without a grant is the ending allocation's unrolled part.
        add('expired', source(e.grantId, t.kind === 'renewal' ? 'allocation' : ''), e.credits);
        break;
      case 'refunded':
        add('refunded', source(e.grantId, ''), e.credits);
        break;
      default:
        break;
    }
  }
  // A subscribe that grants credits is journaled as a renewal too; it rolls nothing over.
  if (t.kind === 'renewal' && !isSubscriptionChange(t.detail)) {
    const d = t.detail;
    add('rolled', '', d.rolled);
    if (!d.ended) add('capped', 'allocation', d.expired);
    add('capped', 'rollover', d.trimmed);
  }
  return [...rows.values()];
}

/** What one journal transaction adds to its account's rollups (in the hour of its createdAt). */
export function rollupOf(t: JournalTransaction, lookup: RollupLookup): Rollup {
  if (t.entries.length === 0) return NONE;
  return { usage: usageOf(t, lookup), flows: flowsOf(t, lookup) };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Adds up rollups per account, hour and key: the batch's buffer (one upsert row per key per
 * batch, however many transactions), a rebuild's and a report's edge hours.
 */
export class RollupAccumulator {
  readonly usage = new Map<string, Mutable<UsageIncrement>>();
  readonly flows = new Map<string, Mutable<FlowIncrement>>();

  add(t: JournalTransaction, lookup: RollupLookup): void {
    const r = rollupOf(t, lookup);
    if (r.usage.length === 0 && r.flows.length === 0) return;
    const hour = hourOf(t.createdAt);
    const prefix = `${t.accountId}\u0000${hour}\u0000`;
    for (const u of r.usage) {
      const id = `${prefix}${u.dim}\u0000${u.key}`;
      const row = this.usage.get(id);
      if (row) {
        row.credits += u.credits;
        row.units += u.units;
      } else {
        this.usage.set(id, { accountId: t.accountId, hour, ...u });
      }
    }
    for (const f of r.flows) {
      const id = `${prefix}${f.flow}\u0000${f.key}`;
      const row = this.flows.get(id);
      if (row) {
        row.credits += f.credits;
        if (t.id < row.firstTransactionId) row.firstTransactionId = t.id;
        if (t.id > row.lastTransactionId) row.lastTransactionId = t.id;
      } else {
        this.flows.set(id, {
          accountId: t.accountId,
          hour,
          ...f,
          firstTransactionId: t.id,
          lastTransactionId: t.id,
        });
      }
    }
  }

  get empty(): boolean {
    return this.usage.size === 0 && this.flows.size === 0;
  }

  clear(): void {
    this.usage.clear();
    this.flows.clear();
  }
}

/** Rows summed per dim and key (usage) over any hours, sorted by dim order, credits, key. */
export function sumUsage(rows: Iterable<UsageRow>): UsageRow[] {
  const out = new Map<string, { dim: UsageDim; key: string; credits: number; units: number }>();
  for (const r of rows) {
    const id = `${r.dim}\u0000${r.key}`;
    const row = out.get(id);
    if (row) {
      row.credits += r.credits;
      row.units += r.units;
    } else {
      out.set(id, { dim: r.dim, key: r.key, credits: r.credits, units: r.units });
    }
  }
  const order = (d: UsageDim) => USAGE_DIMS.indexOf(d);
  return [...out.values()]
    .filter((r) => r.credits !== 0 || r.units !== 0)
    .sort(
      (a, b) =>
        order(a.dim) - order(b.dim) ||
        b.credits - a.credits ||
        (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
    );
}

/** Rows summed per flow and key over any hours, in FLOWS order then by key. */
export function sumFlows(rows: Iterable<FlowRow>): FlowRow[] {
  const out = new Map<string, { flow: Flow; key: string; credits: number }>();
  for (const r of rows) {
    const id = `${r.flow}\u0000${r.key}`;
    const row = out.get(id);
    if (row) row.credits += r.credits;
    else out.set(id, { flow: r.flow, key: r.key, credits: r.credits });
  }
  const order = (f: Flow) => FLOWS.indexOf(f);
  return [...out.values()]
    .filter((r) => r.credits !== 0)
    .sort((a, b) => order(a.flow) - order(b.flow) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Flows with every credit negated (to take a part out of a sum). */
export function negateFlows(rows: Iterable<FlowRow>): FlowRow[] {
  return [...rows].map((r) => ({ ...r, credits: -r.credits }));
}

/** A half-open interval of time [from, to), epoch ms. */
export interface Interval {
  readonly from: number;
  readonly to: number;
}

/**
 * How to read [from, to) exactly: rollups of the whole hours [hoursFrom, hoursTo), and the
 * journal of the partial hours at the edges: [from, hoursFrom) and [hoursTo, to). A range shorter
 * than an hour inside one hour has no whole hours: its one journal interval runs to the end of
 * the first hour, which the opening balance needs anyway (flows before `from` are the rollups of
 * the hours before hoursFrom minus the journal of [from, hoursFrom)). A cycle starts and ends at
 * the same minute of the hour, so its two edges add up to one hour of journal.
 */
export interface ExactWindow {
  readonly from: number;
  readonly to: number;
  readonly hoursFrom: number;
  readonly hoursTo: number;
  readonly journal: readonly Interval[];
}

export function exactWindow(from: number, to: number): ExactWindow {
  assert(Number.isSafeInteger(from) && Number.isSafeInteger(to) && from <= to, 'a time range');
  const hoursFrom = hourCeil(from);
  const hoursTo = Math.max(hoursFrom, hourOf(to));
  const journal: Interval[] = [];
  if (from < hoursFrom) journal.push({ from, to: hoursFrom });
  if (hoursTo < to) journal.push({ from: hoursTo, to });
  return { from, to, hoursFrom, hoursTo, journal };
}

/** The edge transactions of a window, folded: what falls inside the range, and before it. */
export interface FoldedEdges {
  /** Usage and flows of the journal transactions inside [from, to). */
  readonly inside: Rollup;
  /** Flows of those in [from, hoursFrom): counted in the hours before hoursFrom, not before from. */
  readonly afterFromInFirstHour: readonly FlowRow[];
}

export function foldEdges(
  w: ExactWindow,
  transactions: readonly JournalTransaction[],
  lookup: RollupLookup,
): FoldedEdges {
  const usage: UsageRow[] = [];
  const flows: FlowRow[] = [];
  const early: FlowRow[] = [];
  for (const t of transactions) {
    if (t.createdAt < w.from) continue;
    const r = rollupOf(t, lookup);
    if (t.createdAt < w.hoursFrom) early.push(...r.flows);
    if (t.createdAt >= w.to) continue;
    usage.push(...r.usage);
    flows.push(...r.flows);
  }
  return {
    inside: { usage: sumUsage(usage), flows: sumFlows(flows) },
    afterFromInFirstHour: sumFlows(early),
  };
}

/** What a store read for an exact window (the ledger's RollupWindow has this shape). */
export interface WindowRead {
  readonly flowsBefore: readonly FlowRow[];
  readonly flows: readonly FlowRow[];
  readonly usage: readonly UsageRow[];
  readonly transactions: readonly JournalTransaction[];
  readonly grants: readonly { readonly id: string; readonly source: GrantSource }[];
  readonly holds: readonly {
    readonly id: string;
    readonly quote: { readonly lines: readonly QuoteLine[] } | null;
  }[];
}

export interface RangeTotals {
  /** Flows of everything before `from` (only when the read summed the hours before). */
  readonly before: readonly FlowRow[];
  /** Flows and usage of [from, to). */
  readonly flows: readonly FlowRow[];
  readonly usage: readonly UsageRow[];
}

/** Exact totals of [w.from, w.to): the whole hours' rollups plus the edges' journal, folded. */
export function rangeTotals(w: ExactWindow, read: WindowRead): RangeTotals {
  const sources = new Map(read.grants.map((g) => [g.id, g.source]));
  const lines = new Map(read.holds.map((h) => [h.id, h.quote?.lines ?? []]));
  const edges = foldEdges(w, read.transactions, {
    grantSource: (id) => {
      const s = sources.get(id);
      assert(s, `the window read grant ${id}`);
      return s;
    },
    holdLines: (id) => {
      const l = lines.get(id);
      assert(l, `the window read hold ${id}`);
      return l;
    },
  });
  return {
    before: sumFlows([...read.flowsBefore, ...negateFlows(edges.afterFromInFirstHour)]),
    flows: sumFlows([...read.flows, ...edges.inside.flows]),
    usage: sumUsage([...read.usage, ...edges.inside.usage]),
  };
}
