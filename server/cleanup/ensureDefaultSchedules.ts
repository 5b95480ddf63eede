import { isDeepStrictEqual } from 'node:util';
import { eq } from 'drizzle-orm';
import { jobSchedules } from '../db/schema.ts';
import type { JobsDeps } from '../jobs/deps.ts';
import { toError } from '../jobs/errors.ts';
import { createSchedule, scheduleRequestOf } from '../jobs/schedules.ts';

/** The built-in daily cleanup: a fixed id, so every start-up upserts the same schedule. */
export const DEFAULT_CLEANUP_SCHEDULE = {
  scheduleId: 'jobwire-cleanup-daily',
  type: 'cleanup-old-data',
  cron: '0 3 * * *',
  payload: { retention: 30 },
} as const;

/**
 * Creates the built-in schedules if missing (idempotent across restarts and instances). A paused
 * one is left alone; a broker that is unreachable at start-up is logged, not fatal. One that is
 * already stored and held by the broker exactly as it would be written (same cron, payload, and
 * this instance's URL) is not written again: a later start then costs a read here and one at the
 * broker instead of two upserts (docs/performance.md, "Start-up").
 */
export async function ensureDefaultSchedules(deps: JobsDeps): Promise<void> {
  const { scheduleId, type, cron, payload } = DEFAULT_CLEANUP_SCHEDULE;
  const [existing] = await deps.db
    .select({ paused: jobSchedules.paused, type: jobSchedules.type, cron: jobSchedules.cron, timezone: jobSchedules.timezone, payload: jobSchedules.payload, organizationId: jobSchedules.organizationId })
    .from(jobSchedules)
    .where(eq(jobSchedules.id, scheduleId))
    .limit(1);
  if (existing?.paused) return;
  const stored = existing && existing.type === type && existing.cron === cron && existing.timezone === null && existing.organizationId === null && isDeepStrictEqual(existing.payload, payload);
  if (stored && (await deps.publisher.hasSchedule?.(scheduleRequestOf(scheduleId, type, cron, null)).catch(() => false))) return;
  try {
    await createSchedule(deps, { type, cron, payload, scheduleId });
  } catch (error) {
    deps.log.warn({ err: toError(error), scheduleId }, '[cleanup] Could not create the default cleanup schedule');
  }
}
