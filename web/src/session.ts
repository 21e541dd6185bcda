import { createClient, type AmisiClient, type Me } from '../../src/client/index.js';

/**
 * The signed-in key. Kept in sessionStorage: it lasts while the tab is open and never reaches
 * another tab, a cookie or the server beyond the Authorization header. The API answers at the
 * page's own origin.
 */

const STORAGE_KEY = 'amisi.apiKey';

export interface Session {
  readonly client: AmisiClient;
  readonly me: Me;
}

export function clientFor(apiKey: string): AmisiClient {
  // One attempt per click: a person retries, and a quick answer beats a slow retry loop.
  return createClient({ baseUrl: window.location.origin, apiKey, retries: 1 });
}

export function storedKey(): string | null {
  return window.sessionStorage.getItem(STORAGE_KEY);
}

/** Asks the API who the key is; keeps the key only if it answers. */
export async function signIn(apiKey: string): Promise<Session> {
  const client = clientFor(apiKey);
  const me = await client.accounts.me();
  window.sessionStorage.setItem(STORAGE_KEY, apiKey);
  return { client, me };
}

export function signOut(): void {
  window.sessionStorage.removeItem(STORAGE_KEY);
}

/** What the key's role allows, as the server decides it (src/core/teams.ts). */
export interface Abilities {
  readonly operator: boolean;
  /** Members, projects and budgets: owners and admins, account and operator keys. */
  readonly manage: boolean;
  readonly buyPacks: boolean;
  /** Every member's usage (a plain member sees its own). */
  readonly allUsage: boolean;
  readonly write: boolean;
  /** The plan and its payments: the owner (an account key, an organization's owner), operators. */
  readonly billing: boolean;
}

export function abilitiesOf(me: Me): Abilities {
  const manager = me.scope !== 'member' || me.role === 'owner' || me.role === 'admin';
  return {
    operator: me.scope === 'operator',
    manage: manager && !me.readOnly,
    buyPacks: manager && !me.readOnly,
    allUsage: manager,
    write: !me.readOnly,
    billing: (me.scope !== 'member' || me.role === 'owner') && !me.readOnly,
  };
}
