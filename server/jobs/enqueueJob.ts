import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { jobTypeConfig, isJobType, type JobType } from '../../shared/catalogue.ts';
import { hasNulCharacter, JobOptions, NUL_MESSAGE, type EnqueueOutput } from '../../shared/jobApi.ts';
import type { DbOrTx } from '../db/database.ts';
import { jobExecutions } from '../db/schema.ts';
import type { JobsDeps } from './deps.ts';
import { JobError, JobValidationError, toError } from './errors.ts';
import { findByIdempotencyKeys, idempotencyLookupKey, insertJobs, insertJobsGrouped, type NewJob } from './insertJobs.ts';
import { publishBatcher, type QueuedPublish } from './publishBatcher.ts';
import { publishRequestOf, type PublishableRow } from './publishJob.ts';
import { idempotencyKeyOf, parseMetadata } from './parseMetadata.ts';
import { callbackRefusal, checkCallbackUrl } from '../security/checkCallbackUrl.ts';
import { jobMetrics } from '../metrics/jobMetrics.ts';
import { activeTraceContext } from '../tracing/jobTracing.ts';

export interface EnqueueJobInput {
  type: string;
  payload: unknown;
  /** The seed's `BaseJobMetadata`; validated here. */
  metadata?: unknown;
  options?: JobOptions;
  idempotencyKey?: string;
  /**
   * The payload is already this type's catalogue schema's output (the API's `EnqueueInput`
   * parsed it, NUL check included): it is not parsed a second time.
   */
  payloadParsed?: boolean;
}

/** Checks the type and payload against the catalogue; returns the parsed payload. */
export function validateJob(type: string, payload: unknown): { type: JobType; payload: unknown } {
  if (!isJobType(type)) throw new JobError(`Unknown job type "${type}"`, 'UNKNOWN_JOB_TYPE');
  const config = jobTypeConfig(checkAvailable(type));
  const parsed = config.payload.safeParse(payload);
  if (!parsed.success) throw new JobValidationError(`Invalid payload for job type "${type}"`, parsed.error.issues);
  // Server code's payloads skip the API's plain-JSON check; jsonb cannot store U+0000 either way.
  if (hasNulCharacter(parsed.data)) throw new JobValidationError(`Invalid payload for job type "${type}"`, [{ path: ['payload'], message: `strings and keys ${NUL_MESSAGE}` }]);
  return { type, payload: parsed.data };
}

/** A declared type whose handler has not landed (`availability: 'coming'`) takes no jobs yet. */
function checkAvailable(type: JobType): JobType {
  if (jobTypeConfig(type).availability !== 'available') {
    throw new JobError(`Job type "${type}" is declared but its handler has not landed yet`, 'JOB_TYPE_NOT_AVAILABLE');
  }
  return type;
}

/** Runs the host's extra check of a parsed payload, if it registered one for this type (`JobsDeps.payloadChecks`). */
export function checkPayload(deps: JobsDeps, type: JobType, payload: unknown): void {
  // `payload` was parsed by this type's schema in validateJob, so it is this type's payload.
  const check = deps.payloadChecks?.[type] as ((payload: unknown) => void) | undefined;
  check?.(payload);
}

/** One item's outcome in `enqueueJobs`: the job, or why this item was refused. */
export type EnqueueResult = ({ ok: true } & EnqueueOutput) | { ok: false; error: Error };

/**
 * Records a job and publishes it (transactional outbox). The row commits first; publishing
 * happens after commit and, if it fails, the sweeper retries it. With `tx`, the row joins the
 * caller's transaction and publishing is left to the sweeper, since only the caller knows
 * when it commits. Type, payload, metadata and options are all validated before anything is written.
 */
export async function enqueueJob(deps: JobsDeps, input: EnqueueJobInput, tx?: DbOrTx): Promise<EnqueueOutput> {
  const [result] = await enqueueJobs(deps, [input], tx);
  if (!result!.ok) throw result!.error; // one result per input
  return { jobId: result!.jobId, deduplicated: result!.deduplicated };
}

