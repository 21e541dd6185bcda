import { AmisiError, assert, isAmisiError } from '../core/errors.js';
import { settleAutoTopups } from './purchases/auto-topup.js';
import { UnitOfWork, type CommandHint } from './unit-of-work.js';
import type { Clock, Ids } from './ports.js';
import type { Store } from './store.js';
import { AccountTimes } from './clocks/times.js';

export interface CommitterOptions {
  /** Most commands one database transaction carries. 1 turns group commit off. */
  readonly maxBatch: number;
  /** Attempts of one commit group when the store reports a retryable failure (a busy database). */
  readonly maxAttempts: number;
  /** Most changes waiting for a commit group; past it, new ones are refused with store_busy. */
  readonly maxQueue: number;
  /**
   * balance.low fires when a commit group takes an account's available credits from at least this
   * to below it (an account with an auto top-up rule uses the rule's threshold instead).
   */
  readonly lowBalanceCredits: number;
  /**
   * Told the number of commands of each committed group (metrics). Called after COMMIT and
   * before the commands' promises settle; what it throws is ignored, so it cannot fail a commit.
   */
  readonly onCommit?: (commands: number) => void;
}

export const DEFAULT_COMMITTER_OPTIONS: CommitterOptions = {
  maxBatch: 1000,
  maxAttempts: 5,
  maxQueue: 100_000,
  lowBalanceCredits: 10,
};

type Run<T> = (uow: UnitOfWork) => Promise<T>;

interface Pending {
  readonly run: Run<unknown>;
  /** A promise when finding it needs a read (a hold's account); awaited in queue order. */
  readonly hint: CommandHint | Promise<CommandHint>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Group commit: commands submitted while a commit group is being written wait and go together
 * in the next database transaction (one UnitOfWork). Each command succeeds or fails on its own: an expected failure
 * (AmisiError before any write) only fails that command; a bug in one command rolls the group
 * back, fails that command and reruns the others. Promises resolve only after the commit.
 */
export class Committer {
  private readonly queue: Pending[] = [];
  /** Commit groups being written now (at most the store's writeConcurrency). */
  private inFlight = 0;
  private scheduled = false;

  private readonly times: AccountTimes;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly ids: Ids,
    private readonly options: CommitterOptions = DEFAULT_COMMITTER_OPTIONS,
    times?: AccountTimes,
  ) {
    this.times = times ?? new AccountTimes(store, clock);
  }

