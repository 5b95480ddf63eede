import { gte, inArray, lt } from 'drizzle-orm';
import { z } from 'zod';
import { webhookEvents as t } from '../db/webhookSchema.ts';
import { defineTableExport } from './defineTableExport.ts';
import { Instant, oneOrMany } from './filterSchemas.ts';

export const WebhookEventsExportFilters = z.strictObject({
  source: oneOrMany(z.string().min(1).max(100)).optional(),
  event: oneOrMany(z.string().min(1).max(200)).optional(),
  /** Inclusive. */
  receivedAfter: Instant.optional(),
  /** Exclusive. */
  receivedBefore: Instant.optional(),
});

/** `webhook-events`: the organization's received webhook events, newest first. */
export const webhookEventsExport = defineTableExport({
  description: "The organization's received webhook events",
  // Raw third-party payloads and headers: admins only, like the webhooks.* API.
  access: 'admin',
  table: t,
  organizationId: t.organizationId,
  // Along webhook_events_org_received_idx (organization_id, received_at DESC).
  keyset: [t.receivedAt, t.id],
  descending: true,
  columns: {
    id: t.id,
    source: t.source,
    event: t.event,
    deliveryId: t.deliveryId,
    receivedAt: t.receivedAt,
    processedAt: t.processedAt,
    replayedCount: t.replayedCount,
    headers: t.headers,
    payload: t.payload,
  },
  filters: WebhookEventsExportFilters,
  where: (f) => [
    f.source ? inArray(t.source, f.source) : undefined,
    f.event ? inArray(t.event, f.event) : undefined,
    f.receivedAfter ? gte(t.receivedAt, f.receivedAfter) : undefined,
    f.receivedBefore ? lt(t.receivedAt, f.receivedBefore) : undefined,
  ],
});
