import { ScheduleIdInput } from '../../shared/jobApi.ts';
import type { Caller } from '../auth/token.ts';
import type { JobsDeps } from '../jobs/deps.ts';
import { deleteSchedule, listSchedules, pauseSchedule, resumeSchedule, type ScheduleCheck } from '../jobs/schedules.ts';
import { assertMayActOn } from './access.ts';
import { protectedProcedure, router } from './trpc.ts';

/**
 * Acting on a schedule follows the rule for creating one: members may pause, resume or delete
 * only schedules of `member` job types and payloads (in their organization). Checked on the row
 * the action reads anyway; a schedule's type and payload never change after creation.
 */
const mayActOn =
  (caller: Caller, deps: JobsDeps): ScheduleCheck =>
  (schedule) =>
    assertMayActOn(caller, deps, schedule);

const scheduleProcedure = protectedProcedure.input(ScheduleIdInput);

/** `jobs.schedules.*`, scoped to the caller's organization (every organization for operators). */
export const schedulesRouter = router({
  // Admins also see the built-in system schedules (no organization), read-only; operators see
  // and act on every schedule, the system ones included.
  list: protectedProcedure.query(({ ctx }) => listSchedules(ctx.deps.db, ctx.jobScope, { includeSystem: ctx.caller.role === 'admin' })),
  pause: scheduleProcedure.mutation(({ ctx, input }) => pauseSchedule(ctx.deps, ctx.jobScope, input.scheduleId, mayActOn(ctx.caller, ctx.deps))),
  resume: scheduleProcedure.mutation(({ ctx, input }) => resumeSchedule(ctx.deps, ctx.jobScope, input.scheduleId, mayActOn(ctx.caller, ctx.deps))),
  delete: scheduleProcedure.mutation(({ ctx, input }) => deleteSchedule(ctx.deps, ctx.jobScope, input.scheduleId, mayActOn(ctx.caller, ctx.deps))),
});
