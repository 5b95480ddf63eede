import type { JobView } from '../../shared/jobApi.ts';
import type { JobRow } from '../db/schema.ts';

export function toJobView(row: JobRow): JobView {
  return {
    jobId: row.id,
    type: row.type,
    status: row.status,
    payload: row.payload,
    result: row.result ?? null,
    error: row.error ?? null,
    progress: row.progress,
    retryCount: row.retryCount,
    maxRetries: row.maxRetries,
    userId: row.userId,
    organizationId: row.organizationId,
    idempotencyKey: row.idempotencyKey,
    scheduleId: row.scheduleId,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    startedAt: row.startedAt,
    completedAt: row.completedAt,
    nextAttemptAt: row.nextAttemptAt,
  };
}
