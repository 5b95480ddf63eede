/**
 * The seed's job-execution queries (`@/lib/db/queries`) on the default server: every
 * organization's jobs (server code, not API callers). The `…With(deps, …)` variants take
 * explicit dependencies. State changes go through the guarded domain transitions.
 */
import { z } from 'zod';
import { jobTypeConfig, type JobType } from '../../shared/catalogue.ts';
import { BaseJobMetadata, JobId } from '../../shared/jobApi.ts';
import type { Db } from '../db/database.ts';
import { jobExecutions } from '../db/schema.ts';
import { defaultServer } from '../defaultServer.ts';
import { cancelJob } from './cancelJob.ts';
import { readJobRow } from './claimJob.ts';
import type { JobsDeps } from './deps.ts';
import { checkPayload, validateJob } from './enqueueJob.ts';
import { JobError, JobNotFoundError, JobValidationError } from './errors.ts';
import { toJobExecution, type JobExecution } from './jobExecutionView.ts';
import { parseMetadata } from './parseMetadata.ts';
import { publishJob } from './publishJob.ts';
import { recordEvent } from './recordEvent.ts';
import { retryJob } from './retryJob.ts';
import { ALL_ORGANIZATIONS } from './scope.ts';
import { settleManually } from './settleManually.ts';

export type { JobEnvelope, JobExecution } from './jobExecutionView.ts';

const NewJobExecution = z.strictObject({
  jobId: JobId,
  jobType: z.string(),
  status: z.literal('pending', { error: 'a job execution is created pending; its worker moves it on' }).optional(),
  /** The job's payload, or the seed's envelope `{ jobId, type, payload, metadata }`. */
  payload: z.unknown(),
  userId: BaseJobMetadata.shape.userId.nullable(),
  organizationId: BaseJobMetadata.shape.organizationId.nullable(),
});
export type NewJobExecution = z.input<typeof NewJobExecution> & { jobType: JobType };

const Envelope = z.strictObject({ jobId: z.string(), type: z.string(), payload: z.unknown(), metadata: z.record(z.string(), z.unknown()) });
const isEnvelope = (v: unknown): boolean => typeof v === 'object' && v !== null && ['jobId', 'type', 'payload', 'metadata'].every((k) => k in v);

const Unset = z.null().optional();
const JobExecutionUpdate = z.discriminatedUnion(
  'status',
  [
    // The seed's manual retry: `jobs.retry`.
    z.strictObject({ status: z.literal('pending'), error: Unset, result: Unset, completedAt: Unset, retryCount: z.literal(0).optional() }),
    z.strictObject({ status: z.literal('completed'), result: z.unknown().optional(), completedAt: z.date().optional(), error: Unset }),
    z.strictObject({ status: z.literal('failed'), error: z.string().min(1).max(2000).optional(), completedAt: z.date().optional() }),
    z.strictObject({ status: z.literal('cancelled') }),
  ],
  { error: "status must be 'pending' (retry), 'completed', 'failed' or 'cancelled'; 'processing' and 'retrying' are the worker's" },
);
export type JobExecutionUpdate = z.input<typeof JobExecutionUpdate>;

/** Any Postgres-shaped uuid; anything else names no job (and never reaches a uuid cast). */
const isUuid = (id: unknown): id is string => z.guid().safeParse(id).success;

/** A value given both on the record and in the envelope's metadata must agree. */
function agreed(field: 'userId' | 'organizationId', given: unknown, inEnvelope: unknown): unknown {
  if (given != null && inEnvelope !== undefined && String(given) !== String(inEnvelope)) {
    throw new JobValidationError(`${field} differs between the record and its envelope's metadata`, [{ path: [field], message: 'conflicting values' }]);
  }
  return given ?? inEnvelope;
}

/** The job's own payload and metadata, from the seed's envelope when `payload` is one. */
function unwrap(data: z.output<typeof NewJobExecution>): { payload: unknown; metadata: Record<string, unknown> } {
  if (!isEnvelope(data.payload)) return { payload: data.payload, metadata: {} };
  const envelope = Envelope.safeParse(data.payload);
  if (!envelope.success) throw new JobValidationError('Invalid job envelope', envelope.error.issues.map((i) => ({ ...i, path: ['payload', ...i.path] })));
  if (envelope.data.jobId !== data.jobId || envelope.data.type !== data.jobType) {
    throw new JobValidationError('The envelope names another job', ['payload.jobId and payload.type must match jobId and jobType']);
  }
  return envelope.data;
}

