import { AmisiError } from '../../core/errors.js';
import { isExpired, isSpendable, type Grant, type GrantSource } from '../../core/grants.js';
import { heldNow, type Hold } from '../../core/holds.js';
import {
  TRANSACTION_KINDS,
  type JournalTransaction,
  type TransactionKind,
} from '../../core/journal.js';
import { attributionOf } from '../../core/journal-detail.js';
import { rolloverAtRenewal, type Subscription } from '../../core/subscriptions.js';
import * as commands from './commands.js';
import * as subscriptions from '../subscriptions/commands.js';
import type { LedgerContext } from '../context.js';
import type { AccountView } from '../store.js';
import { requireId, requireKey, requireLimit, requireOneOf, requireTime } from '../validate.js';
import {
  accountView,
  history,
  currentSubscription,
  activeCatalog,
  grantsAndHolds,
  journalTransaction,
} from '../reads.js';
import {
  overdraftView,
  type OverdraftLimit,
  type OverdraftState,
  type OverdraftView,
  OVERDRAFT_MODES,
} from '../../core/overdraft.js';
import {
  ACCOUNT,
  BASE,
  CATALOG,
  codes,
  CREDITS,
  KEYED,
  STORE,
  type UseCaseProblems,
} from '../problems.js';

export const MAX_HISTORY_PAGE = 500;

/**
 * Journal rows one page of a member's own history reads at most: a member whose transactions
 * are rare among many others gets a short page then, with a cursor that walks on from the last
 * row read (so the next page starts where this one stopped, and nothing is skipped).
 */
export const MAX_HISTORY_SCAN = 5000;

export interface GrantBalance {
  readonly id: string;
  readonly source: GrantSource;
  readonly amount: number;
  readonly remaining: number;
  readonly held: number;
  readonly startsAt: number;
  readonly expiresAt: number | null;
  /** Credits of `remaining` the next renewal rolls over (so they do not expire then). */
  readonly rollsOver: number;
}

export interface Balance {
  readonly accountId: string;
  readonly asOf: number;
  readonly available: number;
  readonly held: number;
  readonly grants: readonly GrantBalance[];
  readonly nextExpiry: { readonly at: number; readonly credits: number } | null;
  /** The overdraft in force, what is owed and what holds reserve past zero (core/overdraft.ts). */
  readonly overdraft: OverdraftView;
}

/** The account list's row for operators: the account with what it holds and how it stands. */
export interface AccountSummary {
  readonly account: AccountView;
  readonly available: number;
  readonly held: number;
  readonly debt: number;
  /**
   * active: on a plan; ending: cancelled, the plan ends at `endsAt`; no_plan: packs and grants
   * only (no subscription, or one that ended).
   */
  readonly status: AccountStatus;
  readonly endsAt: number | null;
  /** The newest journal transaction's time (a grant, charge, renewal, ...); null: none yet. */
  readonly lastActivityAt: number | null;
}

export const ACCOUNT_STATUSES = ['active', 'ending', 'no_plan'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];

/** At most this many accounts a summary page: each row reads the account's balance. */
export const MAX_SUMMARY_PAGE = 100;

export interface HistoryPage {
  readonly transactions: readonly JournalTransaction[];
  /** Pass as `before` for the next (older) page; null on the last page. */
  readonly nextCursor: string | null;
}

/** The problem codes of each use-case below (src/ledger/problems.ts). */
export const ACCOUNTS_PROBLEMS = {
  // With a plan, the subscribe use-case runs too: the plan must be in the active catalog.
  createAccount: codes(
    BASE,
    KEYED,
    CATALOG,
    'account_exists',
    'invalid_parameter',
    'unknown_test_clock',
  ),
  listAccounts: STORE,
  accountSummaries: BASE,
  accountIds: STORE,
  known: ACCOUNT,
  settle: ACCOUNT,
  maintain: ACCOUNT,
  balance: ACCOUNT,
  setOverdraft: codes(ACCOUNT, CATALOG, CREDITS, 'overdraft_below_used'),
  listGrants: BASE,
  history: ACCOUNT,
  transaction: STORE,
  sweep: STORE,
  maintainAll: ACCOUNT,
  purgeIdempotency: STORE,
} as const satisfies UseCaseProblems<AccountsApi>;

