import type { JobPayload, JobType } from '../../shared/catalogue.ts';
import { BaseJobMetadata } from '../../shared/jobApi.ts';
import type { JobStatus } from '../../shared/jobStatus.ts';
import type { JobRow } from '../db/schema.ts';

/** The seed's `BaseJob`: the job as delivered. `metadata.idempotencyKey` is the row's key, or `job:<jobId>`. */
export interface JobEnvelope<T extends JobType = JobType> {
  jobId: string;
  type: T;
  payload: JobPayload<T>;
  metadata: BaseJobMetadata & { idempotencyKey: string; createdAt: string };
}

/** The seed's `JobExecution`, plus jobwire's extras. */
export interface JobExecution<T extends JobType = JobType> {
  /** The seed's serial id. jobwire keys jobs by uuid only, so this is `jobId` again. */
  id: string;
  jobId: string;
  jobType: T;
  status: JobStatus;
  /** The whole envelope, as in the seed: the job's own payload is `payload.payload`. */
  payload: JobEnvelope<T>;
  result: unknown;
  /** The stored error's message. */
  error: string | null;
  /** Failed attempts so far. */
  retryCount: number;
  /** A number (the seed's type) when the stored id is a decimal that fits one, else the stored string. */
  userId: number | string | null;
  organizationId: number | null;
  startedAt: Date | null;
  completedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  maxRetries: number;
  progress: number | null;
  nextAttemptAt: Date | null;
  cancelledAt: Date | null;
  idempotencyKey: string | null;
  scheduleId: string | null;
}

/** Metadata as stored; a row written by an older version that no longer parses reads as none. */
const StoredMetadata = BaseJobMetadata.catch({});

function seedUserId(stored: string): number | string {
  const n = Number(stored);
  return /^[0-9]{1,16}$/.test(stored) && Number.isSafeInteger(n) ? n : stored;
}

/** A row in the seed's `JobExecution` shape. */
export function toJobExecution(row: JobRow): JobExecution {
  const stored = StoredMetadata.parse(row.metadata);
  const userId = row.userId === null ? null : seedUserId(row.userId);
  const metadata = {
    ...stored,
    // The columns are the truth; they also keep a re-enqueue of this envelope in the job's organization.
    ...(row.organizationId !== null && { organizationId: row.organizationId }),
    ...(userId !== null && { userId }),
    idempotencyKey: row.idempotencyKey ?? `job:${row.id}`,
    createdAt: stored.createdAt ?? row.createdAt.toISOString(),
  };
  return {
    id: row.id,
    jobId: row.id,
    jobType: row.type,
    status: row.status,
    payload: { jobId: row.id, type: row.type, payload: row.payload as JobPayload<JobType>, metadata }, // parsed by its schema at insert
    result: row.result ?? null,
    error: row.error?.message ?? null,
    retryCount: row.retryCount,
    userId,
    organizationId: row.organizationId,
    startedAt: row.startedAt,
    completedAt: row.completedAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    maxRetries: row.maxRetries,
    progress: row.progress,
    nextAttemptAt: row.nextAttemptAt,
    cancelledAt: row.cancelledAt,
    idempotencyKey: row.idempotencyKey,
    scheduleId: row.scheduleId,
  };
}

