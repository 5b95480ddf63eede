import { and, desc, eq } from 'drizzle-orm';
import type { DbOrTx } from '../db/database.ts';
import { webhookEvents, type WebhookEventRow } from '../db/webhookSchema.ts';

/** Every organization's stored webhook events (and those of none), newest first: the operator's view. */
export async function listAllWebhookEvents(db: DbOrTx, filter: { source?: string | undefined; limit: number }): Promise<WebhookEventRow[]> {
  const w = webhookEvents;
  return db
    .select()
    .from(w)
    .where(and(filter.source === undefined ? undefined : eq(w.source, filter.source)))
    .orderBy(desc(w.receivedAt), desc(w.id))
    .limit(filter.limit);
}

/** The organization a stored event belongs to (null: none), or undefined when there is no such event. */
export async function webhookEventOrganization(db: DbOrTx, webhookEventId: string): Promise<{ organizationId: number | null } | undefined> {
  const [row] = await db.select({ organizationId: webhookEvents.organizationId }).from(webhookEvents).where(eq(webhookEvents.id, webhookEventId)).limit(1);
  return row;
}