/**
 * Accounts: creating them, reading their state as of now (settling what is due first), their
 * journal, and the maintenance jobs (sweep, forgetting old idempotency keys). Every other
 * domain module settles an account through this one.
 */
export class AccountsApi {
  constructor(
    private readonly ctx: LedgerContext,
    private readonly idempotencyRetentionMs: number,
  ) {}

  /**
   * Creates an account (idempotent by its id). With a plan it is subscribed at once through the
   * subscribe use-case, by `key` (default `create-<id>`), so the same command again is a replay.
   */
  async createAccount(input: {
    accountId: string;
    plan?: string | null;
    key?: string;
    /** Made on this test clock (ledger/clocks/): its time is the clock's from then on. */
    testClockId?: string | null;
  }) {
    const accountId = requireId(input.accountId, 'account');
    const plan = input.plan == null ? null : requireId(input.plan, 'plan');
    const key = requireKey(input.key ?? `create-${accountId}`);
    const testClockId =
      input.testClockId == null ? null : requireId(input.testClockId, 'test clock');
    if (testClockId !== null && !(await this.ctx.store.get('test_clocks', { id: testClockId }))) {
      throw new AmisiError('unknown_test_clock', `unknown test clock "${testClockId}"`, {
        testClockId,
      });
    }
    return this.ctx.committer.submit(
      (b) => subscriptions.openAccount(b, { accountId, plan, key, testClockId }),
      { accountId, key, ...(testClockId === null ? {} : { clockId: testClockId }) },
    );
  }

  /**
   * A page of accounts by id, as of now: an account in the page whose renewal is due is renewed
   * first, so the plan each row shows is the one in force (a due downgrade or cancellation),
   * as its own read would show it. Only a renewal changes what a row shows.
   */
  async listAccounts(query: {
    afterId: string | null;
    limit: number;
    search?: string;
  }): Promise<AccountView[]> {
    const { store } = this.ctx;
    const read = () => store.accounts(query);
    const page = await read();
    const now = this.ctx.clock.now();
    const subs = await Promise.all(
      page.filter((a) => a.plan !== null).map((a) => currentSubscription(store, a.id)),
    );
    const due = subs.filter((sub) => sub?.status === 'active' && sub.nextRenewalAt <= now);
    if (due.length === 0) return page;
    await Promise.all(due.map((sub) => this.maintain(sub!.accountId)));
    return read();
  }

  /**
   * A page of accounts by id (as listAccounts), each with its balance as of now, its plan's
   * status and its last activity: the operator's account list. Each row settles its account
   * (as its balance read would), so at most MAX_SUMMARY_PAGE rows a page.
   */
  async accountSummaries(query: {
    afterId: string | null;
    limit: number;
    search?: string;
  }): Promise<AccountSummary[]> {
    if (
      !Number.isSafeInteger(query.limit) ||
      query.limit < 1 ||
      query.limit > MAX_SUMMARY_PAGE + 1
    ) {
      throw new AmisiError('invalid_argument', `limit must be from 1 to ${MAX_SUMMARY_PAGE}`, {
        field: 'limit',
        value: query.limit,
      });
    }
    const page = await this.listAccounts(query);
    const { store } = this.ctx;
    return Promise.all(
      page.map(async (account): Promise<AccountSummary> => {
        const [balance, sub, last] = await Promise.all([
          this.balance(account.id),
          currentSubscription(store, account.id),
          history(store, { accountId: account.id, limit: 1 }),
        ]);
        const active = sub?.status === 'active';
        return {
          account,
          available: balance.available,
          held: balance.held,
          debt: balance.overdraft.debt,
          status: !active ? 'no_plan' : sub.cancelAt !== null ? 'ending' : 'active',
          endsAt: active ? sub.cancelAt : null,
          lastActivityAt: last[0]?.createdAt ?? null,
        };
      }),
    );
  }