/**
 * Records several jobs at once: each validated on its own (a bad one is refused in its result,
 * the others go ahead), all valid ones inserted in ONE statement with their timeline events and
 * NOTIFYs, then handed to the publish batcher together. Results are in input order; an idempotency
 * key repeated within the call, or held by an existing job, gives that job (`deduplicated: true`).
 *
 * Resolves once the rows are committed: durable acceptance. Their publish is under way by then,
 * not necessarily done (`publishBatcher(deps).flush()` waits for it); the publishes of
 * concurrent calls share one `/v2/batch` call, and a publish that fails is the sweeper's. While
 * the publish backlog is long, the call waits for its own publish (back-pressure; docs/performance.md, "Enqueue").
 */
export async function enqueueJobs(deps: JobsDeps, inputs: readonly EnqueueJobInput[], tx?: DbOrTx): Promise<EnqueueResult[]> {
  const results: (EnqueueResult | undefined)[] = new Array(inputs.length);
  const fresh: { index: number; job: NewJob }[] = [];
  const firstWithKey = new Map<string, number>(); // lookup key → index of the job that will hold it
  const duplicatesOf: { index: number; of: number; type: JobType }[] = [];
  for (const [index, input] of inputs.entries()) {
    let job: NewJob;
    try {
      job = await prepareJob(deps, input);
    } catch (error) {
      results[index] = { ok: false, error: toError(error) };
      continue;
    }
    deps.log.info({ jobId: job.id, type: job.type, url: `${deps.publicUrl}${jobTypeConfig(job.type).endpoint}` }, '[jobs] Enqueueing job');
    const named = await findNamedJob(tx ?? deps.db, job.organizationId, job.idempotencyKey);
    if (named) {
      results[index] = duplicate(deps, named.id, job.type);
      continue;
    }
    const lookupKey = job.idempotencyKey === null ? undefined : idempotencyLookupKey(job.organizationId, job.idempotencyKey);
    const first = lookupKey === undefined ? undefined : firstWithKey.get(lookupKey);
    if (first !== undefined) {
      duplicatesOf.push({ index, of: first, type: job.type });
      continue;
    }
    if (lookupKey !== undefined) firstWithKey.set(lookupKey, index);
    fresh.push({ index, job });
  }

  const freshJobs = fresh.map((f) => f.job);
  const inserted = new Map((await (tx ? insertJobs(tx, freshJobs) : insertJobsGrouped(deps.db, freshJobs))).map((row) => [row.id, row]));
  const taken = fresh.filter(({ job }) => !inserted.has(job.id));
  const existing = await findByIdempotencyKeys(tx ?? deps.db, taken.flatMap(({ job }) => (job.idempotencyKey === null ? [] : [{ organizationId: job.organizationId, key: job.idempotencyKey }])));
  const toPublish: QueuedPublish[] = [];
  for (const { index, job } of fresh) {
    const row = inserted.get(job.id);
    if (row) {
      deps.log.info({ jobId: job.id, type: job.type }, '[jobs] Job enqueued successfully');
      jobMetrics.enqueued(job.type);
      results[index] = { ok: true, jobId: job.id, deduplicated: false };
      toPublish.push(queuedPublish(job, row.runAtMs));
      continue;
    }
    const holder = job.idempotencyKey === null ? undefined : existing.get(idempotencyLookupKey(job.organizationId, job.idempotencyKey));
    // Ids are random UUIDs, so only an idempotency key conflicts; a holder gone since is a lost race with a deletion.
    results[index] = holder ? duplicate(deps, holder, job.type) : { ok: false, error: new Error('idempotency key conflict but no row found') };
  }
  for (const { index, of, type } of duplicatesOf) {
    const held = results[of];
    results[index] = held?.ok ? duplicate(deps, held.jobId, type) : held;
  }
  // Never rejects: a failed publish is the sweeper's. Answered once the rows are committed (the
  // outbox's promise); the publish follows, unless the backlog is long (publishBatcher.ts).
  if (!tx) await publishBatcher(deps).accept(toPublish);
  return results as EnqueueResult[]; // every index was set above
}

