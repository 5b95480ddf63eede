import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { jobTypeConfig, JobTypeSchema, type AvailableJobType } from '../../shared/catalogue.ts';
import { JobId, JobMetadata, ScheduledFiring } from '../../shared/jobApi.ts';
import type { JobRow } from '../db/schema.ts';
import { attemptsOf } from './attempts.ts';
import { claimJob, readJobRow } from './claimJob.ts';
import { qstashBackoff, type JobsDeps } from './deps.ts';
import { isDatabaseUnavailable, isNonRetryable, JobValidationError, toError, toStoredError } from './errors.ts';
import type { HandlerContext, JobHandler } from './handlers.ts';
import { recordFiring } from './recordFiring.ts';
import { completeJob, failAttempt, releaseAttempt, reportProgress } from './settleJob.ts';
import { jobMetrics } from '../metrics/jobMetrics.ts';
import { traceHandler } from '../tracing/jobTracing.ts';

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
/**
 * What a job envelope must name: the job. Its metadata and payload are not read (the row is the
 * truth), so not validated either; `BaseJob` would check them on every delivery for nothing.
 */
const Envelope = z.object({ jobId: JobId, type: JobTypeSchema });

export async function processDelivery<T extends AvailableJobType>(
  deps: JobsDeps,
  handler: JobHandler<T>,
  delivery: Delivery & { type: T },
): Promise<DeliveryOutcome> {
  // Our own statements failing (database away, connection reset) say nothing about the job:
  // the broker comes back soon, and the job's attempts are untouched.
  const jobId = await resolveJobId(deps, delivery).catch((error: unknown) => unavailable(deps, error));
  if (typeof jobId !== 'string') return jobId;
  // The delivery's bindings, on every line it logs; the child logger is made only if the handler
  // or a failure asks for it, not on every delivery.
  const bindings = { jobId, jobType: delivery.type, messageId: delivery.messageId, retried: delivery.retried };
  const log = lazyChild(deps.log, bindings);

  const attempts = attemptsOf(deps.db, deps.log);
  // A redelivery while this process still runs or settles the job: no statement needed to know it is busy.
  if (attempts.holds(jobId)) return { kind: 'busy', jobId, retryAfterMs: BUSY_RETRY_MS };
  const token = randomUUID();
  const end = attempts.begin(jobId, token);
  let settling = false;
  try {
    const row = await claimWithRetry(deps, jobId, token);
    if (!row) return await unclaimed(deps, jobId, delivery.retried);
    if (row.type !== delivery.type) {
      return await settleFailure(deps, row, token, new JobValidationError(`Job ${jobId} is ${row.type}, delivered to ${delivery.type}`), log, delivery);
    }
    const parsed = jobTypeConfig(delivery.type).payload.safeParse(row.payload);
    if (!parsed.success) return await settleFailure(deps, row, token, new JobValidationError('Stored payload no longer matches its schema', parsed.error.issues), log, delivery);

    deps.log.info({ ...bindings, type: row.type, attempt: row.retryCount + 1 }, '[jobs] Processing job');
    jobMetrics.started(row);
    let outcome: Promise<DeliveryOutcome>;
    try {
      const result = await traceHandler(row, () => runWithTimeout(row, (signal) => handler(parsed.data as never, context(deps, row, parsed.data, { token, signal, log }) as HandlerContext<T>)));
      outcome = settleSuccess(deps, row, token, result, { bindings, log });
    } catch (error) {
      outcome = settleFailure(deps, row, token, error, log, delivery);
    }
    // The handler ran; from here only its settle is retried, never the handler. A settle that
    // outlasts SETTLE_ANSWER_MS goes on in the background (the attempt stays registered, so a
    // redelivery is answered busy) and the broker is asked to come back.
    settling = true;
    outcome.finally(end).catch(() => undefined);
    return await Promise.race([outcome, sleep(SETTLE_ANSWER_MS).then((): DeliveryOutcome => ({ kind: 'busy', jobId, retryAfterMs: BUSY_RETRY_MS }))]);
  } catch (error) {
    return unavailable(deps, error, jobId);
  } finally {
    if (!settling) end();
  }
}

/** Retry-After for a delivery that met a busy job or an unavailable database. */
const BUSY_RETRY_MS = 1_000;
/** How long a delivery's answer waits for its settle before the settle goes on in the background. */
const SETTLE_ANSWER_MS = 5_000;
/** Retries of one of our statements (claim, settle) within a delivery, backing off to 1 s. */
const STATEMENT_RETRIES = 6;
/** How long a settle is retried before the attempt is abandoned to its lease (the job runs again). */
const SETTLE_PATIENCE_MS = 10 * 60_000;

