import type { JobHandler } from '../jobs/handlers.ts';
import type { Db } from '../db/database.ts';
import type { WebhookHandlers } from './webhookHandlers.ts';
import { markWebhookEventProcessed, storeWebhookEvent } from './webhookStore.ts';

export interface ProcessWebhookHandlerOptions {
  db: Db;
  handlers: WebhookHandlers;
}

/**
 * The process-webhook job: stores the event unless the webhook route already did (once per
 * organization, source and delivery id; the job's organization, from the source's config, is
 * the event's), calls the handlers registered for its source and event in order, then marks it
 * processed. A failing handler fails the attempt.
 */
export function createProcessWebhookHandler(options: ProcessWebhookHandlerOptions): JobHandler<'process-webhook'> {
  const { db, handlers } = options;
  return async (payload, ctx) => {
    const { row: stored } = await storeWebhookEvent(db, {
      source: payload.source,
      event: payload.event,
      // A job enqueued by hand has no delivery: it is its own.
      deliveryId: payload.deliveryId ?? `job:${ctx.jobId}`,
      organizationId: ctx.organizationId,
      headers: payload.headers ?? {},
      payload: payload.data,
      receivedAt: payload.receivedAt ? new Date(payload.receivedAt) : undefined,
    });
    const matching = handlers.handlersFor(stored.source, stored.event);
    const log = ctx.log.child({ webhookEventId: stored.id, source: stored.source, event: stored.event });
    for (const handler of matching) {
      ctx.signal.throwIfAborted();
      await handler(stored, { jobId: ctx.jobId, attempt: ctx.attempt, signal: ctx.signal, log });
    }
    await markWebhookEventProcessed(db, stored.id);
    return { webhookEventId: stored.id, handlers: matching.length, replayedCount: stored.replayedCount };
  };
}