/** Records a pending job (transactional outbox) and publishes it after commit, as enqueue does. */
export async function createJobExecutionWith(deps: JobsDeps, data: NewJobExecution): Promise<JobExecution> {
  const input = NewJobExecution.safeParse(data);
  if (!input.success) throw new JobValidationError('Invalid job execution', input.error.issues);
  const { jobId } = input.data;
  const unwrapped = unwrap(input.data);
  const job = validateJob(input.data.jobType, unwrapped.payload);
  checkPayload(deps, job.type, job.payload);
  const parsed = parseMetadata({
    ...unwrapped.metadata,
    userId: agreed('userId', input.data.userId, unwrapped.metadata.userId) ?? undefined,
    organizationId: agreed('organizationId', input.data.organizationId, unwrapped.metadata.organizationId) ?? undefined,
  });
  // `job:<own id>` is the implicit key of getJobExecutionByJobId's envelope; one naming another job would alias it.
  const { idempotencyKey, ...metadata } = parsed.metadata;
  const key = idempotencyKey === `job:${jobId}` ? undefined : idempotencyKey;
  if (key?.startsWith('job:')) throw new JobValidationError('Idempotency keys starting "job:" name an existing job', ['payload.metadata.idempotencyKey']);
  const config = jobTypeConfig(job.type);

  const row = await deps.db.transaction(async (tx) => {
    const [inserted] = await tx
      .insert(jobExecutions)
      .values({
        id: jobId,
        type: job.type,
        payload: job.payload,
        metadata: key ? { ...metadata, idempotencyKey: key } : metadata,
        maxRetries: config.retries,
        timeoutMs: config.timeout * 1000,
        userId: parsed.userId,
        organizationId: parsed.organizationId,
        idempotencyKey: key ?? null,
      })
      .onConflictDoNothing()
      .returning();
    if (inserted) await recordEvent(tx, inserted);
    return inserted;
  });
  if (!row) throw new JobError(`Job ${jobId} already exists (same jobId, or same idempotency key in its organization)`, 'DUPLICATE_JOB', jobId);
  deps.log.info({ jobId, type: row.type }, '[jobs] Job execution recorded');
  await publishJob(deps, row);
  return toJobExecution(row);
}

export async function getJobExecution(db: Db, jobId: string): Promise<JobExecution | undefined> {
  if (!isUuid(jobId)) return undefined;
  const row = await readJobRow(db, jobId);
  return row && toJobExecution(row);
}

/**
 * The seed's status changes, each a guarded transition (InvalidTransitionError when the job's
 * status does not allow it): `pending` is `jobs.retry`, `cancelled` is `jobs.cancel`,
 * `completed` / `failed` settle an unsettled job by hand.
 */
export async function updateJobExecutionWith(deps: JobsDeps, jobId: string, updates: JobExecutionUpdate): Promise<void> {
  if (!isUuid(jobId)) throw new JobNotFoundError('job', jobId);
  const parsed = JobExecutionUpdate.safeParse(updates);
  if (!parsed.success) throw new JobValidationError('Invalid job execution update', parsed.error.issues);
  const update = parsed.data;
  if (update.status === 'pending') await retryJob(deps, ALL_ORGANIZATIONS, jobId);
  else if (update.status === 'cancelled') await cancelJob(deps, ALL_ORGANIZATIONS, jobId);
  else await settleManually(deps, jobId, update);
}

/** The seed's `createJobExecution(data)`. */
export async function createJobExecution(data: NewJobExecution): Promise<JobExecution> {
  return createJobExecutionWith(defaultServer().jobs, data);
}

/** The seed's `getJobExecutionByJobId(jobId)`: undefined for an unknown or malformed id. */
export async function getJobExecutionByJobId(jobId: string): Promise<JobExecution | undefined> {
  return getJobExecution(defaultServer().jobs.db, jobId);
}

/** The seed's `updateJobExecution(jobId, updates)`. */
export async function updateJobExecution(jobId: string, updates: JobExecutionUpdate): Promise<void> {
  return updateJobExecutionWith(defaultServer().jobs, jobId, updates);
}
