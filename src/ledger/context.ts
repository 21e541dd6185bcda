import type { Committer } from './committer.js';
import type { Clock } from './ports.js';
import type { Store } from './store.js';

/**
 * What every domain module of the ledger shares: the store it reads, the committer every write
 * goes through, and the clock. Only the ledger's own modules hold it; nothing outside
 * src/ledger reaches the store.
 */
export interface LedgerContext {
  readonly store: Store;
  readonly committer: Committer;
  readonly clock: Clock;
}
