import { randomUUID } from 'node:crypto';
import { jobTypeConfig, type AvailableJobType } from '../../shared/catalogue.ts';
import { BaseJob, JobMetadata, ScheduledFiring } from '../../shared/jobApi.ts';
import type { JobRow } from '../db/schema.ts';
import { claimJob, readJobRow } from './claimJob.ts';
import { qstashBackoff, type JobsDeps } from './deps.ts';
import { isNonRetryable, JobValidationError, toError, toStoredError } from './errors.ts';
import type { HandlerContext, JobHandler } from './handlers.ts';
import { recordFiring } from './recordFiring.ts';
import { completeJob, failAttempt, reportProgress } from './settleJob.ts';

/** What a verified delivery came to; the worker route maps each kind to an HTTP status. */
export type DeliveryOutcome =
  | { kind: 'completed'; jobId: string }
  /** Already settled (or cancelled): a duplicate or late delivery that runs nothing. */
  | { kind: 'duplicate'; jobId: string; status: string }
  /** The attempt failed and another is due after `retryAfterMs`. */
  | { kind: 'retry'; jobId: string; retryAfterMs: number }
  /** Someone else holds the job, or it isn't visible yet: ask the broker to come back. */
  | { kind: 'busy'; jobId: string; retryAfterMs: number }
  /** Permanently failed, or a message that can never succeed. */
  | { kind: 'failed'; jobId?: string; reason: string };

export interface Delivery {
  type: AvailableJobType;
  body: unknown;
  /** `Upstash-Message-Id`: names a schedule firing's job. */
  messageId: string;
  /** `Upstash-Retried`: how many times the broker has retried this message. */
  retried: number;
}

/** Deliveries of a job id that has no row are retried this many times before giving up. */
const MISSING_ROW_RETRIES = 2;
/** Metadata as stored; a row written by an older version that no longer parses reads as none. */
const StoredMetadata = JobMetadata.catch({});
const PROGRESS_INTERVAL_MS = 250;

export async function processDelivery<T extends AvailableJobType>(
  deps: JobsDeps,
  handler: JobHandler<T>,
  delivery: Delivery & { type: T },
): Promise<DeliveryOutcome> {
  const jobId = await resolveJobId(deps, delivery);
  if (typeof jobId !== 'string') return jobId;
  const log = deps.log.child({ jobId, jobType: delivery.type, messageId: delivery.messageId, retried: delivery.retried });

  const token = randomUUID();
  const row = await claimJob(deps.db, jobId, token);
  if (!row) return unclaimed(deps, jobId, delivery.retried);
  if (row.type !== delivery.type) {
    return settleFailure(deps, row, token, new JobValidationError(`Job ${jobId} is ${row.type}, delivered to ${delivery.type}`), log);
  }

  const parsed = jobTypeConfig(delivery.type).payload.safeParse(row.payload);
  if (!parsed.success) return settleFailure(deps, row, token, new JobValidationError('Stored payload no longer matches its schema', parsed.error.issues), log);

  log.info({ type: row.type, attempt: row.retryCount + 1 }, '[jobs] Processing job'); // jobId is bound on `log`
  try {
    const result = await runWithTimeout(row, (signal) => handler(parsed.data as never, context(deps, row, parsed.data, { token, signal, log }) as HandlerContext<T>));
    const done = await completeJob(deps.db, jobId, token, result);
    if (!done) {
      log.warn('[jobs] Attempt finished after losing its lease; result discarded');
      return { kind: 'duplicate', jobId, status: 'stale' };
    }
    log.info({ type: row.type, durationMs: Date.now() - row.updatedAt.getTime() }, '[jobs] Job processed successfully');
    return { kind: 'completed', jobId };
  } catch (error) {
    return settleFailure(deps, row, token, error, log);
  }
}

