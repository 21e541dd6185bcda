import { randomBytes } from 'node:crypto';
import type { Delivery, WebhookEndpoint } from '../../core/webhooks.js';
import type { Ledger } from '../../ledger/ledger.js';
import type { AttemptOutcome } from '../../ledger/webhook-commands.js';
import { sign } from './signature.js';

export interface DelivererOptions {
  /** How often due deliveries are looked for; default 1 s. */
  readonly intervalMs?: number;
  /** Deliveries taken per claim; default 50. */
  readonly batchSize?: number;
  /** Requests in flight at once; default 8. */
  readonly concurrency?: number;
  /** One request's time limit; default 10 s. */
  readonly timeoutMs?: number;
  /** Told about each attempt (logs, metrics). */
  readonly onAttempt?: (delivery: Delivery) => void;
  readonly onError?: (error: unknown) => void;
}

/** A new endpoint's secret: 32 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/**
 * Posts due deliveries and records each attempt. A delivery is claimed for a lease longer than
 * its request can take, so a process that dies mid-request leaves it to be taken again after the
 * lease (at least once: receivers dedupe by the event id, which every retry repeats).
 */
export class WebhookDeliverer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private readonly timeoutMs: number;

  constructor(
    private readonly ledger: Ledger,
    private readonly options: DelivererOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.runOnce(), this.options.intervalMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Delivers everything due now, claim after claim; returns how many attempts it made. */
  runOnce(): Promise<number> {
    this.running ??= this.drain()
      .catch((error: unknown) => {
        this.options.onError?.(error);
        return 0;
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private async drain(): Promise<number> {
    const size = this.options.batchSize ?? 50;
    let attempts = 0;
    for (;;) {
      const claimed = await this.ledger.claimDeliveries(size, this.timeoutMs * 3);
      if (claimed.length === 0) return attempts;
      const endpoints = new Map(
        (await this.ledger.store.listWebhookEndpoints()).map((e) => [e.id, e]),
      );
      const queue = [...claimed];
      const worker = async () => {
        for (let d = queue.shift(); d; d = queue.shift()) {
          const outcome = await this.attempt(d, endpoints.get(d.endpointId));
          const done = await this.ledger.finishAttempt(d, outcome);
          attempts += 1;
          this.options.onAttempt?.(done);
        }
      };
      await Promise.all(Array.from({ length: this.options.concurrency ?? 8 }, worker));
      if (claimed.length < size) return attempts;
    }
  }

  private async attempt(
    d: Delivery,
    endpoint: WebhookEndpoint | undefined,
  ): Promise<AttemptOutcome> {
    if (!endpoint || endpoint.disabledAt !== null) {
      return { statusCode: null, error: 'endpoint disabled', durationMs: 0, final: true };
    }
    const event = await this.ledger.store.getWebhookEvent(d.accountId, d.eventId);
    if (!event) return { statusCode: null, error: 'event missing', durationMs: 0, final: true };
    const body = JSON.stringify({
      id: event.id,
      type: event.type,
      createdAt: new Date(event.createdAt).toISOString(),
      accountId: event.accountId,
      data: event.data,
    });
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    try {
      const response = await fetch(endpoint.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'amisi-credits-webhooks',
          'amisi-event-id': event.id,
          'amisi-event-type': event.type,
          'amisi-delivery-id': d.id,
          'amisi-signature': sign(endpoint.secret, body, Math.floor(Date.now() / 1000)),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      // Read (and drop) the body so the connection can be reused.
      await response.arrayBuffer().catch(() => undefined);
      const ok = response.status >= 200 && response.status < 300;
      return {
        statusCode: response.status,
        error: ok ? null : `HTTP ${response.status}`,
        durationMs: elapsed(),
      };
    } catch (e) {
      const error =
        e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e);
      return { statusCode: null, error, durationMs: elapsed() };
    }
  }
}
