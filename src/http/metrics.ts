import type { FastifyReply, FastifyRequest } from 'fastify';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics, in a registry of their own (several servers in one process, as in the
 * tests, must not share one). Created before the ledger, so the committer can report each
 * committed batch to it.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly requestSeconds = new Histogram({
    name: 'amisi_http_request_duration_seconds',
    help: 'HTTP request latency by route and status.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly batchCommands = new Histogram({
    name: 'amisi_ledger_commit_batch_commands',
    help: 'Commands per committed ledger batch (group commit).',
    buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'amisi_' });
  }

  /** The committer's observer: one call per committed batch. */
  readonly onCommit = (commands: number): void => {
    this.batchCommands.observe(commands);
  };

  /** A gauge read at scrape time, so it costs nothing between scrapes. */
  trackOpenHolds(count: () => Promise<number>): void {
    new Gauge({
      name: 'amisi_holds_open',
      help: 'Holds still held, in every account.',
      registers: [this.registry],
      async collect() {
        this.set(await count());
      },
    });
  }

  /** The onResponse hook. Unmatched URLs share one label, so a scan cannot grow the series. */
  readonly onResponse = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    this.requestSeconds.observe(
      {
        method: request.method,
        route: request.is404 ? 'unmatched' : (request.routeOptions.url ?? 'unmatched'),
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  };

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