  /** A page of account ids as stored (no settling): what operator jobs walk through. */
  async accountIds(afterId: string | null, limit: number): Promise<string[]> {
    return (await this.ctx.store.accounts({ afterId, limit })).map((a) => a.id);
  }

  /** The account as stored, or unknown_account: no settling (callers that settle themselves). */
  async known(accountId: string): Promise<AccountView> {
    const account = await accountView(this.ctx.store, requireId(accountId, 'account'));
    if (!account)
      throw new AmisiError('unknown_account', `unknown account "${accountId}"`, { accountId });
    return account;
  }

  /**
   * Settles what is due in the account now, so a read of its state answers as of now (README:
   * renewal "on any access"), whatever the jobs do: the renewals up to now, grants past their
   * expiry that still have credits, holds past their ttl; cycle budgets then read their new
   * period. Only reads when nothing is due (no commit); else the account's maintenance runs
   * through the committer, as a write touching the account would run it. Returns the account.
   */
  async settle(accountId: string): Promise<AccountView> {
    const account = await this.known(accountId);
    const [view, sub] = await Promise.all([
      grantsAndHolds(this.ctx.store, account.id),
      currentSubscription(this.ctx.store, account.id),
    ]);
    if (!isDue(view, sub, await this.ctx.times.nowFor(accountId))) return account;
    await this.maintain(account.id);
    // The account's plan is its subscription's, which the renewal may just have changed.
    return this.known(account.id);
  }

  /** Runs the account's maintenance (renewals, expiries, holds past ttl) through the committer. */
  async maintain(accountId: string): Promise<void> {
    await this.ctx.committer.submit((b) => commands.maintain(b, accountId), { accountId });
  }

  /**
   * Balance as of now. Anything due (a renewal, an expired grant, a hold past its ttl) is
   * settled first.
   */
  async balance(accountId: string): Promise<Balance> {
    await this.known(accountId);
    const { store, times } = this.ctx;
    // One snapshot: a hold committed between two reads would otherwise count twice.
    const [first, sub] = await Promise.all([
      grantsAndHolds(store, accountId),
      currentSubscription(store, accountId),
    ]);
    let view = first;
    if (isDue(view, sub, await times.nowFor(accountId))) {
      await this.maintain(accountId);
      view = await grantsAndHolds(store, accountId);
    }
    const [plan, catalog] = await Promise.all([
      planOverdraft(store, view.overdraft, sub),
      activeCatalog(store),
    ]);
    const now = await times.nowFor(accountId);
    const rollsOver = rolloverAtRenewal(sub, catalog?.body.plans ?? {}, view.grants);
    return summarize(accountId, view, overdraftView(view.overdraft, plan), now, rollsOver);
  }

  /**
   * Sets how far below zero the account may go: its own limit and mode (hard: a spend past it
   * is refused; soft: allowed, and the operator is told), or null to follow its plan again.
   * Refused (overdraft_below_used) while the limit that would be in force is below the debt
   * plus what holds reserve past zero. Answers the overdraft as the balance shows it.
   */
  async setOverdraft(input: {
    accountId: string;
    limit: number | null;
    mode?: string;
  }): Promise<OverdraftView> {
    const checked: commands.SetOverdraftInput = {
      accountId: requireId(input.accountId, 'account'),
      limit: input.limit === null ? null : requireLimit(input.limit),
      mode: input.mode === undefined ? null : requireOneOf(input.mode, OVERDRAFT_MODES, 'mode'),
    };
    await this.ctx.committer.submit((b) => commands.setOverdraft(b, checked), {
      accountId: checked.accountId,
    });
    return (await this.balance(checked.accountId)).overdraft;
  }

