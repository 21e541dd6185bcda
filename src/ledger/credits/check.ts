import { AmisiError, assert, isAmisiError, type ErrorCode } from '../../core/errors.js';
import { availableCredits } from '../../core/grants.js';
import { HOLD_TTL_DEFAULT_MS, type Attribution, type Hold } from '../../core/holds.js';
import { overdraftState } from '../../core/overdraft.js';
import { quote, type Quote } from '../../core/quote.js';
import type { SpendRequest } from '../../core/spend.js';
import { isDue, type AccountsApi } from '../accounts/api.js';
import { AccountState } from '../account-state.js';
import type { LedgerContext } from '../context.js';
import {
  ACCOUNT,
  codes,
  CREDITS,
  except,
  KEYED,
  PRICED,
  SPEND,
  type UseCaseProblems,
} from '../problems.js';
import { activeCatalog } from '../reads.js';
import type { CatalogRecord, Reader } from '../store.js';
import type { UnitOfWork } from '../unit-of-work.js';
import {
  requireAmount,
  requireAttribution,
  requireId,
  requireKey,
  requireTtl,
  type Amount,
} from '../validate.js';
import type { AmountInput } from './api.js';
import { hold as holdCommand, type HoldInput } from './commands.js';
import { decideSpend, type SpendReads } from './spend.js';

/**
 * The one-call check: may this account (and member, project) run this request now? It answers
 * the price line by line, the spend's refusal if any (the same code, message and figures a
 * hold of the same request would be refused with), and the available credits after the
 * request would be reserved. With `hold` it reserves at once: that is the hold command itself,
 * under the caller's idempotency key, so a check-and-hold and a POST /v1/holds with the same
 * key and body are one request.
 *
 * The decision is always the hold's: core/spend.ts planSpend through credits/spend.ts
 * decideSpend, over the account's state once what is due is settled.
 *
 * A plain check writes nothing, so it does not go through the committer (which would lock the
 * account and open a write transaction per commit group for nothing to write, and on SQLite
 * wait behind every charge for the one writer). It reads one snapshot of committed data: the
 * account row, its open grants, its active subscription, any hold past its ttl, and for an
 * organization its team; in that snapshot it asks what a unit of work would settle on load
 * (`isDue`: a renewal, a grant past expiry, a hold past its ttl, a debt that new credits can
 * repay). Only if something is due does it run the account's maintenance through the committer
 * (as every read of an account's state does: AccountsApi.settle) and read again; otherwise the
 * snapshot is exactly the state a hold's unit of work would decide on, and nothing is written:
 * no journal, no idempotency record. The answer is advice as of that snapshot (a concurrent
 * spend may take the credits a moment later); `hold: true` is the binding answer.
 */

/**
 * The spend's refusals that say "not now" about a well-formed request: a check answers them as
 * its result (allowed false), not as a problem. The other refusals of a spend (an unknown
 * member or project, an organization's spend that names no member) are bad input, answered
 * with their problem as a hold would be.
 */
export const CHECK_BLOCKS = [
  'team_access_required',
  'seat_limit_reached',
  'budget_exceeded',
  'overdraft_limit_reached',
  'insufficient_credits',
] as const satisfies readonly ErrorCode[];
export type CheckBlockCode = (typeof CHECK_BLOCKS)[number];

/** What kind of limit blocks the request, by its code. */
export const BLOCK_REASONS = {
  team_access_required: 'seats',
  seat_limit_reached: 'seats',
  budget_exceeded: 'budget',
  overdraft_limit_reached: 'overdraft',
  insufficient_credits: 'credits',
} as const satisfies Record<CheckBlockCode, string>;
export type BlockReason = (typeof BLOCK_REASONS)[CheckBlockCode];
export const BLOCK_REASON_NAMES: readonly BlockReason[] = [
  'credits',
  'budget',
  'seats',
  'overdraft',
];

