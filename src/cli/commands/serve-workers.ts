import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { AmisiError } from '../../core/errors.js';
import type { ServeConfig } from '../../http/config.js';
import { stopRequested } from '../stop.js';

/**
 * `amisi serve --workers N` on PostgreSQL (`--workers auto`: the cores): N processes (node:cluster) share the port, each a
 * whole server with its own ledger, committer and pool. The database keeps them from
 * overspending, exactly as for several servers on one database (ADR 0004). The primary
 * migrates and loads the catalog once, forks the workers, restarts one that dies after it was
 * ready, and on SIGTERM or SIGINT asks each to drain and exits when the last has.
 *
 * SQLite keeps one process: one file has one writer, and its group commit is what makes it fast.
 */

/** How the process was told to run: its worker index, or null for the primary or a lone server. */
export function workerIndex(env: NodeJS.ProcessEnv = process.env): number | null {
  if (!cluster.isWorker) return null;
  return Number(env.AMISI_WORKER_INDEX ?? '0');
}

/**
 * The workers setting: --workers, else AMISI_WORKERS, else 1. Not the cores by default: on a
 * machine that also runs PostgreSQL (or the load), two workers measured slower than one (ADR
 * 0020); give it the cores of a machine whose cores are the server's.
 */
export function workersFrom(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  postgres: boolean,
): number {
  const value = flag ?? (env.AMISI_WORKERS === '' ? undefined : env.AMISI_WORKERS);
  if (value === undefined) return 1;
  if (value === 'auto') return postgres ? availableParallelism() : 1;
  if (!/^[0-9]{1,3}$/.test(value) || Number(value) < 1 || Number(value) > 256) {
    throw new AmisiError(
      'invalid_argument',
      `workers must be auto or a whole number from 1 to 256, got ${JSON.stringify(value)}`,
      { field: 'workers' },
    );
  }
  const n = Number(value);
  if (n > 1 && !postgres) {
    throw new AmisiError(
      'invalid_argument',
      'more than one worker needs PostgreSQL (--database-url): a SQLite file has one writer, so one process serves it',
      { field: 'workers', value: n },
    );
  }
  return n;
}

/**
 * A worker's settings: a key's rate limit is shared by the workers, each seeing about 1/N of
 * its requests; only worker 0 runs the background jobs.
 */
export function forWorker(config: ServeConfig, index: number, workers: number): ServeConfig {
  return {
    ...config,
    rateLimit: { ...config.rateLimit, max: Math.ceil(config.rateLimit.max / workers) },
    jobs: config.jobs && index === 0,
  };
}

/** Tells the primary that this worker listens (after app.listen). */
export function tellReady(): void {
  if (cluster.isWorker) process.send?.({ amisi: 'ready' });
}

/** Settles when the primary is gone (a worker then drains and exits like on SIGTERM). */
export function primaryGone(): Promise<'primary exited'> {
  return new Promise((resolve) => {
    if (cluster.isWorker) cluster.worker?.once('disconnect', () => resolve('primary exited'));
  });
}

type Log = (level: 'info' | 'warn' | 'error', msg: string, fields?: object) => void;

/** One JSON line per event, like the workers' own logs (pino's level numbers). */
export function jsonLog(level: string): Log {
  const levels = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: 100 };
  const min = levels[level as keyof typeof levels] ?? 30;
  return (at, msg, fields = {}) => {
    if (levels[at] < min) return;
    process.stdout.write(
      `${JSON.stringify({ level: levels[at], time: Date.now(), pid: process.pid, role: 'primary', ...fields, msg })}\n`,
    );
  };
}

/** More deaths than this within a minute is a crash loop: stop instead of starting more. */
const MAX_RESTARTS_PER_MINUTE = 10;

/**
 * Runs the workers until a stop is asked for; answers the exit code. A worker that exits
 * before it is ready (a port in use, a database that refuses it) stops them all with its code,
 * as a lone server would exit; one that dies later is replaced, unless workers keep dying.
 */
export async function superviseWorkers(n: number, log: Log): Promise<number> {
  const ready = new Set<number>();
  const deaths: number[] = [];
  let stopping = false;
  let code = 0;
  const fork = (index: number): Worker => {
    const worker = cluster.fork({ AMISI_WORKER_INDEX: String(index) });
    worker.on('message', (m: { amisi?: string }) => {
      if (m?.amisi !== 'ready') return;
      ready.add(index);
      if (ready.size === n) log('info', `amisi serve: ${n} workers ready`, { workers: n });
    });
    worker.on('exit', (exitCode, signal) => {
      if (stopping) return;
      const now = Date.now();
      deaths.push(now);
      while (deaths[0]! < now - 60_000) deaths.shift();
      if (!ready.has(index) || deaths.length > MAX_RESTARTS_PER_MINUTE) {
        const why = ready.has(index) ? 'workers keep dying' : 'a worker exited while starting';
        log('error', `${why}: stopping`, { worker: index, exitCode, signal });
        code = exitCode || 1;
        void stopAll();
        return;
      }
      log('error', 'a worker died: starting another', { worker: index, exitCode, signal });
      ready.delete(index);
      fork(index);
    });
    return worker;
  };
  const everyoneExited = () =>
    Promise.all(
      Object.values(cluster.workers ?? {}).map(
        (w) =>
          new Promise<void>((resolve) => {
            if (!w || w.isDead()) resolve();
            else w.once('exit', () => resolve());
          }),
      ),
    );
  let resolveStopped: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));
  const stopAll = async () => {
    if (stopping) return;
    stopping = true;
    const exited = everyoneExited();
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    await exited;
    resolveStopped();
  };
  for (let i = 0; i < n; i++) fork(i);
  void stopRequested().then((reason) => {
    log('info', 'shutting down: every worker drains its in-flight requests', { signal: reason });
    void stopAll();
  });
  await stopped;
  log('info', 'stopped: every worker has exited');
  return code;
}
