import { AmisiError } from '../../core/errors.js';
import type { Grant } from '../../core/grants.js';
import {
  WEBHOOK_EVENT_TYPES,
  type Delivery,
  type DeliveryAttempt,
  type DeliveryStatus,
  type WebhookEndpoint,
  type WebhookEvent,
  type WebhookEventType,
} from '../../core/webhooks.js';
import * as webhooks from './commands.js';
import type { LedgerContext } from '../context.js';
import type { WebhookEndpointInfo } from '../store.js';
import { requireId, requireKey } from '../validate.js';
import { BASE, codes, KEYED, STORE, type UseCaseProblems } from '../problems.js';

/**
 * Whose webhooks a read covers: an account id (an account's or member's key: that account's
 * only), or null for the operator (every account). Another account's endpoint or delivery
 * looks exactly like an unknown one.
 */
export type WebhookScope = string | null;

/** An endpoint as readers see it: its signing secret is shown once, at registration, only. */
export type WebhookEndpointView = WebhookEndpointInfo;

export interface DeliveryQuery {
  readonly accountId?: string;
  readonly endpointId?: string;
  readonly status?: DeliveryStatus;
  readonly limit: number;
}

/** A delivery and every attempt made. */
export interface DeliveryDetail {
  readonly delivery: Delivery;
  readonly attempts: readonly DeliveryAttempt[];
}

/** The problem codes of each use-case below (src/ledger/problems.ts). */
export const WEBHOOKS_PROBLEMS = {
  registerWebhook: codes(BASE, KEYED, 'unknown_account'),
  disableWebhook: codes(BASE, 'unknown_webhook'),
  webhookEndpoints: STORE,
  deliveryTargets: STORE,
  webhookEvent: STORE,
  eventTypes: STORE,
  listDeliveries: STORE,
  claimDeliveries: STORE,
  finishAttempt: STORE,
  getDelivery: codes(BASE, 'unknown_delivery'),
  deliveryInScope: codes(BASE, 'unknown_delivery'),
  deliveryDetail: codes(BASE, 'unknown_delivery'),
  redeliver: codes(BASE, 'unknown_delivery'),
  announceExpiringGrants: STORE,
} as const satisfies UseCaseProblems<WebhooksApi>;

/** Webhooks: endpoints, the outbox's deliveries and their attempts, grant.expiring events. */
export class WebhooksApi {
  constructor(private readonly ctx: LedgerContext) {}

  /** Registers a webhook endpoint (for one account, or every account when accountId is null). */
  async registerWebhook(input: {
    url: string;
    secret: string;
    eventTypes: readonly string[];
    accountId?: string | null;
    key: string;
    publicOnly?: boolean;
  }) {
    const checked: webhooks.RegisterInput = {
      url: requireUrl(input.url),
      secret: requireKey(input.secret),
      eventTypes: requireEventTypes(input.eventTypes),
      accountId: input.accountId == null ? null : requireId(input.accountId, 'account'),
      publicOnly: input.publicOnly === true,
      key: requireKey(input.key),
    };
    return this.ctx.committer.submit(
      (b) => webhooks.registerEndpoint(b, checked),
      checked.accountId === null ? {} : { accountId: checked.accountId, key: checked.key },
    );
  }

  /** Disables an endpoint of the scope (default: the operator's, any endpoint). */
  async disableWebhook(endpointId: string, scope: WebhookScope = null): Promise<void> {
    if (scope !== null) {
      const endpoint = await this.ctx.store.get('webhook_endpoints', { id: endpointId });
      if (!endpoint || endpoint.accountId !== scope) throw webhooks.unknownWebhook(endpointId);
    }
    const id = requireId(endpointId, 'endpoint');
    const done = await this.ctx.committer.submit((b) => webhooks.disableEndpoint(b, id));
    if (!done) throw webhooks.unknownWebhook(endpointId);
  }

  /** The endpoints of the scope, disabled ones too, without their secrets. */
  async webhookEndpoints(scope: WebhookScope): Promise<WebhookEndpointView[]> {
    const all = await this.ctx.store.find('webhook_endpoints', {}, { order: ['createdAt', 'id'] });
    return all.filter((e) => scope === null || e.accountId === scope);
  }

  /**
   * Every endpoint with its signing secret, by id: for the deliverer alone, which signs each
   * delivery with it.
   */
  async deliveryTargets(): Promise<Map<string, WebhookEndpoint>> {
    return new Map((await this.ctx.store.webhookTargets()).map((e) => [e.id, e]));
  }

  /** The event a delivery carries, or undefined. */
  webhookEvent(accountId: string, eventId: string): Promise<WebhookEvent | undefined> {
    return this.ctx.store.get('webhook_events', { accountId: accountId, id: eventId });
  }