/** What blocks a request: the refusal a hold of it would meet, first in planSpend's order. */
export interface CheckBlock {
  readonly reason: BlockReason;
  readonly code: CheckBlockCode;
  readonly message: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export interface CheckResult {
  readonly accountId: string;
  readonly allowed: boolean;
  /** The request's price in credits. */
  readonly credits: number;
  /** The price line by line (items), or null for a plain amount of credits. */
  readonly quote: Quote | null;
  /** Null when allowed. */
  readonly blockedBy: CheckBlock | null;
  /** Available credits before the request (as the balance shows them). */
  readonly available: number;
  /**
   * Available credits once the request is reserved: `available - credits`; below zero by what
   * it would use of the overdraft (or, when blocked by credits, what is missing). On a replay
   * of a hold both figures are as of now, with the hold in place.
   */
  readonly availableAfter: number;
  /** The hold made (or replayed) with `hold: true`; else null. */
  readonly hold: Hold | null;
  readonly transactionId: string | null;
  readonly replay: boolean;
}

export interface CheckInput extends AmountInput {
  readonly accountId: string;
  readonly attribution?: Partial<Attribution>;
  /** Reserve at once when allowed (a hold, under `key`). */
  readonly hold?: boolean;
  /** The hold's idempotency key: required with `hold`, ignored without. */
  readonly key?: string;
  /** The hold's ttl: only with `hold` (default 15 minutes). */
  readonly ttlMs?: number;
}

/** Maintenance rounds a plain check runs at most before it decides on what it read. */
const MAX_SETTLE_ROUNDS = 2;

/** The problem codes of each use-case below (src/ledger/problems.ts). */
export const CHECK_PROBLEMS = {
  check: codes(ACCOUNT, KEYED, CREDITS, PRICED, except(SPEND, ...CHECK_BLOCKS)),
} as const satisfies UseCaseProblems<CheckApi>;

export function isBlock(e: unknown): e is AmisiError & { readonly code: CheckBlockCode } {
  return isAmisiError(e) && (CHECK_BLOCKS as readonly ErrorCode[]).includes(e.code);
}

function blockOf(e: AmisiError & { readonly code: CheckBlockCode }): CheckBlock {
  return { reason: BLOCK_REASONS[e.code], code: e.code, message: e.message, data: e.data };
}

/** A hold's spend of `credits`, as commands.ts asks planSpend for it. */
function spendOf(credits: number, attribution: Attribution): SpendRequest {
  return { kind: 'hold', attribution, items: [{ credits, operation: null }], batch: false };
}

function priced(catalog: CatalogRecord | null, amount: Amount) {
  if (amount.credits !== undefined) return { credits: amount.credits, quote: null };
  assert(catalog, 'items are priced by a catalog');
  const q = quote(catalog.body, amount.items);
  return { credits: q.credits, quote: q };
}

interface PlainCheck {
  readonly accountId: string;
  readonly amount: Amount;
  readonly attribution: Attribution;
}

/** A snapshot as the spend decision reads it (the catalog read once, when first asked). */
class SnapshotReads implements SpendReads {
  private catalog: CatalogRecord | undefined;
  constructor(
    readonly read: Reader,
    readonly now: number,
  ) {}
  async activeCatalog(): Promise<CatalogRecord> {
    this.catalog ??= await activeCatalog(this.read);
    if (!this.catalog) throw new AmisiError('not_initialized', 'no catalog is loaded', {});
    return this.catalog;
  }
}

/**
 * A plain check in one snapshot: 'due' when the account has maintenance due (unless `anyway`),
 * else the decision. Loads what a unit of work loads of an account (the row, its grants with
 * credits left, its active subscription), in the order a hold meets its refusals: the account,
 * then the price, then the spend.
 */
async function checkInSnapshot(
  reads: SnapshotReads,
  input: PlainCheck,
  anyway: boolean,
): Promise<CheckResult | 'due'> {
  const { read: r, now } = reads;
  const accountId = input.accountId;
  const record = await r.get('accounts', { id: accountId });
  if (!record) {
    throw new AmisiError('unknown_account', `unknown account "${accountId}"`, { accountId });
  }
  const grants = await r.find('grants', { accountId, remaining: { gt: 0 } });
  const sub = await r.get('subscriptions', { accountId, status: 'active' });
  const dueHold = { accountId, status: 'held', expiresAt: { lte: now } } as const;
  const holds = await r.find('holds', dueHold, { limit: 1 });
  if (!anyway && isDue({ grants, holds, overdraft: overdraftState(record) }, sub, now)) {
    return 'due';
  }
  const price = priced(
    input.amount.items === undefined ? null : await reads.activeCatalog(),
    input.amount,
  );
  const state = new AccountState(record);
  for (const g of grants) state.grants.set(g.id, g);
  state.subscription = sub;
  const available = availableCredits(grants, now) - record.debt;
  let blockedBy: CheckBlock | null = null;
  try {
    await decideSpend(reads, state, spendOf(price.credits, input.attribution));
  } catch (e) {
    if (!isBlock(e)) throw e;
    blockedBy = blockOf(e);
  }
  return {
    accountId,
    allowed: blockedBy === null,
    credits: price.credits,
    quote: price.quote,
    blockedBy,
    available,
    availableAfter: available - price.credits,
    hold: null,
    transactionId: null,
    replay: false,
  };
}

/**
 * Check-and-hold, as one command of a commit group: the hold command itself (its idempotency,
 * its decision, its writes); a refusal that blocks is answered as the check's result. Every
 * refusal of the hold comes before its first write, so a blocked check-and-hold wrote nothing.
 */
async function checkAndHold(uow: UnitOfWork, input: HoldInput): Promise<CheckResult> {
  const state = await uow.account(input.accountId);
  const available = uow.available(state);
  const before = uow.buffered;
  try {
    const r = await holdCommand(uow, input);
    const now = uow.available(state);
    return {
      accountId: input.accountId,
      allowed: true,
      credits: r.hold.credits,
      quote: r.hold.quote,
      blockedBy: null,
      available: r.replay ? now : available,
      availableAfter: r.replay ? now : available - r.hold.credits,
      hold: r.hold,
      transactionId: r.transactionId,
      replay: r.replay,
    };
  } catch (e) {
    if (!isBlock(e)) throw e;
    assert(uow.buffered === before, `${e.code} is refused before any write`);
    // The hold priced the request before its decision refused it: the same price again.
    const amount = input.amount;
    const price = priced(amount.items === undefined ? null : await uow.activeCatalog(), amount);
    return {
      accountId: input.accountId,
      allowed: false,
      credits: price.credits,
      quote: price.quote,
      blockedBy: blockOf(e),
      available,
      availableAfter: available - price.credits,
      hold: null,
      transactionId: null,
      replay: false,
    };
  }
}

/** The check: plain (a snapshot, nothing written) or with `hold` (the hold command). */
export class CheckApi {
  constructor(
    private readonly ctx: LedgerContext,
    private readonly accounts: AccountsApi,
  ) {}

