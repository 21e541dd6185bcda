import type { Committer } from './committer.js';
import type { Clock } from './ports.js';
import type { Store } from './store.js';
import type { AccountTimes } from './clocks/times.js';

/**
 * What every domain module of the ledger shares: the store it reads, the committer every write
 * goes through, and the clock. Only the ledger's own modules hold it; nothing outside
 * src/ledger reaches the store.
 */
export interface LedgerContext {
  readonly store: Store;
  readonly committer: Committer;
  readonly clock: Clock;
  /** Whose time each account runs on (real, or its test clock's). */
  readonly times: AccountTimes;
  /** A hold, charge or grant naming an unknown account creates it (an operator's setting). */
  readonly accountsOnFirstUse: boolean;
}
