import type { JobsDeps } from '../jobs/deps.ts';
import { enqueueJob } from '../jobs/enqueueJob.ts';
import { countWebhookReplay, processWebhookPayload, type WebhookScope } from './webhookStore.ts';

/**
 * Runs a stored event through its handlers again: a new process-webhook job (its own
 * idempotency key, `replay:<id>:<n>`), which finds the stored row and calls the handlers.
 * Resolves undefined when no event with this id is in scope.
 */
export async function replayWebhookEvent(
  jobs: JobsDeps,
  scope: WebhookScope & { userId?: string },
  webhookEventId: string,
): Promise<{ jobId: string; replayedCount: number } | undefined> {
  const row = await countWebhookReplay(jobs.db, scope, webhookEventId);
  if (!row) return undefined;
  const { jobId } = await enqueueJob(jobs, {
    type: 'process-webhook',
    payload: processWebhookPayload(row),
    metadata: {
      ...(row.organizationId === null ? {} : { organizationId: row.organizationId }),
      ...(scope.userId === undefined ? {} : { userId: scope.userId }),
    },
    idempotencyKey: `replay:${row.id}:${row.replayedCount}`,
  });
  jobs.log.info({ webhookEventId, jobId, replayedCount: row.replayedCount }, '[webhooks] Webhook event replayed');
  return { jobId, replayedCount: row.replayedCount };
}
