import { AmisiError } from '../../core/errors.js';
import { HOLD_TTL_DEFAULT_MS, type Attribution, type Hold } from '../../core/holds.js';
import type { QuoteItemRequest } from '../../core/quote.js';
import { requireCredits } from '../../core/credits.js';
import * as commands from './commands.js';
import * as longHolds from './long-holds.js';
import * as subscriptions from '../subscriptions/commands.js';
import type { UnitOfWork } from '../unit-of-work.js';
import type { LedgerContext } from '../context.js';
import type { AccountsApi } from '../accounts/api.js';
import {
  requireAmount,
  requireAttribution,
  requireId,
  requireKey,
  requireSource,
  requireString,
  requireTime,
  requireTtl,
  type Amount,
} from '../validate.js';
import {
  ACCOUNT,
  BASE,
  codes,
  CREDITS,
  KEYED,
  PRICED,
  SPEND,
  STORE,
  type UseCaseProblems,
} from '../problems.js';

export interface AmountInput {
  readonly credits?: number;
  readonly items?: readonly QuoteItemRequest[];
}

/** What a hold's resolution can meet: the hold unknown, or resolved already (once only). */
const RESOLVE = codes(
  BASE,
  KEYED,
  'unknown_hold',
  'hold_already_captured',
  'hold_already_released',
  'hold_expired',
);

/** The problem codes of each use-case below (src/ledger/problems.ts). */
export const CREDITS_PROBLEMS = {
  grant: codes(ACCOUNT, KEYED, CREDITS),
  hold: codes(ACCOUNT, KEYED, CREDITS, PRICED, SPEND),
  capture: codes(RESOLVE, CREDITS, 'capture_exceeds_hold'),
  release: RESOLVE,
  extendHold: codes(RESOLVE, 'hold_lifetime_exceeded'),
  increaseHold: codes(RESOLVE, CREDITS, PRICED, SPEND),
  charge: codes(ACCOUNT, KEYED, CREDITS, PRICED, SPEND),
  getHold: codes(BASE, 'unknown_hold'),
  findHold: STORE,
  countOpenHolds: STORE,
} as const satisfies UseCaseProblems<CreditsApi>;

function itemsOf(amount: Amount): readonly QuoteItemRequest[] | undefined {
  return amount.credits === undefined ? amount.items : undefined;
}

/** Credits: grants, holds and their capture or release, charges. */
export class CreditsApi {
  constructor(
    private readonly ctx: LedgerContext,
    private readonly accounts: AccountsApi,
  ) {}

  async grant(input: {
    accountId: string;
    key: string;
    credits: number;
    source: string;
    startsAt?: number;
    expiresAt?: number | null;
    reason?: string;
  }) {
    const checked: commands.GrantInput = {
      accountId: requireId(input.accountId, 'account'),
      key: requireKey(input.key),
      credits: requireCredits(input.credits),
      source: requireSource(input.source),
      expiresAt: input.expiresAt == null ? null : requireTime(input.expiresAt, 'expires'),
      ...(input.startsAt === undefined ? {} : { startsAt: requireTime(input.startsAt, 'starts') }),
      ...(input.reason === undefined ? {} : { reason: requireString(input.reason, 'reason', 500) }),
    };
    return this.ctx.committer.submit(
      this.onFirstUse(checked.accountId, undefined, (b) => commands.grant(b, checked)),
      {
        accountId: checked.accountId,
        key: checked.key,
      },
    );
  }

  async hold(
    input: AmountInput & {
      accountId: string;
      key: string;
      ttlMs?: number;
      attribution?: Partial<Attribution>;
    },
  ) {
    const checked: commands.HoldInput = {
      accountId: requireId(input.accountId, 'account'),
      key: requireKey(input.key),
      amount: requireAmount(input),
      ttlMs: requireTtl(input.ttlMs ?? HOLD_TTL_DEFAULT_MS),
      attribution: requireAttribution(input.attribution),
    };
    return this.ctx.committer.submit(
      this.onFirstUse(checked.accountId, itemsOf(checked.amount), (b) => commands.hold(b, checked)),
      {
        accountId: checked.accountId,
        key: checked.key,
      },
    );
  }

  /**
   * Captures `credits` of what the hold still holds (all of it when undefined). `final: false`
   * captures a part and keeps the rest held (a long job billed as it goes); it names its
   * credits, at least 1.
   */
  async capture(input: { holdId: string; key: string; credits?: number; final?: boolean }) {
    if (input.final !== undefined && typeof input.final !== 'boolean') {
      throw new AmisiError('invalid_argument', 'final must be true or false', {
        field: 'final',
        value: input.final,
      });
    }
    if (input.final === false && (input.credits === undefined || input.credits === 0)) {
      throw new AmisiError(
        'invalid_argument',
        'a partial capture (final: false) names the credits it takes, at least 1',
        { field: 'credits', value: input.credits ?? null },
      );
    }
    const checked: commands.ResolveInput = {
      holdId: requireId(input.holdId, 'hold'),
      key: requireKey(input.key),
      ...(input.credits === undefined ? {} : { credits: requireCredits(input.credits) }),
      ...(input.final === false ? { final: false } : {}),
    };
    return this.resolve(checked, 'capture');
  }

