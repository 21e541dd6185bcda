import type { Account, AmisiClient, Me } from '../../src/client/index.js';
import type { Abilities } from './session.js';

/** What every account page gets: the client, who is signed in, what they may do, the account. */
export interface PageProps {
  readonly client: AmisiClient;
  readonly me: Me;
  readonly can: Abilities;
  readonly account: Account;
}
