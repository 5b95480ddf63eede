import { sql } from 'drizzle-orm';
import { TERMINAL_STATUSES } from '../../shared/jobStatus.ts';
import { queryRows, type Db } from '../db/database.ts';

export interface BatchedDelete {
  /** Delete rows older than this. */
  cutoff: Date;
  /** Only this organization's rows; undefined for every organization (system cleanup). */
  organizationId: number | undefined;
  /** Rows per statement. Default 1,000. */
  batchSize?: number;
  signal?: AbortSignal;
}

const terminal = sql.raw(TERMINAL_STATUSES.map((s) => `'${s}'`).join(', '));

/**
 * Deletes terminal jobs finished before the cutoff, and their events, one batch per statement:
 * each statement is its own short transaction, so no lock is held across batches. Rows another
 * transaction holds (a concurrent retry) are skipped, not waited for.
 */
export async function deleteOldJobs(db: Db, opts: BatchedDelete): Promise<{ jobsDeleted: number; eventsDeleted: number }> {
  const batchSize = opts.batchSize ?? 1_000;
  const byOrg = opts.organizationId === undefined ? sql`` : sql`AND organization_id = ${opts.organizationId}`;
  let jobsDeleted = 0;
  let eventsDeleted = 0;
  for (;;) {
    opts.signal?.throwIfAborted();
    // Events are deleted explicitly (not left to ON DELETE CASCADE) so they can be counted.
    const [batch] = await queryRows<{ jobs: number; events: number }>(db, sql`
      WITH doomed AS (
        SELECT job_id FROM job_executions
        WHERE status IN (${terminal}) AND completed_at < ${opts.cutoff.toISOString()}::timestamptz ${byOrg}
        LIMIT ${batchSize} FOR UPDATE SKIP LOCKED
      ),
      events AS (DELETE FROM job_events WHERE job_id IN (SELECT job_id FROM doomed) RETURNING 1),
      jobs AS (DELETE FROM job_executions WHERE job_id IN (SELECT job_id FROM doomed) RETURNING 1)
      SELECT (SELECT count(*) FROM jobs)::int AS jobs, (SELECT count(*) FROM events)::int AS events`);
    jobsDeleted += batch?.jobs ?? 0;
    eventsDeleted += batch?.events ?? 0;
    if ((batch?.jobs ?? 0) < batchSize) return { jobsDeleted, eventsDeleted };
  }
}
