/** Inputs and outputs of the `webhooks.*` procedures (admin only, scoped to the caller's organization). */
import { z } from 'zod';

export const WebhookEventId = z.uuid();

export const ReplayWebhookInput = z.object({ webhookEventId: WebhookEventId });

export const ListWebhookEventsInput = z.object({
  source: z.string().trim().min(1).max(100).refine((text) => !text.includes('\u0000'), 'may not contain NUL characters').optional(),
  /** Page size, 1–100. Default 50. */
  limit: z.number().int().min(1).max(100).default(50),
});
export type ListWebhookEventsInput = z.input<typeof ListWebhookEventsInput>;

/** A stored webhook event as the API shows it (the payload stays on the server). */
export const WebhookEventView = z.object({
  webhookEventId: WebhookEventId,
  source: z.string(),
  event: z.string(),
  deliveryId: z.string(),
  organizationId: z.number().int().nullable(),
  /** Event, delivery id, user-agent and content-type headers, lower-cased names. */
  headers: z.record(z.string(), z.string()),
  receivedAt: z.date(),
  processedAt: z.date().nullable(),
  replayedCount: z.number().int(),
});
export type WebhookEventView = z.infer<typeof WebhookEventView>;

export const ReplayWebhookOutput = z.object({ jobId: z.uuid(), replayedCount: z.number().int() });
export type ReplayWebhookOutput = z.infer<typeof ReplayWebhookOutput>;
