import type { WebhookEventRow } from '../db/webhookSchema.ts';
import type { Logger } from '../logger.ts';

/** A stored webhook event, as handlers receive it (`replayedCount` > 0 on an admin's replay). */
export type WebhookEvent = WebhookEventRow;

export interface WebhookHandlerContext {
  /** The process-webhook job running this handler. */
  jobId: string;
  /** 1 for the job's first attempt. */
  attempt: number;
  /** Aborted when the job's time limit is reached. */
  signal: AbortSignal;
  log: Logger;
}

/**
 * Reacts to one webhook event. Runs at least once per delivery (a failing handler retries the
 * job, which runs every matching handler again) and again on each replay, so make it idempotent,
 * e.g. keyed by `event.id`.
 */
export type WebhookEventHandler = (event: WebhookEvent, ctx: WebhookHandlerContext) => Promise<void> | void;

export interface WebhookHandlers {
  /** Registers `handler` for `event` of `source`; `'*'` matches every event of the source. Chainable. */
  on(source: string, event: string, handler: WebhookEventHandler): WebhookHandlers;
  /** The handlers for one event, in registration order (exact matches and `'*'` alike). */
  handlersFor(source: string, event: string): readonly WebhookEventHandler[];
}

/** The registry host apps fill and pass to `startServer({ webhookHandlers })`. */
export function createWebhookHandlers(): WebhookHandlers {
  const registered: { source: string; event: string; handler: WebhookEventHandler }[] = [];
  const handlers: WebhookHandlers = {
    on(source, event, handler) {
      registered.push({ source, event, handler });
      return handlers;
    },
    handlersFor(source, event) {
      return registered.filter((r) => r.source === source && (r.event === '*' || r.event === event)).map((r) => r.handler);
    },
  };
  return handlers;
}
