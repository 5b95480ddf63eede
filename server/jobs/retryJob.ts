import { and, eq, inArray, sql } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import { RETRYABLE_STATUSES } from '../../shared/jobStatus.ts';
import { jobExecutions } from '../db/schema.ts';
import type { JobsDeps } from './deps.ts';
import { checkJob, type JobCheck } from './checkJob.ts';
import { InvalidTransitionError } from './errors.ts';
import { findJobRow, inScope } from './getJob.ts';
import { publishJob } from './publishJob.ts';
import type { Scope } from './scope.ts';
import { transition } from './transition.ts';

/** What a retry sets: a fresh attempt budget and a new publish generation (also applied in bulk, server/ops/bulkJobs.ts). */
export const RETRY_CHANGES = {
  status: 'pending',
  retryCount: 0,
  error: null,
  result: null,
  progress: null,
  progressMessage: null,
  attemptToken: null,
  leaseUntil: null,
  nextAttemptAt: null,
  completedAt: null,
  cancelledAt: null,
  publishGeneration: sql`${jobExecutions.publishGeneration} + 1`,
  publishedAt: null,
  messageId: null,
  runAt: sql`now()`,
  updatedAt: sql`now()`,
} satisfies PgUpdateSetSource<typeof jobExecutions>;

/**
 * Runs a failed or cancelled job again from a fresh attempt budget, as a new publish generation.
 * `check` (the API caller's access to the job's type and payload) runs before the state change.
 */
export async function retryJob(deps: JobsDeps, scope: Scope, jobId: string, check?: JobCheck): Promise<{ jobId: string }> {
  const approved = await checkJob(deps.db, scope, jobId, check);
  const row = await transition(deps.db, async (tx) => {
    const [updated] = await tx
      .update(jobExecutions)
      .set(RETRY_CHANGES)
      .where(and(eq(jobExecutions.id, jobId), inScope(scope), approved, inArray(jobExecutions.status, RETRYABLE_STATUSES)))
      .returning();
    return updated;
  }, 'manual retry');
  if (!row) {
    // Read only to say why: NOT_FOUND (none in scope) or the status that forbids it.
    const current = await findJobRow(deps.db, scope, jobId);
    throw new InvalidTransitionError(`Job ${jobId} is ${current.status}; only failed or cancelled jobs can be retried`);
  }
  deps.log.info({ jobId, type: row.type }, '[jobs] Job retry requested');
  await publishJob(deps, row);
  return { jobId };
}