  /** The account's grants as stored, spent ones too (what a simulation reports on). */
  async listGrants(accountId: string): Promise<Grant[]> {
    return this.ctx.store.find(
      'grants',
      { accountId: requireId(accountId, 'account') },
      { order: ['createdAt desc', 'id desc'] },
    );
  }

  async history(query: {
    accountId: string;
    kinds?: readonly string[];
    since?: number;
    until?: number;
    before?: string;
    limit?: number;
    /** Only the holds, their resolutions and charges made for this member. */
    member?: string;
  }): Promise<HistoryPage> {
    await this.settle(query.accountId);
    const limit = query.limit ?? 50;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_HISTORY_PAGE) {
      throw new AmisiError('invalid_argument', `limit must be from 1 to ${MAX_HISTORY_PAGE}`, {
        field: 'limit',
        value: limit,
      });
    }
    const kinds = query.kinds?.map((k) => requireKind(k));
    const member = query.member === undefined ? undefined : requireId(query.member, 'member');
    const where = {
      accountId: query.accountId,
      ...(kinds ? { kinds } : {}),
      ...(query.since === undefined ? {} : { since: requireTime(query.since, 'since') }),
      ...(query.until === undefined ? {} : { until: requireTime(query.until, 'until') }),
    };
    let before = query.before === undefined ? undefined : requireId(query.before, 'cursor');
    if (member === undefined) {
      const rows = await history(this.ctx.store, {
        ...where,
        limit: limit + 1,
        ...(before === undefined ? {} : { before }),
      });
      const page = rows.slice(0, limit);
      return {
        transactions: page,
        nextCursor: rows.length > limit ? page[page.length - 1]!.id : null,
      };
    }
    // A member's own rows are found by their attribution, read in chunks until the page is full
    // (one more tells whether there is a next page), the journal ends, or the scan's limit.
    const chunk = Math.min(MAX_HISTORY_PAGE, Math.max(100, 4 * (limit + 1)));
    const found: JournalTransaction[] = [];
    for (let scanned = 0; found.length <= limit;) {
      if (scanned >= MAX_HISTORY_SCAN) return { transactions: found, nextCursor: before ?? null };
      const rows = await history(this.ctx.store, {
        ...where,
        limit: chunk,
        ...(before === undefined ? {} : { before }),
      });
      scanned += rows.length;
      for (const t of rows) {
        if (attributionOf(t)?.member === member) found.push(t);
        if (found.length > limit) break;
        before = t.id;
      }
      if (rows.length < chunk) break;
    }
    const page = found.slice(0, limit);
    return {
      transactions: page,
      nextCursor: found.length > limit ? page[page.length - 1]!.id : null,
    };
  }

  /** One journal transaction of the account, or undefined. */
  transaction(accountId: string, transactionId: string): Promise<JournalTransaction | undefined> {
    return journalTransaction(this.ctx.store, accountId, transactionId);
  }

  /**
   * The sweep: settles every account with something due, in pages of `pageSize`.
   * Returns how many accounts it settled. Idempotent: a second run finds nothing due.
   */
  async sweep(pageSize = 500, onProgress?: (settled: number) => void): Promise<number> {
    return this.maintainAll(
      () => this.ctx.store.accountsDue(this.ctx.clock.now(), pageSize),
      onProgress,
    );
  }

  /**
   * Maintains every account `page` names until it names none. One account that fails to settle
   * must not stop the others; if a whole page fails, retrying cannot help, so it stops with the
   * first error.
   */
  async maintainAll(
    page: () => Promise<readonly string[]>,
    onProgress?: (done: number) => void,
  ): Promise<number> {
    let done = 0;
    for (;;) {
      const due = await page();
      if (due.length === 0) return done;
      const results = await Promise.allSettled(due.map((id) => this.maintain(id)));
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed.length === due.length) throw failed[0]!.reason;
      done += due.length - failed.length;
      onProgress?.(done);
    }
  }

  /** Forgets idempotency keys older than the retention period. */
  async purgeIdempotency(): Promise<number> {
    const before = this.ctx.clock.now() - this.idempotencyRetentionMs;
    let total = 0;
    for (;;) {
      const n = await this.ctx.store.purgeIdempotency(before, 10_000);
      total += n;
      if (n < 10_000) return total;
    }
  }
}

