import { AmisiError, assert } from '../../core/errors.js';
import type { Grant } from '../../core/grants.js';
import {
  nextAttemptAt,
  type Delivery,
  type DeliveryAttempt,
  type WebhookEndpoint,
  type WebhookEventType,
} from '../../core/webhooks.js';
import type { UnitOfWork } from '../unit-of-work.js';
import { onceRef, type Replayable } from '../idempotency.js';

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
  /** Deliveries to public addresses only (an account key registered it). */
  readonly publicOnly: boolean;
  /** The idempotency key: the same key and request again answers the first answer. */
  readonly key: string;
}

/**
 * Where the idempotency keys of endpoints for every account live (no account id is empty, so
 * they never meet an account's keys).
 */
export const EVERY_ACCOUNT_SCOPE = '';

/**
 * Registers an endpoint once per key. The key remembers the endpoint id; a replay answers the
 * endpoint as it was registered, secret included (the caller that lost the first answer needs
 * it, and the key is its own: another account's key never reaches this record).
 */
export async function registerEndpoint(
  uow: UnitOfWork,
  input: RegisterInput,
): Promise<Replayable<WebhookEndpoint>> {
  if (input.accountId !== null) await uow.account(input.accountId);
  const { key, secret, ...request } = input;
  return onceRef(
    uow,
    input.accountId ?? EVERY_ACCOUNT_SCOPE,
    key,
    { op: 'register_webhook', ...request, eventTypes: [...request.eventTypes].sort() },
    async () => {
      const endpoint: WebhookEndpoint = {
        id: uow.newId('whe'),
        url: input.url,
        secret,
        eventTypes: input.eventTypes,
        accountId: input.accountId,
        publicOnly: input.publicOnly,
        createdAt: uow.now,
        disabledAt: null,
      };
      await uow.insertWebhookEndpoint(endpoint);
      uow.outbox.forgetEndpoints();
      return { result: endpoint, ref: endpoint.id };
    },
    async (ref) => {
      const endpoint = await uow.endpointForReplay(ref);
      assert(endpoint, `endpoint ${ref} of an idempotency record exists`);
      return { ...endpoint, disabledAt: null };
    },
  );
}

export async function disableEndpoint(uow: UnitOfWork, endpointId: string): Promise<boolean> {
  const done = await uow.disableWebhookEndpoint(endpointId);
  uow.outbox.forgetEndpoints();
  return done;
}

/** Takes due deliveries for `leaseMs`; an attempt not finished by then is taken again. */
export function claimDeliveries(
  uow: UnitOfWork,
  limit: number,
  leaseMs: number,
): Promise<Delivery[]> {
  return uow.claimDeliveries(uow.now + leaseMs, limit);
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
  uow: UnitOfWork,
  delivery: Delivery,
  outcome: AttemptOutcome,
): Promise<Delivery> {
  const attempt = delivery.attempts + 1;
  const ok = outcome.statusCode !== null && outcome.statusCode >= 200 && outcome.statusCode < 300;
  const retryAt =
    ok || outcome.final === true ? null : nextAttemptAt(delivery.createdAt, attempt, uow.now);
  const next: Delivery = {
    ...delivery,
    attempts: attempt,
    status: ok ? 'delivered' : retryAt === null ? 'failed' : 'pending',
    nextAttemptAt: retryAt ?? uow.now,
    deliveredAt: ok ? uow.now : null,
    lastStatusCode: outcome.statusCode,
    lastError: outcome.error === null ? null : outcome.error.slice(0, 500),
  };
  const record: DeliveryAttempt = {
    accountId: delivery.accountId,
    deliveryId: delivery.id,
    attempt,
    at: uow.now,
    statusCode: outcome.statusCode,
    error: next.lastError,
    durationMs: outcome.durationMs,
  };
  await uow.finishDelivery(next, record);
  return next;
}

/**
 * Sends an event again to the same endpoint: a new delivery (its own 24 hours of retries); the
 * old one keeps its history.
 */
export async function redeliver(uow: UnitOfWork, delivery: Delivery): Promise<Delivery> {
  const fresh: Delivery = {
    ...delivery,
    id: uow.newId('dlv'),
    status: 'pending',
    attempts: 0,
    nextAttemptAt: uow.now,
    createdAt: uow.now,
    deliveredAt: null,
    lastStatusCode: null,
    lastError: null,
  };
  await uow.insertDeliveries([fresh]);
  return fresh;
}

/**
 * grant.expiring, once per grant: the event id is derived from the grant, and the account is
 * locked, so a second scan (or another process's) finds the event and emits nothing.
 */
export async function announceExpiring(
  uow: UnitOfWork,
  accountId: string,
  grants: readonly Grant[],
): Promise<number> {
  const state = await uow.account(accountId);
  const ids = grants.map((g) => `evt_expiring_${g.id}`);
  const o = { fields: ['id'] } as const;
  const where = { accountId: state.account.id };
  const events = await uow.read.findFor('webhook_events', 'id', ids, where, o);
  const seen = new Set(events.map((e) => e.id));
  let emitted = 0;
  for (const g of grants) {
    const id = `evt_expiring_${g.id}`;
    if (seen.has(id)) continue;
    const current = state.grants.get(g.id);
    if (!current || current.remaining === 0) continue;
    const made = await uow.outbox.emit(
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
