import { randomUUID } from 'node:crypto';
import { and, desc, eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/database.ts';
import { webhookEvents, type WebhookEventRow } from '../db/webhookSchema.ts';

const w = webhookEvents;

export interface StoreWebhookEventInput {
  source: string;
  event: string;
  deliveryId: string;
  organizationId: number | null;
  headers: Record<string, string>;
  payload: Record<string, unknown>;
  receivedAt: Date;
}

/** Stores an event once per (source, delivery id); a retry or replay gets the stored row back. */
export async function storeWebhookEvent(db: DbOrTx, input: StoreWebhookEventInput): Promise<WebhookEventRow> {
  const [row] = await db
    .insert(w)
    .values({ id: randomUUID(), ...input })
    // A no-op update, so RETURNING yields the existing row too, in one statement.
    .onConflictDoUpdate({ target: [w.source, w.deliveryId], set: { source: sql`excluded.source` } })
    .returning();
  if (!row) throw new Error('upsert returned no row'); // INSERT … ON CONFLICT DO UPDATE always returns one
  return row;
}

export async function markWebhookEventProcessed(db: DbOrTx, id: string): Promise<void> {
  await db.update(w).set({ processedAt: sql`now()` }).where(eq(w.id, id));
}

/** Whose events: an organization's, or (server code only) `null` for events of no organization. */
export interface WebhookScope {
  organizationId: number | null;
}

const inScope = (scope: WebhookScope) => sql`${w.organizationId} IS NOT DISTINCT FROM ${scope.organizationId}`;

export async function listWebhookEvents(db: DbOrTx, scope: WebhookScope, filter: { source?: string | undefined; limit: number }): Promise<WebhookEventRow[]> {
  return db
    .select()
    .from(w)
    .where(and(inScope(scope), filter.source === undefined ? undefined : eq(w.source, filter.source)))
    .orderBy(desc(w.receivedAt), desc(w.id))
    .limit(filter.limit);
}

/** Counts a replay of an event in scope and returns the row with its new count, or undefined. */
export async function countWebhookReplay(db: DbOrTx, scope: WebhookScope, id: string): Promise<WebhookEventRow | undefined> {
  const [row] = await db
    .update(w)
    .set({ replayedCount: sql`${w.replayedCount} + 1` })
    .where(and(eq(w.id, id), inScope(scope)))
    .returning();
  return row;
}
