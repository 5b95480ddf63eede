import { and, eq, getTableColumns, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import { jobExecutions, type JobRow } from '../db/schema.ts';
import { brokerReachability } from './brokerReachability.ts';
import type { JobsDeps, PublishRequest } from './deps.ts';
import { toError } from './errors.ts';
import { publishJob, stampPublished, toPublishRequest } from './publishJob.ts';
import { recordEvent } from './recordEvent.ts';
import { failedAttemptSet } from './settleJob.ts';

export interface SweeperOptions {
  /** How often to sweep. Default 10 s. */
  intervalMs?: number;
  /** Age of an unpublished row before the sweeper publishes it (enqueue normally does). Default 5 s. */
  publishGraceMs?: number;
  /** How long past its due time a published job may go undelivered before it is republished. Default 5 min. */
  overdueMs?: number;
  /** Rows per statement; a sweep takes batch after batch until none is left. Default 100. */
  batchSize?: number;
  /** Publishes in flight at once while draining. Default 16. */
  publishConcurrency?: number;
  /** While the broker is unreachable, how often the sweeper tries it again. Default 1 s. */
  probeIntervalMs?: number;
}

export interface SweepResult {
  leasesExpired: number;
  rearmed: number;
  published: number;
  /** A publish failed: the broker is unreachable, the rest waits for the next pass. */
  brokerUnreachable: boolean;
}

const t = jobExecutions;
const waiting = inArray(t.status, ['pending', 'retrying']);

/**
 * One pass of recovery: attempts whose lease lapsed (their worker died) become retries; jobs
 * the broker lost (DLQ'd, dropped) are re-armed; unpublished rows are published. Safe to run
 * on several instances at once: every step is a guarded statement.
 */
export async function sweepOnce(deps: JobsDeps, options: SweeperOptions = {}): Promise<SweepResult> {
  const { publishGraceMs = 5_000, overdueMs = 5 * 60_000, batchSize = 100 } = options;
  const leasesExpired = await expireLeases(deps, batchSize);

  const rearmed = await deps.db
    .update(t)
    .set({ publishedAt: null, publishGeneration: sql`${t.publishGeneration} + 1` })
    .where(
      and(
        waiting,
        lt(t.publishedAt, sql`now() - ${overdueMs} * interval '1 millisecond'`),
        lt(sql`greatest(${t.runAt}, coalesce(${t.nextAttemptAt}, ${t.runAt}))`, sql`now() - ${overdueMs} * interval '1 millisecond'`),
      ),
    )
    .returning({ id: t.id });

  // A row the sweeper took (published_at stamped, message_id cleared) whose publish was never
  // confirmed: the process died or lost the database between the stamp and the confirmation.
  // Publishing it again is safe: the broker deduplicates one generation.
  await deps.db
    .update(t)
    .set({ publishedAt: null })
    .where(and(waiting, isNull(t.messageId), lt(t.publishedAt, sql`now() - ${UNCONFIRMED_MS} * interval '1 millisecond'`)));
  const { published, brokerUnreachable } = await publishUnpublished(deps, { publishGraceMs, batchSize, concurrency: options.publishConcurrency ?? 16 });
  return { leasesExpired, rearmed: rearmed.length, published, brokerUnreachable };
}

/**
 * Unpublished rows: enqueue's publish failed, or a retry the sweeper just re-armed (those need no
 * grace: enqueue never leaves a retrying row unpublished). Batch after batch, as fast as the broker
 * takes them, until none is left or the broker is unreachable. A batch is taken by stamping
 * published_at first (no transaction held across HTTP: the embedded broker may share this
 * database); a failed publish clears the stamp again. The batch's first publish goes alone: when
 * it fails the broker is away, and the rest of the batch is not tried. Each take is a new publish
 * generation (a new deduplication id): a publish that failed may still have been stored by the
 * broker without ever being scheduled (its answer lost), and a repeat of the same id would be
 * deduplicated against it. A second live message costs one more delivery, which the claim
 * absorbs; a message the broker never delivers would cost the job.
 */
async function publishUnpublished(
  deps: JobsDeps,
  options: { publishGraceMs: number; batchSize: number; concurrency: number },
): Promise<{ published: number; brokerUnreachable: boolean }> {
  const { publishGraceMs, batchSize, concurrency } = options;
  let published = 0;
  for (;;) {
    const due = await deps.db
      .update(t)
      .set({ publishedAt: sql`now()`, messageId: null, publishGeneration: sql`${t.publishGeneration} + 1` })
      .where(
        inArray(
          t.id,
          deps.db
            .select({ id: t.id })
            .from(t)
            .where(and(waiting, isNull(t.publishedAt), or(eq(t.status, 'retrying'), lt(t.updatedAt, sql`now() - ${publishGraceMs} * interval '1 millisecond'`))))
            .limit(batchSize)
            .for('update', { skipLocked: true }),
        ),
      )
      .returning({
        ...getTableColumns(t),
        // The database's clock, as run_at and next_attempt_at are (publishJob.ts, dueInMs); a
        // retry's own time supersedes the initial delay.
        dueInMs: sql<number>`(extract(epoch FROM coalesce(${t.nextAttemptAt}, ${t.runAt}) - now()) * 1000)::float8`.mapWith(Number),
      });
    if (due.length === 0) return { published, brokerUnreachable: false };
    const failed: JobRow[] = [];
    const publishOne = async (row: JobRow) => {
      if (await publishJob(deps, row, { force: true })) published++;
      else failed.push(row);
    };
    const [first, ...rest] = due;
    await publishOne(first!); // due is not empty
    if (failed.length > 0) failed.push(...rest);
    else published += await publishRest(deps, rest, { concurrency, publishOne });
    if (failed.length > 0) {
      // Best effort: rows left stamped are taken again once unconfirmed for UNCONFIRMED_MS.
      await deps.db
        .update(t)
        .set({ publishedAt: null })
        .where(and(isNull(t.messageId), or(...failed.map((row) => and(eq(t.id, row.id), eq(t.publishGeneration, row.publishGeneration))))))
        .catch((error: unknown) => deps.log.warn({ err: toError(error) }, '[jobs] Could not release rows whose publish failed; a later sweep takes them'));
      return { published, brokerUnreachable: true };
    }
    if (due.length < batchSize) return { published, brokerUnreachable: false };
  }
}

/**
 * The rest of a batch, once its first publish got through: as one `/v2/batch` call when the
 * publisher has batches (one publish per message held a drain after a broker outage to ~140 jobs
 * a second), with their message ids stamped in one statement. A message the batch did not take,
 * or a batch refused as a whole, is published alone, which tells the message from the moment.
 * Returns how many the batch call published (`publishOne` counts its own).
 */
async function publishRest(deps: JobsDeps, rows: JobRow[], opts: { concurrency: number; publishOne: (row: JobRow) => Promise<void> }): Promise<number> {
  const { concurrency, publishOne } = opts;
  const batchable: { row: JobRow; request: PublishRequest }[] = [];
  const alone: JobRow[] = [];
  for (const row of rows) {
    try {
      batchable.push({ row, request: toPublishRequest(row) });
    } catch {
      alone.push(row); // publishJob fails the job that can never be published
    }
  }
  let published = 0;
  if (deps.publisher.publishBatch && batchable.length > 1) {
    const outcomes = await deps.publisher.publishBatch(batchable.map((b) => b.request)).catch(() => undefined);
    const stamped: { row: JobRow; messageId: string }[] = [];
    batchable.forEach(({ row }, i) => {
      const outcome = outcomes?.[i];
      if (outcome && 'messageId' in outcome) stamped.push({ row, messageId: outcome.messageId });
      else alone.push(row);
    });
    if (stamped.length > 0) {
      brokerReachability(deps.publisher).note(true);
      // A stamp that fails leaves the rows for UNCONFIRMED_MS; the broker has them either way.
      await stampPublished(deps.db, stamped, { force: true });
      published += stamped.length;
    }
  } else {
    alone.push(...batchable.map((b) => b.row));
  }
  await inParallel(alone, concurrency, publishOne);
  return published;
}

/** Runs `fn` over `items`, at most `limit` at once. */
async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!); // next < length
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** How long a row the sweeper took may stay unconfirmed before another pass takes it again. */
const UNCONFIRMED_MS = 10_000;

