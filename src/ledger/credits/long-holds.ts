import { AmisiError, assert } from '../../core/errors.js';
import { addDraws, OVERDRAFT_DRAW, splitCapture, type Draw } from '../../core/grants.js';
import { heldNow, HOLD_LIFETIME_MAX_MS, type Hold } from '../../core/holds.js';
import type { Entry, JournalTransaction } from '../../core/journal.js';
import { quote, type Quote, type QuoteLine } from '../../core/quote.js';
import type { SpendRequest } from '../../core/spend.js';
import { accountOf } from '../reads.js';
import { once, type Replayable } from '../idempotency.js';
import type { AccountState, UnitOfWork } from '../unit-of-work.js';
import type { Amount } from '../validate.js';
import { applyBudgetCount, countSpend } from '../teams/budgets.js';
import { decideSpend, takeDraws } from './spend.js';

/**
 * Long and streaming jobs (docs/adr/0015-long-holds.md): a hold still held can be extended (a
 * new ttl, within HOLD_LIFETIME_MAX_MS of when it was made), captured in parts (each part is
 * consumed at once, the rest stays held) and increased (more credits reserved on the same hold,
 * all or nothing, by the same spend plan as a hold). The hold row always says what it still
 * reserves: `draws` sum to `credits - capturedCredits`.
 */

export interface HoldResult {
  readonly hold: Hold;
  readonly transactionId: string;
}

/** The hold named, with its locked account: refused when unknown or resolved already. */
export async function openHold(
  uow: UnitOfWork,
  holdId: string,
): Promise<{ state: AccountState; accountId: string }> {
  const accountId = await accountOf(uow.read, 'holds', holdId);
  if (!accountId) throw new AmisiError('unknown_hold', `unknown hold "${holdId}"`, { holdId });
  return { state: await uow.account(accountId), accountId };
}

/** A hold as the unit has it; refused (with the code of how it ended) unless still held. */
export async function heldHold(uow: UnitOfWork, accountId: string, holdId: string): Promise<Hold> {
  const h = await uow.hold(accountId, holdId);
  assert(h, `hold ${holdId} exists in its account`);
  if (h.status !== 'held') refuseResolved(h);
  return h;
}

