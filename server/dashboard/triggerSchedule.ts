import { and, eq } from 'drizzle-orm';
import { jobSchedules, type ScheduleRow } from '../db/schema.ts';
import type { JobsDeps } from '../jobs/deps.ts';
import { enqueueJob } from '../jobs/enqueueJob.ts';
import { JobNotFoundError } from '../jobs/errors.ts';
import { ALL_ORGANIZATIONS, type Scope } from '../jobs/scope.ts';

/**
 * "Trigger now": one job with the schedule's type, payload and owner, enqueued at once; the
 * schedule's own firings are unchanged (a paused schedule may be triggered too: that is the point
 * of testing it). The job is an ordinary enqueue, so it spends the organization's budget like one
 * (the API's rate limit applies). NOT_FOUND outside the scope; `check` may refuse (access rules).
 */
export async function triggerSchedule(deps: JobsDeps, scope: Scope, input: { scheduleId: string; correlationId: string; check?: (schedule: ScheduleRow) => void }) {
  const inScope = scope === ALL_ORGANIZATIONS ? undefined : eq(jobSchedules.organizationId, scope.organizationId);
  const [schedule] = await deps.db.select().from(jobSchedules).where(and(eq(jobSchedules.id, input.scheduleId), inScope)).limit(1);
  if (!schedule) throw new JobNotFoundError('schedule', input.scheduleId);
  input.check?.(schedule);
  const stored = schedule.metadata as { userId?: string | number; organizationId?: number }; // written by createSchedule from parsed metadata
  const metadata = {
    ...(stored.userId !== undefined ? { userId: stored.userId } : {}),
    ...(schedule.organizationId !== null ? { organizationId: schedule.organizationId } : {}),
    correlationId: input.correlationId,
  };
  const { jobId } = await enqueueJob(deps, { type: schedule.type, payload: schedule.payload, metadata });
  deps.log.info({ scheduleId: schedule.id, jobId }, '[jobs] Schedule triggered by hand');
  return { scheduleId: schedule.id, jobId };
}
