import { and, asc, gt, sql } from 'drizzle-orm';
import type { JobStatus } from '../../shared/jobStatus.ts';
import type { DbOrTx } from '../db/database.ts';
import { jobExecutions } from '../db/schema.ts';
import { inScope } from './getJob.ts';
import type { Scope } from './scope.ts';

/** Failure rate over the last hour at or above which jobs are unhealthy (the seed's 5 %). */
export const UNHEALTHY_FAILURE_RATE = 0.05;

export interface JobHealth {
  /** Jobs created in the last hour, per status (statuses without jobs are left out). */
  stats: { status: JobStatus; count: number }[];
  /** Failed jobs / all jobs of the last hour; 0 when there were none. */
  failureRate: number;
  totalJobs: number;
  health: 'healthy' | 'unhealthy';
}

/**
 * The seed's job-health check over jobs created in the last hour. A range scan of
 * job_executions_org_created_idx for one organization, of job_executions_created_at_idx for all.
 */
export async function jobHealth(db: DbOrTx, scope: Scope): Promise<JobHealth> {
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
  return { stats, failureRate, totalJobs, health: failureRate >= UNHEALTHY_FAILURE_RATE ? 'unhealthy' : 'healthy' };
}
