import { requireCredits } from './credits.js';
import { AmisiError, assert, type ErrorCode } from './errors.js';

/**
 * The cheapest combination of packs that covers a shortfall: the exact minimum total price of
 * packs (any number of each) whose credits add up to at least the shortfall. Greedy (largest
 * pack first, or best price per credit first) is not exact: with the seed's packs, 60 credits
 * cost 29.98 as pack-20 + pack-50, against 34.99 for the pack-100 the best rate would pick.
 *
 * Among combinations of the same price the answer is fixed by, in order: most credits, fewest
 * packs, then pack ids (the combination whose ids, sorted, come first in code-unit order).
 */

/** Largest shortfall priced: the search keeps a few numbers per credit up to about twice this. */
export const MAX_SHORTFALL_CREDITS = 100_000;

/** What the search needs of a catalog pack (the catalog's Pack fits). */
export interface PackOffer {
  readonly credits: number;
  readonly priceCents: number;
}

export interface PackLine {
  readonly pack: string;
  /** Credits and price of one pack. */
  readonly unitCredits: number;
  readonly unitPriceCents: number;
  readonly count: number;
  /** The line's totals: count x the unit values. */
  readonly credits: number;
  readonly priceCents: number;
}

export interface PackCombination {
  /** The credits asked for. */
  readonly shortfall: number;
  /** One line per pack bought, fewest credits first. */
  readonly lines: readonly PackLine[];
  /** How many packs in all. */
  readonly packs: number;
  readonly credits: number;
  readonly priceCents: number;
  /** Credits beyond the shortfall. */
  readonly surplus: number;
  /** Total price per credit bought, in thousandths of a minor unit, rounded half up. */
  readonly pricePerCreditMillicents: number;
}

interface Offer extends PackOffer {
  readonly id: string;
}

/** A candidate: how many of each offer (offers sorted by id), with its totals. */
interface Candidate {
  readonly counts: readonly number[];
  readonly priceCents: number;
  readonly credits: number;
  readonly packs: number;
}

function requireShortfall(shortfall: number): void {
  requireCredits(shortfall, 'credits');
  if (shortfall > MAX_SHORTFALL_CREDITS) {
    throw new AmisiError(
      'invalid_credits',
      `credits must be at most ${MAX_SHORTFALL_CREDITS}, got ${shortfall}`,
      { field: 'credits', value: shortfall, max: MAX_SHORTFALL_CREDITS },
    );
  }
}

