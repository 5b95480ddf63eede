import { sql } from 'drizzle-orm';
import type { JobType } from '../../../shared/catalogue.ts';
import type { JobStatus } from '../../../shared/jobStatus.ts';
import { queryRows, type Db } from '../../../server/db/database.ts';
import { signToken } from '../../../server/auth/token.ts';
import { TEST_AUTH_SECRET } from '../../support/testServer.ts';

export interface InsertJobs {
  count: number;
  organizationId: number | null;
  type?: JobType;
  status?: JobStatus;
  /** Stored error (failed, retrying); `message` may use `{i}` for the row number. */
  error?: { name: string; message: string };
  payload?: unknown;
  /** How long before now the rows start, one a millisecond (and were last updated). Default 10 minutes. */
  agoMs?: number;
  /** Columns for special cases. */
  publishedAt?: 'now' | null;
  leaseAgoMs?: number;
  runInMs?: number;
  nextAttemptInMs?: number;
}

/**
 * Job rows inserted in one statement (10,000 in well under a second), already published and
 * without events, so the sweeper and the broker leave them alone unless a test says otherwise.
 */
export async function insertJobs(db: Db, s: InsertJobs): Promise<string[]> {
  const status = s.status ?? 'failed';
  const terminal = ['completed', 'failed', 'cancelled'].includes(status);
  const error = s.error ? JSON.stringify(s.error) : null;
  const rows = await queryRows<{ job_id: string }>(
    db,
    sql`
    INSERT INTO job_executions (job_id, job_type, status, payload, metadata, max_retries, timeout_ms, organization_id, user_id,
                                published_at, created_at, updated_at, started_at, completed_at, error, lease_until, run_at, next_attempt_at, retry_count)
    SELECT gen_random_uuid(), ${s.type ?? 'send-email'}, ${status}, ${JSON.stringify(s.payload ?? { to: 'a@example.com', template: 'welcome' })}::jsonb, '{}'::jsonb, 3, 30000,
           ${s.organizationId}::int, '1', ${s.publishedAt === null ? null : sql`now()`}, c, c, c, CASE WHEN ${terminal} THEN c END,
           CASE WHEN ${error}::text IS NULL THEN NULL ELSE replace(${error}::text, '{i}', i::text)::jsonb END,
           ${s.leaseAgoMs === undefined ? null : sql`now() - ${s.leaseAgoMs} * interval '1 millisecond'`},
           c + ${s.runInMs ?? 0} * interval '1 millisecond' + (now() - c) * ${s.runInMs === undefined ? 0 : 1},
           ${s.nextAttemptInMs === undefined ? null : sql`now() + ${s.nextAttemptInMs} * interval '1 millisecond'`},
           ${status === 'retrying' ? 1 : 0}
    FROM generate_series(1, ${s.count}) AS i, LATERAL (SELECT now() - ${s.agoMs ?? 600_000} * interval '1 millisecond' + i * interval '1 millisecond' AS c) AS t
    RETURNING job_id`,
  );
  return rows.map((r) => r.job_id);
}

export const operatorToken = (userId = '900', organizationId = 999) => signToken({ userId, organizationId, role: 'operator' }, TEST_AUTH_SECRET);
