import type { JournalTransaction } from '../../core/journal.js';
import {
  wants,
  type Delivery,
  type WebhookEvent,
  type WebhookEventType,
} from '../../core/webhooks.js';
import type { WebhookEndpointInfo, WriteTx } from '../store.js';

/**
 * Journal transactions that are webhook events of their own. A partial capture is a
 * `hold.captured` too: its transaction's kind says the hold is still held.
 */
const EVENT_OF_KIND: Partial<Record<JournalTransaction['kind'], WebhookEventType>> = {
  charge: 'charge.created',
  capture: 'hold.captured',
  partial_capture: 'hold.captured',
  grant: 'grant.created',
  renewal: 'renewal.completed',
};

/**
 * The outbox of one unit of work (ADR 0006): events and one delivery per endpoint that wants
 * each, written in the same database transaction as the change they announce. The endpoints
 * are read once, when the unit of work has its first event, and again after a registration.
 */
export class Outbox {
  private endpoints: readonly WebhookEndpointInfo[] | undefined;
  private readonly events: WebhookEvent[] = [];
  private readonly deliveries: Delivery[] = [];

  constructor(
    private readonly readEndpoints: () => Promise<WebhookEndpointInfo[]>,
    private readonly newId: (prefix: string) => string,
    private readonly now: number,
  ) {}

  /**
   * Records an event with a delivery for every endpoint that wants it; nothing is written when
   * none does. Returns the event id, or null.
   */
  async emit(
    accountId: string,
    type: WebhookEventType,
    data: Record<string, unknown>,
    eventId?: string,
  ): Promise<string | null> {
    this.endpoints ??= await this.readEndpoints();
    const targets = this.endpoints.filter((e) => wants(e, accountId, type));
    if (targets.length === 0) return null;
    const id = eventId ?? this.newId('evt');
    this.events.push({ accountId, id, type, createdAt: this.now, data });
    for (const endpoint of targets) {
      this.deliveries.push({
        accountId,
        id: this.newId('dlv'),
        endpointId: endpoint.id,
        eventId: id,
        status: 'pending',
        attempts: 0,
        nextAttemptAt: this.now,
        createdAt: this.now,
        deliveredAt: null,
        lastStatusCode: null,
        lastError: null,
      });
    }
    return id;
  }

  /** The event a journal transaction is of its own kind (charges, captures, grants, renewals). */
  async journaled(tx: JournalTransaction): Promise<void> {
    const type = EVENT_OF_KIND[tx.kind];
    if (!type) return;
    await this.emit(tx.accountId, type, {
      transaction: {
        id: tx.id,
        kind: tx.kind,
        createdAt: tx.createdAt,
        holdId: tx.holdId,
        grantId: tx.grantId,
        detail: tx.detail,
      },
    });
  }

  /** A registration in this unit of work is seen by the commands after it. */
  forgetEndpoints(): void {
    this.endpoints = undefined;
  }

  async flush(tx: WriteTx): Promise<void> {
    await tx.insert('webhook_events', this.events);
    await tx.insert('webhook_deliveries', this.deliveries);
  }
}
