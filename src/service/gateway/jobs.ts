import {
  GATEWAY_TIMEOUT_DEFAULT_MS,
  holdTtlOf,
  JOB_INTERVAL_DEFAULT_MS,
  jobVerdict,
  pollPathOf,
  unitsMade,
  type GatewayJob,
  type GatewayRoute,
  type GatewayRoutes,
  type JobStatus,
} from '../../core/gateway-routes.js';
import type { Hold } from '../../core/holds.js';
import type { Ledger } from '../../ledger/ledger.js';
import type { GatewayLog } from './gateway.js';
import type { GatewayMetrics } from './metrics.js';
import { settleHold } from './settle.js';
import { readAnswer, type Upstream } from './upstream.js';

/** How often the poller looks for jobs due: at most this, at least JOB_TICK_MIN_MS. */
const JOB_TICK_MAX_MS = 1000;
const JOB_TICK_MIN_MS = 50;
/** Jobs polled at once, and the most of a status answer read. */
const JOB_POLLS_AT_ONCE = 16;
const JOB_ANSWER_MAX_BYTES = 64 * 1024 * 1024;
/** A job whose route is gone from the routes file is looked at again this much later. */
const ORPHAN_RETRY_MS = 60_000;

/**
 * The jobs of asynchronous routes (a submit answered with a job id): recorded in the store when
 * submitted (ledger.startGatewayJob), polled at the route's interval until the job's status
 * says it is done (capture what it made) or failed (release), or its deadline passes (release).
 * While it runs, its hold is extended before it could expire. The records make a restarted
 * gateway resume where the killed one was; two gateways on one database may both poll a job,
 * and the captures' keys make the second a replay.
 */
export class JobPoller {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private readonly byName: ReadonlyMap<string, GatewayRoute>;
  private readonly tickMs: number;

  constructor(
    private readonly ledger: Ledger,
    private readonly upstream: Upstream,
    routes: GatewayRoutes,
    private readonly setHeaders: Readonly<Record<string, string>>,
    private readonly metrics: GatewayMetrics,
    private readonly log: GatewayLog,
  ) {
    this.byName = new Map(routes.routes.map((r) => [r.name, r]));
    const intervals = routes.routes.flatMap((r) =>
      r.job ? [r.job.intervalMs ?? JOB_INTERVAL_DEFAULT_MS] : [],
    );
    this.tickMs = Math.max(JOB_TICK_MIN_MS, Math.min(JOB_TICK_MAX_MS, ...intervals) / 2);
  }

  get hasJobs(): boolean {
    return [...this.byName.values()].some((r) => r.job);
  }

  start(): void {
    if (!this.hasJobs || this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.tick()
        .catch((e: unknown) => this.log('error', 'gateway job poll failed', { err: String(e) }))
        .finally(() => (this.running = null));
    }, this.tickMs);
    this.timer.unref();
  }

  /** Stops polling once the poll under way has finished (its settlements are in). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  private async tick(): Promise<void> {
    const due = await this.ledger.gatewayJobsDue(this.ledger.clock.now(), 100);
    for (let i = 0; i < due.length; i += JOB_POLLS_AT_ONCE) {
      await Promise.all(due.slice(i, i + JOB_POLLS_AT_ONCE).map((job) => this.follow(job)));
    }
  }

  private async follow(job: GatewayJob): Promise<void> {
    const route = this.byName.get(job.route);
    if (!route?.job) {
      this.log('warn', 'a gateway job of a route no longer in the routes file', {
        route: job.route,
        job: job.jobId,
      });
      await this.ledger.updateGatewayJob({
        ...job,
        nextPollAt: this.ledger.clock.now() + ORPHAN_RETRY_MS,
      });
      return;
    }
    const hold = await this.ledger.getHold(job.holdId);
    if (hold.status !== 'held')
      return this.end(job, route, hold.status === 'captured' ? 'done' : 'timed_out', hold);
    const answer = await this.poll(route, job);
    const verdict = answer === undefined ? 'running' : jobVerdict(route.job, answer);
    if (verdict === 'done') return this.done(job, route, hold, answer);
    if (verdict === 'failed' || this.ledger.clock.now() >= job.deadlineAt) {
      await settleHold(this.ledger, job.holdKey, hold, 0, this.log, route.name);
      return this.end(job, route, verdict === 'failed' ? 'failed' : 'timed_out', hold);
    }
    await this.keepHeld(job, route, hold);
  }

  private async done(job: GatewayJob, route: GatewayRoute, hold: Hold, answer: unknown) {
    const requested = hold.quote?.lines[0]?.count ?? 1;
    const made = unitsMade(route, requested, answer);
    const credits = await settleHold(
      this.ledger,
      job.holdKey,
      hold,
      made.units,
      this.log,
      route.name,
    );
    if (credits === null) return; // left running: the next poll settles it
    this.metrics.captured(route.name, credits);
    await this.end(job, route, 'done', hold, made.units);
  }

  /** Extends the hold before it could expire (half its ttl left), and polls again later. */
  private async keepHeld(job: GatewayJob, route: GatewayRoute, hold: Hold): Promise<void> {
    const now = this.ledger.clock.now();
    const ttlMs = holdTtlOf(route);
    if (hold.expiresAt - now < ttlMs / 2) {
      await this.ledger.extendHold({ holdId: hold.id, key: `${job.holdKey}:extend:${now}`, ttlMs });
    }
    const interval = route.job?.intervalMs ?? JOB_INTERVAL_DEFAULT_MS;
    await this.ledger.updateGatewayJob({ ...job, nextPollAt: now + interval });
  }

  private async end(
    job: GatewayJob,
    route: GatewayRoute,
    status: JobStatus,
    hold: Hold,
    units: number | null = null,
  ): Promise<void> {
    await this.ledger.updateGatewayJob({ ...job, status, units, endedAt: this.ledger.clock.now() });
    this.metrics.jobEnded(route.name, status);
    this.log('info', 'gateway job ended', {
      route: route.name,
      job: job.jobId,
      hold: hold.id,
      account: job.accountId,
      status,
      units,
    });
  }

  /** The job's status answer as JSON, or undefined when the upstream did not give one. */
  private async poll(route: GatewayRoute, job: GatewayJob): Promise<unknown> {
    const path = pollPathOf(route.job!, job.jobId);
    const headers = {
      ...this.setHeaders,
      accept: 'application/json',
      host: this.upstream.base.host,
    };
    try {
      const timeoutMs = route.timeoutMs ?? GATEWAY_TIMEOUT_DEFAULT_MS;
      const never = new AbortController().signal;
      const res = await this.upstream.send('GET', path, headers, null, timeoutMs, never);
      const body = await readAnswer(res, JOB_ANSWER_MAX_BYTES);
      if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) return undefined;
      return JSON.parse(body.toString('utf8')) as unknown;
    } catch (e) {
      this.log('warn', 'gateway job poll: no status from the upstream; polling again', {
        route: route.name,
        job: job.jobId,
        err: e instanceof Error ? e.message : String(e),
      });
      return undefined;
    }
  }
}
