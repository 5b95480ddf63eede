import { index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { tz } from './schema.ts';

/** Incoming generic webhook events, one row per (source, provider delivery id); replayable by admins. */
export const webhookEvents = pgTable(
  'webhook_events',
  {
    id: uuid('id').primaryKey(),
    source: text('source').notNull(),
    event: text('event').notNull(),
    /** The provider's delivery id (e.g. `X-GitHub-Delivery`), or a hash of the body when it sends none. */
    deliveryId: text('delivery_id').notNull(),
    /** The source's configured organization; NULL for sources that belong to none. */
    organizationId: integer('organization_id'),
    /** Only the headers that matter: event, delivery id, user-agent, content-type. */
    headers: jsonb('headers').$type<Record<string, string>>().notNull().default({}),
    payload: jsonb('payload').notNull(),
    receivedAt: tz('received_at').notNull().defaultNow(),
    processedAt: tz('processed_at'),
    replayedCount: integer('replayed_count').notNull().default(0),
  },
  (t) => [
    uniqueIndex('webhook_events_delivery_idx').on(t.source, t.deliveryId),
    index('webhook_events_org_received_idx').on(t.organizationId, t.receivedAt.desc()),
  ],
);

export type WebhookEventRow = typeof webhookEvents.$inferSelect;
