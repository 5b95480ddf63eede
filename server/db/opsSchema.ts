import { bigserial, boolean, index, integer, jsonb, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { jobExecutions, tz } from './schema.ts';

/**
 * What operators (platform staff, `role: 'operator'`) did through the API: one row per mutation
 * call, successful or refused. Written by the tRPC layer; read through `ops.auditLog`.
 */
export const operatorAuditLog = pgTable(
  'operator_audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: tz('at').notNull().defaultNow(),
    /** The operator's user id (token `sub`) and the organization its token names. */
    userId: text('user_id').notNull(),
    organizationId: integer('organization_id').notNull(),
    /** The procedure path, e.g. `jobs.retry`, `jobs.bulkCancel`. */
    action: text('action').notNull(),
    /** The call's input, with edited payloads left out. */
    input: jsonb('input'),
    /** Jobs the call named or created; a bulk run's jobs are its operation's items. */
    jobIds: jsonb('job_ids').$type<string[]>().notNull().default([]),
    bulkOperationId: uuid('bulk_operation_id'),
    /** `ok`, or the error code the call was refused with. */
    outcome: text('outcome').notNull(),
    requestId: text('request_id'),
  },
  (t) => [index('operator_audit_log_at_idx').on(t.at.desc(), t.id.desc())],
);

/** A bulk retry or cancel by filter: its progress, polled through `jobs.bulkOperation`. */
export const bulkOperations = pgTable(
  'bulk_operations',
  {
    id: uuid('id').primaryKey(),
    /** `retry` or `cancel`. */
    action: text('action').$type<'retry' | 'cancel'>().notNull(),
    /** `running`, `completed` or `failed` (an unexpected error stopped it; repeat it to finish). */
    status: text('status').$type<'running' | 'completed' | 'failed'>().notNull().default('running'),
    /** The `jobs.list`-style filter as given. */
    filter: jsonb('filter').notNull(),
    /** The tenant it is limited to; NULL for an operator's all-organization run. */
    organizationId: integer('organization_id'),
    requestedBy: text('requested_by').notNull(),
    requestedRole: text('requested_role').notNull(),
    /** Jobs the filter matched when the run started (the dry run's count). */
    matched: integer('matched').notNull(),
    processed: integer('processed').notNull().default(0),
    succeeded: integer('succeeded').notNull().default(0),
    skipped: integer('skipped').notNull().default(0),
    error: text('error'),
    createdAt: tz('created_at').notNull().defaultNow(),
    updatedAt: tz('updated_at').notNull().defaultNow(),
    finishedAt: tz('finished_at'),
  },
  (t) => [index('bulk_operations_org_created_idx').on(t.organizationId, t.createdAt.desc())],
);

/** One job's outcome in a bulk operation. */
export const bulkOperationItems = pgTable(
  'bulk_operation_items',
  {
    operationId: uuid('operation_id')
      .notNull()
      .references(() => bulkOperations.id, { onDelete: 'cascade' }),
    jobId: uuid('job_id').notNull(),
    /** `retried`, `cancelled`, or `skipped` (the job changed state before the batch reached it). */
    outcome: text('outcome').$type<'retried' | 'cancelled' | 'skipped'>().notNull(),
    message: text('message'),
    at: tz('at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.operationId, t.jobId] })],
);

/** A job made by replaying a finished one (`jobs.replay`), and the job it replays. */
export const jobReplays = pgTable(
  'job_replays',
  {
    jobId: uuid('job_id')
      .primaryKey()
      .references(() => jobExecutions.id, { onDelete: 'cascade' }),
    /** The original; no foreign key, so the link outlives the original's cleanup. */
    originalJobId: uuid('original_job_id').notNull(),
    /** Whether the replay's payload differs from the original's. */
    payloadEdited: boolean('payload_edited').notNull(),
    requestedBy: text('requested_by'),
    createdAt: tz('created_at').notNull().defaultNow(),
  },
  (t) => [index('job_replays_original_idx').on(t.originalJobId)],
);

export type OperatorAuditRow = typeof operatorAuditLog.$inferSelect;
export type BulkOperationRow = typeof bulkOperations.$inferSelect;
