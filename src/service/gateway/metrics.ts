import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** How a metered request ended, one label value each (a closed set, so series stay bounded). */
export type GatewayOutcome =
  | 'captured'
  | 'released'
  | 'refused_credits'
  | 'refused'
  | 'upstream_error'
  | 'upstream_timeout'
  | 'replayed'
  | 'in_progress'
  | 'forwarded'
  | 'job_started'
  | 'unsettled';

/**
 * The gateway's Prometheus metrics, per route, in a registry of its own (a gateway inside
 * `amisi serve` keeps its series apart from the API's).
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'amisi_gateway_requests_total',
    help: 'Requests through the gateway by route and outcome.',
    labelNames: ['route', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly credits = new Counter({
    name: 'amisi_gateway_captured_credits_total',
    help: 'Credits captured for answers the upstream made, by route.',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });
  private readonly jobs = new Counter({
    name: 'amisi_gateway_jobs_total',
    help: 'Jobs the gateway followed to their end, by route and how they ended.',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });
  private readonly addedSeconds = new Histogram({
    name: 'amisi_gateway_added_seconds',
    help: 'Time the gateway adds to a request (its whole time less the upstream exchange), by route.',
    labelNames: ['route'] as const,
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  private readonly upstreamSeconds = new Histogram({
    name: 'amisi_gateway_upstream_seconds',
    help: 'Time of the upstream exchange, by route.',
    labelNames: ['route'] as const,
    buckets: [0.005, 0.025, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'amisi_gateway_' });
  }

  ended(route: string, outcome: GatewayOutcome, addedNs: bigint, upstreamNs: bigint | null): void {
    this.requests.inc({ route, outcome });
    this.addedSeconds.observe({ route }, Number(addedNs) / 1e9);
    if (upstreamNs !== null) this.upstreamSeconds.observe({ route }, Number(upstreamNs) / 1e9);
  }

  captured(route: string, credits: number): void {
    if (credits > 0) this.credits.inc({ route }, credits);
  }

  jobEnded(route: string, status: string): void {
    this.jobs.inc({ route, status });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
