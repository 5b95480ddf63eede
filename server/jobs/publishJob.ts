import { and, eq, inArray, sql } from 'drizzle-orm';
import { BaseJobMetadata, JobOptions } from '../../shared/jobApi.ts';
import type { Db } from '../db/database.ts';
import { jobExecutions, type JobRow } from '../db/schema.ts';
import { brokerReachability } from './brokerReachability.ts';
import type { JobsDeps, PublishRequest } from './deps.ts';
import { JobValidationError, toError, toStoredError } from './errors.ts';
import { lockedInOrder, transition, uuidArray } from './transition.ts';
import { tracePublish } from '../tracing/jobTracing.ts';

const PublishOptions = JobOptions.pick({ callback: true, failureCallback: true, headers: true });

/** What publishing a job reads of its row (a full row, or what enqueue just inserted). */
export type PublishableRow = Pick<JobRow, 'id' | 'type' | 'payload' | 'metadata' | 'publishOptions' | 'publishGeneration' | 'maxRetries' | 'timeoutMs' | 'runAt' | 'nextAttemptAt' | 'traceContext'> & {
  /**
   * How long until the job is due, by the database's clock when the row was read (enqueue: its
   * delay; the sweeper: computed in its statement). Its times (`run_at`, …) are the database's:
   * compared with this process's clock they would be off by any difference between the two clocks
   * (a step of this host's clock held every job an hour at the broker in the clock-step fault test).
   */
  dueInMs?: number;
};

/** The broker request for a row; a JobValidationError when its stored metadata or options no longer parse. */
export function toPublishRequest(row: PublishableRow): PublishRequest {
  const metadata = BaseJobMetadata.safeParse(row.metadata);
  if (!metadata.success) throw new JobValidationError('Stored metadata no longer parses; the job can never be published', metadata.error.issues, row.id);
  const options = PublishOptions.safeParse(row.publishOptions);
  if (!options.success) throw new JobValidationError('Stored publish options no longer parse; the job can never be published', options.error.issues, row.id);
  return publishRequestOf(row, metadata.data, options.data);
}

/** The broker request for a row whose metadata and options were validated already (enqueue's own). */
export function publishRequestOf(row: PublishableRow, metadata: BaseJobMetadata, options: PublishRequest['options']): PublishRequest {
  return {
    type: row.type,
    deduplicationId: `${row.id}-${row.publishGeneration}`,
    body: { jobId: row.id, type: row.type, payload: row.payload, metadata },
    retries: row.maxRetries,
    timeoutMs: row.timeoutMs,
    ...notBefore(row),
    options,
  };
}

/** A delayed job, or a retry republished by the sweeper, waits for its time at the broker. */
function notBefore(row: PublishableRow): { notBefore?: Date } {
  if (row.dueInMs !== undefined) return row.dueInMs > 0 ? { notBefore: new Date(Date.now() + row.dueInMs) } : {};
  // A retry's own time supersedes the initial delay.
  const due = (row.nextAttemptAt ?? row.runAt).getTime();
  return due > Date.now() ? { notBefore: new Date(due) } : {};
}

/**
 * Hands a committed row to the broker and records the message id. A failure is logged and left
 * for the sweeper (the row keeps `published_at IS NULL`); it never fails the caller.
 */
export async function publishJob(deps: JobsDeps, row: PublishableRow, opts: { force?: boolean } = {}): Promise<boolean> {
  let request: PublishRequest;
  try {
    request = toPublishRequest(row);
  } catch (error) {
    await failUnpublishable(deps, row, error);
    return false;
  }
  let published = false;
  try {
    const { messageId } = await tracePublish(request, (traced) => deps.publisher.publish(traced), row.traceContext);
    published = true;
    brokerReachability(deps.publisher).note(true);
    await stampPublished(deps.db, [{ row, messageId }], opts);
    deps.log.debug({ jobId: row.id, jobType: row.type, messageId }, '[jobs] Job published');
    return true;
  } catch (error) {
    // The broker refused the message itself (not an outage): publishing it again cannot help.
    if (error instanceof JobValidationError) {
      await failUnpublishable(deps, row, error);
      return false;
    }
    if (!published) brokerReachability(deps.publisher).note(false);
    deps.log.warn({ jobId: row.id, jobType: row.type, err: toError(error) }, '[jobs] Failed to publish job; the sweeper will retry');
    return false;
  }
}

/**
 * Records the broker's message ids of published rows, in one statement however many. Fenced by
 * publish generation, and (unless `force`) by `published_at IS NULL`: a row the sweeper took
 * meanwhile is its to confirm. `force`: the sweeper stamped published_at itself to take the row.
 *
 * Its own transaction, committed without waiting for the WAL flush (`synchronous_commit` off for
 * this statement only): the delivery's claim of the same row, sent at about the same time, waits
 * for this row lock, and so would wait for a flush too (~1 ms a job at light load). Nothing is
 * lost that the outbox does not cover: a stamp lost in a database crash leaves the row unpublished
 * and the sweeper publishes it again; the claim absorbs the extra delivery. Never inside a
 * caller's transaction (hence `Db`): the setting would apply to the whole of it.
 */
export async function stampPublished(db: Db, published: readonly { row: Pick<JobRow, 'id' | 'publishGeneration'>; messageId: string }[], opts: { force?: boolean } = {}): Promise<void> {
  if (published.length === 0) return;
  // One JSON document and the ids as one array: one statement text whatever the number of rows.
  const input = JSON.stringify(published.map(({ row, messageId }) => ({ job_id: row.id, generation: row.publishGeneration, message_id: messageId })));
  const ids = published.map(({ row }) => row.id);
  await db.execute(sql`
    UPDATE job_executions AS j SET message_id = v.message_id, published_at = now()
    FROM jsonb_to_recordset(${input}::text::jsonb) AS v (job_id uuid, generation int, message_id text)
    WHERE j.job_id = ANY(${uuidArray(ids)}::uuid[]) AND j.job_id = v.job_id AND j.publish_generation = v.generation ${opts.force ? sql`` : sql`AND j.published_at IS NULL`}
      AND set_config('synchronous_commit', 'off', true) IS NOT NULL AND ${lockedInOrder(ids)}`);
}

/**
 * Fails a row that can never be published, instead of republishing it on every sweep forever.
 * Guarded by status and publish generation: a row that moved on meanwhile is left alone.
 */
export async function failUnpublishable(deps: JobsDeps, row: Pick<JobRow, 'id' | 'type' | 'publishGeneration'>, error: unknown): Promise<void> {
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
