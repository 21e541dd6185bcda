import type { Ledger } from '../ledger/ledger.js';
import type { PurchaseService } from './purchases.js';

export interface SchedulerOptions {
  /** How often the jobs run; default one minute. */
  readonly intervalMs?: number;
  /** Told about a job that failed; the scheduler keeps running. */
  readonly onError?: (job: string, error: unknown) => void;
  /** Told what a run did, for logs. */
  readonly onRun?: (report: SchedulerReport) => void;
}

export interface SchedulerReport {
  readonly renewed: number;
  readonly settled: number;
  readonly autoTopups: number;
  /** grant.expiring events made (7 days ahead, once per grant). */
  readonly expiring: number;
  readonly purgedKeys: number;
}

export const DEFAULT_SCHEDULER_INTERVAL_MS = 60_000;
const PURGE_EVERY_MS = 3_600_000;

/**
 * The periodic jobs of a long-running process (`amisi serve`): renewals that are due, the sweep
 * of expired grants and holds, checkouts for auto top-ups, grant.expiring events (7 days
 * ahead), and the purge of old idempotency keys.
 * Every job is idempotent, so several processes on one PostgreSQL database may all run it: the
 * account locks make a second runner find nothing to do. Runs never overlap within a process.
 */
export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastPurgeAt = 0;
  private stopped = false;

  constructor(
    private readonly ledger: Ledger,
    private readonly purchases: PurchaseService | null,
    private readonly options: SchedulerOptions = {},
  ) {}

  start(): void {
    this.stopped = false;
    if (this.timer) return;
    const interval = this.options.intervalMs ?? DEFAULT_SCHEDULER_INTERVAL_MS;
    this.timer = setInterval(() => void this.runOnce(), interval);
    this.timer.unref();
    void this.runOnce();
  }

  /** One run of every job (also what tests and `amisi renew` style callers use). */
  runOnce(): Promise<void> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Stops the timer and waits for a run in progress (graceful shutdown). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async run(): Promise<void> {
    const renewed = await this.job('renew', () => this.ledger.renew());
    const settled = this.stopped ? 0 : await this.job('sweep', () => this.ledger.sweep());
    const purchases = this.purchases;
    const autoTopups =
      this.stopped || !purchases
        ? 0
        : await this.job('autotopup', () => purchases.checkoutAutoTopups());
    const expiring = this.stopped
      ? 0
      : await this.job('expiring', () => this.ledger.announceExpiringGrants());
    let purgedKeys = 0;
    const now = this.ledger.clock.now();
    if (!this.stopped && now - this.lastPurgeAt >= PURGE_EVERY_MS) {
      purgedKeys = await this.job('purge', () => this.ledger.purgeIdempotency());
      this.lastPurgeAt = now;
    }
    this.options.onRun?.({ renewed, settled, autoTopups, expiring, purgedKeys });
  }

  private async job(name: string, fn: () => Promise<number>): Promise<number> {
    try {
      return await fn();
    } catch (error) {
      this.options.onError?.(name, error);
      return 0;
    }
  }
}
