import { sql } from 'drizzle-orm';
import { JOB_STATUS_LIST, type JobStatus } from '../../shared/jobStatus.ts';
import { queryRows, type DbOrTx } from '../db/database.ts';

/** Counts and durations of one job type (or of all jobs) in the range. */
export interface TypeStats {
  type: string;
  total: number;
  completed: number;
  failed: number;
  /** completed / (completed + failed); null when neither happened. */
  successRate: number | null;
  /** Of completed jobs, `completed_at - started_at`; null when none completed. */
  avgDurationMs: number | null;
  p95DurationMs: number | null;
}

export interface DailyCount {
  /** `YYYY-MM-DD`, a UTC day. */
  date: string;
  total: number;
  completed: number;
  failed: number;
}

export interface JobStats extends Omit<TypeStats, 'type'> {
  organizationId: number;
  startDate: string;
  endDate: string;
  byStatus: Record<JobStatus, number>;
  byType: TypeStats[];
  /** Every day of the range, zeros included. */
  daily: DailyCount[];
}

export interface StatsRange {
  organizationId: number;
  /** First UTC day, `YYYY-MM-DD`, inclusive. */
  startDate: string;
  /** Last UTC day, inclusive. */
  endDate: string;
}

type CountRow = { type: string; status: JobStatus; n: number };
type DurationRow = { type: string | null; avg_ms: number | null; p95_ms: number | null };

/**
 * The organization's jobs created in [startDate 00:00 UTC, endDate + 1 day 00:00 UTC), in three
 * aggregate queries over job_executions_org_created_idx. Durations are of completed jobs.
 */
export async function computeJobStats(db: DbOrTx, range: StatsRange): Promise<JobStats> {
  const org = range.organizationId;
  const from = `${range.startDate}T00:00:00.000Z`;
  const until = new Date(Date.parse(`${range.endDate}T00:00:00.000Z`) + 86_400_000).toISOString();
  const inRange = sql`organization_id = ${org} AND created_at >= ${from}::timestamptz AND created_at < ${until}::timestamptz`;

  const counts = await queryRows<CountRow>(db, sql`
    SELECT job_type AS type, status, count(*)::int AS n FROM job_executions WHERE ${inRange} GROUP BY job_type, status`);
  const durations = await queryRows<DurationRow>(db, sql`
    SELECT type, avg(ms)::float8 AS avg_ms, percentile_cont(0.95) WITHIN GROUP (ORDER BY ms)::float8 AS p95_ms
    FROM (SELECT job_type AS type, extract(epoch FROM completed_at - started_at)::float8 * 1000 AS ms
          FROM job_executions WHERE ${inRange} AND status = 'completed' AND started_at IS NOT NULL) d
    GROUP BY GROUPING SETS ((type), ())`);
  const daily = await queryRows<DailyCount>(db, sql`
    WITH days AS (SELECT generate_series(${range.startDate}::date, ${range.endDate}::date, interval '1 day')::date AS day),
    counts AS (
      SELECT (created_at AT TIME ZONE 'UTC')::date AS day, count(*)::int AS total,
             (count(*) FILTER (WHERE status = 'completed'))::int AS completed, (count(*) FILTER (WHERE status = 'failed'))::int AS failed
      FROM job_executions WHERE ${inRange} GROUP BY 1)
    SELECT to_char(days.day, 'YYYY-MM-DD') AS date, coalesce(total, 0) AS total, coalesce(completed, 0) AS completed, coalesce(failed, 0) AS failed
    FROM days LEFT JOIN counts USING (day) ORDER BY days.day`);

  const byStatus = Object.fromEntries(JOB_STATUS_LIST.map((s) => [s, 0])) as Record<JobStatus, number>; // every key set just above
  const types = new Map<string, TypeStats>();
  for (const row of counts) {
    byStatus[row.status] += row.n;
    const stats = types.get(row.type) ?? emptyStats(row.type);
    stats.total += row.n;
    if (row.status === 'completed') stats.completed += row.n;
    if (row.status === 'failed') stats.failed += row.n;
    types.set(row.type, stats);
  }
  const overall = emptyStats('all');
  for (const stats of types.values()) {
    overall.total += stats.total;
    overall.completed += stats.completed;
    overall.failed += stats.failed;
  }
  for (const row of durations) {
    const stats = row.type === null ? overall : types.get(row.type);
    if (!stats) continue;
    stats.avgDurationMs = roundMs(row.avg_ms);
    stats.p95DurationMs = roundMs(row.p95_ms);
  }
  const byType = [...types.values()].sort((a, b) => b.total - a.total || a.type.localeCompare(b.type)).map(withRate);
  const { type: _all, ...totals } = withRate(overall);
  return { organizationId: org, startDate: range.startDate, endDate: range.endDate, ...totals, byStatus, byType, daily };
}

// Timestamps have millisecond precision; a tenth of one is plenty and hides float noise (879.9999…).
const roundMs = (ms: number | null) => (ms === null ? null : Math.round(Number(ms) * 10) / 10);

const emptyStats = (type: string): TypeStats => ({ type, total: 0, completed: 0, failed: 0, successRate: null, avgDurationMs: null, p95DurationMs: null });

function withRate(stats: TypeStats): TypeStats {
  const settled = stats.completed + stats.failed;
  return { ...stats, successRate: settled === 0 ? null : stats.completed / settled };
}
