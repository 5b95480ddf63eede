import { z } from 'zod';

/**
 * A job's lifecycle: `pending` → `processing` → `completed`; a failed attempt with attempts left
 * → `retrying` → `processing` …; attempts exhausted or a permanent error → `failed`;
 * `cancelled` on request. `completed`, `failed` and `cancelled` are terminal.
 */
export const JOB_STATUS_LIST = ['pending', 'processing', 'retrying', 'completed', 'failed', 'cancelled'] as const;
export const JobStatus = z.enum(JOB_STATUS_LIST);
export type JobStatus = z.infer<typeof JobStatus>;

/** The seed's `JOB_STATUSES` constant (`JOB_STATUSES.PENDING === 'pending'`), with jobwire's `RETRYING` and `CANCELLED`. */
export const JOB_STATUSES = {
  PENDING: 'pending',
  PROCESSING: 'processing',
  RETRYING: 'retrying',
  COMPLETED: 'completed',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
} as const satisfies Record<string, JobStatus>;

export const TERMINAL_STATUSES = ['completed', 'failed', 'cancelled'] as const satisfies readonly JobStatus[];
/** Statuses `jobs.cancel` accepts. */
export const CANCELLABLE_STATUSES = ['pending', 'retrying'] as const satisfies readonly JobStatus[];
/** Statuses `jobs.retry` accepts. */
export const RETRYABLE_STATUSES = ['failed', 'cancelled'] as const satisfies readonly JobStatus[];

export function isTerminalStatus(status: JobStatus): boolean {
  return (TERMINAL_STATUSES as readonly JobStatus[]).includes(status);
}
