import type { Logger } from 'pino';
import type { Executor } from './db/executor.ts';

const EVERY_MS = 10 * 60_000;

/** Drops expired dedup keys, old log entries and old finished workflow runs every few minutes; the timer never keeps the process alive. */
export function startHousekeeping(input: { db: Executor; now: () => number; eventRetentionMs: number; logger: Logger; track: (p: Promise<unknown>) => void }): () => void {
  const run = async () => {
    const now = input.now();
    await input.db.query('DELETE FROM qstash.dedup WHERE expires_at <= $1', [now]);
    await input.db.query('DELETE FROM qstash.events WHERE time < $1', [now - input.eventRetentionMs]);
    // Finished workflow runs (and their step entries) live as long as the log; failed ones wait for their DLQ entry.
    await input.db.query(
      `WITH r AS (DELETE FROM qstash.workflow_runs WHERE state IN ('RUN_SUCCESS', 'RUN_CANCELED') AND completed_at < $1 RETURNING run_id)
       DELETE FROM qstash.workflow_steps WHERE run_id IN (SELECT run_id FROM r)`,
      [now - input.eventRetentionMs],
    );
  };
  const timer = setInterval(() => {
    input.track(run().catch((error: unknown) => input.logger.warn({ err: error }, '[broker] Housekeeping failed')));
  }, EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
