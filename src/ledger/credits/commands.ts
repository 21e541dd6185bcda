import { AmisiError, assert } from '../../core/errors.js';
import {
  isOverdraftDraw,
  OVERDRAFT_DRAW,
  splitCapture,
  type Draw,
  type Grant,
  type GrantSource,
} from '../../core/grants.js';
import type { Attribution, Hold } from '../../core/holds.js';
import type { Entry, JournalTransaction } from '../../core/journal.js';
import type { ReleaseBatchRef } from '../../core/journal-detail.js';
import { quote, type Quote } from '../../core/quote.js';
import type { AccountState, UnitOfWork } from '../unit-of-work.js';
import { accountOf } from '../reads.js';
import { returnDraws } from '../expiry/expiry.js';
import { decideSpend, takeDraws, writeHold } from './spend.js';
import { applyBudgetCount, countSpend } from '../teams/budgets.js';
import type { SpendRequest } from '../../core/spend.js';
import type { Amount } from '../validate.js';
import { once, type Replayable } from '../idempotency.js';

/**
 * Each command: load (through the unit of work) -> decide (pure, may refuse) -> apply (writes
 * only). A command never refuses after it has written: every refusal comes before the first
 * write, and the spend of holds and charges is one pure decision (core/spend.ts planSpend).
 */

/** A hold's or charge's request to planSpend: one item, attributed as the input says. */
function spendOf(
  kind: 'hold' | 'charge',
  credits: number,
  input: { readonly attribution: Attribution },
): SpendRequest {
  return {
    kind,
    attribution: input.attribution,
    items: [{ credits, operation: null }],
    batch: false,
  };
}

async function holdOf(uow: UnitOfWork, t: JournalTransaction): Promise<Hold> {
  assert(t.holdId, `transaction ${t.id} names its hold`);
  const h = await uow.hold(t.accountId, t.holdId);
  assert(h, `hold ${t.holdId} exists`);
  return h;
}

async function price(
  uow: UnitOfWork,
  amount: Amount,
): Promise<{ credits: number; quote: Quote | null }> {
  if (amount.credits !== undefined) return { credits: amount.credits, quote: null };
  const catalog = await uow.activeCatalog();
  const q = quote(catalog.body, amount.items);
  return { credits: q.credits, quote: q };
}

export interface GrantInput {
  readonly accountId: string;
  readonly key: string;
  readonly credits: number;
  readonly source: GrantSource;
  readonly startsAt?: number;
  readonly expiresAt: number | null;
  readonly reason?: string;
}

export interface GrantResult {
  readonly grant: Grant;
  readonly transactionId: string;
}

export async function grant(uow: UnitOfWork, input: GrantInput): Promise<Replayable<GrantResult>> {
  const state = await uow.account(input.accountId);
  const { key, ...request } = input;
  return once(
    uow,
    input.accountId,
    key,
    { op: 'grant', ...request },
    async () => {
      const startsAt = input.startsAt ?? uow.now;
      // Credits that are expired on arrival would go straight to breakage: refuse them.
      if (input.expiresAt !== null && input.expiresAt <= Math.max(startsAt, uow.now)) {
        throw new AmisiError(
          'invalid_argument',
          'expires must be in the future and after the grant starts',
          {
            field: 'expires',
            value: input.expiresAt,
          },
        );
      }
      const g: Grant = {
        accountId: input.accountId,
        id: uow.newId('grt'),
        source: input.source,
        amount: input.credits,
        remaining: input.credits,
        startsAt,
        expiresAt: input.expiresAt,
        createdAt: uow.now,
      };
      const entries = await uow.issueGrant(state, g);
      const transactionId = await uow.append(input.accountId, {
        kind: 'grant',
        idempotencyKey: key,
        grantId: g.id,
        detail: { source: g.source, ...(input.reason ? { reason: input.reason } : {}) },
        entries,
      });
      return { grant: g, transactionId };
    },
    async (t) => {
      assert(t.grantId, `transaction ${t.id} names its grant`);
      const g = await uow.grant(state, t.grantId);
      // A grant is created whole: the original answer showed all of it remaining.
      return { grant: { ...g, remaining: g.amount }, transactionId: t.id };
    },
  );
}

