/**
 * Webhooks: what happened to an account, told to the endpoints that asked for it. Events are
 * written in the same transaction as the change they describe (the outbox), with one delivery
 * row per endpoint that wants them; a deliverer posts them afterwards, signed, and retries with
 * exponential backoff for 24 hours. Pure: types and the retry schedule.
 */

export const WEBHOOK_EVENT_TYPES = [
  'hold.captured',
  'charge.created',
  'grant.created',
  'grant.expiring',
  'balance.low',
  'renewal.completed',
  'purchase.completed',
  'refund.completed',
  'budget.threshold',
  'overdraft.limit_passed',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export interface WebhookEndpoint {
  readonly id: string;
  readonly url: string;
  /** The shared secret the signature is made with (shown once, at registration). */
  readonly secret: string;
  readonly eventTypes: readonly WebhookEventType[];
  /** Only this account's events; null for every account (an operator's endpoint). */
  readonly accountId: string | null;
  /**
   * Deliveries go to public addresses only, checked at each delivery on the address connected
   * to: an account key registered it (an operator's endpoint may reach any address).
   */
  readonly publicOnly: boolean;
  readonly createdAt: number;
  readonly disabledAt: number | null;
}

export interface WebhookEvent {
  readonly accountId: string;
  readonly id: string;
  readonly type: WebhookEventType;
  readonly createdAt: number;
  readonly data: Record<string, unknown>;
}

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface Delivery {
  readonly accountId: string;
  readonly id: string;
  readonly endpointId: string;
  readonly eventId: string;
  readonly status: DeliveryStatus;
  /** Attempts made so far. */
  readonly attempts: number;
  /** When the next attempt is due (pending), or when it was last tried. */
  readonly nextAttemptAt: number;
  readonly createdAt: number;
  readonly deliveredAt: number | null;
  readonly lastStatusCode: number | null;
  readonly lastError: string | null;
}

/** One try of a delivery, kept for `amisi webhooks deliveries`. */
export interface DeliveryAttempt {
  readonly accountId: string;
  readonly deliveryId: string;
  readonly attempt: number;
  readonly at: number;
  readonly statusCode: number | null;
  readonly error: string | null;
  readonly durationMs: number;
}

/** Retries stop this long after the event (then the delivery is failed; redeliver revives it). */
export const RETRY_WINDOW_MS = 24 * 60 * 60 * 1000;
const FIRST_RETRY_MS = 10_000;
const MAX_RETRY_DELAY_MS = 60 * 60 * 1000;

/**
 * When to try again after `attempts` failed tries: 10 s, 20 s, 40 s, ... doubling up to an hour
 * between tries, within 24 hours of the first try; null when the window has closed.
 */
export function nextAttemptAt(firstAt: number, attempts: number, now: number): number | null {
  const exponent = Math.min(Math.max(attempts - 1, 0), 20);
  const delay = Math.min(FIRST_RETRY_MS * 2 ** exponent, MAX_RETRY_DELAY_MS);
  const at = now + delay;
  return at > firstAt + RETRY_WINDOW_MS ? null : at;
}

/** Does this endpoint want this event? */
export function wants(
  endpoint: Omit<WebhookEndpoint, 'secret'>,
  accountId: string,
  type: WebhookEventType,
) {
  return (
    endpoint.disabledAt === null &&
    (endpoint.accountId === null || endpoint.accountId === accountId) &&
    endpoint.eventTypes.includes(type)
  );
}
