import { and, asc, eq, inArray, isNull } from 'drizzle-orm';
import type { JobView } from '../../shared/jobApi.ts';
import type { DbOrTx } from '../db/database.ts';
import { jobExecutions } from '../db/schema.ts';
import { webhookEvents } from '../db/webhookSchema.ts';
import { toJobView } from '../jobs/jobView.ts';
import { ALL_ORGANIZATIONS, type Scope } from '../jobs/scope.ts';

/**
 * The jobs a stored webhook event caused: the one its delivery enqueued (idempotency key
 * `webhook:<source>:<deliveryId>`) and one per replay (`replay:<id>:<n>`), oldest first.
 * Undefined when the event is not in the scope (another organization's, or, for a tenant, one of none).
 */
export async function listWebhookEventJobs(db: DbOrTx, scope: Scope, webhookEventId: string): Promise<JobView[] | undefined> {
  const w = webhookEvents;
  const inScope = scope === ALL_ORGANIZATIONS ? undefined : eq(w.organizationId, scope.organizationId);
  const [event] = await db.select().from(w).where(and(eq(w.id, webhookEventId), inScope)).limit(1);
  if (!event) return undefined;
  const keys = [`webhook:${event.source}:${event.deliveryId}`, ...Array.from({ length: event.replayedCount }, (_, i) => `replay:${event.id}:${i + 1}`)];
  const t = jobExecutions;
  const sameOrganization = event.organizationId === null ? isNull(t.organizationId) : eq(t.organizationId, event.organizationId);
  const rows = await db.select().from(t).where(and(sameOrganization, inArray(t.idempotencyKey, keys))).orderBy(asc(t.createdAt));
  return rows.map(toJobView);
}
