import { sql } from 'drizzle-orm';
import { queryRows, type Db } from '../db/database.ts';
import type { BatchedDelete } from './deleteOldJobs.ts';

/** Deletes webhook events received before the cutoff, in batches (see deleteOldJobs). */
export async function deleteOldWebhookEvents(db: Db, opts: BatchedDelete): Promise<number> {
  const batchSize = opts.batchSize ?? 1_000;
  const byOrg = opts.organizationId === undefined ? sql`` : sql`AND organization_id = ${opts.organizationId}`;
  let deleted = 0;
  for (;;) {
    opts.signal?.throwIfAborted();
    const [batch] = await queryRows<{ n: number }>(db, sql`
      WITH doomed AS (
        DELETE FROM webhook_events WHERE id IN (
          SELECT id FROM webhook_events WHERE received_at < ${opts.cutoff.toISOString()}::timestamptz ${byOrg}
          LIMIT ${batchSize} FOR UPDATE SKIP LOCKED
        ) RETURNING 1
      )
      SELECT count(*)::int AS n FROM doomed`);
    deleted += batch?.n ?? 0;
    if ((batch?.n ?? 0) < batchSize) return deleted;
  }
}
