import { AmisiError } from '../core/errors.js';
import type { Grant } from '../core/grants.js';
import {
  nextAttemptAt,
  type Delivery,
  type DeliveryAttempt,
  type WebhookEndpoint,
  type WebhookEventType,
} from '../core/webhooks.js';
import type { Batch } from './batch.js';

/**
 * Webhook bookkeeping goes through the committer like every other write, so on SQLite it never
 * races the open batch on the one writer connection, and on PostgreSQL it rides along in the
 * next group commit.
 */

export interface RegisterInput {
  readonly url: string;
  readonly secret: string;
  readonly eventTypes: readonly WebhookEventType[];
  readonly accountId: string | null;
}

export async function registerEndpoint(
  batch: Batch,
  input: RegisterInput,
): Promise<WebhookEndpoint> {
  if (input.accountId !== null) await batch.account(input.accountId);
  const endpoint: WebhookEndpoint = {
    id: batch.newId('whe'),
    ...input,
    createdAt: batch.now,
    disabledAt: null,
  };
  await batch.tx.insertWebhookEndpoint(endpoint);
  batch.forgetEndpoints();
  return endpoint;
}

export async function disableEndpoint(batch: Batch, endpointId: string): Promise<boolean> {
  const done = await batch.tx.disableWebhookEndpoint(endpointId, batch.now);
  batch.forgetEndpoints();
  return done;
}

/** Takes due deliveries for `leaseMs`; an attempt not finished by then is taken again. */
export function claimDeliveries(batch: Batch, limit: number, leaseMs: number): Promise<Delivery[]> {
  return batch.tx.claimDeliveries(batch.now, batch.now + leaseMs, limit);
}

export interface AttemptOutcome {
  readonly statusCode: number | null;
  readonly error: string | null;
  readonly durationMs: number;
  /** No point retrying (the endpoint was disabled or removed): failed at once. */
  readonly final?: boolean;
}

/** Records an attempt: delivered on a 2xx; otherwise retried with backoff, failed after 24 h. */
export async function finishAttempt(
  batch: Batch,
  delivery: Delivery,
  outcome: AttemptOutcome,
): Promise<Delivery> {
  const attempt = delivery.attempts + 1;
  const ok = outcome.statusCode !== null && outcome.statusCode >= 200 && outcome.statusCode < 300;
  const retryAt =
    ok || outcome.final === true ? null : nextAttemptAt(delivery.createdAt, attempt, batch.now);
  const next: Delivery = {
    ...delivery,
    attempts: attempt,
    status: ok ? 'delivered' : retryAt === null ? 'failed' : 'pending',
    nextAttemptAt: retryAt ?? batch.now,
    deliveredAt: ok ? batch.now : null,
    lastStatusCode: outcome.statusCode,
    lastError: outcome.error === null ? null : outcome.error.slice(0, 500),
  };
  const record: DeliveryAttempt = {
    accountId: delivery.accountId,
    deliveryId: delivery.id,
    attempt,
    at: batch.now,
    statusCode: outcome.statusCode,
    error: next.lastError,
    durationMs: outcome.durationMs,
  };
  await batch.tx.finishDelivery(next, record);
  return next;
}

/**
 * Sends an event again to the same endpoint: a new delivery (its own 24 hours of retries); the
 * old one keeps its history.
 */
export async function redeliver(batch: Batch, delivery: Delivery): Promise<Delivery> {
  const fresh: Delivery = {
    ...delivery,
    id: batch.newId('dlv'),
    status: 'pending',
    attempts: 0,
    nextAttemptAt: batch.now,
    createdAt: batch.now,
    deliveredAt: null,
    lastStatusCode: null,
    lastError: null,
  };
  await batch.tx.insertDeliveries([fresh]);
  return fresh;
}

/**
 * grant.expiring, once per grant: the event id is derived from the grant, and the account is
 * locked, so a second scan (or another process's) finds the event and emits nothing.
 */
export async function announceExpiring(
  batch: Batch,
  accountId: string,
  grants: readonly Grant[],
): Promise<number> {
  const state = await batch.account(accountId);
  const ids = grants.map((g) => `evt_expiring_${g.id}`);
  const seen = new Set(await batch.tx.webhookEventIds(state.account.id, ids));
  let emitted = 0;
  for (const g of grants) {
    const id = `evt_expiring_${g.id}`;
    if (seen.has(id)) continue;
    const current = state.grants.get(g.id);
    if (!current || current.remaining === 0) continue;
    const made = await batch.emit(
      accountId,
      'grant.expiring',
      {
        grant: {
          id: current.id,
          source: current.source,
          remaining: current.remaining,
          expiresAt: current.expiresAt,
        },
      },
      id,
    );
    if (made) emitted += 1;
  }
  return emitted;
}

export function unknownDelivery(deliveryId: string): AmisiError {
  return new AmisiError('unknown_delivery', `unknown delivery "${deliveryId}"`, { deliveryId });
}

export function unknownWebhook(endpointId: string): AmisiError {
  return new AmisiError('unknown_webhook', `no active webhook endpoint "${endpointId}"`, {
    endpointId,
  });
}
