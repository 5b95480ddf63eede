import type { EnqueueOutput } from '../../shared/jobApi.ts';
import type { JobsDeps } from '../jobs/deps.ts';
import { checkPayload, enqueueJob, validateJob } from '../jobs/enqueueJob.ts';
import { processWebhookPayload, storeWebhookEvent } from './webhookStore.ts';

/** One verified delivery of a generic webhook, as the route read it. */
export interface WebhookDelivery {
  source: string;
  organizationId: number | undefined;
  event: string;
  deliveryId: string;
  data: Record<string, unknown>;
  headers: Record<string, string>;
  /** Hex SHA-256 of the raw body. */
  bodySha256: string;
}

/** `duplicate`: the delivery id, or the body within the window, was seen before; no new event. */
export type AcceptedWebhook = EnqueueOutput & { duplicate: boolean };

/**
 * Stores a verified delivery in `webhook_events` and enqueues its `process-webhook` job, keyed by
 * the stored event's delivery id. A duplicate gets the first delivery's job, which is enqueued
 * now only if that delivery stored the event and failed before enqueueing. The payload is
 * checked before anything is written (a JobValidationError).
 */
export async function acceptWebhookDelivery(jobs: JobsDeps, delivery: WebhookDelivery): Promise<AcceptedWebhook> {
  const { source, organizationId, event, deliveryId, data, headers } = delivery;
  checkPayload(jobs, 'process-webhook', validateJob('process-webhook', { source, event, data, deliveryId, headers }).payload);
  const { row, created } = await storeWebhookEvent(jobs.db, {
    source,
    event,
    deliveryId,
    organizationId: organizationId ?? null,
    headers,
    payload: data,
    bodySha256: delivery.bodySha256,
  });
  const enqueued = await enqueueJob(jobs, {
    type: 'process-webhook',
    payload: processWebhookPayload(row),
    metadata: organizationId === undefined ? {} : { organizationId },
    idempotencyKey: `webhook:${row.source}:${row.deliveryId}`,
  });
  return { ...enqueued, duplicate: !created };
}
