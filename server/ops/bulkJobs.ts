import { randomUUID } from 'node:crypto';
import { and, count, desc, eq, inArray, lte, notExists, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { jobTypeConfig, JOB_TYPE_LIST } from '../../shared/catalogue.ts';
import type { JobView } from '../../shared/jobApi.ts';
import { CANCELLABLE_STATUSES, RETRYABLE_STATUSES, type JobStatus } from '../../shared/jobStatus.ts';
import { Caller } from '../auth/token.ts';
import { bulkOperationItems, bulkOperations, type BulkOperationRow } from '../db/opsSchema.ts';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import { jobExecutions, type JobRow } from '../db/schema.ts';
import type { JobsDeps } from '../jobs/deps.ts';
import { CANCEL_CHANGES } from '../jobs/cancelJob.ts';
import { toError } from '../jobs/errors.ts';
import { inScope } from '../jobs/getJob.ts';
import { toJobView } from '../jobs/jobView.ts';
import { publishJob } from '../jobs/publishJob.ts';
import { RETRY_CHANGES } from '../jobs/retryJob.ts';
import { ALL_ORGANIZATIONS, type Scope } from '../jobs/scope.ts';
import { JobFilter, jobFilterConditions } from './jobFilter.ts';
import { mapLimited } from './mapLimited.ts';
import { idList, recordEvents } from './recordEvents.ts';

export const BulkActionInput = JobFilter.extend({
  /** Count and sample the jobs it would act on, and change nothing. Default false. */
  dryRun: z.boolean().default(false),
});
export type BulkAction = 'retry' | 'cancel';

/** Jobs per batch: one short transaction each, never one giant one. */
export const BULK_BATCH_SIZE = 500;
/** Broker calls (publish, cancel) in flight at once while a batch is handed over. */
const BROKER_CONCURRENCY = 16;
const SAMPLE_SIZE = 10;

const t = jobExecutions;

interface ActionSpec {
  statuses: readonly JobStatus[];
  outcome: 'retried' | 'cancelled';
  set: PgUpdateSetSource<typeof jobExecutions>;
}

// The same guarded changes as retryJob and cancelJob, applied to a batch.
const SPECS: Record<BulkAction, ActionSpec> = {
  retry: { statuses: RETRYABLE_STATUSES, outcome: 'retried', set: RETRY_CHANGES },
  cancel: { statuses: CANCELLABLE_STATUSES, outcome: 'cancelled', set: CANCEL_CHANGES },
};

/** The types a caller may act on: every type for operators; an admin's are those the API lets it create (not the server-only ones). */
function actionableTypes(role: Caller['role']): SQL | undefined {
  if (role === 'operator') return undefined;
  return inArray(t.type, JOB_TYPE_LIST.filter((type) => jobTypeConfig(type).enqueueAccess !== 'server'));
}

/** The jobs a bulk action would touch: the filter, within scope, in a status the action applies to. */
function candidates(scope: Scope, role: Caller['role'], action: BulkAction, filter: JobFilter): SQL | undefined {
  const statuses = SPECS[action].statuses.filter((s) => filter.status === undefined || s === filter.status);
  return and(inScope(scope), ...jobFilterConditions({ ...filter, status: undefined }), statuses.length ? inArray(t.status, statuses) : sql`false`, actionableTypes(role));
}

export interface BulkDryRun {
  dryRun: true;
  /** Jobs the action would touch now. */
  matched: number;
  /** Up to 10 of them, newest first. */
  sample: JobView[];
}

export interface BulkStarted {
  dryRun: false;
  operationId: string;
  matched: number;
  status: BulkOperationRow['status'];
}

export interface BulkRequest {
  deps: JobsDeps;
  scope: Scope;
  caller: Caller;
  action: BulkAction;
  input: z.output<typeof BulkActionInput>;
}

/**
 * A bulk retry or cancel by filter. A dry run answers the count and a sample; otherwise the run
 * is recorded as a bulk operation and proceeds in the background in batches (poll it with
 * `bulkOperation`). Only jobs unchanged since the run began are touched, each at most once, so
 * repeating a run (or running it after a crash) acts on what is left and nothing twice.
 */
export async function startBulkAction({ deps, scope, caller, action, input }: BulkRequest): Promise<BulkDryRun | BulkStarted> {
  const { dryRun, ...filter } = input;
  const where = candidates(scope, caller.role, action, filter);
  const [counted] = await deps.db.select({ n: count() }).from(t).where(where);
  const matched = counted?.n ?? 0;
  if (dryRun) {
    const sample = await deps.db.select().from(t).where(where).orderBy(desc(t.createdAt), desc(t.id)).limit(SAMPLE_SIZE);
    return { dryRun: true, matched, sample: sample.map(toJobView) };
  }
  const [operation] = await deps.db
    .insert(bulkOperations)
    .values({
      id: randomUUID(),
      action,
      filter: JSON.parse(JSON.stringify(filter)) as unknown,
      organizationId: scope === ALL_ORGANIZATIONS ? null : scope.organizationId,
      requestedBy: caller.userId,
      requestedRole: caller.role,
      matched,
    })
    .returning();
  const op = operation!; // `returning` always yields the inserted row
  deps.log.info({ operationId: op.id, action, matched }, '[ops] Bulk operation started');
  void runBulkOperation(deps, op, where);
  return { dryRun: false, operationId: op.id, matched, status: op.status };
}

/** The stored filter as given, its times read back from JSON. */
const StoredFilter = JobFilter.extend({ createdAfter: z.coerce.date().optional(), createdBefore: z.coerce.date().optional() });

/**
 * Continues a run another process left (see resumeBulkOperations.ts): its candidates rebuilt from
 * the stored filter, organization and role, its recorded items skipped. Stops between batches
 * once `signal` aborts, leaving the run `running` for the next taker.
 */
export async function resumeBulkOperation(deps: JobsDeps, op: BulkOperationRow, signal?: AbortSignal): Promise<void> {
  const filter = StoredFilter.safeParse(op.filter);
  const role = Caller.shape.role.safeParse(op.requestedRole);
  if (!filter.success || !role.success) {
    deps.log.error({ operationId: op.id }, '[ops] Bulk operation cannot be resumed: its stored filter or role no longer parses');
    await deps.db.update(bulkOperations).set({ status: 'failed', error: 'its stored filter or role no longer parses', finishedAt: sql`now()`, updatedAt: sql`now()` }).where(eq(bulkOperations.id, op.id));
    return;
  }
  const scope: Scope = op.organizationId === null ? ALL_ORGANIZATIONS : { organizationId: op.organizationId };
  await runBulkOperation(deps, op, candidates(scope, role.data, op.action, filter.data), signal);
}

/**
 * Works through the candidates batch by batch; each batch's commit also stamps the operation's
 * `updated_at`, the heartbeat that tells other processes the run is alive.
 */
async function runBulkOperation(deps: JobsDeps, op: BulkOperationRow, where: SQL | undefined, signal?: AbortSignal): Promise<void> {
  const spec = SPECS[op.action];
  const untouched = and(
    where,
    lte(t.updatedAt, op.createdAt),
    notExists(deps.db.select({ one: sql`1` }).from(bulkOperationItems).where(and(eq(bulkOperationItems.operationId, op.id), eq(bulkOperationItems.jobId, t.id)))),
  );
  try {
    for (;;) {
      if (signal?.aborted) return;
      const changed = await deps.db.transaction(async (tx) => {
        const picked = await tx.select({ id: t.id }).from(t).where(untouched).orderBy(desc(t.createdAt), desc(t.id)).limit(BULK_BATCH_SIZE).for('update', { skipLocked: true });
        if (picked.length === 0) return undefined;
        const ids = picked.map((p) => p.id);
        const rows = await tx.update(t).set(spec.set).where(and(sql`${t.id} IN ${idList(ids)}`, inArray(t.status, spec.statuses))).returning();
        await recordEvents(tx, rows.map((r) => r.id), `bulk ${op.action} ${op.id}`);
        const done = new Set(rows.map((r) => r.id));
        const items = ids.map((jobId) => (done.has(jobId) ? { operationId: op.id, jobId, outcome: spec.outcome } : { operationId: op.id, jobId, outcome: 'skipped' as const, message: 'the job changed state before its batch ran' }));
        await tx.insert(bulkOperationItems).values(items).onConflictDoNothing();
        await tx
          .update(bulkOperations)
          .set({ processed: sql`${bulkOperations.processed} + ${ids.length}`, succeeded: sql`${bulkOperations.succeeded} + ${rows.length}`, skipped: sql`${bulkOperations.skipped} + ${ids.length - rows.length}`, updatedAt: sql`now()` })
          .where(eq(bulkOperations.id, op.id));
        return rows;
      });
      if (!changed) break;
      await handOver(deps, op.action, changed);
    }
    await deps.db.update(bulkOperations).set({ status: 'completed', finishedAt: sql`now()`, updatedAt: sql`now()` }).where(eq(bulkOperations.id, op.id));
    deps.log.info({ operationId: op.id, action: op.action }, '[ops] Bulk operation completed');
  } catch (error) {
    deps.log.error({ err: toError(error), operationId: op.id }, '[ops] Bulk operation failed; repeat it to finish');
    await deps.db
      .update(bulkOperations)
      .set({ status: 'failed', error: toError(error).message, finishedAt: sql`now()`, updatedAt: sql`now()` })
      .where(eq(bulkOperations.id, op.id))
      .catch(() => undefined);
  }
}

/** After a batch commits: retried jobs are published (a failed publish is the sweeper's), cancelled ones withdrawn from the broker (best effort). */
async function handOver(deps: JobsDeps, action: BulkAction, rows: JobRow[]): Promise<void> {
  if (action === 'retry') {
    await mapLimited(rows, BROKER_CONCURRENCY, (row) => publishJob(deps, row));
    return;
  }
  const withMessage = rows.filter((row) => row.messageId !== null);
  await mapLimited(withMessage, BROKER_CONCURRENCY, (row) =>
    deps.publisher.cancel(row.messageId!).catch((e: unknown) => deps.log.debug({ err: toError(e), jobId: row.id }, '[jobs] Broker cancel failed')),
  );
}