const LEASE_LOST = { name: 'AttemptLostError', message: 'The attempt stopped reporting before its lease ran out (worker crashed or timed out)' };

/** Lapsed leases become retries (republished at once) or, on the last attempt, failures. */
async function expireLeases(deps: JobsDeps, batchSize: number): Promise<number> {
  const lapsed = and(eq(t.status, 'processing'), lt(t.leaseUntil, sql`now()`));
  const rows = await deps.db.transaction(async (tx) => {
    const updated = await tx
      .update(t)
      .set({
        ...failedAttemptSet(sql`${t.retryCount} >= ${t.maxRetries}`, sql`now()`, LEASE_LOST),
        publishedAt: null,
        publishGeneration: sql`${t.publishGeneration} + 1`,
      })
      .where(and(lapsed, inArray(t.id, tx.select({ id: t.id }).from(t).where(lapsed).limit(batchSize).for('update', { skipLocked: true }))))
      .returning();
    for (const row of updated) await recordEvent(tx, row, 'lease expired');
    return updated;
  });
  for (const row of rows) deps.log.warn({ jobId: row.id, type: row.type, status: row.status }, '[jobs] Attempt lease expired; job rescheduled');
  return rows.length;
}

/**
 * Runs `sweepOnce` every `intervalMs` until stopped; never two passes at once. While the broker is
 * unreachable it sweeps every `probeIntervalMs` instead, and a publish that gets through again
 * (an enqueue's) starts a pass at once. A publish that fails (an enqueue's included: the broker
 * answered 500 while its database was away) brings a pass within `probeIntervalMs`, and passes
 * keep coming that often, with the publish grace cut to `probeIntervalMs`, until one has seen
 * every row whose publish failed: those rows have nobody else to publish them, and waiting out
 * the grace and the interval cost up to 15 s of drain after a database restart.
 */