export function refuseResolved(h: Hold): never {
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
 * The hold as it stood just after journal transaction `t` of it (a replay answers the first
 * answer): its credits, captured part, expiry and quote from the hold's transactions up to
 * `t`, its draws from their held entries. Rows of holds made before holds could be extended
 * name no expiry in their detail; those take the row's.
 */
export async function holdAsOf(uow: UnitOfWork, h: Hold, t: JournalTransaction): Promise<Hold> {
  const written = await uow.read.journal(
    { accountId: h.accountId, holdId: h.id },
    { order: ['id'] },
  );
  const seen = new Set(written.map((x) => x.id));
  const all = [
    ...written,
    ...uow.bufferedTransactions(h.accountId).filter((x) => x.holdId === h.id && !seen.has(x.id)),
  ]
    .filter((x) => x.id <= t.id)
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  let credits = 0;
  let captured = 0;
  let expiresAt = h.expiresAt;
  const lines: QuoteLine[] = [];
  const held = new Map<string, number>();
  for (const x of all) {
    if (x.kind === 'hold') {
      credits += x.detail.credits;
      lines.push(...x.detail.lines);
      expiresAt = x.detail.expiresAt ?? expiresAt;
    } else if (x.kind === 'hold_increase') {
      credits += x.detail.credits;
      lines.push(...x.detail.lines);
    } else if (x.kind === 'partial_capture') {
      captured += x.detail.captured;
    } else if (x.kind === 'hold_extension') {
      expiresAt = x.detail.expiresAt;
    }
    for (const e of x.entries) {
      if (e.book !== 'held') continue;
      const id = e.grantId ?? OVERDRAFT_DRAW;
      const left = (held.get(id) ?? 0) + e.credits;
      if (left === 0) held.delete(id);
      else held.set(id, left);
    }
  }
  const draws = addDraws(
    [],
    [...held].map(([grantId, c]) => ({ grantId, credits: c })),
  );
  const q: Quote | null =
    h.quote === null ? null : { catalogVersion: h.quote.catalogVersion, credits, lines };
  return {
    ...h,
    status: 'held',
    credits,
    capturedCredits: captured,
    draws,
    expiresAt,
    resolvedAt: null,
    quote: q,
  };
}

// Extension

export interface ExtendInput {
  readonly holdId: string;
  readonly key: string;
  readonly ttlMs: number;
}

/** A new ttl from now; refused past HOLD_LIFETIME_MAX_MS from when the hold was made. */
export async function extendHold(
  uow: UnitOfWork,
  input: ExtendInput,
): Promise<Replayable<HoldResult>> {
  const { accountId } = await openHold(uow, input.holdId);
  const { key, ...request } = input;
  return once(
    uow,
    accountId,
    key,
    { op: 'extend', ...request },
    async () => {
      const h = await heldHold(uow, accountId, input.holdId);
      const expiresAt = uow.now + input.ttlMs;
      const latest = h.createdAt + HOLD_LIFETIME_MAX_MS;
      if (expiresAt > latest) {
        throw new AmisiError(
          'hold_lifetime_exceeded',
          `hold ${h.id} may live until ${new Date(latest).toISOString()} at most ` +
            `(${HOLD_LIFETIME_MAX_MS / 86_400_000} days from when it was made)`,
          { holdId: h.id, createdAt: h.createdAt, latest, requested: expiresAt },
        );
      }
      const transactionId = await uow.append(accountId, {
        kind: 'hold_extension',
        idempotencyKey: key,
        holdId: h.id,
        catalogVersion: h.catalogVersion,
        detail: { expiresAt, previousExpiresAt: h.expiresAt },
        entries: [],
      });
      return { hold: await uow.changeHold(h, { expiresAt }), transactionId };
    },
    async (t) => ({ hold: await holdAsOf(uow, await holdRowOf(uow, t), t), transactionId: t.id }),
  );
}

/** The hold row a transaction of a hold (hold, capture, extension, ...) names. */
export async function holdRowOf(uow: UnitOfWork, t: JournalTransaction): Promise<Hold> {
  assert(t.holdId, `transaction ${t.id} names its hold`);
  const h = await uow.hold(t.accountId, t.holdId);
  assert(h, `hold ${t.holdId} exists`);
  return h;
}

// Increase

export interface IncreaseInput {
  readonly holdId: string;
  readonly key: string;
  readonly amount: Amount;
}

export interface IncreaseResult extends HoldResult {
  /** Credits this increase reserved. */
  readonly credits: number;
}

/**
 * More credits on an open hold, all or nothing: decided by the same spend plan as a hold
 * (credits, budgets, seats, overdraft), with the hold's attribution. A hold priced by a quote
 * is increased by items (its quote gains their lines); a hold of plain credits by credits.
 */
export async function increaseHold(
  uow: UnitOfWork,
  input: IncreaseInput,
): Promise<Replayable<IncreaseResult>> {
  const { state, accountId } = await openHold(uow, input.holdId);
  const { key, ...request } = input;
  return once(
    uow,
    accountId,
    key,
    { op: 'increase', ...request },
    async () => {
      const h = await heldHold(uow, accountId, input.holdId);
      const item = await uow.read.get('request_batch_items', { accountId, holdId: h.id });
      if (item) {
        throw new AmisiError(
          'invalid_argument',
          `hold ${h.id} is item ${item.index} of request batch ${item.batchId}, priced by one ` +
            'line: hold what more it needs separately',
          { field: 'holdId', holdId: h.id, batchId: item.batchId },
        );
      }
      const priced = input.amount.credits === undefined;
      if (priced !== (h.quote !== null)) {
        throw new AmisiError(
          'invalid_argument',
          h.quote === null
            ? `hold ${h.id} holds plain credits: increase it by credits`
            : `hold ${h.id} is priced by a quote: increase it by items`,
          { field: h.quote === null ? 'credits' : 'items', holdId: h.id },
        );
      }
      const q =
        input.amount.credits === undefined
          ? quote((await uow.activeCatalog()).body, input.amount.items)
          : null;
      const credits = q ? q.credits : input.amount.credits!;
      const spend: SpendRequest = {
        kind: 'hold',
        attribution: h.attribution,
        items: [{ credits, operation: null }],
        batch: false,
      };
      const [step] = await decideSpend(uow, state, spend);
      // Decided: from here on, only writes.
      await takeDraws(uow, state, step!, 'hold');
      await applyBudgetCount(uow, state, step!);
      const total = h.credits + credits;
      const lines = q?.lines ?? [];
      const transactionId = await uow.append(accountId, {
        kind: 'hold_increase',
        idempotencyKey: key,
        holdId: h.id,
        catalogVersion: q?.catalogVersion ?? null,
        detail: { credits, total, attribution: h.attribution, lines },
        entries: step!.entries.map((e) => ({ ...e, holdId: h.id })),
      });
      const changed = await uow.changeHold(h, {
        credits: total,
        draws: addDraws(h.draws, step!.draws),
        quote: h.quote && { ...h.quote, credits: total, lines: [...h.quote.lines, ...lines] },
      });
      return { hold: changed, transactionId, credits };
    },
    async (t) => {
      assert(t.kind === 'hold_increase', `transaction ${t.id} is a hold increase`);
      const hold = await holdAsOf(uow, await holdRowOf(uow, t), t);
      return { hold, transactionId: t.id, credits: t.detail.credits };
    },
  );
}

// Partial capture

/**
 * The journal entries of credits a hold consumes: held -> consumed per draw; what is taken
 * past zero is owed from now on (and paid at once from any credits that arrived meanwhile).
 */
export function consumeDraws(
  uow: UnitOfWork,
  state: AccountState,
  holdId: string,
  consumed: readonly Draw[],
): Entry[] {
  const entries: Entry[] = consumed.flatMap((d) => {
    const grantId = d.grantId === OVERDRAFT_DRAW ? null : d.grantId;
    return [
      { book: 'held' as const, grantId, holdId, credits: -d.credits },
      { book: 'consumed' as const, grantId, holdId, credits: d.credits },
    ];
  });
  const overdrawn = consumed
    .filter((d) => d.grantId === OVERDRAFT_DRAW)
    .reduce((s, d) => s + d.credits, 0);
  if (overdrawn > 0) uow.changeOverdraft(state, { held: -overdrawn, debt: overdrawn });
  return entries;
}

/**
 * Captures part of a hold and keeps the rest held (0 < captured < what it holds): the part is
 * consumed now, in the order the hold's draws are taken, and counted as used by its budgets.
 */
export async function capturePart(
  uow: UnitOfWork,
  state: AccountState,
  h: Hold,
  captured: number,
  key: string,
): Promise<HoldResult & { capturedCredits: number; releasedCredits: number }> {
  const held = heldNow(h);
  assert(captured > 0 && captured < held, 'a partial capture leaves some of the hold held');
  const split = splitCapture(h.draws, captured);
  const entries = consumeDraws(uow, state, h.id, split.consumed);
  const transactionId = await uow.append(h.accountId, {
    kind: 'partial_capture',
    idempotencyKey: key,
    holdId: h.id,
    catalogVersion: h.catalogVersion,
    detail: {
      captured,
      capturedBefore: h.capturedCredits,
      held: held - captured,
      attribution: h.attribution,
    },
    entries,
  });
  const changed = await uow.changeHold(h, {
    capturedCredits: h.capturedCredits + captured,
    draws: split.returned,
  });
  await countSpend(uow, state, h.attribution, { held: -captured, used: captured });
  return { hold: changed, transactionId, capturedCredits: captured, releasedCredits: 0 };
}