  async check(input: CheckInput): Promise<CheckResult> {
    const plain: PlainCheck = {
      accountId: requireId(input.accountId, 'account'),
      amount: requireAmount(input),
      attribution: requireAttribution(input.attribution),
    };
    if (input.hold === true) {
      const checked: HoldInput = {
        ...plain,
        key: requireKey(input.key),
        ttlMs: requireTtl(input.ttlMs ?? HOLD_TTL_DEFAULT_MS),
      };
      return this.ctx.committer.submit((b) => checkAndHold(b, checked), {
        accountId: checked.accountId,
        key: checked.key,
      });
    }
    if (input.ttlMs !== undefined) {
      throw new AmisiError('invalid_argument', 'ttlMs applies only to a check with hold', {
        field: 'ttlMs',
        value: input.ttlMs,
      });
    }
    for (let round = 0; ; round++) {
      const anyway = round >= MAX_SETTLE_ROUNDS;
      // The account's time: real, or its test clock's.
      const now = await this.ctx.times.nowFor(plain.accountId);
      const reads = (r: Reader) => new SnapshotReads(r, now);
      const result = await this.ctx.store.snapshot((r) => checkInSnapshot(reads(r), plain, anyway));
      if (result !== 'due') return result;
      await this.accounts.maintain(plain.accountId);
    }
  }
}
