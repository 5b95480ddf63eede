import { createHash } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { jobTypeConfig } from '../../shared/catalogue.ts';
import type { ScheduledFiring } from '../../shared/jobApi.ts';
import { jobExecutions, jobSchedules } from '../db/schema.ts';
import type { JobsDeps } from './deps.ts';
import { recordEvent } from './recordEvent.ts';

/** A stable job id per broker message: every delivery of one firing names the same job. */
export function jobIdForMessage(messageId: string): string {
  const hex = createHash('sha256').update(`jobwire:firing:${messageId}`).digest('hex');
  // Shaped as an RFC 9562 version-8 (custom) UUID.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Turns one schedule firing into its job row (once, however often it is delivered). Tenant,
 * payload and type come from the stored schedule, never from the message. Returns undefined
 * when the schedule is gone, paused, or names another type.
 */
export async function recordFiring(deps: JobsDeps, firing: ScheduledFiring, messageId: string): Promise<string | undefined> {
  const [schedule] = await deps.db
    .select()
    .from(jobSchedules)
    .where(and(eq(jobSchedules.id, firing.scheduleId), eq(jobSchedules.type, firing.type)))
    .limit(1);
  if (!schedule || schedule.paused) return undefined;
  const jobId = jobIdForMessage(messageId);
  await deps.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(jobExecutions)
      .values({
        id: jobId,
        type: schedule.type,
        payload: schedule.payload,
        metadata: { ...(schedule.metadata as object), createdAt: new Date().toISOString() }, // stored as parsed metadata by createSchedule
        maxRetries: jobTypeConfig(schedule.type).retries,
        timeoutMs: jobTypeConfig(schedule.type).timeout * 1000,
        userId: schedule.userId,
        organizationId: schedule.organizationId,
        scheduleId: schedule.id,
        messageId,
        publishedAt: new Date(),
      })
      .onConflictDoNothing()
      .returning();
    if (row) {
      await recordEvent(tx, row, 'scheduled');
      deps.log.info({ jobId, type: row.type, scheduleId: schedule.id }, '[jobs] Job enqueued successfully');
    }
  });
  return jobId;
}
