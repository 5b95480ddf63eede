import { and, eq, inArray, sql } from 'drizzle-orm';
import { CANCELLABLE_STATUSES } from '../../shared/jobStatus.ts';
import { jobExecutions } from '../db/schema.ts';
import { checkJob, type JobCheck } from '../jobs/checkJob.ts';
import type { JobsDeps } from '../jobs/deps.ts';
import { InvalidTransitionError, toError } from '../jobs/errors.ts';
import { findJobRow, inScope } from '../jobs/getJob.ts';
import { publishJob } from '../jobs/publishJob.ts';
import type { Scope } from '../jobs/scope.ts';
import { transition } from '../jobs/transition.ts';

/**
 * Runs a waiting job at once: a delayed job before its time, or a retrying job before its
 * backoff ends. The job keeps its attempts so far; it is republished as a new generation with
 * no delay, and the message that was waiting at the broker is withdrawn (a late delivery of it
 * would find the generation moved on, or the job done).
 */
export async function runJobNow(deps: JobsDeps, scope: Scope, jobId: string, check?: JobCheck): Promise<{ jobId: string }> {
  const approved = await checkJob(deps.db, scope, jobId, check);
  const t = jobExecutions;
  let previousMessageId: string | null = null;
  const row = await transition(deps.db, async (tx) => {
    const [before] = await tx.select({ messageId: t.messageId }).from(t).where(eq(t.id, jobId)).for('update');
    previousMessageId = before?.messageId ?? null;
    const [updated] = await tx
      .update(t)
      .set({ runAt: sql`now()`, nextAttemptAt: null, publishGeneration: sql`${t.publishGeneration} + 1`, publishedAt: null, messageId: null, updatedAt: sql`now()` })
      .where(and(eq(t.id, jobId), inScope(scope), approved, inArray(t.status, CANCELLABLE_STATUSES)))
      .returning();
    return updated;
  }, 'run now');
  if (!row) {
    const current = await findJobRow(deps.db, scope, jobId);
    throw new InvalidTransitionError(`Job ${jobId} is ${current.status}; only pending or retrying jobs can be run now`);
  }
  deps.log.info({ jobId, type: row.type }, '[jobs] Job run now');
  const stale = previousMessageId as string | null; // assigned inside the transaction above
  if (stale) await deps.publisher.cancel(stale).catch((e: unknown) => deps.log.debug({ err: toError(e) }, '[jobs] Broker cancel failed'));
  await publishJob(deps, row);
  return { jobId };
}
