import { sql } from 'drizzle-orm';
import type { JobType } from '../../shared/catalogue.ts';
import type { BaseJobMetadata } from '../../shared/jobApi.ts';
import { queryRows, type DbOrTx } from '../db/database.ts';
import type { PublishRequest } from './deps.ts';
import { JOB_EVENTS_CHANNEL } from './recordEvent.ts';

/** A validated job, ready to insert: every value checked, its id chosen. */
export interface NewJob {
  id: string;
  type: JobType;
  payload: unknown;
  metadata: BaseJobMetadata & { createdAt: string };
  maxRetries: number;
  timeoutMs: number;
  /** Milliseconds from now until the job is due. */
  delay: number;
  publishOptions: PublishRequest['options'];
  userId: string | null;
  organizationId: number | null;
  idempotencyKey: string | null;
  /** The enqueue's trace context (`activeTraceContext`); null while tracing is off. */
  traceContext: Record<string, string> | null;
}

/** An inserted job: its id and when it is due (epoch ms, by the database's clock). */
export interface InsertedJob {
  id: string;
  runAtMs: number;
}

/**
 * Inserts jobs, their `pending` timeline events and the events' NOTIFYs in ONE statement (so one
 * round trip and, outside a caller's transaction, one commit): the inserts are data-modifying
 * CTEs, the NOTIFY is in the final SELECT (a SELECT CTE nobody reads never runs). A job whose
 * idempotency key (or id) is taken already is skipped, with no event: `ON CONFLICT DO NOTHING`,
 * then the caller looks the existing job up. Returns the jobs inserted.
 *
 * The event row and the NOTIFY payload are recordEvent's for a new row: `{"eventId":…,"jobId":…,
 * "organizationId":…}`, byte for byte as `JSON.stringify` writes it.
 */
export async function insertJobs(db: DbOrTx, jobs: readonly NewJob[]): Promise<InsertedJob[]> {
  if (jobs.length === 0) return [];
  const values = sql.join(
    jobs.map(
      (job) => sql`(${job.id}::uuid, ${job.type}::text, ${JSON.stringify(job.payload)}::jsonb, ${JSON.stringify(job.metadata)}::jsonb,
        ${job.maxRetries}::int, ${job.timeoutMs}::int, now() + ${job.delay}::int * interval '1 millisecond', ${JSON.stringify(job.publishOptions)}::jsonb,
        ${job.userId}::text, ${job.organizationId}::int, ${job.idempotencyKey}::text, ${job.traceContext === null ? null : JSON.stringify(job.traceContext)}::jsonb)`,
    ),
    sql`, `,
  );
  const rows = await queryRows<{ job_id: string; run_at_ms: number | string }>(
    db,
    sql`WITH job AS (
        INSERT INTO job_executions (job_id, job_type, payload, metadata, max_retries, timeout_ms, run_at, publish_options, user_id, organization_id, idempotency_key, trace_context)
        VALUES ${values}
        ON CONFLICT DO NOTHING
        RETURNING job_id, organization_id, job_type, status, progress, retry_count, max_retries, next_attempt_at, error, run_at
      ), event AS (
        INSERT INTO job_events (job_id, organization_id, type, status, progress, message, retry_count, max_retries, next_attempt_at, error, result)
        SELECT job_id, organization_id, job_type, status, progress, NULL, retry_count, max_retries, next_attempt_at, error, NULL FROM job
        RETURNING id, job_id, organization_id
      )
      SELECT job.job_id, floor(extract(epoch FROM job.run_at) * 1000)::float8 AS run_at_ms,
        pg_notify(${JOB_EVENTS_CHANNEL}, '{"eventId":' || event.id || ',"jobId":"' || event.job_id || '","organizationId":' || coalesce(event.organization_id::text, 'null') || '}') AS notified
      FROM job JOIN event USING (job_id)`,
  );
  return rows.map((row) => ({ id: row.job_id, runAtMs: Number(row.run_at_ms) }));
}

/** The jobs holding these idempotency keys, as `<organization or -1>:<key>` → job id. */
export async function findByIdempotencyKeys(db: DbOrTx, keys: readonly { organizationId: number | null; key: string }[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  if (keys.length === 0) return found;
  const wanted = sql.join(keys.map(({ organizationId, key }) => sql`(${organizationId ?? -1}::int, ${key}::text)`), sql`, `);
  const rows = await queryRows<{ job_id: string; org: number; idempotency_key: string }>(
    db,
    sql`SELECT job_id, coalesce(organization_id, -1) AS org, idempotency_key FROM job_executions
        WHERE idempotency_key IS NOT NULL AND (coalesce(organization_id, -1), idempotency_key) IN (VALUES ${wanted})`,
  );
  for (const row of rows) found.set(idempotencyLookupKey(Number(row.org) === -1 ? null : Number(row.org), row.idempotency_key), row.job_id);
  return found;
}

export const idempotencyLookupKey = (organizationId: number | null, key: string) => `${organizationId ?? -1}:${key}`;
