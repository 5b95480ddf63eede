import { gte, inArray, lt } from 'drizzle-orm';
import { z } from 'zod';
import { JobTypeSchema } from '../../shared/catalogue.ts';
import { JobStatus } from '../../shared/jobStatus.ts';
import { jobExecutions as t } from '../db/schema.ts';
import { defineTableExport } from './defineTableExport.ts';
import { Instant, oneOrMany } from './filterSchemas.ts';

export const JobsExportFilters = z
  .strictObject({
    status: oneOrMany(JobStatus).optional(),
    type: oneOrMany(JobTypeSchema).optional(),
    /** Inclusive. */
    createdAfter: Instant.optional(),
    /** Exclusive. */
    createdBefore: Instant.optional(),
  })
  .refine((f) => !f.createdAfter || !f.createdBefore || f.createdAfter <= f.createdBefore, {
    message: 'createdAfter must not be after createdBefore',
    path: ['createdBefore'],
  });

/** `jobs`: the organization's job executions, newest first like `jobs.list` (same filters). */
export const jobsExport = defineTableExport({
  description: "The organization's job executions",
  // Members already read these jobs through jobs.get / jobs.list.
  access: 'member',
  table: t,
  organizationId: t.organizationId,
  // Walks job_executions_org_created_idx (organization_id, created_at DESC, id DESC) in order.
  keyset: [t.createdAt, t.id],
  descending: true,
  columns: {
    jobId: t.id,
    type: t.type,
    status: t.status,
    userId: t.userId,
    scheduleId: t.scheduleId,
    idempotencyKey: t.idempotencyKey,
    retryCount: t.retryCount,
    maxRetries: t.maxRetries,
    progress: t.progress,
    createdAt: t.createdAt,
    startedAt: t.startedAt,
    completedAt: t.completedAt,
    payload: t.payload,
    result: t.result,
    error: t.error,
  },
  filters: JobsExportFilters,
  where: (f) => [
    f.status ? inArray(t.status, f.status) : undefined,
    f.type ? inArray(t.type, f.type) : undefined,
    f.createdAfter ? gte(t.createdAt, f.createdAfter) : undefined,
    f.createdBefore ? lt(t.createdAt, f.createdBefore) : undefined,
  ],
});
