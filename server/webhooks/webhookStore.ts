import { randomUUID } from 'node:crypto';
import { and, desc, eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/database.ts';
import { webhookEvents, type WebhookEventRow } from '../db/webhookSchema.ts';

const w = webhookEvents;

/** How long a second delivery of the same body from one source counts as a replay. */
export const BODY_DEDUPE_WINDOW_HOURS = 24;

export interface StoreWebhookEventInput {
  source: string;
  event: string;
  deliveryId: string;
  organizationId: number | null;
  headers: Record<string, string>;
  payload: Record<string, unknown>;
  /** Default the database's now(). */
  receivedAt?: Date | undefined;
  /** Hex SHA-256 of the raw body (the webhook route's): the same body within the window is the same event. */
  bodySha256?: string | undefined;
}

/**
 * Stores an event once per (organization, source, delivery id) and, given a body hash, once per
 * body within BODY_DEDUPE_WINDOW_HOURS. Resolves the row and whether this call stored it: a
 * retry, a replay or a duplicate gets the row stored first.
 */
export async function storeWebhookEvent(db: DbOrTx, input: StoreWebhookEventInput): Promise<{ row: WebhookEventRow; created: boolean }> {
  // The unique indexes' own expression, so these statements use them.
  const sameSource = sql`${w.source} = ${input.source} AND coalesce(${w.organizationId}, -1) = ${input.organizationId ?? -1}`;
  if (input.bodySha256) {
    // Past the window the earlier event gives up the body's key, so the same body is new again.
    await db
      .update(w)
      .set({ bodySha256: null })
      .where(sql`${sameSource} AND ${w.bodySha256} = ${input.bodySha256} AND ${w.receivedAt} < now() - ${BODY_DEDUPE_WINDOW_HOURS} * interval '1 hour'`);
  }
  // No conflict target: either key (delivery id, body hash) makes this a duplicate.
  const [inserted] = await db.insert(w).values({ id: randomUUID(), ...input }).onConflictDoNothing().returning();
  if (inserted) return { row: inserted, created: true };
  const [existing] = await db
    .select()
    .from(w)
    .where(sql`${sameSource} AND (${w.deliveryId} = ${input.deliveryId} OR ${w.bodySha256} = ${input.bodySha256 ?? null})`)
    .orderBy(sql`${w.deliveryId} = ${input.deliveryId} DESC`)
    .limit(1);
  // Only if the conflicting row was deleted (cleanup) in between: the caller's retry stores it anew.
  if (!existing) throw new Error('webhook event conflicted with a row that is gone');
  return { row: existing, created: false };
}

export async function markWebhookEventProcessed(db: DbOrTx, id: string): Promise<void> {
  await db.update(w).set({ processedAt: sql`now()` }).where(eq(w.id, id));
}

/** Whose events: an organization's, or (server code only) `null` for events of no organization. */
/** The `process-webhook` payload of a stored event: what the webhook route and `webhooks.replay` enqueue. */
export function processWebhookPayload(row: WebhookEventRow) {
  return {
    source: row.source,
    event: row.event,
    data: row.payload,
    deliveryId: row.deliveryId,
    headers: row.headers,
    receivedAt: row.receivedAt.toISOString(),
  };
}

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
