import { and, asc, eq, inArray, lt, sql } from 'drizzle-orm';
import { bulkOperations } from '../db/opsSchema.ts';
import type { JobsDeps } from '../jobs/deps.ts';
import { toError } from '../jobs/errors.ts';
import { resumeBulkOperation } from './bulkJobs.ts';

/**
 * How old a running bulk operation's heartbeat (`updated_at`, stamped by every batch's commit)
 * may get before the run counts as abandoned (its process died) and another takes it over. A
 * batch takes a second or two; a minute leaves room for a slow broker.
 */
export const BULK_HEARTBEAT_STALE_MS = 60_000;

export interface BulkResumerOptions {
  /** How often to look for abandoned runs. Default 15 s. */
  intervalMs?: number;
  /** Heartbeat age past which a run is taken over. Default `BULK_HEARTBEAT_STALE_MS` (60 s). */
  staleMs?: number;
}

const b = bulkOperations;

/**
 * Takes over every bulk operation left `running` with a stale heartbeat, one at a time, and runs
 * each to its end. The claim is fenced (guarded by status and heartbeat age, and it refreshes the
 * heartbeat), so of several instances only one resumes a run. The resumed run skips the jobs the
 * dead one recorded, so no job is acted on twice. Returns how many runs it resumed.
 */
export async function resumeStaleBulkOperations(deps: JobsDeps, options: { staleMs?: number; signal?: AbortSignal } = {}): Promise<number> {
  const { staleMs = BULK_HEARTBEAT_STALE_MS, signal } = options;
  const stale = and(eq(b.status, 'running'), lt(b.updatedAt, sql`now() - ${staleMs} * interval '1 millisecond'`));
  let resumed = 0;
  while (!signal?.aborted) {
    const [op] = await deps.db
      .update(b)
      .set({ updatedAt: sql`now()` })
      .where(and(stale, inArray(b.id, deps.db.select({ id: b.id }).from(b).where(stale).orderBy(asc(b.createdAt)).limit(1).for('update', { skipLocked: true }))))
      .returning();
    if (!op) break;
    deps.log.warn({ operationId: op.id, action: op.action, processed: op.processed, matched: op.matched }, '[ops] Resuming an abandoned bulk operation');
    resumed++;
    await resumeBulkOperation(deps, op, signal);
  }
  return resumed;
}

/**
 * Runs `resumeStaleBulkOperations` every `intervalMs` until stopped. `stop` lets a resumed run
 * finish its current batch and leaves the rest to the next taker (another instance, or this one
 * after a restart).
 */
export function startBulkResumer(deps: JobsDeps, options: BulkResumerOptions = {}): { stop(): Promise<void> } {
  const intervalMs = options.intervalMs ?? 15_000;
  const stopping = new AbortController();
  let running: Promise<unknown> | undefined;
  let timer: NodeJS.Timeout | undefined;
  function schedule() {
    timer = setTimeout(() => {
      running = resumeStaleBulkOperations(deps, { staleMs: options.staleMs, signal: stopping.signal })
        .catch((error: unknown) => deps.log.error({ err: toError(error) }, '[ops] Looking for abandoned bulk operations failed'))
        .finally(() => {
          running = undefined;
          if (!stopping.signal.aborted) schedule();
        });
    }, intervalMs);
    timer.unref();
  }
  schedule();
  return {
    async stop() {
      stopping.abort();
      clearTimeout(timer);
      await running;
    },
  };
}
