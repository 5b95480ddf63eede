import { createHash } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { jobTypeConfig } from '../../shared/catalogue.ts';
import type { ScheduledFiring } from '../../shared/jobApi.ts';
import { jobExecutions, jobSchedules, type ScheduleRow } from '../db/schema.ts';
import { logSecurityEvent, SECURITY_EVENTS } from '../security/securityEvent.ts';
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
 *
 * Each firing spends a token of its organization's enqueue budget (`deps.enqueueLimiter`), as an
 * enqueue does. With none left the job is recorded `failed` with a RateLimitedError, never run:
 * the organization sees the missed firing in its job list and timeline instead of losing it
 * silently, and the schedule's next firing is charged afresh.
 */
export async function recordFiring(deps: JobsDeps, firing: ScheduledFiring, messageId: string): Promise<string | undefined> {
  const [schedule] = await deps.db
    .select()
    .from(jobSchedules)
    .where(and(eq(jobSchedules.id, firing.scheduleId), eq(jobSchedules.type, firing.type)))
    .limit(1);
  if (!schedule || schedule.paused) return undefined;
  const jobId = jobIdForMessage(messageId);
  // A redelivered firing is the job already recorded, and is not charged again.
  const [recorded] = await deps.db.select({ id: jobExecutions.id }).from(jobExecutions).where(eq(jobExecutions.id, jobId)).limit(1);
  if (recorded) return jobId;
  const refused = await chargeFiring(deps, schedule);
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
        ...(refused ? { status: 'failed' as const, error: refused, completedAt: new Date() } : {}),
      })
      .onConflictDoNothing()
      .returning();
    if (!row) return;
    await recordEvent(tx, row, refused ? 'rate limited' : 'scheduled');
    const fields = { jobId, type: row.type, scheduleId: schedule.id, organizationId: row.organizationId };
    if (refused) deps.log.warn(fields, '[jobs] Schedule firing skipped: rate limited');
    else deps.log.info(fields, '[jobs] Job enqueued successfully');
  });
  return jobId;
}

/** Takes a token for a firing; the error to store when the organization has none. System schedules are not charged. */
async function chargeFiring(deps: JobsDeps, schedule: ScheduleRow): Promise<{ name: string; message: string } | undefined> {
  const limiter = deps.enqueueLimiter;
  if (!limiter || schedule.organizationId === null) return undefined;
  const decision = await limiter.take(String(schedule.organizationId));
  if (decision.allowed) return undefined;
  const limit = `${limiter.limit.tokens}/${limiter.limit.perMs}ms`;
  if (decision.firstRefusal) {
    const fields = { path: 'schedule firing', scheduleId: schedule.id, organizationId: schedule.organizationId, userId: schedule.userId, limit, retryAfterMs: decision.retryAfterMs };
    logSecurityEvent(deps.log, SECURITY_EVENTS.rateLimited, fields, '[security] Enqueue rate limit reached');
  }
  return { name: 'RateLimitedError', message: `Schedule firing skipped: the organization's enqueue rate limit (${limit}) was reached; the schedule's next firing runs as usual` };
}
