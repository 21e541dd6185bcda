import {
  isAmisiApiError,
  type AmisiClient,
  type Plan,
  type Subscription,
} from '../../src/client/index.js';
import type { RequestState } from './use-request.js';

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

/** A plan's name for people ("Pro"), once the catalog's plans have loaded; its id until then. */
export function planName(
  plans: RequestState<{ readonly plans: readonly Plan[] }>,
  id: string,
): string {
  return plans.status === 'ok' ? (plans.data.plans.find((p) => p.id === id)?.name ?? id) : id;
}
