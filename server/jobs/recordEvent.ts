import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/database.ts';
import { jobEvents, type JobRow } from '../db/schema.ts';

/** Channel every job event is announced on; subscribers re-read the event row by id. */
export const JOB_EVENTS_CHANNEL = 'jobwire_job_events';

/**
 * Appends the row's current state to its timeline and announces it. Call inside the
 * transaction that changed the row, so the event and the NOTIFY commit with the change.
 */
export async function recordEvent(tx: DbOrTx, row: JobRow, message?: string): Promise<number> {
  const [event] = await tx
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
    .returning({ id: jobEvents.id });
  // `returning` always yields the inserted row.
  const eventId = event!.id;
  const note = JSON.stringify({ eventId, jobId: row.id, organizationId: row.organizationId });
  await tx.execute(sql`SELECT pg_notify(${JOB_EVENTS_CHANNEL}, ${note})`);
  return eventId;
}
