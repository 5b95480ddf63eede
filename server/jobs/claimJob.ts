import { and, eq, inArray, lt, or, sql } from 'drizzle-orm';
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
  const t = jobExecutions;
  return transition(db, async (tx) => {
    const [row] = await tx
      .update(t)
      .set({
        status: 'processing',
        retryCount: sql`CASE WHEN ${t.status} = 'processing' THEN ${t.retryCount} + 1 ELSE ${t.retryCount} END`,
        attemptToken: token,
        leaseUntil: sql`now() + least(${t.timeoutMs} + ${LEASE_GRACE_MS}, ${LEASE_MS}) * interval '1 millisecond'`,
        startedAt: sql`coalesce(${t.startedAt}, now())`,
        nextAttemptAt: null,
        progress: null,
        progressMessage: null,
        updatedAt: sql`now()`,
      })
      .where(
        and(
          eq(t.id, jobId),
          or(inArray(t.status, ['pending', 'retrying']), and(eq(t.status, 'processing'), lt(t.leaseUntil, sql`now()`), lt(t.retryCount, t.maxRetries))),
        ),
      )
      .returning();
    return row;
  });
}

export async function readJobRow(db: Db, jobId: string): Promise<JobRow | undefined> {
  const [row] = await db.select().from(jobExecutions).where(eq(jobExecutions.id, jobId)).limit(1);
  return row;
}