/** The job id a delivery names: from the envelope, or a schedule firing turned into its job. */
async function resolveJobId(deps: JobsDeps, delivery: Delivery): Promise<string | DeliveryOutcome> {
  const envelope = BaseJob.safeParse(delivery.body);
  if (envelope.success) return envelope.data.jobId;
  const firing = ScheduledFiring.safeParse(delivery.body);
  if (!firing.success) return { kind: 'failed', reason: 'Body is neither a job envelope nor a schedule firing' };
  const jobId = await recordFiring(deps, firing.data, delivery.messageId);
  return jobId ?? { kind: 'duplicate', jobId: '', status: 'schedule-gone' };
}

async function unclaimed(deps: JobsDeps, jobId: string, retried: number): Promise<DeliveryOutcome> {
  const row = await readJobRow(deps.db, jobId);
  if (!row) {
    // The outbox commits before publishing, so a missing row is a deleted job or a forged id;
    // retry briefly in case the commit isn't visible yet on this connection.
    return retried < MISSING_ROW_RETRIES ? { kind: 'busy', jobId, retryAfterMs: 1000 } : { kind: 'failed', jobId, reason: 'No such job' };
  }
  if (row.status === 'processing') {
    const leaseLeft = (row.leaseUntil?.getTime() ?? Date.now()) - Date.now();
    return { kind: 'busy', jobId, retryAfterMs: Math.max(1000, leaseLeft) };
  }
  return { kind: 'duplicate', jobId, status: row.status };
}

async function settleFailure(
  deps: JobsDeps,
  row: JobRow,
  token: string,
  error: unknown,
  log: JobsDeps['log'],
  forcePermanent = false,
): Promise<DeliveryOutcome> {
  const permanent = forcePermanent || isNonRetryable(error);
  const retryAfterMs = Math.round((deps.backoff ?? qstashBackoff)(row.retryCount + 1));
  const settled = await failAttempt(deps.db, {
    jobId: row.id,
    token,
    error: toStoredError(error),
    permanent,
    nextAttemptAt: new Date(Date.now() + retryAfterMs),
  });
  if (!settled) return { kind: 'duplicate', jobId: row.id, status: 'stale' };
  const failure = { type: row.type, error: toStoredError(error).message, err: toError(error), retryCount: settled.retryCount };
  if (settled.status === 'failed') {
    log.error({ ...failure, willRetry: false }, '[jobs] Job processing failed');
    return { kind: 'failed', jobId: row.id, reason: toStoredError(error).message };
  }
  log.warn({ ...failure, willRetry: true, nextAttemptAt: settled.nextAttemptAt }, '[jobs] Job processing failed');
  return { kind: 'retry', jobId: row.id, retryAfterMs };
}

/** Runs the handler under the type's time limit; a handler that ignores its signal still times out. */
async function runWithTimeout(row: JobRow, run: (signal: AbortSignal) => Promise<unknown>): Promise<unknown> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`Job timed out after ${row.timeoutMs} ms`);
      error.name = 'JobTimeoutError';
      controller.abort(error);
      reject(error);
    }, row.timeoutMs);
  });
  try {
    return await Promise.race([run(controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function context(deps: JobsDeps, row: JobRow, payload: unknown, attempt: { token: string; signal: AbortSignal; log: JobsDeps['log'] }): HandlerContext {
  const { token, signal, log } = attempt;
  let lastReport = 0;
  return {
    jobId: row.id,
    type: row.type,
    payload: payload as HandlerContext['payload'], // parsed by this row's type's schema just before

    attempt: row.retryCount + 1,
    maxRetries: row.maxRetries,
    organizationId: row.organizationId,
    userId: row.userId,
    metadata: StoredMetadata.parse(row.metadata),
    signal,
    log,
    async progress(fraction, message) {
      const now = Date.now();
      if (fraction < 1 && now - lastReport < PROGRESS_INTERVAL_MS) return;
      lastReport = now;
      await reportProgress(deps.db, { jobId: row.id, token, fraction: Math.min(1, Math.max(0, fraction)), message });
    },
  };
}
