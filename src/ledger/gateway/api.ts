import type { GatewayJob } from '../../core/gateway-routes.js';
import type { LedgerContext } from '../context.js';
import { BASE, STORE, type UseCaseProblems } from '../problems.js';
import { requireId, requireString, requireTime } from '../validate.js';

/** The problem codes of each use-case below (src/ledger/problems.ts). */
export const GATEWAY_PROBLEMS = {
  startGatewayJob: BASE,
  updateGatewayJob: BASE,
  gatewayJobsDue: STORE,
  findGatewayJob: STORE,
} as const satisfies UseCaseProblems<GatewayJobsApi>;

/** Most jobs one poll of the due ones reads. */
export const GATEWAY_JOBS_PAGE_MAX = 500;

/**
 * The jobs the metering gateway follows (src/service/gateway/jobs.ts): written through the
 * committer like every other write, one account's row each; read by when they are due, and by
 * a job's id (a client's poll of its job). The job's hold is the ledger's own: these rows only
 * say where the job stands, so a restarted gateway resumes polling it.
 */
export class GatewayJobsApi {
  constructor(private readonly ctx: LedgerContext) {}

  /** Records a job; false when its hold has one already (a replay). */
  async startGatewayJob(job: GatewayJob): Promise<boolean> {
    const checked = checkJob(job);
    return this.ctx.committer.submit((uow) => uow.insertGatewayJob(checked), {
      accountId: checked.accountId,
    });
  }

  /** A job's new state: polled again later, or ended (done, failed, timed out). */
  async updateGatewayJob(job: GatewayJob): Promise<void> {
    const checked = checkJob(job);
    await this.ctx.committer.submit((uow) => uow.updateGatewayJob(checked), {
      accountId: checked.accountId,
    });
  }

  /** Running jobs whose next poll is due by `now`, soonest first. */
  gatewayJobsDue(now: number, limit = 100): Promise<GatewayJob[]> {
    const page = Math.min(Math.max(limit, 1), GATEWAY_JOBS_PAGE_MAX);
    return this.ctx.store.find(
      'gateway_jobs',
      { status: 'running', nextPollAt: { lte: now } },
      { order: ['nextPollAt', 'holdId'], limit: page },
    );
  }

  findGatewayJob(route: string, jobId: string): Promise<GatewayJob | undefined> {
    return this.ctx.store.get('gateway_jobs', { route, jobId });
  }
}

function checkJob(job: GatewayJob): GatewayJob {
  requireId(job.accountId, 'account');
  requireId(job.holdId, 'hold');
  requireString(job.holdKey, 'holdKey', 255);
  requireString(job.route, 'route', 64);
  requireString(job.jobId, 'jobId', 200);
  for (const [field, at] of [
    ['createdAt', job.createdAt],
    ['deadlineAt', job.deadlineAt],
    ['nextPollAt', job.nextPollAt],
  ] as const) {
    requireTime(at, field);
  }
  return job;
}
