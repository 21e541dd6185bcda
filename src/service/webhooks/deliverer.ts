import { randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Delivery, WebhookEndpoint } from '../../core/webhooks.js';
import type { Ledger } from '../../ledger/ledger.js';
import type { AttemptOutcome } from '../../ledger/webhooks/commands.js';
import { sign } from './signature.js';
import { hostOf, literalRefusal, PrivateTargetError, publicOnlyLookup } from './target.js';

export interface DelivererOptions {
  /** How often due deliveries are looked for; default 1 s. */
  readonly intervalMs?: number;
  /** Deliveries taken per claim; default 50. */
  readonly batchSize?: number;
  /** Requests in flight at once; default 8. */
  readonly concurrency?: number;
  /** One request's time limit; default 10 s. */
  readonly timeoutMs?: number;
  /**
   * Deliver to private and special addresses even for endpoints registered with the public-only
   * check (AMISI_WEBHOOK_ALLOW_PRIVATE=1); default false.
   */
  readonly allowPrivate?: boolean;
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
      const endpoints = await this.ledger.deliveryTargets();
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
    const event = await this.ledger.webhookEvent(d.accountId, d.eventId);
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
    // An account key's endpoint reaches public addresses only: checked again now, on the address
    // the connection is made to, so a name that resolves elsewhere since registration is refused.
    const checked = endpoint.publicOnly && this.options.allowPrivate !== true;
    if (checked) {
      const why = literalRefusal(safeHost(endpoint.url));
      if (why !== null) return refused(why, 0);
    }
    try {
      const status = await post(endpoint.url, {
        headers: {
          'content-type': 'application/json',
          'user-agent': 'amisi-credits-webhooks',
          'amisi-event-id': event.id,
          'amisi-event-type': event.type,
          'amisi-delivery-id': d.id,
          'amisi-signature': sign(endpoint.secret, body, Math.floor(Date.now() / 1000)),
        },
        body,
        timeoutMs: this.timeoutMs,
        publicOnly: checked,
      });
      const ok = status >= 200 && status < 300;
      return { statusCode: status, error: ok ? null : `HTTP ${status}`, durationMs: elapsed() };
    } catch (e) {
      if (e instanceof PrivateTargetError) return refused(e.message, elapsed());
      const error =
        e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e);
      return { statusCode: null, error, durationMs: elapsed() };
    }
  }
}

/** Not sent, and never will be: the endpoint's host is not a public address. */
function refused(why: string, durationMs: number): AttemptOutcome {
  return { statusCode: null, error: `refused: ${why}`, durationMs, final: true };
}

function safeHost(url: string): string {
  try {
    return hostOf(url);
  } catch {
    return '';
  }
}

interface PostOptions {
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly timeoutMs: number;
  /** Connect only to a checked public address (the lookup refuses special ones). */
  readonly publicOnly: boolean;
}

/**
 * One POST; answers the status code. Redirects are not followed (a 3xx is an answer, not a
 * delivery), and the response body is read and dropped so the socket is freed.
 */
function post(url: string, options: PostOptions): Promise<number> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<number>((resolve, reject) => {
    const req = send(
      target,
      {
        method: 'POST',
        headers: { ...options.headers, 'content-length': Buffer.byteLength(options.body) },
        ...(options.publicOnly ? { lookup: publicOnlyLookup } : {}),
        signal: AbortSignal.timeout(options.timeoutMs),
      },
      (res: IncomingMessage) => {
        res.on('error', reject);
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.resume();
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
