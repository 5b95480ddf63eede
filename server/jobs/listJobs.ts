import { and, desc, eq, lt, or, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { MAX_TIMESTAMP, MIN_TIMESTAMP, type JobView, type ListJobsInput } from '../../shared/jobApi.ts';
import { jobFilterConditions, type JobFilter } from '../ops/jobFilter.ts';
import type { DbOrTx } from '../db/database.ts';
import { jobExecutions } from '../db/schema.ts';
import { JobValidationError } from './errors.ts';
import { inScope } from './getJob.ts';
import { toJobView } from './jobView.ts';
import type { Scope } from './scope.ts';

// `c` within the range a query can hold: a forged cursor is a 400, never a failed query.
const Cursor = z.object({ c: z.number().int().min(MIN_TIMESTAMP.getTime()).max(MAX_TIMESTAMP.getTime()), i: z.uuid() });

function encodeCursor(job: JobView): string {
  return Buffer.from(JSON.stringify({ c: job.createdAt.getTime(), i: job.jobId })).toString('base64url');
}

function decodeCursor(cursor: string): z.infer<typeof Cursor> {
  try {
    return Cursor.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new JobValidationError('Invalid cursor', [{ path: ['cursor'], message: 'not a cursor returned by jobs.list' }]);
  }
}

/**
 * Newest first, keyset-paginated on (created_at, id). `errorText` and `organizationId` (the
 * operator's filter; the API checks who may give it) narrow within the scope.
 */
export async function listJobs(
  db: DbOrTx,
  scope: Scope,
  input: z.output<typeof ListJobsInput> & Pick<JobFilter, 'errorText' | 'organizationId'>,
): Promise<{ items: JobView[]; nextCursor: string | null }> {
  const t = jobExecutions;
  const filters: (SQL | undefined)[] = [inScope(scope), ...jobFilterConditions(input)];
  if (input.cursor) {
    const { c, i } = decodeCursor(input.cursor);
    const at = new Date(c);
    filters.push(or(lt(t.createdAt, at), and(eq(t.createdAt, at), lt(t.id, i))));
  }
  const rows = await db
    .select()
    .from(t)
    .where(and(...filters))
    .orderBy(desc(t.createdAt), desc(t.id))
    .limit(input.limit + 1);
  const items = rows.slice(0, input.limit).map(toJobView);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > input.limit && last ? encodeCursor(last) : null };
}
