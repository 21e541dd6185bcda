import { isAmisiApiError, type AmisiClient, type Subscription } from '../../src/client/index.js';

/** The account's plan, or null when it has none (the API's no_subscription). */
export async function subscriptionOrNull(
  client: AmisiClient,
  accountId: string,
  signal: AbortSignal,
): Promise<Subscription | null> {
  try {
    return await client.subscriptions.get(accountId, { signal });
  } catch (e) {
    if (isAmisiApiError(e, 'no_subscription')) return null;
    throw e;
  }
}
