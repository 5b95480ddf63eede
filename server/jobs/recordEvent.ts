import { sql, type SQL } from 'drizzle-orm';
import { queryRows, type DbOrTx } from '../db/database.ts';
import { jobEvents, type JobRow } from '../db/schema.ts';

/** Channel every job event is announced on; subscribers re-read the event row by id. */
export const JOB_EVENTS_CHANNEL = 'jobwire_job_events';

/** The job_events columns a state change fills, in the order `transition` selects them. */
export const JOB_EVENT_COLUMNS = sql.raw(
  'job_id, organization_id, type, status, progress, message, retry_count, max_retries, next_attempt_at, error, result',
);

/**
 * The NOTIFY of the inserted events named `events` (rows with `id`, `job_id`, `organization_id`):
 * `{ eventId, jobId, organizationId }`, what the event hub (eventHub.ts) reads.
 */
export const eventNotice = (events: SQL) =>
  sql`pg_notify(${JOB_EVENTS_CHANNEL}, json_build_object('eventId', ${events}.id, 'jobId', ${events}.job_id, 'organizationId', ${events}.organization_id)::text)`;

/**
 * Appends the row's current state to its timeline and announces it, in one statement. Call inside
 * the transaction that changed the row, so the event and the NOTIFY commit with the change.
 */
export async function recordEvent(tx: DbOrTx, row: JobRow, message?: string): Promise<number> {
  const insert = tx
    .insert(jobEvents)
    .values({
      jobId: row.id,
      organizationId: row.organizationId,
      type: row.type,
      status: row.status,
      progress: row.progress,
      message: message ?? null,
      retryCount: row.retryCount,
      maxRetries: row.maxRetries,
      nextAttemptAt: row.nextAttemptAt,
      error: row.error,
      result: row.status === 'completed' ? row.result : null,
    })
    .returning({ id: jobEvents.id, jobId: jobEvents.jobId, organizationId: jobEvents.organizationId });
  const [event] = await queryRows<{ id: number | string }>(tx, sql`WITH event AS ${insert} SELECT id, ${eventNotice(sql`event`)} AS notified FROM event`);
  // The insert always yields its row; bigserial ids come back as strings from postgres.js.
  return Number(event!.id);
}
