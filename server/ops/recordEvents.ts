import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/database.ts';
import { JOB_EVENTS_CHANNEL } from '../jobs/recordEvent.ts';

/** `IN (…)` over many ids as one parameter: far cheaper than one parameter per id. */
export const idList = (ids: readonly string[]) => sql`(SELECT jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb)::uuid)`;

/**
 * `recordEvent` for a batch of jobs changed in this transaction: each job's current state
 * appended to its timeline and announced, in one statement instead of two per job.
 */
export async function recordEvents(tx: DbOrTx, jobIds: readonly string[], message: string): Promise<void> {
  if (jobIds.length === 0) return;
  await tx.execute(sql`
    WITH inserted AS (
      INSERT INTO job_events (job_id, organization_id, type, status, progress, message, retry_count, max_retries, next_attempt_at, error, result)
      SELECT job_id, organization_id, job_type, status, progress, ${message}, retry_count, max_retries, next_attempt_at, error,
             CASE WHEN status = 'completed' THEN result END
      FROM job_executions WHERE job_id IN ${idList(jobIds)}
      ORDER BY created_at, job_id
      RETURNING id, job_id, organization_id
    )
    SELECT count(pg_notify(${JOB_EVENTS_CHANNEL}, json_build_object('eventId', id, 'jobId', job_id, 'organizationId', organization_id)::text)) FROM inserted`);
}
