import { assert } from './errors.js';

export const GRANT_SOURCES = [
  'allocation',
  'rollover',
  'purchase',
  'promotion',
  'adjustment',
  'trial',
] as const;
export type GrantSource = (typeof GRANT_SOURCES)[number];

/**
 * Among grants that expire at the same moment, free credits go first and paid credits last:
 * purchased credits are money the customer can ask back (refunds reclaim unspent credits), so
 * they are kept longest.
 */
export const SOURCE_SPEND_RANK: Readonly<Record<GrantSource, number>> = {
  trial: 0,
  promotion: 0,
  allocation: 1,
  rollover: 2,
  adjustment: 3,
  purchase: 4,
};

export interface Grant {
  readonly accountId: string;
  readonly id: string;
  readonly source: GrantSource;
  readonly amount: number;
  /** Credits neither spent, held, expired nor refunded. */
  readonly remaining: number;
  readonly startsAt: number;
  /** Epoch ms; null for credits that never expire. */
  readonly expiresAt: number | null;
  readonly createdAt: number;
}

/**
 * The one total spend order: soonest expiry first (never-expiring last), then by source
 * (SOURCE_SPEND_RANK), then oldest, then id. Ids are unique, so no two grants compare equal.
 */
export function compareSpendOrder(a: Grant, b: Grant): number {
  const ae = a.expiresAt ?? Number.POSITIVE_INFINITY;
  const be = b.expiresAt ?? Number.POSITIVE_INFINITY;
  if (ae !== be) return ae < be ? -1 : 1;
  const rank = SOURCE_SPEND_RANK[a.source] - SOURCE_SPEND_RANK[b.source];
  if (rank !== 0) return rank;
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export function isExpired(grant: Grant, now: number): boolean {
  return grant.expiresAt !== null && grant.expiresAt <= now;
}

export function isSpendable(grant: Grant, now: number): boolean {
  return grant.remaining > 0 && grant.startsAt <= now && !isExpired(grant, now);
}

export interface Draw {
  /** The grant drawn from, or OVERDRAFT_DRAW for the part past zero (core/overdraft.ts). */
  readonly grantId: string;
  readonly credits: number;
}

/**
 * The draw of a hold or charge past zero, into the account's overdraft: always after the grant
 * draws, so a capture takes the grants first and a partial capture returns the overdraft first.
 * Grant ids are `grt_...`, so this never names a grant.
 */
export const OVERDRAFT_DRAW = 'overdraft';

export function isOverdraftDraw(d: Draw): boolean {
  return d.grantId === OVERDRAFT_DRAW;
}

export type DrawPlan =
  | { readonly ok: true; readonly draws: readonly Draw[] }
  | { readonly ok: false; readonly available: number };

/**
 * Which grants pay for `credits`, all or nothing, in spend order. Pure.
 * Postconditions: draws sum to credits; no draw exceeds its grant's remaining; each grant once.
 */
export function planDraws(grants: readonly Grant[], credits: number, now: number): DrawPlan {
  assert(Number.isSafeInteger(credits) && credits > 0, 'draw request is a positive integer');
  const spendable = grants.filter((g) => isSpendable(g, now)).sort(compareSpendOrder);
  const draws: Draw[] = [];
  let left = credits;
  for (const g of spendable) {
    if (left === 0) break;
    const take = Math.min(g.remaining, left);
    draws.push({ grantId: g.id, credits: take });
    left -= take;
  }
  if (left > 0) return { ok: false, available: credits - left };
  assert(draws.reduce((s, d) => s + d.credits, 0) === credits, 'draws sum to the request');
  return { ok: true, draws };
}

/** Credits available now: what planDraws could take. */
export function availableCredits(grants: Iterable<Grant>, now: number): number {
  let total = 0;
  for (const g of grants) if (isSpendable(g, now)) total += g.remaining;
  return total;
}

export interface CaptureSplit {
  readonly consumed: readonly Draw[];
  readonly returned: readonly Draw[];
}

/**
 * Splits a capture of `credits` over a hold's draws: the draws are consumed in the order they
 * were made (spend order at hold time) and what is left of each is returned. Pure.
 */
export function splitCapture(draws: readonly Draw[], credits: number): CaptureSplit {
  const held = draws.reduce((s, d) => s + d.credits, 0);
  assert(Number.isSafeInteger(credits) && credits >= 0 && credits <= held, 'capture within hold');
  const consumed: Draw[] = [];
  const returned: Draw[] = [];
  let left = credits;
  for (const d of draws) {
    const take = Math.min(d.credits, left);
    left -= take;
    if (take > 0) consumed.push({ grantId: d.grantId, credits: take });
    if (d.credits - take > 0) returned.push({ grantId: d.grantId, credits: d.credits - take });
  }
  assert(left === 0, 'capture fully assigned');
  return { consumed, returned };
}

/**
 * A hold's draws with more added (an increase): the same grant's draws merged, grant draws
 * first in the order they came and the part past zero last, so a capture still takes grants
 * before the overdraft. Pure.
 */
export function addDraws(draws: readonly Draw[], more: readonly Draw[]): Draw[] {
  const merged = new Map<string, number>();
  for (const d of [...draws, ...more])
    merged.set(d.grantId, (merged.get(d.grantId) ?? 0) + d.credits);
  const all = [...merged].map(([grantId, credits]) => ({ grantId, credits }));
  return [...all.filter((d) => !isOverdraftDraw(d)), ...all.filter(isOverdraftDraw)];
}
