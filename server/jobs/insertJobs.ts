import { sql } from 'drizzle-orm';
import type { JobType } from '../../shared/catalogue.ts';
import type { BaseJobMetadata } from '../../shared/jobApi.ts';
import { queryRows, type Db, type DbOrTx } from '../db/database.ts';
import { groupOf, type GroupCommit } from '../db/groupCommit.ts';
import { GROUP_LIMITS } from './claimJob.ts';
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
  // One JSON document carries every row: one parameter and one statement text (prepared once per
  // connection) whatever the number of jobs, and no per-value work in the query builder.
  const input = JSON.stringify(
    jobs.map((job, ord) => ({
      ord,
      job_id: job.id,
      job_type: job.type,
      payload: job.payload,
      metadata: job.metadata,
      max_retries: job.maxRetries,
      timeout_ms: job.timeoutMs,
      delay_ms: job.delay,
      publish_options: job.publishOptions,
      user_id: job.userId,
      organization_id: job.organizationId,
      idempotency_key: job.idempotencyKey,
      trace_context: job.traceContext,
    })),
  );
  const rows = await queryRows<{ job_id: string; run_at_ms: number | string }>(
    db,
    sql`WITH input AS (
        SELECT * FROM jsonb_to_recordset(${input}::text::jsonb) AS x(ord int, job_id uuid, job_type text, payload jsonb, metadata jsonb, max_retries int,
          timeout_ms int, delay_ms int, publish_options jsonb, user_id text, organization_id int, idempotency_key text, trace_context jsonb)
      ), job AS (
        INSERT INTO job_executions (job_id, job_type, payload, metadata, max_retries, timeout_ms, run_at, publish_options, user_id, organization_id, idempotency_key, trace_context)
        SELECT job_id, job_type, payload, metadata, max_retries, timeout_ms, now() + delay_ms * interval '1 millisecond', publish_options, user_id, organization_id,
          idempotency_key, trace_context
        FROM input ORDER BY ord
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

/**
 * `insertJobs` outside a caller's transaction, grouped: the jobs of concurrent enqueues (each call
 * of `enqueueJobs`, one or many jobs) that arrive while an insert is in flight share the next
 * statement, so one commit (one WAL flush) serves many callers; a lone enqueue goes at once. Each
 * caller gets its own jobs' rows back once the statement committed. Jobs of different callers
 * never interfere: every row is its own `ON CONFLICT DO NOTHING` (an idempotency key two callers
 * share in one statement is inserted once and the other caller finds it, as with two statements).
 * A group that failed for another reason than the database being away is retried caller by
 * caller, so one bad submission fails alone.
 */
export function insertJobsGrouped(db: Db, jobs: readonly NewJob[]): Promise<InsertedJob[]> {
  if (jobs.length === 0) return Promise.resolve([]);
  // As claims are grouped (at most 64 calls a statement), and at most 500 jobs: a larger enqueueMany still goes, alone.
  const limits = { ...GROUP_LIMITS, maxWeight: 500, weigh: (submitted: readonly NewJob[]) => submitted.length };
  return groupOf(inserts, db, (submissions: Array<readonly NewJob[]>) => insertSubmissions(db, submissions), limits).submit(jobs);
}

const inserts = new WeakMap<Db, GroupCommit<readonly NewJob[], InsertedJob[]>>();

/**
 * One statement for the submissions' jobs, those with an idempotency key in key order: a row
 * whose key another transaction is inserting waits for it, so two statements that share keys
 * must meet them in the same order or they may deadlock (instances of one deployment).
 */
async function insertSubmissions(db: Db, submissions: Array<readonly NewJob[]>): Promise<InsertedJob[][]> {
  const keyed = submissions.flat().map((job) => ({ job, key: job.idempotencyKey === null ? '' : idempotencyLookupKey(job.organizationId, job.idempotencyKey) }));
  const jobs = keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map(({ job }) => job);
  const byId = new Map((await insertJobs(db, jobs)).map((row) => [row.id, row]));
  return submissions.map((submitted) => submitted.flatMap((job) => byId.get(job.id) ?? []));
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
