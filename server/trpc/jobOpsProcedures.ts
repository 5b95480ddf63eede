import { z } from 'zod';
import { hasNulCharacter, JobIdInput, NUL_MESSAGE } from '../../shared/jobApi.ts';
import { BulkActionInput, startBulkAction, type BulkAction } from '../ops/bulkJobs.ts';
import { BulkOperationInput, BulkOperationItemsInput, getBulkOperation, listBulkOperationItems } from '../ops/bulkOperations.ts';
import { listReplays, replayJob } from '../ops/replayJob.ts';
import { runJobNow } from '../ops/runJobNow.ts';
import { assertMayActOn, assertMayFilterOrganization } from './access.ts';
import { protectedProcedure, staffProcedure } from './trpc.ts';

const bulk = (action: BulkAction) =>
  staffProcedure.input(BulkActionInput).mutation(({ ctx, input }) => {
    assertMayFilterOrganization(ctx.caller, input.organizationId);
    return startBulkAction({ deps: ctx.deps, scope: ctx.jobScope, caller: ctx.caller, action, input });
  });

export const ReplayInput = JobIdInput.extend({
  /** The payload to run instead of the original's; validated against the job type's schema. */
  payload: z
    .unknown()
    .refine((payload) => payload === undefined || !hasNulCharacter(payload), `payload strings and keys ${NUL_MESSAGE}`)
    .optional(),
});

/**
 * Acting on many jobs, or on one out of turn: bulk retry and cancel by filter (admins within their
 * organization, operators across all), their progress and per-job outcomes, run-now and replay.
 */
export const jobOpsProcedures = {
  bulkRetry: bulk('retry'),
  bulkCancel: bulk('cancel'),
  bulkOperation: staffProcedure.input(BulkOperationInput).query(({ ctx, input }) => getBulkOperation(ctx.deps.db, ctx.jobScope, input.operationId)),
  bulkOperationItems: staffProcedure.input(BulkOperationItemsInput).query(({ ctx, input }) => listBulkOperationItems(ctx.deps.db, ctx.jobScope, input)),

  runNow: protectedProcedure.input(JobIdInput).mutation(({ ctx, input }) => runJobNow(ctx.deps, ctx.jobScope, input.jobId, (job) => assertMayActOn(ctx.caller, ctx.deps, job))),

  replay: protectedProcedure.input(ReplayInput).mutation(({ ctx, input }) =>
    replayJob(ctx.deps, ctx.jobScope, { jobId: input.jobId, payload: input.payload, requestedBy: ctx.caller.userId, check: (job) => assertMayActOn(ctx.caller, ctx.deps, job) }),
  ),
  replays: protectedProcedure.input(JobIdInput).query(({ ctx, input }) => listReplays(ctx.deps.db, ctx.jobScope, input.jobId)),
};
