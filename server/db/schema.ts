import { sql } from 'drizzle-orm';
import { bigserial, boolean, check, index, integer, jsonb, pgTable, real, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { JOB_STATUS_LIST, TERMINAL_STATUSES, type JobStatus } from '../../shared/jobStatus.ts';
import type { JobType } from '../../shared/catalogue.ts';

/** `IN ('a','b')` from a shared tuple, so each list exists once (STYLE.md). */
export const inList = (values: readonly string[]) => sql.raw(values.map((v) => `'${v.replace(/'/g, "''")}'`).join(', '));
// Millisecond precision, so a timestamp survives the round trip through a JS Date (keyset cursors).
export const tz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date', precision: 3 });

export type StoredError = { name: string; message: string };

export const jobExecutions = pgTable(
  'job_executions',
  {
    // SQL names are the seed's (`job_id`, `job_type`), so its documented queries run as written.
    id: uuid('job_id').primaryKey(),
    type: text('job_type').$type<JobType>().notNull(),
    status: text('status').$type<JobStatus>().notNull().default('pending'),
    payload: jsonb('payload').notNull(),
    metadata: jsonb('metadata').notNull().default({}),
    result: jsonb('result'),
    error: jsonb('error').$type<StoredError>(),
    progress: real('progress'),
    progressMessage: text('progress_message'),
    /** Failed attempts so far. */
    retryCount: integer('retry_count').notNull().default(0),
    maxRetries: integer('max_retries').notNull(),
    /** Per-attempt time limit; the lease is this plus a grace period. */
    timeoutMs: integer('timeout_ms').notNull(),
    /** Fences settle statements: only the attempt holding this token may settle. */
    attemptToken: uuid('attempt_token'),
    leaseUntil: tz('lease_until'),
    /** Bumped on every (re)publish; part of the QStash deduplication id. */
    publishGeneration: integer('publish_generation').notNull().default(0),
    messageId: text('message_id'),
    publishedAt: tz('published_at'),
    /** When the row may be published: enqueue time plus the requested delay. */
    runAt: tz('run_at').notNull().defaultNow(),
    /** Per-job publish options (callbacks, forwarded headers). */
    publishOptions: jsonb('publish_options').notNull().default({}),
    /**
     * The enqueue's trace context (`traceparent`, `tracestate`), when tracing was on: every later
     * publish (sweeper, retry, run-now, bulk retry) carries it, so the attempts join that trace.
     */
    traceContext: jsonb('trace_context').$type<Record<string, string>>(),
    nextAttemptAt: tz('next_attempt_at'),
    userId: text('user_id'),
    organizationId: integer('organization_id'),
    idempotencyKey: text('idempotency_key'),
    scheduleId: text('schedule_id'),
    createdAt: tz('created_at').notNull().defaultNow(),
    updatedAt: tz('updated_at').notNull().defaultNow(),
    startedAt: tz('started_at'),
    completedAt: tz('completed_at'),
    cancelledAt: tz('cancelled_at'),
  },
  (t) => [
    check('job_executions_status_check', sql`${t.status} IN (${inList(JOB_STATUS_LIST)})`),
    check('job_executions_progress_check', sql`${t.progress} IS NULL OR (${t.progress} >= 0 AND ${t.progress} <= 1)`),
    // Every claim and settle changes `status`, so each is a non-HOT update that adds an entry to
    // every index whose predicate the new row meets: few indexes, and partial where they can be
    // (docs/performance.md, "Delivery"). Lease renewals and progress touch no indexed column and
    // stay HOT, with the page room the fillfactor leaves (migration 0007).
    index('job_executions_user_id_idx').on(t.userId),
    index('job_executions_created_at_idx').on(t.createdAt),
    // Keyset pagination of jobs.list: newest first within an organization.
    index('job_executions_org_created_idx').on(t.organizationId, t.createdAt.desc(), t.id.desc()),
    // One job per idempotency key and organization (NULL organization = server-side jobs).
    uniqueIndex('job_executions_idempotency_idx')
      .on(sql`coalesce(${t.organizationId}, -1)`, t.idempotencyKey)
      .where(sql`${t.idempotencyKey} IS NOT NULL`),
    // Any status but the bulk of the table: the sweeper (unpublished rows, expired leases, overdue
    // retries), queue gauges, job health, failure groups, a status filter. A completed job leaves it.
    index('job_executions_not_completed_idx').on(t.status, t.publishedAt).where(sql`${t.status} <> 'completed'`),
    // Finished jobs by completion time: cleanup's cutoff, job health's "anything completed lately".
    index('job_executions_finished_idx').on(t.status, t.completedAt).where(sql`${t.status} IN (${inList(TERMINAL_STATUSES)})`),
  ],
);

export const jobEvents = pgTable(
  'job_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    jobId: uuid('job_id').notNull().references(() => jobExecutions.id, { onDelete: 'cascade' }),
    organizationId: integer('organization_id'),
    type: text('type').$type<JobType>().notNull(),
    status: text('status').$type<JobStatus>().notNull(),
    progress: real('progress'),
    message: text('message'),
    retryCount: integer('retry_count').notNull(),
    maxRetries: integer('max_retries').notNull(),
    nextAttemptAt: tz('next_attempt_at'),
    error: jsonb('error').$type<StoredError>(),
    result: jsonb('result'),
    at: tz('at').notNull().defaultNow(),
  },
  (t) => [index('job_events_job_idx').on(t.jobId, t.id), index('job_events_org_idx').on(t.organizationId, t.id)],
);

export const jobSchedules = pgTable(
  'job_schedules',
  {
    id: text('id').primaryKey(),
    type: text('type').$type<JobType>().notNull(),
    cron: text('cron').notNull(),
    timezone: text('timezone'),
    payload: jsonb('payload').notNull(),
    metadata: jsonb('metadata').notNull().default({}),
    userId: text('user_id'),
    organizationId: integer('organization_id'),
    paused: boolean('paused').notNull().default(false),
    createdAt: tz('created_at').notNull().defaultNow(),
    updatedAt: tz('updated_at').notNull().defaultNow(),
  },
  // No CHECK on job types (here or on jobs): a new type needs no migration; the catalogue validates types.
  (t) => [index('job_schedules_org_idx').on(t.organizationId)],
);

export type JobRow = typeof jobExecutions.$inferSelect;
export type JobEventRow = typeof jobEvents.$inferSelect;
export type ScheduleRow = typeof jobSchedules.$inferSelect;
