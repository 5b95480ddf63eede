import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import { BaseJobMetadata, JobOptions } from '../../shared/jobApi.ts';
import { jobExecutions, type JobRow } from '../db/schema.ts';
import { brokerReachability } from './brokerReachability.ts';
import type { JobsDeps, PublishRequest } from './deps.ts';
import { JobValidationError, toError, toStoredError } from './errors.ts';
import { transition } from './transition.ts';
import { tracePublish } from '../tracing/jobTracing.ts';

const PublishOptions = JobOptions.pick({ callback: true, failureCallback: true, headers: true });

/** The broker request for a row; a JobValidationError when its stored metadata or options no longer parse. */
export function toPublishRequest(row: JobRow): PublishRequest {
  const metadata = BaseJobMetadata.safeParse(row.metadata);
  if (!metadata.success) throw new JobValidationError('Stored metadata no longer parses; the job can never be published', metadata.error.issues, row.id);
  const options = PublishOptions.safeParse(row.publishOptions);
  if (!options.success) throw new JobValidationError('Stored publish options no longer parse; the job can never be published', options.error.issues, row.id);
  return {
    type: row.type,
    deduplicationId: `${row.id}-${row.publishGeneration}`,
    body: { jobId: row.id, type: row.type, payload: row.payload, metadata: metadata.data },
    retries: row.maxRetries,
    timeoutMs: row.timeoutMs,
    ...notBefore(row),
    options: options.data,
  };
}

/** A delayed job, or a retry republished by the sweeper, waits for its time at the broker. */
function notBefore(row: JobRow): { notBefore?: Date } {
  // A retry's own time supersedes the initial delay.
  const due = (row.nextAttemptAt ?? row.runAt).getTime();
  return due > Date.now() ? { notBefore: new Date(due) } : {};
}

/**
 * Hands a committed row to the broker and records the message id. A failure is logged and left
 * for the sweeper (the row keeps `published_at IS NULL`); it never fails the caller.
 */
export async function publishJob(deps: JobsDeps, row: JobRow, opts: { force?: boolean } = {}): Promise<boolean> {
  const log = deps.log.child({ jobId: row.id, jobType: row.type });
  let request: PublishRequest;
  try {
    request = toPublishRequest(row);
  } catch (error) {
    await failUnpublishable(deps, row, error);
    return false;
  }
  let published = false;
  try {
    const { messageId } = await tracePublish(request, (traced) => deps.publisher.publish(traced));
    published = true;
    brokerReachability(deps.publisher).note(true);
    await deps.db
      .update(jobExecutions)
      .set({ messageId, publishedAt: sql`now()` })
      // `force`: the sweeper stamped published_at itself to take the row.
      .where(and(eq(jobExecutions.id, row.id), eq(jobExecutions.publishGeneration, row.publishGeneration), opts.force ? undefined : isNull(jobExecutions.publishedAt)));
    log.debug({ messageId }, '[jobs] Job published');
    return true;
  } catch (error) {
    // The broker refused the message itself (not an outage): publishing it again cannot help.
    if (error instanceof JobValidationError) {
      await failUnpublishable(deps, row, error);
      return false;
    }
    if (!published) brokerReachability(deps.publisher).note(false);
    log.warn({ err: toError(error) }, '[jobs] Failed to publish job; the sweeper will retry');
    return false;
  }
}

/**
 * Fails a row that can never be published, instead of republishing it on every sweep forever.
 * Guarded by status and publish generation: a row that moved on meanwhile is left alone.
 */
async function failUnpublishable(deps: JobsDeps, row: JobRow, error: unknown): Promise<void> {
  const failed = await transition(deps.db, async (tx) => {
    const [updated] = await tx
      .update(jobExecutions)
      .set({ status: 'failed', error: toStoredError(error), completedAt: sql`now()`, nextAttemptAt: null, updatedAt: sql`now()` })
      .where(and(eq(jobExecutions.id, row.id), eq(jobExecutions.publishGeneration, row.publishGeneration), inArray(jobExecutions.status, ['pending', 'retrying'])))
      .returning();
    return updated;
  });
  if (failed) deps.log.error({ jobId: row.id, type: row.type, err: toError(error) }, '[jobs] Job processing failed');
}
