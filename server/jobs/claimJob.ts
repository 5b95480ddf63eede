import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { groupOf, type GroupCommit } from '../db/groupCommit.ts';
import { jobExecutions, type JobRow } from '../db/schema.ts';
import { LEASE_MS } from './attempts.ts';
import { isDatabaseUnavailable } from './errors.ts';
import { lockedInOrder, transitionMany, uuidArray } from './transition.ts';

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
  return groupOf(batches, db, (items: Array<{ jobId: string; token: string }>) => claimJobs(db, items), GROUP_LIMITS).submit({ jobId, token });
}

/**
 * Concurrent claims (and completions) share one statement: one commit, one event insert for many.
 * On PGlite, which runs statements one at a time on this thread, the deliveries read in one turn
 * of the event loop go together (a flush started at once would finish before the next delivery is
 * even read); on PostgreSQL, those that arrive while a flush is in flight go together in the next.
 * A grouped statement locks its rows in job-id order first (`lockedInOrder`), as every other
 * several-row writer of job rows does: without that, a claim and a publish stamp sharing rows
 * deadlocked, and each deadlock stalled both for `deadlock_timeout` (1 s).
 *
 * At most 64 in a statement; under load, flushed at the end of the turn (`sameTurn`). A group that failed because the
 * database is away fails each of its callers, which retry on their own; any other failure is
 * retried item by item, so one bad item fails alone.
 */
export const GROUP_LIMITS = { maxItems: 64, sameTurn: true, isolate: (error: unknown) => !isDatabaseUnavailable(error) };

const batches = new WeakMap<Db, GroupCommit<{ jobId: string; token: string }, JobRow | undefined>>();

/**
 * Claims several jobs in one statement (its own transaction), each for its own token; answers,
 * per item and in order, the claimed row or undefined. The rows are found by the primary key
 * (`= ANY` of the ids: an index scan however large the table, where a join on the input alone
 * is planned as a scan of the whole table).
 */
export async function claimJobs(db: Db, items: Array<{ jobId: string; token: string }>): Promise<Array<JobRow | undefined>> {
  const input = JSON.stringify(items.map((i) => ({ job_id: i.jobId, token: i.token })));
  const ids = items.map((i) => i.jobId);
  // In SET, `j.status` and the other columns are the row's values before the update.
  const changed = await transitionMany(
    db,
    sql`UPDATE job_executions AS j SET
          status = 'processing',
          retry_count = CASE WHEN j.status = 'processing' THEN j.retry_count + 1 ELSE j.retry_count END,
          attempt_token = c.token,
          lease_until = now() + least(j.timeout_ms + ${LEASE_GRACE_MS}, ${LEASE_MS}) * interval '1 millisecond',
          started_at = coalesce(j.started_at, now()),
          next_attempt_at = NULL, progress = NULL, progress_message = NULL, updated_at = now()
        FROM jsonb_to_recordset(${input}::text::jsonb) AS c(job_id uuid, token uuid)
        WHERE j.job_id = ANY(${uuidArray(ids)}::uuid[]) AND j.job_id = c.job_id AND ${lockedInOrder(ids)}
          AND (j.status IN ('pending', 'retrying') OR (j.status = 'processing' AND j.lease_until < now() AND j.retry_count < j.max_retries))
        RETURNING j.*`,
  );
  const byToken = new Map(changed.map(({ row }) => [row.attemptToken, row]));
  return items.map((i) => byToken.get(i.token));
}

export async function readJobRow(db: Db, jobId: string): Promise<JobRow | undefined> {
  const [row] = await db.select().from(jobExecutions).where(eq(jobExecutions.id, jobId)).limit(1);
  return row;
}
