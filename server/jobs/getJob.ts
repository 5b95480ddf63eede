import { and, eq, type SQL } from 'drizzle-orm';
import type { JobView } from '../../shared/jobApi.ts';
import type { DbOrTx } from '../db/database.ts';
import { jobExecutions, type JobRow } from '../db/schema.ts';
import { JobNotFoundError } from './errors.ts';
import { toJobView } from './jobView.ts';
import { ALL_ORGANIZATIONS, type Scope } from './scope.ts';

/** The organization filter of a scope; another organization's job simply isn't found. */
export function inScope(scope: Scope): SQL | undefined {
  return scope === ALL_ORGANIZATIONS ? undefined : eq(jobExecutions.organizationId, scope.organizationId);
}

export async function findJobRow(db: DbOrTx, scope: Scope, jobId: string): Promise<JobRow> {
  const [row] = await db
    .select()
    .from(jobExecutions)
    .where(and(eq(jobExecutions.id, jobId), inScope(scope)))
    .limit(1);
  if (!row) throw new JobNotFoundError('job', jobId);
  return row;
}

/** NOT_FOUND unless the job exists in scope; reads only its id. */
export async function assertJobInScope(db: DbOrTx, scope: Scope, jobId: string): Promise<void> {
  const [row] = await db.select({ id: jobExecutions.id }).from(jobExecutions).where(and(eq(jobExecutions.id, jobId), inScope(scope))).limit(1);
  if (!row) throw new JobNotFoundError('job', jobId);
}

export async function getJob(db: DbOrTx, scope: Scope, jobId: string): Promise<JobView> {
  return toJobView(await findJobRow(db, scope, jobId));
}
