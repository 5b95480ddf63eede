import { sql } from 'drizzle-orm';
import type { JobType } from '../../shared/catalogue.ts';
import type { JobStatus } from '../../shared/jobStatus.ts';
import { queryRows, type Db } from '../../server/db/database.ts';

export interface SeedJobs {
  organizationId: number | null;
  count: number;
  type?: JobType;
  status?: JobStatus;
  /** created_at of the first row; row i is `createdAt + i * stepMs`. Default now − count s. */
  createdAt?: Date;
  stepMs?: number;
  /** started_at = created_at + startDelayMs; completed_at = started_at + durationMs (terminal statuses). */
  startDelayMs?: number;
  durationMs?: number;
}

/**
 * Inserts finished-looking job rows in one `INSERT … SELECT generate_series` (100k rows in about
 * a second): no events, already published, so the sweeper and broker never touch them.
 */
export async function seedJobs(db: Db, s: SeedJobs): Promise<string[]> {
  const step = s.stepMs ?? 1000;
  const first = s.createdAt ?? new Date(Date.now() - s.count * step - 60_000);
  const status = s.status ?? 'completed';
  const terminal = ['completed', 'failed', 'cancelled'].includes(status);
  const rows = await queryRows<{ job_id: string }>(db, sql`
    INSERT INTO job_executions (job_id, job_type, status, payload, metadata, max_retries, timeout_ms, organization_id, user_id,
                                published_at, created_at, updated_at, started_at, completed_at)
    SELECT gen_random_uuid(), ${s.type ?? 'send-email'}, ${status}, jsonb_build_object('n', i, 'note', 'row "' || i || '", with, commas'), '{}'::jsonb, 0, 30000,
           ${s.organizationId}::int, '1', now(), c, c, c + ${s.startDelayMs ?? 10} * interval '1 millisecond',
           CASE WHEN ${terminal} THEN c + ${(s.startDelayMs ?? 10) + (s.durationMs ?? 100)} * interval '1 millisecond' END
    FROM generate_series(0, ${s.count - 1}) AS i, LATERAL (SELECT ${first.toISOString()}::timestamptz + i * ${step} * interval '1 millisecond' AS c) AS t
    RETURNING job_id`);
  return rows.map((r) => r.job_id);
}
