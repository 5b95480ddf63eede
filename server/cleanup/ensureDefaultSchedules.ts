import { eq } from 'drizzle-orm';
import { jobSchedules } from '../db/schema.ts';
import type { JobsDeps } from '../jobs/deps.ts';
import { toError } from '../jobs/errors.ts';
import { createSchedule } from '../jobs/schedules.ts';

/** The built-in daily cleanup: a fixed id, so every start-up upserts the same schedule. */
export const DEFAULT_CLEANUP_SCHEDULE = {
  scheduleId: 'jobwire-cleanup-daily',
  type: 'cleanup-old-data',
  cron: '0 3 * * *',
  payload: { retention: 30 },
} as const;

/**
 * Creates the built-in schedules if missing (idempotent across restarts and instances). A paused
 * one is left alone; a broker that is unreachable at start-up is logged, not fatal.
 */
export async function ensureDefaultSchedules(deps: JobsDeps): Promise<void> {
  const { scheduleId, type, cron, payload } = DEFAULT_CLEANUP_SCHEDULE;
  const [existing] = await deps.db.select({ paused: jobSchedules.paused }).from(jobSchedules).where(eq(jobSchedules.id, scheduleId)).limit(1);
  if (existing?.paused) return;
  try {
    await createSchedule(deps, { type, cron, payload, scheduleId });
  } catch (error) {
    deps.log.warn({ err: toError(error), scheduleId }, '[cleanup] Could not create the default cleanup schedule');
  }
}
