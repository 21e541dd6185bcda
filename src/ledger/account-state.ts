import type { AutoTopup } from '../core/autotopup.js';
import type { Grant } from '../core/grants.js';
import type { Subscription } from '../core/subscriptions.js';
import type { AccountRecord } from './store.js';
import type { TeamState } from './teams/budgets.js';

/** What a queued command will touch, known before its unit of work starts (for prefetching). */
export interface CommandHint {
  readonly accountId?: string;
  readonly key?: string;
  readonly holdId?: string;
  /**
   * The test clock the command runs on, when its account does not exist yet or it is the
   * clock's own (an account made on a clock, an advance); otherwise found from `accountId`.
   */
  readonly clockId?: string;
}

/** One account's rows as loaded (and locked) in this unit of work; commands update it. */
export class AccountState {
  readonly grants = new Map<string, Grant>();
  subscription: Subscription | undefined;
  autoTopup: AutoTopup | undefined;
  team: TeamState | undefined;
  /** Available credits once loaded and settled, before this unit's commands (balance.low). */
  availableAtLoad = 0;
  /** The account's row as this unit has it (its overdraft counters change: setOverdraft). */
  account: AccountRecord;
  constructor(account: AccountRecord) {
    this.account = account;
  }
}
