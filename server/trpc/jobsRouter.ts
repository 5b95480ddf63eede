import { EnqueueInput, EnqueueManyInput, JobIdInput, ListJobsInput, MAX_ENQUEUE_MANY, ScheduleInput } from '../../shared/jobApi.ts';
import { cancelJob } from '../jobs/cancelJob.ts';
import { enqueueJob } from '../jobs/enqueueJob.ts';
import { getJob } from '../jobs/getJob.ts';
import { listJobs } from '../jobs/listJobs.ts';
import { retryJob } from '../jobs/retryJob.ts';
import { createSchedule } from '../jobs/schedules.ts';
import { JobFilter } from '../ops/jobFilter.ts';
import { traceEnqueue } from '../tracing/jobTracing.ts';
import { assertMayActOn, assertMayFilterOrganization, assertMayUseOptions, assertMayUsePayload, assertMayUseType, metadataOf, scheduleMinIntervalMs } from './access.ts';
import { jobEventProcedures } from './jobEventProcedures.ts';
import { jobOpsProcedures } from './jobOpsProcedures.ts';
import { schedulesRouter } from './schedulesRouter.ts';
import { enqueueMany } from './enqueueMany.ts';
import { rateLimitedProcedure, spendEnqueueBudget } from './rateLimitedProcedure.ts';
import { protectedProcedure, router } from './trpc.ts';

/** `jobs.list`'s input: the shared one plus `errorText` and the operator's `organizationId`. */
const ListInput = ListJobsInput.extend(JobFilter.pick({ errorText: true, organizationId: true }).shape);

/**
 * `jobs.*`. Every procedure is scoped to the caller's organization (`ctx.jobScope`), so another
 * organization's job is NOT_FOUND; an operator's scope is every organization. Subscriptions (`jobs.onStatus`, `jobs.onEvents`) join this
 * router from their own module.
 */
export const jobsRouter = router({
  ...jobEventProcedures,
  ...jobOpsProcedures,

  enqueue: rateLimitedProcedure.input(EnqueueInput).mutation(({ ctx, input }) => {
    assertMayUseType(ctx.caller, input.type);
    assertMayUseOptions(ctx.caller, input.options);
    assertMayUsePayload(ctx.caller, ctx.deps, input);
    return traceEnqueue(input.type, () =>
      enqueueJob(ctx.deps, {
        type: input.type,
        payload: input.payload,
        metadata: metadataOf(ctx.caller, ctx.requestId),
        options: input.options,
        idempotencyKey: input.idempotencyKey,
        payloadParsed: true,
      }),
    );
  }),

  // Up to MAX_ENQUEUE_MANY jobs, each checked like `enqueue` on its own; one result per item. Spends one unit of budget per item.
  // Charged before the input is checked, like `enqueue`, so that refused calls count too.
  enqueueMany: protectedProcedure
    .use(async ({ ctx, next, path, getRawInput }) => {
      const jobs = ((await getRawInput().catch(() => undefined)) as { jobs?: unknown } | undefined)?.jobs;
      await spendEnqueueBudget(ctx, path, Array.isArray(jobs) ? Math.min(Math.max(1, jobs.length), MAX_ENQUEUE_MANY) : 1);
      return next();
    })
    .input(EnqueueManyInput)
    .mutation(({ ctx, input }) => enqueueMany(ctx, input.jobs)),

  get: protectedProcedure.input(JobIdInput).query(({ ctx, input }) => getJob(ctx.deps.db, ctx.jobScope, input.jobId)),

  list: protectedProcedure.input(ListInput).query(({ ctx, input }) => {
    assertMayFilterOrganization(ctx.caller, input.organizationId);
    return listJobs(ctx.deps.db, ctx.jobScope, input);
  }),

  // Re-running or cancelling a job needs the access enqueueing it needs (a member of the same
  // organization gets FORBIDDEN on an admin-only job; another organization's stays NOT_FOUND).
  retry: protectedProcedure.input(JobIdInput).mutation(({ ctx, input }) => retryJob(ctx.deps, ctx.jobScope, input.jobId, (job) => assertMayActOn(ctx.caller, ctx.deps, job))),

  cancel: protectedProcedure.input(JobIdInput).mutation(({ ctx, input }) => cancelJob(ctx.deps, ctx.jobScope, input.jobId, (job) => assertMayActOn(ctx.caller, ctx.deps, job))),

  // Creating a schedule spends the same organization budget as an enqueue; its firings do too (recordFiring).
  schedule: rateLimitedProcedure.input(ScheduleInput).mutation(({ ctx, input }) => {
    assertMayUseType(ctx.caller, input.type);
    assertMayUsePayload(ctx.caller, ctx.deps, input);
    return createSchedule(ctx.deps, {
      type: input.type,
      cron: input.cron,
      payload: input.payload,
      timezone: input.timezone,
      metadata: metadataOf(ctx.caller, ctx.requestId),
      minIntervalMs: scheduleMinIntervalMs(ctx.caller),
    });
  }),

  schedules: schedulesRouter,
});