export function startSweeper(deps: JobsDeps, options: SweeperOptions = {}): { stop(): Promise<void> } {
  const intervalMs = options.intervalMs ?? 10_000;
  const probeIntervalMs = Math.min(intervalMs, options.probeIntervalMs ?? 1_000);
  const publishGraceMs = options.publishGraceMs ?? 5_000;
  const broker = brokerReachability(deps.publisher);
  let running: Promise<unknown> | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let dueAt = Infinity;
  let again = false;
  let probing = false;
  let failedAt = -Infinity; // the last publish that failed for want of the broker

  function schedule(ms: number) {
    clearTimeout(timer);
    dueAt = Date.now() + ms;
    timer = setTimeout(pass, ms);
    timer.unref();
  }
  function pass() {
    if (stopped) return;
    // A wake-up during a pass runs another pass right after it.
    if (running) return void (again = true);
    dueAt = Infinity;
    const startedAt = Date.now();
    // Rows whose publish failed lately wait for this sweeper only: no need to give enqueue its grace.
    const grace = failedAt > startedAt - publishGraceMs ? Math.min(publishGraceMs, probeIntervalMs) : publishGraceMs;
    running = sweepOnce(deps, { ...options, publishGraceMs: grace })
      .then((result) => (probing = result.brokerUnreachable))
      .catch((error: unknown) => {
        probing = true; // the database is away: try again soon
        deps.log.error({ err: toError(error) }, '[jobs] Sweep failed');
      })
      .finally(() => {
        running = undefined;
        if (stopped) return;
        if (again) {
          again = false;
          return schedule(0);
        }
        // A publish failed too late for this pass to see its row: another pass once it can.
        const missed = failedAt > startedAt - probeIntervalMs;
        schedule(probing || missed ? probeIntervalMs : intervalMs);
      });
  }
  const unsubscribe = broker.onReachable(() => pass());
  const unsubscribeFailure = broker.onFailure(() => {
    failedAt = Date.now();
    // During a pass, its end schedules the next; otherwise make sure one comes soon.
    if (!running && dueAt > Date.now() + probeIntervalMs) schedule(probeIntervalMs);
  });
  schedule(0); // a pass at start: rows a crashed process left unpublished go out at once
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      unsubscribe();
      unsubscribeFailure();
      await running;
    },
  };
}
