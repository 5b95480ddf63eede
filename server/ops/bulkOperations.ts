import { and, asc, eq, gt } from 'drizzle-orm';
import { z } from 'zod';
import type { DbOrTx } from '../db/database.ts';
import { bulkOperationItems, bulkOperations, type BulkOperationRow } from '../db/opsSchema.ts';
import { JobError } from '../jobs/errors.ts';
import { ALL_ORGANIZATIONS, type Scope } from '../jobs/scope.ts';

export const BulkOperationInput = z.object({ operationId: z.uuid() });
export const BulkOperationItemsInput = BulkOperationInput.extend({
  /** Page size, 1–1,000. Default 500. */
  limit: z.number().int().min(1).max(1000).default(500),
  /** `nextCursor` of the previous page. */
  cursor: z.uuid().nullish(),
});

export interface BulkOperationView {
  operationId: string;
  action: BulkOperationRow['action'];
  /** `running`, `completed`, or `failed` (stopped by an error: repeat the action to finish). */
  status: BulkOperationRow['status'];
  filter: unknown;
  /** The organization it was limited to; null for an operator's all-organization run. */
  organizationId: number | null;
  requestedBy: string;
  matched: number;
  processed: number;
  succeeded: number;
  skipped: number;
  error: string | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

const toView = (r: BulkOperationRow): BulkOperationView => ({
  operationId: r.id,
  action: r.action,
  status: r.status,
  filter: r.filter,
  organizationId: r.organizationId,
  requestedBy: r.requestedBy,
  matched: r.matched,
  processed: r.processed,
  succeeded: r.succeeded,
  skipped: r.skipped,
  error: r.error,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
  finishedAt: r.finishedAt,
});

// A tenant sees the operations run within its organization; an operator's all-organization runs only operators.
const inScope = (scope: Scope) => (scope === ALL_ORGANIZATIONS ? undefined : eq(bulkOperations.organizationId, scope.organizationId));

/** A bulk operation's progress; NOT_FOUND outside the scope. */
export async function getBulkOperation(db: DbOrTx, scope: Scope, operationId: string): Promise<BulkOperationView> {
  const [row] = await db.select().from(bulkOperations).where(and(eq(bulkOperations.id, operationId), inScope(scope))).limit(1);
  if (!row) throw new JobError(`Bulk operation ${operationId} not found`, 'JOB_NOT_FOUND');
  return toView(row);
}

/** Each job's outcome in a bulk operation, by job id. */
export async function listBulkOperationItems(db: DbOrTx, scope: Scope, input: z.output<typeof BulkOperationItemsInput>) {
  await getBulkOperation(db, scope, input.operationId);
  const i = bulkOperationItems;
  const rows = await db
    .select({ jobId: i.jobId, outcome: i.outcome, message: i.message, at: i.at })
    .from(i)
    .where(and(eq(i.operationId, input.operationId), input.cursor ? gt(i.jobId, input.cursor) : undefined))
    .orderBy(asc(i.jobId))
    .limit(input.limit + 1);
  const items = rows.slice(0, input.limit);
  return { items, nextCursor: rows.length > input.limit ? (items.at(-1)?.jobId ?? null) : null };
}