  /**
   * A new ttl for a hold still held, from now (at most HOLD_TTL_MAX_MS), within
   * HOLD_LIFETIME_MAX_MS of when the hold was made.
   */
  async extendHold(input: { holdId: string; key: string; ttlMs: number }) {
    const checked: longHolds.ExtendInput = {
      holdId: requireId(input.holdId, 'hold'),
      key: requireKey(input.key),
      ttlMs: requireTtl(input.ttlMs),
    };
    return this.ctx.committer.submit(
      (b) => longHolds.extendHold(b, checked),
      this.holdHint(checked),
    );
  }

  /** More credits reserved on a hold still held, all or nothing (credits or items, as held). */
  async increaseHold(input: AmountInput & { holdId: string; key: string }) {
    const checked: longHolds.IncreaseInput = {
      holdId: requireId(input.holdId, 'hold'),
      key: requireKey(input.key),
      amount: requireAmount(input),
    };
    return this.ctx.committer.submit(
      (b) => longHolds.increaseHold(b, checked),
      this.holdHint(checked),
    );
  }

  async release(input: { holdId: string; key: string }) {
    const checked = { holdId: requireId(input.holdId, 'hold'), key: requireKey(input.key) };
    return this.resolve(checked, 'release');
  }

  /**
   * With accounts on first use (LedgerOptions.accountsOnFirstUse), the command makes its
   * account first when it does not exist (subscriptions/commands.ts openOnFirstUse), in its
   * own unit of work, so it keeps its place in the queue.
   */
  private onFirstUse<T>(
    accountId: string,
    items: readonly QuoteItemRequest[] | undefined,
    run: (uow: UnitOfWork) => Promise<T>,
  ): (uow: UnitOfWork) => Promise<T> {
    if (!this.ctx.accountsOnFirstUse) return run;
    return async (uow) => {
      await subscriptions.openOnFirstUse(uow, accountId, items);
      return run(uow);
    };
  }

  private async resolve(checked: commands.ResolveInput, mode: 'capture' | 'release') {
    return this.ctx.committer.submit(
      (b) => commands.resolve(b, checked, mode),
      this.holdHint(checked),
    );
  }

  /**
   * A hold never changes account, so its account can be looked up before the batch; the
   * lookup is awaited when the batch starts, so commands keep the order they came in.
   */
  private holdHint(checked: { readonly holdId: string; readonly key: string }) {
    return this.ctx.store.get('holds', { id: checked.holdId }).then((hold) => ({
      ...(hold ? { accountId: hold.accountId } : {}),
      key: checked.key,
      holdId: checked.holdId,
    }));
  }

  async charge(
    input: AmountInput & { accountId: string; key: string; attribution?: Partial<Attribution> },
  ) {
    const checked: commands.ChargeInput = {
      accountId: requireId(input.accountId, 'account'),
      key: requireKey(input.key),
      amount: requireAmount(input),
      attribution: requireAttribution(input.attribution),
    };
    return this.ctx.committer.submit(
      this.onFirstUse(checked.accountId, itemsOf(checked.amount), (b) =>
        commands.charge(b, checked),
      ),
      {
        accountId: checked.accountId,
        key: checked.key,
      },
    );
  }

  /** The hold as of now (a hold past its ttl has expired, and reads so). */
  async getHold(holdId: string): Promise<Hold> {
    let hold = await this.ctx.store.get('holds', { id: requireId(holdId, 'hold') });
    if (!hold) throw new AmisiError('unknown_hold', `unknown hold "${holdId}"`, { holdId });
    if (hold.status === 'held' && hold.expiresAt <= (await this.ctx.times.nowFor(hold.accountId))) {
      await this.accounts.settle(hold.accountId);
      hold = (await this.ctx.store.get('holds', { id: holdId })) ?? hold;
    }
    return hold;
  }

  /** The hold as stored (no settling), or undefined: what an export row names. */
  findHold(holdId: string): Promise<Hold | undefined> {
    return this.ctx.store.get('holds', { id: holdId });
  }

  /** Holds still open across every account (an operator metric). */
  countOpenHolds(): Promise<number> {
    return this.ctx.store.count('holds', { status: 'held' });
  }
}
