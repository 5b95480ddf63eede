import { eq, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../db/database.ts';
import { jobExecutions, type JobRow } from '../db/schema.ts';
import { findJobRow } from './getJob.ts';
import type { Scope } from './scope.ts';

/** A caller's check on the job it acts on (e.g. a member's job-type and payload access); throws to refuse. */
export type JobCheck = (job: Pick<JobRow, 'type' | 'payload'>) => void;

/**
 * Runs `check` on the job in scope (NOT_FOUND outside it, so nothing leaks across organizations)
 * and returns a filter on the type it approved, for the guarded statement that follows. A job's
 * type and payload never change after creation; the filter pins the approval to the row anyway.
 */
export async function checkJob(db: DbOrTx, scope: Scope, jobId: string, check: JobCheck | undefined): Promise<SQL | undefined> {
  if (!check) return undefined;
  const job = await findJobRow(db, scope, jobId);
  check(job);
  return eq(jobExecutions.type, job.type);
}
