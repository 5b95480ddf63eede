import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { JobType } from '../../shared/catalogue.ts';
import type { JobStatus } from '../../shared/jobStatus.ts';
import { queryRows, type DbOrTx } from '../db/database.ts';
import { jobExecutions } from '../db/schema.ts';
import { ALL_ORGANIZATIONS, type Scope } from '../jobs/scope.ts';
import { OrganizationFilter } from '../ops/jobFilter.ts';

/** The two windows the overview charts: the last hour in 5-minute buckets, the last day in hours. */
export const WINDOWS = { hour: { buckets: 12, bucketMs: 5 * 60_000 }, day: { buckets: 24, bucketMs: 60 * 60_000 } } as const;

export const OverviewInput = z.object({
  /** Which window the series covers. Default `hour`. */
  window: z.enum(['hour', 'day']).default('hour'),
  /** Operators only: one organization, or `null` for the jobs of none. Default: every one in scope. */
  organizationId: OrganizationFilter.optional(),
});

export interface SeriesBucket {
  /** Start of the bucket. */
  at: Date;
  completed: number;
  failed: number;
  /** failed / (completed + failed) in the bucket; 0 without settled jobs. */
  failureRate: number;
}

export interface QueueDepth {
  type: JobType;
  status: Extract<JobStatus, 'pending' | 'retrying' | 'processing'>;
  count: number;
  /** When the longest-waiting job of the row became due (its run time after any delay, or its next attempt). */
  oldestDueAt: Date;
}

export interface Overview {
  window: keyof typeof WINDOWS;
  series: SeriesBucket[];
  queue: QueueDepth[];
}

const t = jobExecutions;

function scopeCondition(scope: Scope, organizationId: number | null | undefined) {
  const own = scope === ALL_ORGANIZATIONS ? sql`true` : sql`${t.organizationId} = ${scope.organizationId}`;
  if (organizationId === undefined) return own;
  return organizationId === null ? sql`${own} AND ${t.organizationId} IS NULL` : sql`${own} AND ${t.organizationId} = ${organizationId}`;
}

const toDate = (value: unknown) => (value instanceof Date ? value : new Date(String(value)));

/**
 * Throughput and failure rate per bucket (settled jobs, by `completed_at`: the completed index)
 * and the queue: unfinished jobs per type and status (the status index). The caller decides
 * who may pass `organizationId`.
 */
export async function loadOverview(db: DbOrTx, scope: Scope, input: z.output<typeof OverviewInput>): Promise<Overview> {
  const { buckets, bucketMs } = WINDOWS[input.window];
  const where = scopeCondition(scope, input.organizationId);
  // Buckets end at the next bucket boundary after now, so the last one is the one filling up.
  const end = Math.ceil(Date.now() / bucketMs) * bucketMs;
  const start = new Date(end - buckets * bucketMs);
  const settled = await queryRows<{ bucket: number; completed: number; failed: number }>(
    db,
    sql`SELECT floor(extract(epoch FROM ${t.completedAt} - ${start.toISOString()}::timestamptz) * 1000 / ${bucketMs})::int AS bucket,
               count(*) FILTER (WHERE ${t.status} = 'completed')::int AS completed,
               count(*) FILTER (WHERE ${t.status} = 'failed')::int AS failed
          FROM ${t}
         WHERE ${t.completedAt} >= ${start.toISOString()}::timestamptz AND ${t.status} IN ('completed', 'failed') AND ${where}
         GROUP BY 1`,
  );
  const byBucket = new Map(settled.map((row) => [Number(row.bucket), row]));
  const series = Array.from({ length: buckets }, (_, i): SeriesBucket => {
    const row = byBucket.get(i);
    const completed = Number(row?.completed ?? 0);
    const failed = Number(row?.failed ?? 0);
    return { at: new Date(start.getTime() + i * bucketMs), completed, failed, failureRate: completed + failed === 0 ? 0 : failed / (completed + failed) };
  });
  const queueRows = await queryRows<{ type: JobType; status: QueueDepth['status']; count: number; oldest_due_at: unknown }>(
    db,
    sql`SELECT ${t.type} AS type, ${t.status} AS status, count(*)::int AS count, min(coalesce(${t.nextAttemptAt}, ${t.runAt})) AS oldest_due_at
          FROM ${t}
         WHERE ${t.status} IN ('pending', 'retrying', 'processing') AND ${where}
         GROUP BY 1, 2
         ORDER BY 1, 2`,
  );
  const queue = queueRows.map((row) => ({ type: row.type, status: row.status, count: Number(row.count), oldestDueAt: toDate(row.oldest_due_at) }));
  return { window: input.window, series, queue };
}
