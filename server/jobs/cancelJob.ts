import { and, eq, inArray, sql } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import { CANCELLABLE_STATUSES } from '../../shared/jobStatus.ts';
import { jobExecutions } from '../db/schema.ts';
import type { JobsDeps } from './deps.ts';
import { checkJob, type JobCheck } from './checkJob.ts';
import { InvalidTransitionError, toError } from './errors.ts';
import { findJobRow, inScope } from './getJob.ts';
import type { Scope } from './scope.ts';
import { transition } from './transition.ts';

/** What a cancel sets (also applied in bulk, server/ops/bulkJobs.ts). */
export const CANCEL_CHANGES = { status: 'cancelled', cancelledAt: sql`now()`, completedAt: sql`now()`, nextAttemptAt: null, updatedAt: sql`now()` } satisfies PgUpdateSetSource<typeof jobExecutions>;

/**
 * Cancels a pending or retrying job, and withdraws its message from the broker (best effort).
 * `check` (the API caller's access to the job's type and payload) runs before the state change.
 */
export async function cancelJob(deps: JobsDeps, scope: Scope, jobId: string, check?: JobCheck): Promise<{ jobId: string }> {
  const approved = await checkJob(deps.db, scope, jobId, check);
  const row = await transition(deps.db, async (tx) => {
    const [updated] = await tx
      .update(jobExecutions)
      .set(CANCEL_CHANGES)
      .where(and(eq(jobExecutions.id, jobId), inScope(scope), approved, inArray(jobExecutions.status, CANCELLABLE_STATUSES)))
      .returning();
    return updated;
  });
  if (!row) {
    // Read only to say why: NOT_FOUND (none in scope) or the status that forbids it.
    const current = await findJobRow(deps.db, scope, jobId);
    throw new InvalidTransitionError(`Job ${jobId} is ${current.status}; only pending or retrying jobs can be cancelled`);
  }
  deps.log.info({ jobId, type: row.type }, '[jobs] Job cancelled');
  // A delivery that still arrives finds the job cancelled and does nothing.
  if (row.messageId) await deps.publisher.cancel(row.messageId).catch((e: unknown) => deps.log.debug({ err: toError(e) }, '[jobs] Broker cancel failed'));
  return { jobId };
}