export interface HoldInput {
  readonly accountId: string;
  readonly key: string;
  readonly amount: Amount;
  readonly ttlMs: number;
  readonly attribution: Attribution;
}

export interface HoldResult {
  readonly hold: Hold;
  readonly transactionId: string;
}

export async function hold(uow: UnitOfWork, input: HoldInput): Promise<Replayable<HoldResult>> {
  const state = await uow.account(input.accountId);
  const { key, ...request } = input;
  return once(
    uow,
    input.accountId,
    key,
    { op: 'hold', ...request },
    async () => {
      const priced = await price(uow, input.amount);
      const [step] = await decideSpend(uow, state, spendOf('hold', priced.credits, input));
      // Decided: from here on, only writes.
      const h: Hold = {
        accountId: input.accountId,
        id: uow.newId('hld'),
        status: 'held',
        credits: priced.credits,
        capturedCredits: 0,
        draws: step!.draws,
        expiresAt: uow.now + input.ttlMs,
        createdAt: uow.now,
        resolvedAt: null,
        catalogVersion: priced.quote?.catalogVersion ?? null,
        quote: priced.quote,
        attribution: input.attribution,
      };
      const transactionId = await writeHold(uow, state, h, step!, key);
      return { hold: h, transactionId };
    },
    async (t) => {
      const h = await holdOf(uow, t);
      return {
        hold: { ...h, status: 'held', capturedCredits: 0, resolvedAt: null },
        transactionId: t.id,
      };
    },
  );
}

export interface ResolveInput {
  readonly holdId: string;
  readonly key: string;
  /** Credits to capture; undefined captures all; 0 with release. */
  readonly credits?: number;
}

export interface ResolveResult {
  readonly hold: Hold;
  readonly transactionId: string;
  readonly capturedCredits: number;
  readonly releasedCredits: number;
}

function refuseResolved(h: Hold): never {
  const code =
    h.status === 'captured'
      ? 'hold_already_captured'
      : h.status === 'released'
        ? 'hold_already_released'
        : 'hold_expired';
  throw new AmisiError(code, `hold ${h.id} is already ${h.status}`, {
    holdId: h.id,
    status: h.status,
  });
}

/**
 * Resolves a hold still held, as its command decided (capture `captured` credits, or release
 * with 0): journals what is consumed and what returns, marks the hold and moves its budgets.
 * `detail` adds to a release's detail (a request batch's release names its batch and item).
 */
export async function settleHold(
  uow: UnitOfWork,
  state: AccountState,
  h: Hold,
  mode: 'capture' | 'release',
  captured: number,
  key: string,
  detail: { readonly batch?: ReleaseBatchRef } = {},
): Promise<ResolveResult> {
  const split = splitCapture(h.draws, captured);
  const entries: Entry[] = split.consumed.flatMap((d) => {
    const grantId = isOverdraftDraw(d) ? null : d.grantId;
    return [
      { book: 'held' as const, grantId, holdId: h.id, credits: -d.credits },
      { book: 'consumed' as const, grantId, holdId: h.id, credits: d.credits },
    ];
  });
  // What is captured past zero is owed from now on (and paid at once from any credits that
  // arrived while the hold was open).
  const overdrawn = split.consumed.filter(isOverdraftDraw).reduce((s, d) => s + d.credits, 0);
  if (overdrawn > 0) uow.changeOverdraft(state, { held: -overdrawn, debt: overdrawn });
  entries.push(...(await returnDraws(uow, state, h.id, split.returned)));
  const settled = { captured, released: h.credits - captured, attribution: h.attribution };
  assert(mode === 'release' || detail.batch === undefined, 'only a release names a batch');
  const transactionId = await uow.append(h.accountId, {
    ...(mode === 'capture'
      ? { kind: mode, detail: settled }
      : { kind: mode, detail: { ...settled, ...detail } }),
    idempotencyKey: key,
    holdId: h.id,
    catalogVersion: h.catalogVersion,
    entries,
  });
  const status = mode === 'release' ? 'released' : 'captured';
  const resolved = await uow.resolveHold(h, status, captured);
  await countSpend(uow, state, h.attribution, { held: -h.credits, used: captured });
  return {
    hold: resolved,
    transactionId,
    capturedCredits: captured,
    releasedCredits: h.credits - captured,
  };
}

