import { and, eq, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { groupOf, type GroupCommit } from '../db/groupCommit.ts';
import { jobExecutions, type JobRow, type StoredError } from '../db/schema.ts';
import { GROUP_LIMITS } from './claimJob.ts';
import { lockedInOrder, transition, transitionMany, uuidArray } from './transition.ts';

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
  // Stored as JSON text now: a result that cannot be (a BigInt, a cycle) fails this call alone.
  const completion = { jobId, token, stored: result === undefined || result === null ? 'null' : (JSON.stringify(result) ?? 'null') };
  return groupOf(completions, db, (items: Completion[]) => completeJobs(db, items), { ...GROUP_LIMITS, maxWeight: 4 << 20, weigh: (c: Completion) => c.stored.length }).submit(completion);
}

interface Completion {
  jobId: string;
  token: string;
  /** The result as JSON text. */
  stored: string;
}

/** Concurrent completions share one statement, as claims do (claimJob.ts). */
const completions = new WeakMap<Db, GroupCommit<Completion, JobRow | undefined>>();

/**
 * Completes several attempts in one statement (its own transaction), each fenced by its token as
 * `heldBy`, the rows found by primary key as claims are (claimJobs); answers, per item and in
 * order, the completed row or undefined (stale attempt).
 */
export async function completeJobs(db: Db, items: Completion[]): Promise<Array<JobRow | undefined>> {
  // Built as text: each result is already JSON, so it is not parsed and stringified again.
  const input = `[${items
    .map((c) => `{"job_id":${JSON.stringify(c.jobId)},"token":${JSON.stringify(c.token)},"result":${c.stored}}`)
    .join(',')}]`;
  const ids = items.map((c) => c.jobId);
  const changed = await transitionMany(
    db,
    sql`UPDATE job_executions AS j SET
          status = 'completed', result = c.result, error = NULL, progress = 1, completed_at = now(),
          attempt_token = NULL, lease_until = NULL, updated_at = now()
        FROM jsonb_to_recordset(${input}::text::jsonb) AS c(job_id uuid, token uuid, result jsonb)
        WHERE j.job_id = ANY(${uuidArray(ids)}::uuid[]) AND j.job_id = c.job_id AND j.status = 'processing' AND j.attempt_token = c.token
          AND ${lockedInOrder(ids)}
        RETURNING j.*, c.token::text AS completed_token`,
  );
  const byToken = new Map(changed.map(({ row, raw }) => [raw.completed_token as string, row]));
  return items.map((c) => byToken.get(c.token));
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
