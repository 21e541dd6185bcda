import { AmisiError, assert } from '../../core/errors.js';
import {
  OVERDRAFT_DRAW,
  splitCapture,
  type Draw,
  type Grant,
  type GrantSource,
} from '../../core/grants.js';
import { heldNow, type Attribution, type Hold } from '../../core/holds.js';
import type { JournalTransaction } from '../../core/journal.js';
import type { ReleaseBatchRef } from '../../core/journal-detail.js';
import { quote, type Quote } from '../../core/quote.js';
import type { AccountState, UnitOfWork } from '../unit-of-work.js';
import { returnDraws } from '../expiry/expiry.js';
import { decideSpend, takeDraws, writeHold } from './spend.js';
import { applyBudgetCount, countSpend } from '../teams/budgets.js';
import type { SpendRequest } from '../../core/spend.js';
import type { Amount } from '../validate.js';
import { once, type Replayable } from '../idempotency.js';
import {
  capturePart,
  consumeDraws,
  heldHold,
  holdAsOf,
  holdRowOf,
  openHold,
} from './long-holds.js';

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
    async (t) => ({ hold: await holdAsOf(uow, await holdRowOf(uow, t), t), transactionId: t.id }),
  );
}

export interface ResolveInput {
  readonly holdId: string;
  readonly key: string;
  /** Credits to capture; undefined captures all the hold still holds; 0 with release. */
  readonly credits?: number;
  /**
   * false keeps the rest held (a part of a long job, billed as it goes); default true: the
   * capture resolves the hold and returns what is left.
   */
  readonly final?: boolean;
}

export interface ResolveResult {
  readonly hold: Hold;
  readonly transactionId: string;
  /** Credits this capture took (0 for a release). */
  readonly capturedCredits: number;
  /** Credits this resolution returned (0 for a partial capture). */
  readonly releasedCredits: number;
}

/**
 * Resolves a hold still held, as its command decided (capture `captured` of the credits it
 * still holds, or release with 0): journals what is consumed and what returns, marks the hold
 * and moves its budgets. `detail` adds to a release's detail (a request batch's release names
 * its batch and item).
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
  const held = heldNow(h);
  const split = splitCapture(h.draws, captured);
  const entries = consumeDraws(uow, state, h.id, split.consumed);
  entries.push(...(await returnDraws(uow, state, h.id, split.returned)));
  const before = h.capturedCredits;
  const settled = {
    captured,
    released: held - captured,
    attribution: h.attribution,
    ...(before > 0 ? { capturedBefore: before } : {}),
  };
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
  const resolved = await uow.resolveHold(h, status, before + captured);
  await countSpend(uow, state, h.attribution, { held: -held, used: captured });
  return {
    hold: resolved,
    transactionId,
    capturedCredits: captured,
    releasedCredits: held - captured,
  };
}

/**
 * Capture (credits >= 0 of what the hold still holds; `final: false` keeps the rest held) or
 * release (mode 'release'): one resolution per hold, after any number of partial captures.
 */
export async function resolve(
  uow: UnitOfWork,
  input: ResolveInput,
  mode: 'capture' | 'release',
): Promise<Replayable<ResolveResult>> {
  const { state, accountId } = await openHold(uow, input.holdId);
  const { key, ...request } = input;
  return once(
    uow,
    accountId,
    key,
    { op: mode, ...request },
    async () => {
      const h = await heldHold(uow, accountId, input.holdId);
      const held = heldNow(h);
      const captured = mode === 'release' ? 0 : (input.credits ?? held);
      if (captured > held) {
        throw new AmisiError(
          'capture_exceeds_hold',
          `cannot capture ${captured} credits from hold ${h.id}, which holds ${held}`,
          { holdId: h.id, held, requested: captured },
        );
      }
      // A part that takes all the hold still holds is its final capture.
      if (mode === 'capture' && input.final === false && captured < held) {
        return capturePart(uow, state, h, captured, key);
      }
      return settleHold(uow, state, h, mode, captured, key);
    },
    async (t) => {
      const row = await holdRowOf(uow, t);
      if (t.kind === 'partial_capture') {
        return {
          hold: await holdAsOf(uow, row, t),
          transactionId: t.id,
          capturedCredits: t.detail.captured,
          releasedCredits: 0,
        };
      }
      // A hold resolves once, so its row still shows what this transaction made of it.
      assert(t.kind === 'capture' || t.kind === 'release', `transaction ${t.id} resolves a hold`);
      return {
        hold: row,
        transactionId: t.id,
        capturedCredits: t.detail.captured,
        releasedCredits: t.detail.released,
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
