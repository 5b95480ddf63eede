import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { jobTypeConfig, isJobType, type JobType } from '../../shared/catalogue.ts';
import { hasNulCharacter, JobOptions, NUL_MESSAGE, type EnqueueOutput } from '../../shared/jobApi.ts';
import type { DbOrTx } from '../db/database.ts';
import { jobExecutions, type JobRow } from '../db/schema.ts';
import type { JobsDeps } from './deps.ts';
import { JobError, JobValidationError } from './errors.ts';
import { publishJob } from './publishJob.ts';
import { recordEvent } from './recordEvent.ts';
import { idempotencyKeyOf, parseMetadata } from './parseMetadata.ts';
import { callbackRefusal, checkCallbackUrl } from '../security/checkCallbackUrl.ts';
import { jobMetrics } from '../metrics/jobMetrics.ts';

export interface EnqueueJobInput {
  type: string;
  payload: unknown;
  /** The seed's `BaseJobMetadata`; validated here. */
  metadata?: unknown;
  options?: JobOptions;
  idempotencyKey?: string;
}

/** Checks the type and payload against the catalogue; returns the parsed payload. */
export function validateJob(type: string, payload: unknown): { type: JobType; payload: unknown } {
  if (!isJobType(type)) throw new JobError(`Unknown job type "${type}"`, 'UNKNOWN_JOB_TYPE');
  const config = jobTypeConfig(type);
  if (config.availability !== 'available') {
    throw new JobError(`Job type "${type}" is declared but its handler has not landed yet`, 'JOB_TYPE_NOT_AVAILABLE');
  }
  const parsed = config.payload.safeParse(payload);
  if (!parsed.success) throw new JobValidationError(`Invalid payload for job type "${type}"`, parsed.error.issues);
  // Server code's payloads skip the API's plain-JSON check; jsonb cannot store U+0000 either way.
  if (hasNulCharacter(parsed.data)) throw new JobValidationError(`Invalid payload for job type "${type}"`, [{ path: ['payload'], message: `strings and keys ${NUL_MESSAGE}` }]);
  return { type, payload: parsed.data };
}

/** Runs the host's extra check of a parsed payload, if it registered one for this type (`JobsDeps.payloadChecks`). */
export function checkPayload(deps: JobsDeps, type: JobType, payload: unknown): void {
  // `payload` was parsed by this type's schema in validateJob, so it is this type's payload.
  const check = deps.payloadChecks?.[type] as ((payload: unknown) => void) | undefined;
  check?.(payload);
}

/**
 * Records a job and publishes it (transactional outbox). The row commits first; publishing
 * happens after commit and, if it fails, the sweeper retries it. With `tx`, the row joins the
 * caller's transaction and publishing is left to the sweeper, since only the caller knows
 * when it commits. Type, payload, metadata and options are all validated before anything is written.
 */
export async function enqueueJob(deps: JobsDeps, input: EnqueueJobInput, tx?: DbOrTx): Promise<EnqueueOutput> {
  const { type, payload } = validateJob(input.type, input.payload);
  checkPayload(deps, type, payload);
  const options = JobOptions.safeParse(input.options ?? {});
  if (!options.success) throw new JobValidationError('Invalid job options', options.error.issues.map((i) => ({ ...i, path: ['options', ...i.path] })));
  await checkCallbacks(deps, options.data);
  const { metadata, userId, organizationId } = parseMetadata(input.metadata);
  const idempotencyKey = idempotencyKeyOf(input.idempotencyKey, metadata);
  const { delay, retries, ...publishOptions } = options.data;
  const config = jobTypeConfig(type);
  const jobId = randomUUID();
  deps.log.info({ jobId, type, url: `${deps.publicUrl}${config.endpoint}` }, '[jobs] Enqueueing job');

  const existing = await findNamedJob(tx ?? deps.db, organizationId, idempotencyKey);
  if (existing) return duplicate(deps, existing, type);
  const { row, deduplicated } = await (tx ?? deps.db).transaction(async (t) => {
    const [inserted] = await t
      .insert(jobExecutions)
      .values({
        id: jobId,
        type,
        payload,
        metadata,
        maxRetries: retries ?? config.retries,
        timeoutMs: config.timeout * 1000,
        runAt: sql`now() + ${delay ?? 0} * interval '1 millisecond'`,
        publishOptions,
        userId,
        organizationId,
        idempotencyKey: idempotencyKey ?? null,
      })
      .onConflictDoNothing()
      .returning();
    if (inserted) {
      await recordEvent(t, inserted);
      return { row: inserted, deduplicated: false };
    }
    return { row: await findByIdempotencyKey(t, organizationId, idempotencyKey), deduplicated: true };
  });

  if (deduplicated) return duplicate(deps, row, type);
  deps.log.info({ jobId: row.id, type }, '[jobs] Job enqueued successfully');
  jobMetrics.enqueued(type);
  if (!tx) await publishJob(deps, row);
  return { jobId: row.id, deduplicated };
}

/** Callbacks are requests the broker makes for the caller: never to this network's private addresses (SSRF). */
async function checkCallbacks(deps: JobsDeps, options: JobOptions): Promise<void> {
  for (const key of ['callback', 'failureCallback'] as const) {
    const url = options[key];
    const reason = url === undefined ? undefined : await checkCallbackUrl(url, deps.callbacks);
    if (reason) throw new JobValidationError(callbackRefusal(key, reason), [{ path: ['options', key], message: reason }]);
  }
}

function duplicate(deps: JobsDeps, row: JobRow, type: JobType): EnqueueOutput {
  deps.log.info({ jobId: row.id, type }, '[jobs] Duplicate enqueue; returning the existing job');
  return { jobId: row.id, deduplicated: true };
}

/** `job:<uuid>`: the key `getJobExecutionByJobId` puts in a job's envelope when it had none. */
const JOB_KEY = /^job:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

/**
 * An enqueue whose key is `job:<jobId>` names that job (same organization): enqueueing a job's own
 * envelope again, as the seed's manual retry does, resolves to the job instead of copying it.
 */
async function findNamedJob(db: DbOrTx, organizationId: number | null, key: string | undefined): Promise<JobRow | undefined> {
  const named = key === undefined ? null : JOB_KEY.exec(key);
  if (!named?.[1]) return undefined;
  const [row] = await db
    .select()
    .from(jobExecutions)
    .where(and(eq(jobExecutions.id, named[1].toLowerCase()), sql`coalesce(${jobExecutions.organizationId}, -1) = ${organizationId ?? -1}`))
    .limit(1);
  return row;
}

async function findByIdempotencyKey(db: DbOrTx, organizationId: number | null, key: string | undefined): Promise<JobRow> {
  if (key === undefined) throw new Error('insert conflicted without an idempotency key'); // ids are random UUIDs
  const [row] = await db
    .select()
    .from(jobExecutions)
    .where(and(sql`coalesce(${jobExecutions.organizationId}, -1) = ${organizationId ?? -1}`, eq(jobExecutions.idempotencyKey, key)))
    .limit(1);
  if (!row) throw new Error('idempotency key conflict but no row found');
  return row;
}