const KINDS: readonly TransactionKind[] = TRANSACTION_KINDS;

function requireKind(value: string): TransactionKind {
  if (!(KINDS as readonly string[]).includes(value)) {
    throw new AmisiError('invalid_argument', `kind must be one of ${KINDS.join(', ')}`, {
      field: 'kind',
      value,
      allowed: KINDS,
    });
  }
  return value as TransactionKind;
}

/**
 * Whether anything is due in the account at `now`: a renewal, a grant past its expiry that still
 * has credits, a hold past its ttl. Settling then changes state; otherwise a read needs no write.
 */
export function isDue(
  view: {
    readonly grants: readonly Grant[];
    readonly holds: readonly Hold[];
    readonly overdraft: OverdraftState;
  },
  sub: Subscription | undefined,
  now: number,
): boolean {
  return (
    (sub?.status === 'active' && sub.nextRenewalAt <= now) ||
    view.grants.some((g) => g.remaining > 0 && isExpired(g, now)) ||
    view.holds.some((h) => h.status === 'held' && h.expiresAt <= now) ||
    // A debt and credits that can pay it (a grant that has started since): the repayment.
    (view.overdraft.debt > 0 && view.grants.some((g) => isSpendable(g, now)))
  );
}

/** The plan's overdraft, when the account has no limit of its own and a plan. */
export async function planOverdraft(
  store: LedgerContext['store'],
  account: OverdraftState,
  sub: Subscription | undefined,
): Promise<Partial<OverdraftLimit> | undefined> {
  if (account.overdraftLimit !== null || sub?.status !== 'active') return undefined;
  const plans = (await activeCatalog(store))?.body.plans;
  return plans && Object.hasOwn(plans, sub.plan) ? plans[sub.plan]!.overdraft : undefined;
}

export function summarize(
  accountId: string,
  view: { readonly grants: readonly Grant[]; readonly holds: readonly Hold[] },
  overdraft: OverdraftView,
  now: number,
  rollsOver: ReadonlyMap<string, number> = new Map(),
): Balance {
  const { grants, holds } = view;
  const heldByGrant = new Map<string, number>();
  let held = 0;
  for (const h of holds) {
    if (h.status !== 'held') continue;
    held += heldNow(h);
    for (const d of h.draws)
      heldByGrant.set(d.grantId, (heldByGrant.get(d.grantId) ?? 0) + d.credits);
  }
  const shown = grants.filter((g) => g.remaining > 0 || (heldByGrant.get(g.id) ?? 0) > 0);
  let available = 0;
  let nextExpiry: { at: number; credits: number } | null = null;
  for (const g of shown) {
    if (!isSpendable(g, now)) continue;
    available += g.remaining;
    if (g.expiresAt !== null) {
      if (nextExpiry === null || g.expiresAt < nextExpiry.at)
        nextExpiry = { at: g.expiresAt, credits: 0 };
      if (g.expiresAt === nextExpiry.at) nextExpiry.credits += g.remaining;
    }
  }
  return {
    accountId,
    asOf: now,
    // Less what is owed: negative only in debt (a debt is repaid before anything is spendable).
    available: available - overdraft.debt,
    held,
    grants: shown.map((g) => ({
      id: g.id,
      source: g.source,
      amount: g.amount,
      remaining: g.remaining,
      held: heldByGrant.get(g.id) ?? 0,
      startsAt: g.startsAt,
      expiresAt: g.expiresAt,
      rollsOver: rollsOver.get(g.id) ?? 0,
    })),
    nextExpiry,
    overdraft,
  };
}
