import { and, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import { jobExecutions } from '../db/schema.ts';
import type { JobsDeps } from './deps.ts';
import { toError } from './errors.ts';
import { publishJob } from './publishJob.ts';
import { recordEvent } from './recordEvent.ts';
import { failedAttemptSet } from './settleJob.ts';

export interface SweeperOptions {
  /** How often to sweep. Default 10 s. */
  intervalMs?: number;
  /** Age of an unpublished row before the sweeper publishes it (enqueue normally does). Default 5 s. */
  publishGraceMs?: number;
  /** How long past its due time a published job may go undelivered before it is republished. Default 5 min. */
  overdueMs?: number;
  /** Rows per step per sweep. Default 100. */
  batchSize?: number;
}

export interface SweepResult {
  leasesExpired: number;
  rearmed: number;
  published: number;
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

  // Unpublished rows: enqueue's publish failed, or a retry the sweeper just re-armed (those
  // need no grace: enqueue never leaves a retrying row unpublished). Take the rows by stamping published_at first (no transaction held across HTTP: the
  // embedded broker may share this database); a failed publish clears the stamp again.
  const due = await deps.db
    .update(t)
    .set({ publishedAt: sql`now()` })
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
    .returning();
  let published = 0;
  for (const row of due) {
    const ok = await publishJob(deps, row, { force: true });
    if (ok) published++;
    else await deps.db.update(t).set({ publishedAt: null }).where(and(eq(t.id, row.id), eq(t.publishGeneration, row.publishGeneration)));
  }
  return { leasesExpired, rearmed: rearmed.length, published };
}

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

/** Runs `sweepOnce` every `intervalMs` until stopped; never two passes at once. */
export function startSweeper(deps: JobsDeps, options: SweeperOptions = {}): { stop(): Promise<void> } {
  let running: Promise<unknown> | undefined;
  let stopped = false;
  const timer = setInterval(() => {
    // A pass that outlasts the interval skips ticks rather than queueing them.
    if (stopped || running) return;
    running = sweepOnce(deps, options)
      .catch((error: unknown) => deps.log.error({ err: toError(error) }, '[jobs] Sweep failed'))
      .finally(() => (running = undefined));
  }, options.intervalMs ?? 10_000);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
