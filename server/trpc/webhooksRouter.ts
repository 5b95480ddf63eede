import { ListWebhookEventsInput, ReplayWebhookInput, type ReplayWebhookOutput, type WebhookEventView } from '../../shared/webhookApi.ts';
import { replayWebhookEvent } from '../webhooks/replayWebhookEvent.ts';
import { listWebhookEvents } from '../webhooks/webhookStore.ts';
import { apiError } from './errors.ts';
import { adminProcedure, router } from './trpc.ts';

/**
 * `webhooks.*`, admin only. An admin sees and replays the events of its own organization:
 * events of a source configured without an `organizationId` belong to no organization and are
 * replayable only from server code (`replayWebhookEvent(jobs, { organizationId: null }, id)`).
 */
export const webhooksRouter = router({
  list: adminProcedure.input(ListWebhookEventsInput.prefault({})).query(async ({ ctx, input }): Promise<WebhookEventView[]> => {
    const rows = await listWebhookEvents(ctx.deps.db, ctx.scope, input);
    return rows.map((r) => ({
      webhookEventId: r.id,
      source: r.source,
      event: r.event,
      deliveryId: r.deliveryId,
      organizationId: r.organizationId,
      headers: r.headers,
      receivedAt: r.receivedAt,
      processedAt: r.processedAt,
      replayedCount: r.replayedCount,
    }));
  }),

  replay: adminProcedure.input(ReplayWebhookInput).mutation(async ({ ctx, input }): Promise<ReplayWebhookOutput> => {
    const replayed = await replayWebhookEvent(ctx.deps, { organizationId: ctx.scope.organizationId, userId: ctx.caller.userId }, input.webhookEventId);
    if (!replayed) throw apiError('WEBHOOK_EVENT_NOT_FOUND', `Webhook event ${input.webhookEventId} not found`);
    return replayed;
  }),
});
