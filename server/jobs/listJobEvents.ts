import { and, asc, desc, eq, gt, inArray, isNull, lte, max, or, sql, type SQL } from 'drizzle-orm';
import type { JobEvent } from '../../shared/jobEvent.ts';
import { queryRows, type DbOrTx } from '../db/database.ts';
import { jobEvents, type JobEventRow } from '../db/schema.ts';
import { assertJobInScope } from './getJob.ts';
import { ALL_ORGANIZATIONS, type EventScope, type Scope } from './scope.ts';

export function toJobEvent(row: JobEventRow): JobEvent {
  return {
    eventId: String(row.id),
    jobId: row.jobId,
    type: row.type,
    status: row.status,
    progress: row.progress,
    message: row.message,
    retryCount: row.retryCount,
    maxRetries: row.maxRetries,
    nextAttemptAt: row.nextAttemptAt,
    error: row.error ?? null,
    result: row.result ?? null,
    at: row.at,
  };
}

/** A job's timeline, oldest first. NOT_FOUND across organizations. */
export async function listJobEvents(db: DbOrTx, scope: Scope, jobId: string): Promise<JobEvent[]> {
  await assertJobInScope(db, scope, jobId);
  return readJobEvents(db, jobId);
}

/** A job's events after `afterEventId` (all when absent), oldest first, for a caller that checked access. */
export async function readJobEvents(db: DbOrTx, jobId: string, afterEventId?: string | null): Promise<JobEvent[]> {
  const rows = await db
    .select()
    .from(jobEvents)
    .where(and(eq(jobEvents.jobId, jobId), afterEventId ? gt(jobEvents.id, Number(afterEventId)) : undefined))
    .orderBy(asc(jobEvents.id));
  return rows.map(toJobEvent);
}

/** The job's newest event: its current state. */
export async function latestJobEvent(db: DbOrTx, jobId: string): Promise<JobEvent | undefined> {
  const [row] = await db.select().from(jobEvents).where(eq(jobEvents.jobId, jobId)).orderBy(desc(jobEvents.id)).limit(1);
  return row && toJobEvent(row);
}

/** The newest event id of all, '0' when there is none: where a stream that starts now begins. */
export async function latestEventId(db: DbOrTx): Promise<string> {
  const [row] = await db.select({ id: max(jobEvents.id) }).from(jobEvents);
  return String(row?.id ?? 0);
}

/** Ids from `from` to `to` (inclusive) with no visible event: not committed yet, rolled back, or deleted. */
export async function missingEventIds(db: DbOrTx, from: number, to: number): Promise<number[]> {
  if (to < from) return [];
  const rows = await queryRows<{ id: string | number }>(
    db,
    sql`SELECT s.id FROM generate_series(${from}::bigint, ${to}::bigint) AS s(id) WHERE NOT EXISTS (SELECT 1 FROM ${jobEvents} e WHERE e.id = s.id)`,
  );
  return rows.map((r) => Number(r.id));
}

/** The scope's events (an organization's, those of no organization, or all) after `afterEventId` (and those in `alsoEventIds`), oldest first, at most `limit`. */
export async function listOrganizationEvents(
  db: DbOrTx,
  scope: EventScope,
  options: {
    afterEventId: string;
    /** Ids at or below `afterEventId` wanted as well (a cursor's holes). */
    alsoEventIds?: readonly number[] | undefined;
    /** No event above this id. */
    upToEventId?: number | undefined;
    type?: JobEvent['type'] | undefined;
    status?: JobEvent['status'] | undefined;
    limit: number;
  },
): Promise<JobEvent[]> {
  const after = gt(jobEvents.id, Number(options.afterEventId));
  const filters: (SQL | undefined)[] = [
    scope === ALL_ORGANIZATIONS ? undefined : scope.organizationId === null ? isNull(jobEvents.organizationId) : eq(jobEvents.organizationId, scope.organizationId),
    options.alsoEventIds?.length ? or(after, inArray(jobEvents.id, [...options.alsoEventIds])) : after,
    options.upToEventId === undefined ? undefined : lte(jobEvents.id, options.upToEventId),
    options.type ? eq(jobEvents.type, options.type) : undefined,
    options.status ? eq(jobEvents.status, options.status) : undefined,
  ];
  const rows = await db.select().from(jobEvents).where(and(...filters)).orderBy(asc(jobEvents.id)).limit(options.limit);
  return rows.map(toJobEvent);
}

export async function findJobEvents(db: DbOrTx, eventIds: number[]): Promise<JobEventRow[]> {
  if (eventIds.length === 0) return [];
  return db.select().from(jobEvents).where(inArray(jobEvents.id, eventIds)).orderBy(asc(jobEvents.id));
}
