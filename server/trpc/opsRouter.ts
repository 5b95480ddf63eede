import { jobHealth } from '../jobs/jobHealth.ts';
import { AuditLogInput, listAuditLog } from '../ops/auditLog.ts';
import { FailureGroupsInput, listFailureGroups } from '../ops/failureGroups.ts';
import { assertMayFilterOrganization } from './access.ts';
import { operatorProcedure, router, staffProcedure } from './trpc.ts';

/** `ops.*`: the operations views. */
export const opsRouter = router({
  /** Operators' actions, newest first (operators only). */
  auditLog: operatorProcedure.input(AuditLogInput.prefault({})).query(({ ctx, input }) => listAuditLog(ctx.deps.db, input)),

  /** The job-health view (`GET /api/admin/job-health`'s answer): admins their organization's, operators every one's. */
  health: staffProcedure.query(({ ctx }) => jobHealth(ctx.deps.db, ctx.jobScope)),

  /** Failed and retrying jobs grouped by type and error: admins their organization's, operators every one's. */
  failureGroups: staffProcedure.input(FailureGroupsInput.prefault({})).query(({ ctx, input }) => {
    assertMayFilterOrganization(ctx.caller, input.organizationId);
    return listFailureGroups(ctx.deps.db, ctx.jobScope, input);
  }),
});