type LazyLog = () => JobsDeps['log'];
function lazyChild(log: JobsDeps['log'], bindings: object): LazyLog {
  let child: JobsDeps['log'] | undefined;
  return () => (child ??= log.child(bindings));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const retryDelay = (attempt: number) => Math.min(1_000, 50 * 2 ** attempt);

function unavailable(deps: JobsDeps, error: unknown, jobId?: string): DeliveryOutcome {
  deps.log.warn({ jobId, err: toError(error) }, '[jobs] Database unavailable during delivery; the broker retries it');
  return { kind: 'busy', jobId: jobId ?? '', retryAfterMs: BUSY_RETRY_MS };
}

/**
 * The claim, retried while the database is away. A claim whose COMMIT was sent but not answered
 * may have taken the job: our token on the row says so, and then the attempt is ours.
 */
async function claimWithRetry(deps: JobsDeps, jobId: string, token: string): Promise<JobRow | undefined> {
  for (let attempt = 0; ; attempt++) {
    try {
      const row = await claimJob(deps.db, jobId, token);
      if (row || attempt === 0) return row;
      // After an unanswered try, nothing to claim may mean that try took it.
      const now = await readJobRow(deps.db, jobId);
      return now?.attemptToken === token ? now : undefined;
    } catch (error) {
      const row = await readJobRow(deps.db, jobId).catch(() => undefined);
      if (row?.attemptToken === token) return row;
      if (attempt >= STATEMENT_RETRIES) throw error;
      await sleep(retryDelay(attempt));
    }
  }
}

/**
 * Runs a settle statement until it gets an answer. Nothing matched after an unanswered attempt
 * that did commit reads as "already settled": `recheck` reads the row to tell.
 */
async function settleWithRetry(deps: JobsDeps, settle: () => Promise<JobRow | undefined>, recheck: () => Promise<JobRow | undefined>): Promise<JobRow | undefined> {
  const deadline = Date.now() + SETTLE_PATIENCE_MS;
  let unanswered = false;
  for (let attempt = 0; ; attempt++) {
    try {
      const row = await settle();
      return row ?? (unanswered ? await recheck() : undefined);
    } catch (error) {
      unanswered = true;
      if (Date.now() > deadline) throw error;
      if (attempt === 2) deps.log.warn({ err: toError(error) }, '[jobs] Settling the attempt failed; retrying the settle (not the handler)');
      await sleep(retryDelay(attempt));
    }
  }
}

async function settleSuccess(deps: JobsDeps, row: JobRow, token: string, result: unknown, logs: { bindings: object; log: LazyLog }): Promise<DeliveryOutcome> {
  const done = await settleWithRetry(
    deps,
    () => completeJob(deps.db, row.id, token, result),
    async () => ((await readJobRow(deps.db, row.id))?.status === 'completed' ? row : undefined),
  );
  if (!done) {
    logs.log().warn('[jobs] Attempt finished after losing its lease; result discarded');
    return { kind: 'duplicate', jobId: row.id, status: 'stale' };
  }
  deps.log.info({ ...logs.bindings, type: row.type, durationMs: Date.now() - row.updatedAt.getTime() }, '[jobs] Job processed successfully');
  jobMetrics.settled(row, 'completed');
  return { kind: 'completed', jobId: row.id };
}

/** The job id a delivery names: from the envelope, or a schedule firing turned into its job. */
async function resolveJobId(deps: JobsDeps, delivery: Delivery): Promise<string | DeliveryOutcome> {
  const envelope = Envelope.safeParse(delivery.body);
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
  log: LazyLog,
  delivery: Pick<Delivery, 'retried'>,
): Promise<DeliveryOutcome> {
  if (isDatabaseUnavailable(error)) {
    // The handler failed because the database was away: give the job back without counting the
    // attempt. When the broker has no retries left for this message, the sweeper publishes a new one.
    const released = await settleWithRetry(
      deps,
      () => releaseAttempt(deps.db, { jobId: row.id, token, nextAttemptAt: new Date(Date.now() + BUSY_RETRY_MS), republish: delivery.retried >= row.maxRetries }),
      () => readJobRow(deps.db, row.id),
    );
    log().warn({ type: row.type, err: toError(error), released: released !== undefined }, '[jobs] Database unavailable during the attempt; retrying without counting it');
    return { kind: 'busy', jobId: row.id, retryAfterMs: BUSY_RETRY_MS };
  }
  const permanent = isNonRetryable(error);
  const retryAfterMs = Math.round((deps.backoff ?? qstashBackoff)(row.retryCount + 1));
  const settled = await settleWithRetry(
    deps,
    () =>
      failAttempt(deps.db, {
        jobId: row.id,
        token,
        error: toStoredError(error),
        permanent,
        nextAttemptAt: new Date(Date.now() + retryAfterMs),
      }),
    async () => {
      const now = await readJobRow(deps.db, row.id);
      return now && (now.status === 'failed' || now.status === 'retrying') ? now : undefined;
    },
  );
  if (!settled) return { kind: 'duplicate', jobId: row.id, status: 'stale' };
  const failure = { type: row.type, error: toStoredError(error).message, err: toError(error), retryCount: settled.retryCount };
  jobMetrics.settled(row, settled.status === 'failed' ? 'failed' : 'retried');
  if (settled.status === 'failed') {
    log().error({ ...failure, willRetry: false }, '[jobs] Job processing failed');
    return { kind: 'failed', jobId: row.id, reason: toStoredError(error).message };
  }
  log().warn({ ...failure, willRetry: true, nextAttemptAt: settled.nextAttemptAt }, '[jobs] Job processing failed');
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

function context(deps: JobsDeps, row: JobRow, payload: unknown, attempt: { token: string; signal: AbortSignal; log: LazyLog }): HandlerContext {
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
    get log() {
      return log();
    },
    async progress(fraction, message) {
      const now = Date.now();
      if (fraction < 1 && now - lastReport < PROGRESS_INTERVAL_MS) return;
      lastReport = now;
      await reportProgress(deps.db, { jobId: row.id, token, fraction: Math.min(1, Math.max(0, fraction)), message });
    },
  };
}