/** The packs in id order (code units, not locale): the order every tie-break uses. */
function sortedOffers(packs: Readonly<Record<string, PackOffer>>): Offer[] {
  const offers = Object.entries(packs)
    .map(([id, p]) => ({ id, credits: p.credits, priceCents: p.priceCents }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const o of offers) {
    assert(Number.isSafeInteger(o.credits) && o.credits >= 1, `pack ${o.id} has whole credits`);
    assert(Number.isSafeInteger(o.priceCents) && o.priceCents >= 0, `pack ${o.id} has cents`);
  }
  return offers;
}

/** Negative when a is the better answer: cheaper, more credits, fewer packs, then ids. */
function compare(a: Candidate, b: Candidate): number {
  if (a.priceCents !== b.priceCents) return a.priceCents - b.priceCents;
  if (a.credits !== b.credits) return b.credits - a.credits;
  if (a.packs !== b.packs) return a.packs - b.packs;
  // Same number of packs: more of an earlier id is the sorted id list that comes first.
  for (let i = 0; i < a.counts.length; i++) {
    if (a.counts[i] !== b.counts[i]) return b.counts[i]! - a.counts[i]!;
  }
  return 0;
}

function candidate(offers: readonly Offer[], counts: readonly number[]): Candidate {
  let priceCents = 0;
  let credits = 0;
  let packs = 0;
  counts.forEach((n, i) => {
    priceCents += n * offers[i]!.priceCents;
    credits += n * offers[i]!.credits;
    packs += n;
  });
  assert(Number.isSafeInteger(priceCents) && Number.isSafeInteger(credits), 'safe totals');
  return { counts, priceCents, credits, packs };
}

/**
 * Unbounded knapsack over the offers smaller than the shortfall N, for every exact total from
 * 0 to N + L - 1, where L is the largest of them.
 *
 * Why N + L - 1 is enough: take any combination covering N with a total T >= N + L. Remove
 * any one of its packs (at most L credits): T - L >= N, so what is left still covers N, for at
 * most the same price (strictly less when prices are positive). Repeating, every combination
 * can be cut down to one with N <= T <= N + L - 1 that is no dearer, so a cheapest combination
 * lies in that range, and with positive prices every cheapest combination does (so "most
 * credits" is decided over all of them). A pack of N credits or more is only ever bought on
 * its own in a cheapest combination (anything added to it could be removed), so those are
 * compared as single packs by the caller and kept out of this table. (A free pack would make
 * "most credits" unbounded; the catalog allows price 0, and the range above then bounds it.)
 *
 * For each total t the table keeps the cheapest way to make exactly t, then the fewest packs,
 * and on a full tie the smallest id as the last pack taken: taking at each step the smallest
 * id that some best way to make t contains builds the best ways' id list that sorts first.
 */
function knapsack(offers: readonly Offer[], small: readonly number[], shortfall: number) {
  const largest = Math.max(...small.map((i) => offers[i]!.credits));
  const top = shortfall + largest - 1;
  const dearest = Math.max(...small.map((i) => offers[i]!.priceCents));
  if (dearest * (top + 1) > Number.MAX_SAFE_INTEGER) {
    throw new AmisiError('invalid_credits', 'shortfall too large to price with these packs', {
      field: 'credits',
      value: shortfall,
    });
  }
  // Per exact total t: the price, the packs (0: t cannot be made yet) and the last pack.
  const price = new Float64Array(top + 1);
  const count = new Int32Array(top + 1);
  const last = new Int32Array(top + 1);
  const credits = small.map((i) => offers[i]!.credits);
  const cents = small.map((i) => offers[i]!.priceCents);
  for (let t = 1; t <= top; t++) {
    for (let k = 0; k < small.length; k++) {
      const base = t - credits[k]!;
      if (base < 0 || (base > 0 && count[base] === 0)) continue;
      const p = price[base]! + cents[k]!;
      const n = count[base]! + 1;
      if (count[t] === 0 || p < price[t]! || (p === price[t] && n < count[t]!)) {
        price[t] = p;
        count[t] = n;
        last[t] = small[k]!;
      }
    }
  }
  // From the top down, so that among equal prices the most credits win.
  let best = -1;
  for (let t = top; t >= shortfall; t--) {
    if (count[t]! > 0 && (best < 0 || price[t]! < price[best]!)) best = t;
  }
  assert(best >= shortfall, 'the largest of them repeated reaches a total in range');
  const counts = offers.map(() => 0);
  for (let t = best; t > 0; t -= offers[last[t]!]!.credits) counts[last[t]!]!++;
  return candidate(offers, counts);
}

/** The cheapest packs that cover `shortfall` credits; unknown_pack when there are none. */
/** The problem codes of `cheapestPacks`: a shortfall out of range, a catalog without packs. */
export const CHEAPEST_PACKS_PROBLEMS: readonly ErrorCode[] = ['invalid_credits', 'unknown_pack'];

export function cheapestPacks(
  packs: Readonly<Record<string, PackOffer>>,
  shortfall: number,
): PackCombination {
  requireShortfall(shortfall);
  const offers = sortedOffers(packs);
  if (offers.length === 0) {
    throw new AmisiError('unknown_pack', 'the catalog has no packs to buy', { shortfall });
  }
  const small = offers.flatMap((o, i) => (o.credits < shortfall ? [i] : []));
  const candidates = offers.flatMap((o, i) =>
    o.credits >= shortfall
      ? [
          candidate(
            offers,
            offers.map((_, j) => (j === i ? 1 : 0)),
          ),
        ]
      : [],
  );
  if (small.length > 0) candidates.push(knapsack(offers, small, shortfall));
  const best = candidates.reduce((a, b) => (compare(b, a) < 0 ? b : a));
  assert(best.credits >= shortfall, 'the combination covers the shortfall');
  return describe(offers, best, shortfall);
}

function describe(offers: readonly Offer[], c: Candidate, shortfall: number): PackCombination {
  const lines = offers
    .flatMap((o, i) => {
      const n = c.counts[i]!;
      if (n === 0) return [];
      const line: PackLine = {
        pack: o.id,
        unitCredits: o.credits,
        unitPriceCents: o.priceCents,
        count: n,
        credits: n * o.credits,
        priceCents: n * o.priceCents,
      };
      return [line];
    })
    .sort((a, b) => a.unitCredits - b.unitCredits || (a.pack < b.pack ? -1 : 1));
  // Half up without floats: floor((2 x 1000 x cents + credits) / (2 x credits)).
  const millicents =
    (2n * 1000n * BigInt(c.priceCents) + BigInt(c.credits)) / (2n * BigInt(c.credits));
  return {
    shortfall,
    lines,
    packs: c.packs,
    credits: c.credits,
    priceCents: c.priceCents,
    surplus: c.credits - shortfall,
    pricePerCreditMillicents: Number(millicents),
  };
}
