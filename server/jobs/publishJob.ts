import { and, eq, isNull, sql } from 'drizzle-orm';
import { JobMetadata } from '../../shared/jobApi.ts';
import { jobExecutions, type JobRow } from '../db/schema.ts';
import type { JobsDeps, PublishRequest } from './deps.ts';
import { toError } from './errors.ts';

export function toPublishRequest(row: JobRow): PublishRequest {
  return {
    type: row.type,
    deduplicationId: `${row.id}-${row.publishGeneration}`,
    body: { jobId: row.id, type: row.type, payload: row.payload, metadata: JobMetadata.parse(row.metadata) },
    retries: row.maxRetries,
    timeoutMs: row.timeoutMs,
    ...notBefore(row),
    options: row.publishOptions as PublishRequest['options'], // written only by enqueueJob from parsed JobOptions
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
  try {
    const { messageId } = await deps.publisher.publish(toPublishRequest(row));
    await deps.db
      .update(jobExecutions)
      .set({ messageId, publishedAt: sql`now()` })
      // `force`: the sweeper stamped published_at itself to take the row.
      .where(and(eq(jobExecutions.id, row.id), eq(jobExecutions.publishGeneration, row.publishGeneration), opts.force ? undefined : isNull(jobExecutions.publishedAt)));
    log.debug({ messageId }, '[jobs] Job published');
    return true;
  } catch (error) {
    log.warn({ err: toError(error) }, '[jobs] Failed to publish job; the sweeper will retry');
    return false;
  }
}
