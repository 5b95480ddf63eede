import { and, eq, inArray, sql } from 'drizzle-orm';
import type { JobStatus } from '../../shared/jobStatus.ts';
import { jobExecutions, type JobRow } from '../db/schema.ts';
import type { JobsDeps } from './deps.ts';
import { InvalidTransitionError, toError, toStoredError } from './errors.ts';
import { findJobRow } from './getJob.ts';
import { ALL_ORGANIZATIONS } from './scope.ts';
import { transition } from './transition.ts';

export type ManualSettlement =
  | { status: 'completed'; result?: unknown; completedAt?: Date | undefined }
  | { status: 'failed'; error?: string | undefined; completedAt?: Date | undefined };

/**
 * Statuses a job may be settled by hand from: any not settled yet. Settling a processing job
 * clears its attempt token, so the running attempt's own settle matches nothing.
 */
export const MANUALLY_SETTLEABLE_STATUSES = ['pending', 'retrying', 'processing'] as const satisfies readonly JobStatus[];

/** Completes or fails an unsettled job by hand (the seed's `updateJobExecution(id, { status: 'completed' })`). */
export async function settleManually(deps: JobsDeps, jobId: string, settlement: ManualSettlement): Promise<JobRow> {
  const t = jobExecutions;
  const outcome =
    settlement.status === 'completed'
      ? { status: 'completed' as const, result: settlement.result ?? null, error: null, progress: 1 }
      : { status: 'failed' as const, error: toStoredError(settlement.error ?? 'Marked failed by hand') };
  const row = await transition(
    deps.db,
    deps.db
      .update(t)
      .set({ ...outcome, completedAt: settlement.completedAt ?? sql`now()`, attemptToken: null, leaseUntil: null, nextAttemptAt: null, updatedAt: sql`now()` })
      .where(and(eq(t.id, jobId), inArray(t.status, MANUALLY_SETTLEABLE_STATUSES))),
    `manually ${settlement.status}`,
  );
  if (!row) {
    // Read only to say why: NOT_FOUND, or the status that forbids it.
    const current = await findJobRow(deps.db, ALL_ORGANIZATIONS, jobId);
    throw new InvalidTransitionError(`Job ${jobId} is ${current.status}; only pending, retrying or processing jobs can be marked ${settlement.status}`, jobId);
  }
  deps.log.info({ jobId, type: row.type, status: row.status }, '[jobs] Job settled by hand');
  // A delivery that still arrives finds the job settled and does nothing.
  if (row.messageId) await deps.publisher.cancel(row.messageId).catch((e: unknown) => deps.log.debug({ err: toError(e) }, '[jobs] Broker cancel failed'));
  return row;
}
