import type { QuoteLine, Transaction } from '../../src/client/index.js';
import type { KindDetail } from '../../src/core/journal-detail.js';
import type { Attribution } from '../../src/core/holds.js';
import { formatCredits, formatDateTime, formatMoney, formatNumber } from './format.js';

/**
 * A history row in words: what happened (the operation, resolution and count; the pack, the
 * promotion, the plan), for whom (member, project), and the credits it moved.
 */
export interface TransactionText {
  readonly what: string;
  /** Member and project, or '' when the transaction names neither. */
  readonly for: string;
  /** The signed change to the account's credits, or "4 held" for a hold. */
  readonly credits: string;
  /** A hold (or more on one): its credits are set aside, not spent. */
  readonly held: boolean;
}

/**
 * The server checks every transaction's detail against its kind's shape before it answers
 * (core/journal-detail.ts parseDetail): this is the one place the dashboard relies on that.
 */
function kindDetail(t: Transaction): KindDetail {
  return { kind: t.kind, detail: t.detail } as KindDetail;
}

/** "image.generate 4k × 2"; several lines joined; plain credits say so. */
export function linesText(lines: readonly QuoteLine[]): string {
  if (lines.length === 0) return 'plain credits';
  return lines
    .map((l) => {
      const params = Object.values(l.params).join(' ');
      return `${l.operation}${params === '' ? '' : ` ${params}`} × ${formatNumber(l.count)}`;
    })
    .join(', ');
}

function attributionText(a: Attribution | undefined | null): string {
  if (!a) return '';
  const parts = [
    a.member === null ? null : `member ${a.member}`,
    a.project === null ? null : `project ${a.project}`,
  ];
  return parts.filter((p) => p !== null).join(' · ');
}

/** The customer's books (grants, held, past zero): their sum is the change to what it owns. */
function change(t: Transaction): number {
  return t.entries
    .filter((e) => e.book === 'grant' || e.book === 'held' || e.book === 'overdraft')
    .reduce((sum, e) => sum + e.credits, 0);
}

function heldBy(t: Transaction): number {
  return t.entries.filter((e) => e.book === 'held').reduce((sum, e) => sum + e.credits, 0);
}

function signed(n: number): string {
  return n > 0 ? `+${formatNumber(n)}` : formatNumber(n);
}

const SOURCE_NAMES: Record<string, string> = {
  allocation: 'Plan allocation',
  rollover: 'Rollover',
  purchase: 'Pack purchase',
  promotion: 'Promotion',
  adjustment: 'Adjustment',
  trial: 'Trial',
};

const sourceName = (source: string) => SOURCE_NAMES[source] ?? source;

function what(k: KindDetail): string {
  switch (k.kind) {
    case 'hold':
      return `Held for ${linesText(k.detail.lines)}${k.detail.batch ? ` (batch ${k.detail.batch.id}, item ${k.detail.batch.item + 1})` : ''}`;
    case 'hold_increase':
      return `${formatCredits(k.detail.credits)} more held for ${linesText(k.detail.lines)}, ${formatNumber(k.detail.total)} in all`;
    case 'charge':
      return `Charged for ${linesText(k.detail.lines)}`;
    case 'capture':
      return `Captured ${formatCredits(k.detail.captured)}${k.detail.released > 0 ? `, ${formatNumber(k.detail.released)} returned` : ''}`;
    case 'partial_capture':
      return `Captured ${formatCredits(k.detail.captured)}, ${formatNumber(k.detail.held)} still held`;
    case 'release':
      return `Released: ${formatCredits(k.detail.released)} returned`;
    case 'hold_expiry':
      return `Hold expired: ${formatCredits(k.detail.credits)} returned (${k.detail.reason})`;
    case 'hold_extension':
      return `Hold extended to ${formatDateTime(k.detail.expiresAt)}`;
    case 'grant': {
      const d = k.detail;
      if ('purchaseId' in d) {
        return `Pack ${d.pack} bought for ${formatMoney(d.priceCents, d.currency)}`;
      }
      return `${sourceName(d.source)}${d.reason === undefined ? '' : `: ${d.reason}`}`;
    }
    case 'grant_expiry':
      return `${sourceName(k.detail.source)} credits expired`;
    case 'renewal': {
      const d = k.detail;
      if ('change' in d) return `Plan ${d.subscription.plan} started`;
      const parts = [
        `${formatNumber(d.allocation)} granted`,
        d.rolled > 0 ? `${formatNumber(d.rolled)} rolled over` : null,
        d.expired > 0 ? `${formatNumber(d.expired)} expired` : null,
      ].filter((p) => p !== null);
      return `Renewal of ${d.plan}, cycle ${d.cycle + 1}${d.ended ? ': the plan ended' : `: ${parts.join(', ')}`}`;
    }
    case 'plan_change': {
      const d = k.detail;
      const paid = d.chargeCents > 0 ? `, ${formatMoney(d.chargeCents, d.currency)}` : '';
      const credits = d.credits > 0 ? `, ${formatCredits(d.credits)} added` : '';
      const plan = d.subscription.pendingPlan ?? d.subscription.plan;
      return `Plan ${d.change} to ${plan}${paid}${credits}`;
    }
    case 'refund':
      return `Refund of ${k.detail.purchaseId}: ${formatMoney(k.detail.cents, k.detail.currency)}${k.detail.full ? '' : ' (part)'}`;
    case 'repayment':
      return `${formatCredits(k.detail.credits)} repaid${k.detail.debt > 0 ? `, ${formatNumber(k.detail.debt)} still owed` : ''}`;
  }
}

function attributionOf(k: KindDetail): Attribution | null {
  switch (k.kind) {
    case 'hold':
    case 'capture':
    case 'release':
    case 'charge':
    case 'partial_capture':
    case 'hold_increase':
      return k.detail.attribution;
    case 'hold_expiry':
      return k.detail.attribution ?? null;
    default:
      return null;
  }
}

export function describeTransaction(t: Transaction): TransactionText {
  const k = kindDetail(t);
  const held = k.kind === 'hold' || k.kind === 'hold_increase';
  return {
    what: what(k),
    for: attributionText(attributionOf(k)),
    credits: held ? `${formatNumber(heldBy(t))} held` : signed(change(t)),
    held,
  };
}
