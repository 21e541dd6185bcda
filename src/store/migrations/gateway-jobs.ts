import type { Migration } from './migration.js';

const STATUSES = `'running','done','failed','timed_out'`;

/**
 * Migration 18: the jobs the metering gateway follows (a route whose answer is a job to poll):
 * the job's hold, where it stands and when it is polled next, so a restarted gateway resumes
 * polling. One per hold; a job id once per route (a client's poll finds its job by it).
 */
export const GATEWAY_JOBS: readonly Migration[] = [
  {
    id: 18,
    name: 'gateway jobs',
    sqlite: `
CREATE TABLE gateway_jobs (
  account_id TEXT NOT NULL,
  hold_id TEXT NOT NULL,
  hold_key TEXT NOT NULL,
  route TEXT NOT NULL,
  job_id TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN (${STATUSES})),
  units INTEGER CHECK (units >= 0),
  created_at INTEGER NOT NULL,
  deadline_at INTEGER NOT NULL,
  next_poll_at INTEGER NOT NULL,
  ended_at INTEGER,
  PRIMARY KEY (account_id, hold_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX gateway_jobs_by_job ON gateway_jobs (route, job_id);
CREATE INDEX gateway_jobs_due ON gateway_jobs (next_poll_at) WHERE status = 'running';
`,
    postgres: `
CREATE TABLE gateway_jobs (
  account_id TEXT NOT NULL,
  hold_id TEXT NOT NULL,
  hold_key TEXT NOT NULL,
  route TEXT NOT NULL,
  job_id TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN (${STATUSES})),
  units INTEGER CHECK (units >= 0),
  created_at BIGINT NOT NULL,
  deadline_at BIGINT NOT NULL,
  next_poll_at BIGINT NOT NULL,
  ended_at BIGINT,
  PRIMARY KEY (account_id, hold_id)
);
CREATE UNIQUE INDEX gateway_jobs_by_job ON gateway_jobs (route, job_id);
CREATE INDEX gateway_jobs_due ON gateway_jobs (next_poll_at) WHERE status = 'running';
`,
  },
];