/** Validates one enqueue: type, payload, options, callbacks, metadata, idempotency key. Throws what is wrong. */
async function prepareJob(deps: JobsDeps, input: EnqueueJobInput): Promise<NewJob> {
  const { type, payload } = input.payloadParsed && isJobType(input.type) ? { type: checkAvailable(input.type), payload: input.payload } : validateJob(input.type, input.payload);
  checkPayload(deps, type, payload);
  const options = JobOptions.safeParse(input.options ?? {});
  if (!options.success) throw new JobValidationError('Invalid job options', options.error.issues.map((i) => ({ ...i, path: ['options', ...i.path] })));
  await checkCallbacks(deps, options.data);
  const { metadata, userId, organizationId } = parseMetadata(input.metadata);
  const idempotencyKey = idempotencyKeyOf(input.idempotencyKey, metadata);
  const { delay, retries, ...publishOptions } = options.data;
  const config = jobTypeConfig(type);
  return {
    id: randomUUID(),
    type,
    payload,
    metadata,
    maxRetries: retries ?? config.retries,
    timeoutMs: config.timeout * 1000,
    delay: delay ?? 0,
    publishOptions,
    userId,
    organizationId,
    idempotencyKey: idempotencyKey ?? null,
    traceContext: activeTraceContext(),
  };
}

/** The broker request of a job just inserted, from the values enqueue validated (not parsed again). */
function queuedPublish(job: NewJob, runAtMs: number): QueuedPublish {
  const row: PublishableRow = {
    id: job.id,
    type: job.type,
    payload: job.payload,
    metadata: job.metadata,
    publishOptions: job.publishOptions,
    publishGeneration: 0,
    maxRetries: job.maxRetries,
    timeoutMs: job.timeoutMs,
    runAt: new Date(runAtMs),
    nextAttemptAt: null,
    traceContext: job.traceContext,
    dueInMs: job.delay, // run_at is the database's now() plus this
  };
  return { row, request: publishRequestOf(row, job.metadata, job.publishOptions) };
}

/** Callbacks are requests the broker makes for the caller: never to this network's private addresses (SSRF). */
async function checkCallbacks(deps: JobsDeps, options: JobOptions): Promise<void> {
  for (const key of ['callback', 'failureCallback'] as const) {
    const url = options[key];
    const reason = url === undefined ? undefined : await checkCallbackUrl(url, deps.callbacks);
    if (reason) throw new JobValidationError(callbackRefusal(key, reason), [{ path: ['options', key], message: reason }]);
  }
}

function duplicate(deps: JobsDeps, jobId: string, type: JobType): EnqueueResult {
  deps.log.info({ jobId, type }, '[jobs] Duplicate enqueue; returning the existing job');
  return { ok: true, jobId, deduplicated: true };
}

/** `job:<uuid>`: the key `getJobExecutionByJobId` puts in a job's envelope when it had none. */
const JOB_KEY = /^job:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

/**
 * An enqueue whose key is `job:<jobId>` names that job (same organization): enqueueing a job's own
 * envelope again, as the seed's manual retry does, resolves to the job instead of copying it.
 */
async function findNamedJob(db: DbOrTx, organizationId: number | null, key: string | null): Promise<{ id: string } | undefined> {
  const named = key === null ? null : JOB_KEY.exec(key);
  if (!named?.[1]) return undefined;
  const [row] = await db
    .select({ id: jobExecutions.id })
    .from(jobExecutions)
    .where(and(eq(jobExecutions.id, named[1].toLowerCase()), sql`coalesce(${jobExecutions.organizationId}, -1) = ${organizationId ?? -1}`))
    .limit(1);
  return row;
}