  /** Queues a command; `hint` names what it will touch, so its unit of work can load it up front. */
  submit<T>(run: Run<T>, hint: CommandHint | Promise<CommandHint> = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.queue.length >= this.options.maxQueue) {
        reject(
          new AmisiError(
            'store_busy',
            `more than ${this.options.maxQueue} changes are waiting`,
            {},
          ),
        );
        return;
      }
      this.queue.push({ run, hint, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Resolves when everything submitted so far is committed (for graceful shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight > 0 || this.scheduled || this.queue.length > 0) await sleep(1);
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.store.writeConcurrency) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.drain();
    });
  }

  /**
   * Starts commit groups while there is work and the store can take another concurrent write
   * transaction (SQLite: one; PostgreSQL: a few, so one group is built while another commits).
   */
  private drain(): void {
    while (this.queue.length > 0 && this.inFlight < this.store.writeConcurrency) {
      const items = this.queue.splice(0, this.options.maxBatch);
      this.inFlight += 1;
      void this.commit(items).finally(() => {
        this.inFlight -= 1;
        if (this.queue.length > 0) this.schedule();
      });
    }
  }

  /**
   * Commits what was queued, one commit group per time: the commands on real accounts at the
   * real clock's time, those on each test clock's accounts at that clock's (ledger/clocks/).
   * An account's clock never changes, so it is known before the transaction; the clock's time
   * is read in it, under a lock, so an advance and the commands of its accounts take turns.
   */
  private async commit(items: Pending[]): Promise<void> {
    let groups: Map<string | null, Pending[]>;
    try {
      groups = await this.byClock(items);
    } catch (error) {
      for (const p of items) p.reject(internalError(error));
      return;
    }
    for (const [clockId, group] of groups) await this.commitGroup(group, clockId);
  }

  private async byClock(items: Pending[]): Promise<Map<string | null, Pending[]>> {
    // A hint is a value or a promise (read in queue order); Promise.all takes both.
    // eslint-disable-next-line @typescript-eslint/await-thenable
    const hints = await Promise.all(items.map((p) => p.hint));
    const named = hints.flatMap((h) =>
      h.clockId === undefined && h.accountId ? [h.accountId] : [],
    );
    const clocks =
      named.length > 0 ? await this.times.clocksOf(named) : new Map<string, string | null>();
    const groups = new Map<string | null, Pending[]>();
    items.forEach((p, i) => {
      const h = hints[i]!;
      const clockId = h.clockId ?? (h.accountId ? (clocks.get(h.accountId) ?? null) : null);
      const group = groups.get(clockId);
      if (group) group.push(p);
      else groups.set(clockId, [p]);
    });
    return groups;
  }

  private async commitGroup(items: Pending[], clockId: string | null): Promise<void> {
    let pending = items;
    let attempt = 1;
    while (pending.length > 0) {
      const outcomes: Outcome[] = [];
      let culprit = -1;
      try {
        await this.store.write(async (tx) => {
          let now = this.clock.now();
          let ids = this.ids;
          if (clockId !== null) {
            const [c] = await tx.findFor('test_clocks', 'id', [clockId], {}, { lock: true });
            assert(c, `test clock ${clockId} exists`);
            now = this.times.effective(c.now);
            ids = this.times.idsAt(clockId, now);
          }
          const uow = new UnitOfWork(tx, now, ids, this.options.lowBalanceCredits);
          // A hint is a value or a promise (read in queue order); Promise.all takes both.
          // eslint-disable-next-line @typescript-eslint/await-thenable
          await uow.prepare(await Promise.all(pending.map((p) => p.hint)));
          for (let i = 0; i < pending.length; i++) {
            culprit = i;
            const before = uow.buffered;
            try {
              outcomes.push({ ok: true, value: await pending[i]!.run(uow) });
              // A debt is paid from new credits before the next command can spend them.
              await uow.repayOwed();
            } catch (error) {
              if (!isAmisiError(error)) throw error;
              // Every command decides before it writes, so a refusal has nothing to undo. A
              // cheap safety net: it appended no keyed journal transaction and no idempotency key.
              assert(uow.buffered === before, `${error.code} is refused before any write`);
              outcomes.push({ ok: false, error });
            }
          }
          culprit = -1;
          await settleAutoTopups(uow);
          await uow.flush();
        });
      } catch (error) {
        if (culprit >= 0) {
          // A bug in one command: fail it alone and rerun its neighbours in a fresh unit of work.
          pending[culprit]!.reject(internalError(error));
          pending = pending.filter((_, i) => i !== culprit);
          continue;
        }
        if (isAmisiError(error) && error.info.retryable && attempt < this.options.maxAttempts) {
          attempt += 1;
          await sleep(5 * attempt + Math.floor(Math.random() * 10));
          continue;
        }
        if (pending.length > 1 && !(isAmisiError(error) && error.info.retryable)) {
          // The flush or commit failed and no command is to blame yet: bisect, so one bad
          // command cannot fail its neighbours (at most log2(group) extra transactions).
          const half = Math.ceil(pending.length / 2);
          await this.commitGroup(pending.slice(0, half), clockId);
          await this.commitGroup(pending.slice(half), clockId);
          return;
        }
        for (const p of pending) p.reject(internalError(error));
        return;
      }
      this.observe(pending.length);
      pending.forEach((p, i) => {
        const o = outcomes[i]!;
        if (o.ok) p.resolve(o.value);
        else p.reject(o.error);
      });
      return;
    }
  }

  private observe(commands: number): void {
    try {
      this.options.onCommit?.(commands);
    } catch {
      // An observer is for metrics only: its failure must not touch committed work.
    }
  }
}

function internalError(error: unknown): AmisiError {
  if (isAmisiError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const wrapped = new AmisiError('internal', message, {});
  if (error instanceof Error && error.stack) wrapped.stack = error.stack;
  return wrapped;
}
