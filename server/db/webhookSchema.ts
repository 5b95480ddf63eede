import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { tz } from './schema.ts';

/**
 * Incoming generic webhook events, one row per (organization, source, provider delivery id) and,
 * within the dedupe window, per (organization, source, body hash); replayable by admins. The
 * organization is in both keys so one tenant's events never stand for another's.
 */
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
    /**
     * Hex SHA-256 of the raw body as the webhook route received it: a second delivery of the same
     * body within the window is a duplicate. Cleared once the window has passed; NULL for events
     * stored by server code.
     */
    bodySha256: text('body_sha256'),
    receivedAt: tz('received_at').notNull().defaultNow(),
    processedAt: tz('processed_at'),
    replayedCount: integer('replayed_count').notNull().default(0),
  },
  (t) => [
    uniqueIndex('webhook_events_delivery_idx').on(t.source, sql`coalesce(${t.organizationId}, -1)`, t.deliveryId),
    uniqueIndex('webhook_events_body_idx').on(t.source, sql`coalesce(${t.organizationId}, -1)`, t.bodySha256).where(sql`${t.bodySha256} IS NOT NULL`),
    index('webhook_events_org_received_idx').on(t.organizationId, t.receivedAt.desc()),
  ],
);

export type WebhookEventRow = typeof webhookEvents.$inferSelect;