  /** Each delivery's event type by event id (the event id itself if the event is gone). */
  async eventTypes(rows: readonly Delivery[]): Promise<Map<string, string>> {
    const types = new Map<string, string>();
    for (const d of rows) {
      if (types.has(d.eventId)) continue;
      const event = await this.ctx.store.get('webhook_events', {
        accountId: d.accountId,
        id: d.eventId,
      });
      types.set(d.eventId, event?.type ?? d.eventId);
    }
    return types;
  }

  /** Deliveries, newest first (the query names the account, endpoint or status). */
  listDeliveries(q: DeliveryQuery): Promise<Delivery[]> {
    const where = { accountId: q.accountId, endpointId: q.endpointId, status: q.status };
    const order = ['createdAt desc', 'id desc'] as const;
    return this.ctx.store.find('webhook_deliveries', where, { order, limit: q.limit });
  }

  /** Takes up to `limit` due deliveries for `leaseMs` (the deliverer then posts them). */
  claimDeliveries(limit: number, leaseMs: number): Promise<Delivery[]> {
    return this.ctx.committer.submit((b) => webhooks.claimDeliveries(b, limit, leaseMs));
  }

  finishAttempt(delivery: Delivery, outcome: webhooks.AttemptOutcome): Promise<Delivery> {
    return this.ctx.committer.submit((b) => webhooks.finishAttempt(b, delivery, outcome));
  }

  async getDelivery(deliveryId: string): Promise<Delivery> {
    const d = await this.ctx.store.get('webhook_deliveries', {
      id: requireId(deliveryId, 'delivery'),
    });
    if (!d) throw webhooks.unknownDelivery(deliveryId);
    return d;
  }

  /** A delivery of the scope (another account's reads as unknown_delivery). */
  async deliveryInScope(deliveryId: string, scope: WebhookScope): Promise<Delivery> {
    const d = await this.ctx.store.get('webhook_deliveries', { id: deliveryId });
    if (!d || (scope !== null && d.accountId !== scope)) throw webhooks.unknownDelivery(deliveryId);
    return d;
  }

  /** A delivery of the scope and every attempt made. */
  async deliveryDetail(deliveryId: string, scope: WebhookScope = null): Promise<DeliveryDetail> {
    const delivery = await this.deliveryInScope(deliveryId, scope);
    const attempts = await this.ctx.store.find(
      'webhook_attempts',
      { accountId: delivery.accountId, deliveryId: delivery.id },
      { order: ['attempt'] },
    );
    return { delivery, attempts };
  }

  /** A new delivery of the same event to the same endpoint, due now. */
  async redeliver(deliveryId: string): Promise<Delivery> {
    const old = await this.getDelivery(deliveryId);
    return this.ctx.committer.submit((b) => webhooks.redeliver(b, old));
  }

  /**
   * grant.expiring for every grant with credits that expires within `withinMs` (default 7 days),
   * once per grant. Returns how many events it made.
   */
  async announceExpiringGrants(withinMs = 7 * 86_400_000): Promise<number> {
    const now = this.ctx.clock.now();
    const grants = await this.ctx.store.find(
      'grants',
      { remaining: { gt: 0 }, expiresAt: { not: null, gt: now, lte: now + withinMs } },
      { order: ['expiresAt', 'id'], limit: 10_000 },
    );
    // Accounts on a test clock are announced when their clock reaches the day (ClocksApi).
    const clocks = await this.ctx.times.clocksOf(grants.map((g) => g.accountId));
    const byAccount = new Map<string, Grant[]>();
    for (const g of grants) {
      if (clocks.get(g.accountId)) continue;
      byAccount.set(g.accountId, [...(byAccount.get(g.accountId) ?? []), g]);
    }
    const counts = await Promise.all(
      [...byAccount].map(([accountId, list]) =>
        this.ctx.committer.submit((b) => webhooks.announceExpiring(b, accountId, list), {
          accountId,
        }),
      ),
    );
    return counts.reduce((a, b) => a + b, 0);
  }
}

function requireUrl(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || value.length > 2000) {
    throw new AmisiError('invalid_argument', 'url must be an http or https URL', {
      field: 'url',
      value: String(value).slice(0, 200),
    });
  }
  return url.toString();
}

function requireEventTypes(values: readonly string[]): WebhookEventType[] {
  const bad = values.filter((v) => !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(v));
  if (values.length === 0 || bad.length > 0) {
    throw new AmisiError(
      'invalid_argument',
      `events must be one or more of ${WEBHOOK_EVENT_TYPES.join(', ')}`,
      { field: 'events', value: bad.join(','), allowed: WEBHOOK_EVENT_TYPES },
    );
  }
  return [...new Set(values)] as WebhookEventType[];
}
