// What the advice rules (advice-tier.ts, advice.ts) share: input checks, exact integer
// arithmetic, and the phrases their summaries are made of.
import type { Plan } from './catalog.js';
import { AmisiError } from './errors.js';
import { formatMoney } from './money.js';
import { cheapestPacks, MAX_SHORTFALL_CREDITS, type PackCombination } from './packs.js';
import {
  HEAVY_USAGE_BP,
  type AdviceCatalog,
  type BuyPacks,
  type CycleFigures,
  type UsageCycle,
} from './advice-types.js';

/** The largest instant Date can represent, in ms. */
const MAX_DATE_MS = 8_640_000_000_000_000;

// ---------------------------------------------------------------------------------------------
// Validation

export function bad(message: string, details: Record<string, unknown>): never {
  throw new AmisiError('invalid_argument', message, details);
}

export function whole(value: unknown, field: string, min = 0): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    bad(`${field} must be a whole number from ${min}, got ${String(value)}`, { field, min });
  }
  return value;
}

/** An instant in ms that Date can represent (|t| <= 8.64e15). */
export function instant(value: unknown, field: string): number {
  const t = whole(value, field, -MAX_DATE_MS);
  if (t > MAX_DATE_MS) bad(`${field} must be at most ${MAX_DATE_MS}`, { field });
  return t;
}

export function checkCycles(cycles: readonly UsageCycle[]): void {
  cycles.forEach((c, i) => {
    const at = `cycles[${i}]`;
    instant(c.startsAt, `${at}.startsAt`);
    instant(c.endsAt, `${at}.endsAt`);
    if (c.endsAt <= c.startsAt) bad(`${at} must end after it starts`, { field: at });
    if (i > 0 && c.startsAt < cycles[i - 1]!.endsAt) {
      bad(`${at} must start at or after the previous cycle's end (oldest first)`, { field: at });
    }
    if (typeof c.plan !== 'string') bad(`${at}.plan must be a plan id`, { field: `${at}.plan` });
    whole(c.allocation, `${at}.allocation`);
    whole(c.consumed, `${at}.consumed`);
    whole(c.purchased, `${at}.purchased`);
    for (const [p, n] of Object.entries(c.byProject ?? {})) whole(n, `${at}.byProject.${p}`);
  });
}

export function planOf(catalog: AdviceCatalog, id: string): Plan {
  const plan = Object.hasOwn(catalog.plans, id) ? catalog.plans[id] : undefined;
  if (!plan) {
    throw new AmisiError('invalid_parameter', `unknown plan "${id}"`, {
      parameter: 'plan',
      value: id,
      allowed: Object.keys(catalog.plans),
    });
  }
  return plan;
}

// ---------------------------------------------------------------------------------------------
// Integer helpers

/** ceil(a / b) for a >= 0, b > 0. */
export function ceilDiv(a: number, b: number): number {
  return (a - (a % b)) / b + (a % b === 0 ? 0 : 1);
}

/** round(part x scale / whole) half up, for part >= 0 and whole > 0, exactly (BigInt). */
export function scaled(part: number, whole: number, scale: number): number {
  const x = 2n * BigInt(scale) * BigInt(part) + BigInt(whole);
  return Number(x / (2n * BigInt(whole)));
}

export function cyclesFigures(cycles: readonly UsageCycle[]): CycleFigures[] {
  return cycles.map((c) => ({
    startsAt: c.startsAt,
    endsAt: c.endsAt,
    plan: c.plan,
    allocation: c.allocation,
    consumed: c.consumed,
    purchased: c.purchased,
    overrun: Math.max(0, c.consumed - c.allocation),
    usageBasisPoints: c.allocation > 0 ? scaled(c.consumed, c.allocation, 10_000) : null,
    heavy: c.consumed > c.allocation && c.consumed * 10_000 >= HEAVY_USAGE_BP * c.allocation,
  }));
}

export function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function money(cents: number, catalog: AdviceCatalog): string {
  return formatMoney(cents, catalog.currency);
}

/** "2 x pack-20 + 1 x pack-50 for 29.98 USD" */
export function packsText(c: PackCombination, catalog: AdviceCatalog): string {
  const lines = c.lines.map((l) => `${l.count} x ${l.pack}`).join(' + ');
  return `${lines} for ${money(c.priceCents, catalog)}`;
}

/** The cheapest packs for `credits`, or null when the catalog sells none or too many needed. */
export function packsFor(catalog: AdviceCatalog, credits: number): PackCombination | null {
  if (credits <= 0 || credits > MAX_SHORTFALL_CREDITS) return null;
  if (Object.keys(catalog.packs).length === 0) return null;
  return cheapestPacks(catalog.packs, credits);
}

export function buyPacks(catalog: AdviceCatalog, credits: number): BuyPacks | null {
  const packs = packsFor(catalog, credits);
  return packs ? { action: 'buy-packs', credits, packs, priceCents: packs.priceCents } : null;
}

export function noPacksText(credits: number): string {
  return credits > MAX_SHORTFALL_CREDITS
    ? `more than ${MAX_SHORTFALL_CREDITS} credits cannot be priced in packs`
    : 'the catalog sells no packs';
}
