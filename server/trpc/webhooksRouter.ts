import { ListWebhookEventsInput, ReplayWebhookInput, type ReplayWebhookOutput, type WebhookEventView } from '../../shared/webhookApi.ts';
import type { WebhookEventRow } from '../db/webhookSchema.ts';
import { OrganizationFilter } from '../ops/jobFilter.ts';
import { listAllWebhookEvents, webhookEventOrganization } from '../ops/operatorWebhooks.ts';
import { replayWebhookEvent } from '../webhooks/replayWebhookEvent.ts';
import { listWebhookEvents } from '../webhooks/webhookStore.ts';
import { assertMayFilterOrganization, isOperator } from './access.ts';
import { apiError } from './errors.ts';
import { router, staffProcedure } from './trpc.ts';

const toView = (r: WebhookEventRow): WebhookEventView => ({
  webhookEventId: r.id,
  source: r.source,
  event: r.event,
  deliveryId: r.deliveryId,
  organizationId: r.organizationId,
  headers: r.headers,
  receivedAt: r.receivedAt,
  processedAt: r.processedAt,
  replayedCount: r.replayedCount,
});

/** Operators may narrow the list to one organization, or to the events of none (`null`). */
const ListInput = ListWebhookEventsInput.extend({ organizationId: OrganizationFilter.optional() }).prefault({});

/**
 * `webhooks.*`, for admins and operators. An admin sees and replays the events of its own
 * organization; events of a source configured without an `organizationId` belong to no
 * organization and are seen and replayed by operators (and server code:
 * `replayWebhookEvent(jobs, { organizationId: null }, id)`). Operators see every organization's.
 */
export const webhooksRouter = router({
  list: staffProcedure.input(ListInput).query(async ({ ctx, input }): Promise<WebhookEventView[]> => {
    assertMayFilterOrganization(ctx.caller, input.organizationId);
    const filter = { source: input.source, limit: input.limit };
    if (!isOperator(ctx.caller)) return (await listWebhookEvents(ctx.deps.db, ctx.scope, filter)).map(toView);
    const rows = input.organizationId === undefined ? await listAllWebhookEvents(ctx.deps.db, filter) : await listWebhookEvents(ctx.deps.db, { organizationId: input.organizationId }, filter);
    return rows.map(toView);
  }),

  replay: staffProcedure.input(ReplayWebhookInput).mutation(async ({ ctx, input }): Promise<ReplayWebhookOutput> => {
    const notFound = () => apiError('WEBHOOK_EVENT_NOT_FOUND', `Webhook event ${input.webhookEventId} not found`);
    const owner = isOperator(ctx.caller) ? await webhookEventOrganization(ctx.deps.db, input.webhookEventId) : ctx.scope;
    if (!owner) throw notFound();
    const replayed = await replayWebhookEvent(ctx.deps, { organizationId: owner.organizationId, userId: ctx.caller.userId }, input.webhookEventId);
    if (!replayed) throw notFound();
    return replayed;
  }),
});