/** Capture (credits >= 0 of the hold) or release (mode 'release'): one resolution per hold. */
export async function resolve(
  uow: UnitOfWork,
  input: ResolveInput,
  mode: 'capture' | 'release',
): Promise<Replayable<ResolveResult>> {
  const accountId = await accountOf(uow.read, 'holds', input.holdId);
  if (!accountId) {
    throw new AmisiError('unknown_hold', `unknown hold "${input.holdId}"`, {
      holdId: input.holdId,
    });
  }
  const state = await uow.account(accountId);
  const { key, ...request } = input;
  return once(
    uow,
    accountId,
    key,
    { op: mode, ...request },
    async () => {
      const h = await uow.hold(accountId, input.holdId);
      assert(h, `hold ${input.holdId} exists in its account`);
      if (h.status !== 'held') refuseResolved(h);
      const captured = mode === 'release' ? 0 : (input.credits ?? h.credits);
      if (captured > h.credits) {
        throw new AmisiError(
          'capture_exceeds_hold',
          `cannot capture ${captured} credits from hold ${h.id} of ${h.credits}`,
          { holdId: h.id, held: h.credits, requested: captured },
        );
      }
      return settleHold(uow, state, h, mode, captured, key);
    },
    async (t) => {
      // A hold resolves once, so its row still shows what this transaction made of it.
      const h = await holdOf(uow, t);
      return {
        hold: h,
        transactionId: t.id,
        capturedCredits: h.capturedCredits,
        releasedCredits: h.credits - h.capturedCredits,
      };
    },
  );
}

export interface ChargeInput {
  readonly accountId: string;
  readonly key: string;
  readonly amount: Amount;
  readonly attribution: Attribution;
}

export interface ChargeResult {
  readonly accountId: string;
  readonly transactionId: string;
  readonly credits: number;
  readonly draws: readonly Draw[];
  readonly catalogVersion: string | null;
  readonly quote: Quote | null;
  readonly attribution: Attribution;
  readonly createdAt: number;
}

/** A hold captured at once: one transaction from the grants straight to consumed. */
export async function charge(
  uow: UnitOfWork,
  input: ChargeInput,
): Promise<Replayable<ChargeResult>> {
  const state = await uow.account(input.accountId);
  const { key, ...request } = input;
  return once(
    uow,
    input.accountId,
    key,
    { op: 'charge', ...request },
    async () => {
      const priced = await price(uow, input.amount);
      const [step] = await decideSpend(uow, state, spendOf('charge', priced.credits, input));
      // Decided: from here on, only writes.
      await takeDraws(uow, state, step!, 'charge');
      await applyBudgetCount(uow, state, step!);
      const catalogVersion = priced.quote?.catalogVersion ?? null;
      const transactionId = await uow.append(input.accountId, {
        kind: 'charge',
        idempotencyKey: key,
        catalogVersion,
        detail: {
          credits: priced.credits,
          attribution: input.attribution,
          lines: priced.quote?.lines ?? [],
        },
        entries: step!.entries,
      });
      return chargeResult(await uow.transaction(input.accountId, transactionId));
    },
    async (t) => chargeResult(t),
  );
}

/** A charge's result, read back from its journal transaction (first answer and replays alike). */
function chargeResult(t: JournalTransaction): ChargeResult {
  assert(t.kind === 'charge', `transaction ${t.id} is a charge`);
  const d = t.detail;
  const draws = t.entries
    .filter((e) => e.book === 'consumed')
    .map((e) => ({ grantId: e.grantId ?? OVERDRAFT_DRAW, credits: e.credits }));
  return {
    accountId: t.accountId,
    transactionId: t.id,
    credits: d.credits,
    draws,
    catalogVersion: t.catalogVersion,
    quote:
      d.lines.length > 0 && t.catalogVersion !== null
        ? { catalogVersion: t.catalogVersion, credits: d.credits, lines: d.lines }
        : null,
    attribution: d.attribution,
    createdAt: t.createdAt,
  };
}
