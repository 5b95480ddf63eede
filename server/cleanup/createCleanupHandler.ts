import type { FilesDeps } from '../files/filesDeps.ts';
import type { JobHandler } from '../jobs/handlers.ts';
import { deleteExpiredFiles } from './deleteExpiredFiles.ts';
import { deleteOldJobs } from './deleteOldJobs.ts';
import { deleteOldWebhookEvents } from './deleteOldWebhookEvents.ts';

/** What a `cleanup-old-data` job stores as its result. */
export interface CleanupResult {
  /** Rows older than this were deleted (now − retention days). */
  cutoff: string;
  jobsDeleted: number;
  eventsDeleted: number;
  filesDeleted: number;
  webhookEventsDeleted: number;
}

/**
 * Deletes terminal jobs (and their events) and webhook events older than `retention` days, and
 * generated files past their expiry. A job enqueued by an organization's admin cleans only that
 * organization; the built-in schedule (no organization) cleans all of them.
 */
export function createCleanupHandler(files: FilesDeps): JobHandler<'cleanup-old-data'> {
  return async (payload, ctx): Promise<CleanupResult> => {
    const cutoff = new Date(Date.now() - payload.retention * 86_400_000);
    const scope = { cutoff, organizationId: ctx.organizationId ?? undefined, signal: ctx.signal };
    const { jobsDeleted, eventsDeleted } = await deleteOldJobs(files.db, scope);
    await ctx.progress(1 / 3, 'old jobs deleted');
    const filesDeleted = await deleteExpiredFiles(files, scope);
    await ctx.progress(2 / 3, 'expired files deleted');
    const webhookEventsDeleted = await deleteOldWebhookEvents(files.db, scope);
    const result = { cutoff: cutoff.toISOString(), jobsDeleted, eventsDeleted, filesDeleted, webhookEventsDeleted };
    ctx.log.info(result, '[cleanup] Old data deleted');
    return result;
  };
}
