import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { jobExecutions, type JobRow } from '../db/schema.ts';
import { LEASE_MS } from './attempts.ts';
import { transition } from './transition.ts';

/** Time past a handler's limit before its lease lapses and another delivery may take over. */
export const LEASE_GRACE_MS = 5_000;

/**
 * Takes the job for one attempt: pending or retrying, or processing under a lapsed lease with
 * attempts left (the attempt that held it crashed, which counts as a failed attempt; a lapsed
 * last attempt is the sweeper's to fail). At most one attempt holds a live lease; `token`
 * fences its settle statements. The lease is short (`LEASE_MS`, at most the handler's limit plus
 * grace) and renewed while the attempt runs (attempts.ts), so a dead process frees its jobs quickly.
 */
export async function claimJob(db: Db, jobId: string, token: string): Promise<JobRow | undefined> {
  // Raw SQL: every delivery runs it, and drizzle's builder costs more to build than this to send.
  // In SET, `status` and the other columns are the row's values before the update.
  return transition(
    db,
    sql`UPDATE job_executions SET
          status = 'processing',
          retry_count = CASE WHEN status = 'processing' THEN retry_count + 1 ELSE retry_count END,
          attempt_token = ${token},
          lease_until = now() + least(timeout_ms + ${LEASE_GRACE_MS}, ${LEASE_MS}) * interval '1 millisecond',
          started_at = coalesce(started_at, now()),
          next_attempt_at = NULL, progress = NULL, progress_message = NULL, updated_at = now()
        WHERE job_id = ${jobId}
          AND (status IN ('pending', 'retrying') OR (status = 'processing' AND lease_until < now() AND retry_count < max_retries))
        RETURNING *`,
  );
}

export async function readJobRow(db: Db, jobId: string): Promise<JobRow | undefined> {
  const [row] = await db.select().from(jobExecutions).where(eq(jobExecutions.id, jobId)).limit(1);
  return row;
}
