import { JobIdInput, ScheduleIdInput } from '../../shared/jobApi.ts';
import { ReplayWebhookInput } from '../../shared/webhookApi.ts';
import { CronPreviewInput, nextRuns } from '../dashboard/cronPreview.ts';
import { loadJobTimeline } from '../dashboard/jobTimeline.ts';
import { loadOverview, OverviewInput } from '../dashboard/overview.ts';
import { triggerSchedule } from '../dashboard/triggerSchedule.ts';
import { listWebhookEventJobs } from '../dashboard/webhookJobs.ts';
import { listSchedules } from '../jobs/schedules.ts';
import { assertMayActOn, assertMayFilterOrganization } from './access.ts';
import { rateLimitedProcedure } from './rateLimitedProcedure.ts';
import { apiError } from './errors.ts';
import { protectedProcedure, router, staffProcedure } from './trpc.ts';

/**
 * `dashboard.*`: what the web UI (`/dashboard`) needs beyond `jobs.*`, `ops.*`, `webhooks.*`.
 * Scoped like the rest: a member or admin sees its organization, an operator every one.
 */
export const dashboardRouter = router({
  /** The verified caller, so the UI shows what its role allows (the server checks regardless). */
  me: protectedProcedure.query(({ ctx }) => ctx.caller),

  /** Throughput and failure-rate series over the last hour or day, and queue depth per type. */
  overview: protectedProcedure.input(OverviewInput.prefault({})).query(({ ctx, input }) => {
    assertMayFilterOrganization(ctx.caller, input.organizationId);
    return loadOverview(ctx.deps.db, ctx.jobScope, input);
  }),

  /** One job's row, message id, attempts (with the broker's HTTP status when its log has it) and events (the job-detail timeline). */
  timeline: protectedProcedure
    .input(JobIdInput)
    .query(({ ctx, input }) => loadJobTimeline({ db: ctx.deps.db, publisher: ctx.deps.publisher, log: ctx.log }, ctx.jobScope, input.jobId)),

  /** `jobs.schedules.list` with each active schedule's next firing (null while paused). */
  schedules: protectedProcedure.query(async ({ ctx }) => {
    const schedules = await listSchedules(ctx.deps.db, ctx.jobScope, { includeSystem: ctx.caller.role === 'admin' });
    return schedules.map((s) => ({ ...s, nextRunAt: s.paused ? null : (nextRuns(s.cron, { timezone: s.timezone, count: 1 })[0] ?? null) }));
  }),

  /** The next firings of a cron in a time zone: the schedule form's preview. */
  cronPreview: protectedProcedure.input(CronPreviewInput).query(({ input }) => ({ nextRuns: nextRuns(input.cron, input) })),

  /** Enqueues the schedule's job now; needs the access creating the schedule needs, and spends the enqueue budget. */
  triggerSchedule: rateLimitedProcedure
    .input(ScheduleIdInput)
    .mutation(({ ctx, input }) => triggerSchedule(ctx.deps, ctx.jobScope, { scheduleId: input.scheduleId, correlationId: ctx.requestId, check: (schedule) => assertMayActOn(ctx.caller, ctx.deps, schedule) })),

  /** The jobs a stored webhook event caused (its delivery's and each replay's), for admins (their organization's) and operators. */
  webhookJobs: staffProcedure.input(ReplayWebhookInput).query(async ({ ctx, input }) => {
    const jobs = await listWebhookEventJobs(ctx.deps.db, ctx.jobScope, input.webhookEventId);
    if (!jobs) throw apiError('WEBHOOK_EVENT_NOT_FOUND', `Webhook event ${input.webhookEventId} not found`);
    return jobs;
  }),
});
