import { createContext, useContext, useMemo, type ReactNode } from 'react';
import { createClient, type AmisiClient } from '../../src/client/index.js';

/**
 * The embedded components' connection: the Amisi API's address, the account, and the
 * short-lived key the platform's backend mints for this customer (POST /v1/accounts/{id}/keys
 * with ttlSeconds). Every component below reads it.
 */
export interface AmisiEmbedValue {
  readonly client: AmisiClient;
  readonly accountId: string;
}

const EmbedContext = createContext<AmisiEmbedValue | null>(null);

export interface AmisiProviderProps {
  /** Where the Amisi API answers, e.g. https://credits.example.com (CORS: AMISI_CORS_ORIGINS). */
  readonly baseUrl: string;
  readonly accountId: string;
  /** The key to start with: an account or member key, best a short-lived one. */
  readonly apiKey?: string;
  /**
   * Asks the platform's backend for a new key: at the start when `apiKey` is not given, and
   * when the API refuses the key (it ended or was revoked). The refused request is then sent
   * once more with the new key (a refused request changed nothing, and a write keeps its
   * Idempotency-Key), so a key that ends mid-session goes unnoticed.
   */
  readonly fetchKey?: () => Promise<string>;
  readonly children: ReactNode;
}

/** Wraps the platform's page (or the part of it) that shows Amisi components. */
export function AmisiProvider(props: AmisiProviderProps) {
  const { baseUrl, apiKey, accountId, fetchKey } = props;
  if (apiKey === undefined && fetchKey === undefined) {
    throw new Error('<AmisiProvider> needs apiKey, fetchKey or both');
  }
  const value = useMemo<AmisiEmbedValue>(
    () => ({
      // One attempt per request: the customer is looking at the page and can retry.
      client: createClient({
        baseUrl,
        apiKey: 'set-per-request',
        retries: 1,
        fetch: keyedFetch(apiKey, fetchKey),
      }),
      accountId,
    }),
    [baseUrl, apiKey, accountId, fetchKey],
  );
  return (
    <EmbedContext.Provider value={value}>
      <div className="amisi-embed">{props.children}</div>
    </EmbedContext.Provider>
  );
}

export function useAmisi(): AmisiEmbedValue {
  const value = useContext(EmbedContext);
  if (value === null) throw new Error('Amisi components must be inside <AmisiProvider>');
  return value;
}

/**
 * The browser's fetch with the current key in each request. A 401 (the key ended or was
 * revoked) asks `fetchKey` for a new one, once for every request refused with the same key,
 * and sends the request again with it; without `fetchKey` the 401 is the answer.
 */
function keyedFetch(apiKey: string | undefined, fetchKey?: () => Promise<string>): typeof fetch {
  let current: Promise<string> = apiKey === undefined ? fetchKey!() : Promise.resolve(apiKey);
  const send = (input: RequestInfo | URL, init: RequestInit | undefined, key: string) => {
    const headers = new Headers(init?.headers);
    headers.set('authorization', `Bearer ${key}`);
    return fetch(input, { ...init, headers });
  };
  return async (input, init) => {
    const used = current;
    const answer = await send(input, init, await used);
    if (answer.status !== 401 || fetchKey === undefined) return answer;
    if (current === used) current = fetchKey();
    return send(input, init, await current);
  };
}
