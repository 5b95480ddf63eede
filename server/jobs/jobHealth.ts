import { and, asc, gt, sql, type SQL } from 'drizzle-orm';
import type { JobStatus } from '../../shared/jobStatus.ts';
import { queryRows, type DbOrTx } from '../db/database.ts';
import { jobExecutions } from '../db/schema.ts';
import { inScope } from './getJob.ts';
import type { Scope } from './scope.ts';

/** Failure rate over the last hour at or above which jobs are unhealthy (the seed's 5 %). */
export const UNHEALTHY_FAILURE_RATE = 0.05;

/** When each signal turns unhealthy. */
export interface JobHealthThresholds {
  /** Failed / all jobs created in the last hour. Default 0.05 (the seed's 5 %). */
  failureRate?: number;
  /** How long past its lease a `processing` job is stuck (its worker died and the sweeper has not retried it). Default 1 min. */
  stuckAfterMs?: number;
  /** How long past due a waiting job counts as waiting, for "nothing completed in the last hour while jobs wait". Default 5 min. */
  waitingAfterMs?: number;
  /** How old an unpublished job may be before the outbox counts as backed up. Default 1 min. */
  outboxMaxAgeMs?: number;
}

export interface JobHealth {
  /** Jobs created in the last hour, per status (statuses without jobs are left out). */
  stats: { status: JobStatus; count: number }[];
  /** Failed jobs / all jobs of the last hour; 0 when there were none. */
  failureRate: number;
  totalJobs: number;
  /** `unhealthy` when any signal is; `causes` says which, in words. */
  health: 'healthy' | 'unhealthy';
  causes: string[];
  signals: {
    failureRate: { value: number; threshold: number; healthy: boolean };
    stuckProcessing: { count: number; healthy: boolean };
    waitingWithoutCompletions: { waiting: number; completedInLastHour: boolean; healthy: boolean };
    outboxBacklog: { unpublished: number; oldestSeconds: number; healthy: boolean };
  };
}

const DEFAULTS: Required<JobHealthThresholds> = { failureRate: UNHEALTHY_FAILURE_RATE, stuckAfterMs: 60_000, waitingAfterMs: 5 * 60_000, outboxMaxAgeMs: 60_000 };

const percent = (rate: number) => `${Math.round(rate * 1000) / 10} %`;
const duration = (ms: number) => (ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`);
const jobs = (n: number) => `${n} job${n === 1 ? '' : 's'}`;

/**
 * The seed's job-health check over jobs created in the last hour, and the signals that something
 * is wrong beyond failures: attempts stuck past their lease, jobs waiting while nothing completes,
 * jobs the outbox has not handed to the broker. Each query reads an index range: the last hour
 * (job_executions_org_created_idx / _created_at_idx), the unfinished statuses
 * (_not_completed_idx), the latest completion (_finished_idx).
 */
export async function jobHealth(db: DbOrTx, scope: Scope, thresholds: JobHealthThresholds = {}): Promise<JobHealth> {
  const limits = { ...DEFAULTS, ...thresholds };
  const t = jobExecutions;
  const stats = await db
    .select({ status: t.status, count: sql<number>`count(*)::int` })
    .from(t)
    .where(and(gt(t.createdAt, sql`now() - interval '1 hour'`), inScope(scope)))
    .groupBy(t.status)
    .orderBy(asc(t.status));
  const totalJobs = stats.reduce((sum, s) => sum + s.count, 0);
  const failed = stats.find((s) => s.status === 'failed')?.count ?? 0;
  const failureRate = totalJobs === 0 ? 0 : failed / totalJobs;

  const scoped: SQL = inScope(scope) ?? sql`true`;
  const [row] = await queryRows<{ stuck: number; waiting: number; completed: boolean; unpublished: number; oldest: number | string | null }>(
    db,
    sql`SELECT
      (SELECT count(*)::int FROM job_executions WHERE status = 'processing' AND lease_until < now() - ${limits.stuckAfterMs} * interval '1 millisecond' AND ${scoped}) AS stuck,
      (SELECT count(*)::int FROM job_executions WHERE status IN ('pending', 'retrying') AND coalesce(next_attempt_at, run_at) < now() - ${limits.waitingAfterMs} * interval '1 millisecond' AND ${scoped}) AS waiting,
      EXISTS (SELECT 1 FROM job_executions WHERE status = 'completed' AND completed_at > now() - interval '1 hour' AND ${scoped}) AS completed,
      (SELECT count(*)::int FROM job_executions WHERE status IN ('pending', 'retrying') AND published_at IS NULL AND updated_at < now() - ${limits.outboxMaxAgeMs} * interval '1 millisecond' AND ${scoped}) AS unpublished,
      (SELECT extract(epoch FROM now() - min(updated_at))::float8 FROM job_executions WHERE status IN ('pending', 'retrying') AND published_at IS NULL AND ${scoped}) AS oldest`,
  );
  const stuck = row?.stuck ?? 0;
  const waiting = row?.waiting ?? 0;
  const completed = row?.completed === true;
  const unpublished = row?.unpublished ?? 0;
  const oldestSeconds = Math.max(0, Number(row?.oldest ?? 0));

  const signals: JobHealth['signals'] = {
    failureRate: { value: failureRate, threshold: limits.failureRate, healthy: failureRate < limits.failureRate },
    stuckProcessing: { count: stuck, healthy: stuck === 0 },
    waitingWithoutCompletions: { waiting, completedInLastHour: completed, healthy: waiting === 0 || completed },
    outboxBacklog: { unpublished, oldestSeconds, healthy: unpublished === 0 },
  };
  const causes: string[] = [];
  if (!signals.failureRate.healthy) causes.push(`${failed} of ${jobs(totalJobs)} created in the last hour failed (${percent(failureRate)}; unhealthy from ${percent(limits.failureRate)})`);
  if (!signals.stuckProcessing.healthy) causes.push(`${jobs(stuck)} still processing more than ${duration(limits.stuckAfterMs)} past ${stuck === 1 ? 'its' : 'their'} lease: the worker stopped and the sweeper has not retried ${stuck === 1 ? 'it' : 'them'} (is the sweeper running?)`);
  if (!signals.waitingWithoutCompletions.healthy) causes.push(`${jobs(waiting)} waiting more than ${duration(limits.waitingAfterMs)} past due, and no job completed in the last hour (is the broker delivering to the worker routes?)`);
  if (!signals.outboxBacklog.healthy) causes.push(`${jobs(unpublished)} not handed to the broker for more than ${duration(limits.outboxMaxAgeMs)}, the oldest for ${duration(oldestSeconds * 1000)} (is the broker reachable?)`);
  return { stats, failureRate, totalJobs, health: causes.length === 0 ? 'healthy' : 'unhealthy', causes, signals };
}
