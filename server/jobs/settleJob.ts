import { and, eq, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { jobExecutions, type JobRow, type StoredError } from '../db/schema.ts';
import { transition } from './transition.ts';

/** Only the attempt holding `token` may settle: a stale attempt's settle matches no row. */
const heldBy = (jobId: string, token: string) =>
  and(eq(jobExecutions.id, jobId), eq(jobExecutions.status, 'processing'), eq(jobExecutions.attemptToken, token));

const released = { attemptToken: null, leaseUntil: null, updatedAt: sql`now()` } as const;

/**
 * The SET of a failed attempt, shared by a worker's settle and the sweeper's lease expiry:
 * `failed` when `exhausted`, else `retrying` at `nextAttemptAt` with one more failed attempt.
 */
export function failedAttemptSet(exhausted: SQL, nextAttemptAt: SQL, error: StoredError) {
  const t = jobExecutions;
  return {
    ...released,
    error,
    status: sql`CASE WHEN ${exhausted} THEN 'failed' ELSE 'retrying' END`,
    retryCount: sql`CASE WHEN ${exhausted} THEN ${t.retryCount} ELSE ${t.retryCount} + 1 END`,
    nextAttemptAt: sql`CASE WHEN ${exhausted} THEN NULL ELSE ${nextAttemptAt} END`,
    completedAt: sql`CASE WHEN ${exhausted} THEN now() ELSE NULL END`,
  };
}

export async function completeJob(db: Db, jobId: string, token: string, result: unknown): Promise<JobRow | undefined> {
  // Raw SQL, like the claim: every delivery that succeeds runs it. Fenced as `heldBy`.
  const stored = result === undefined || result === null ? null : (JSON.stringify(result) ?? null);
  return transition(
    db,
    sql`UPDATE job_executions SET
          status = 'completed', result = ${stored}::jsonb, error = NULL, progress = 1, completed_at = now(),
          attempt_token = NULL, lease_until = NULL, updated_at = now()
        WHERE job_id = ${jobId} AND status = 'processing' AND attempt_token = ${token}
        RETURNING *`,
  );
}

/** A failed attempt: `retrying` with its next attempt time, or `failed` when no attempts are left. */
export async function failAttempt(
  db: Db,
  input: { jobId: string; token: string; error: StoredError; permanent: boolean; nextAttemptAt: Date },
): Promise<JobRow | undefined> {
  const t = jobExecutions;
  const exhausted = input.permanent ? sql`true` : sql`${t.retryCount} >= ${t.maxRetries}`;
  return transition(
    db,
    db
      .update(t)
      .set(failedAttemptSet(exhausted, sql`${input.nextAttemptAt.toISOString()}::timestamptz`, input.error))
      .where(heldBy(input.jobId, input.token)),
  );
}

/**
 * Gives the job back without counting the attempt: the handler failed because the database was
 * away, which says nothing about the job. `retrying` again at `nextAttemptAt`, same retry count;
 * with `republish` the row is also left for the sweeper to publish afresh (the broker's message
 * has no retries left).
 */
export async function releaseAttempt(
  db: Db,
  input: { jobId: string; token: string; nextAttemptAt: Date; republish: boolean },
): Promise<JobRow | undefined> {
  const t = jobExecutions;
  return transition(
    db,
    db
      .update(t)
      .set({
        ...released,
        status: 'retrying',
        nextAttemptAt: sql`${input.nextAttemptAt.toISOString()}::timestamptz`,
        ...(input.republish ? { publishedAt: null, publishGeneration: sql`${t.publishGeneration} + 1` } : {}),
      })
      .where(heldBy(input.jobId, input.token)),
    'database unavailable during the attempt; not counted',
  );
}

/** Persists a handler's progress report; emitted as an event like any other change. */
export async function reportProgress(
  db: Db,
  input: { jobId: string; token: string; fraction: number; message?: string | undefined },
): Promise<JobRow | undefined> {
  return transition(
    db,
    db
      .update(jobExecutions)
      .set({ progress: input.fraction, progressMessage: input.message ?? null, updatedAt: sql`now()` })
      .where(heldBy(input.jobId, input.token)),
    input.message,
  );
}
