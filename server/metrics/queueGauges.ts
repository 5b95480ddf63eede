import { sql } from 'drizzle-orm';
import { Gauge, Registry } from 'prom-client';
import { queryRows, type DbOrTx } from '../db/database.ts';

export interface QueueSnapshot {
  queues: { type: string; status: string; count: number; oldestSeconds: number }[];
  outbox: { unpublished: number; oldestSeconds: number };
}

/**
 * What waits, per type and status, and the outbox backlog. Reads only the pending, retrying and
 * processing rows (job_executions_not_completed_idx), however many finished
 * jobs the table holds.
 */
export async function readQueueSnapshot(db: DbOrTx): Promise<QueueSnapshot> {
  // Oldest age: a waiting job's time past due (0 while none is due), a running job's time since it started.
  const queues = await queryRows<{ type: string; status: string; n: number; oldest: number | string | null }>(
    db,
    sql`SELECT job_type AS type, status, count(*)::int AS n,
               extract(epoch FROM now() - min(CASE WHEN status = 'processing' THEN coalesce(started_at, updated_at)
                                                   WHEN coalesce(next_attempt_at, run_at) <= now() THEN coalesce(next_attempt_at, run_at) END))::float8 AS oldest
        FROM job_executions WHERE status IN ('pending', 'retrying', 'processing') GROUP BY job_type, status`,
  );
  const [outbox] = await queryRows<{ n: number; oldest: number | string | null }>(
    db,
    sql`SELECT count(*)::int AS n, extract(epoch FROM now() - min(updated_at))::float8 AS oldest
        FROM job_executions WHERE status IN ('pending', 'retrying') AND published_at IS NULL`,
  );
  return {
    queues: queues.map((q) => ({ type: q.type, status: q.status, count: q.n, oldestSeconds: Math.max(0, Number(q.oldest ?? 0)) })),
    outbox: { unpublished: outbox?.n ?? 0, oldestSeconds: Math.max(0, Number(outbox?.oldest ?? 0)) },
  };
}

/**
 * The database gauges of one app, read at most every `cacheMs` however often Prometheus (or
 * several) scrapes. Every instance reports the same shared values: take `max`, not `sum`.
 */
export function createQueueGauges(db: DbOrTx, cacheMs: number) {
  const registry = new Registry();
  const depth = new Gauge({ name: 'jobwire_queue_depth', help: 'Jobs pending, retrying or processing, by type and status (whole database)', labelNames: ['type', 'status'] as const, registers: [registry] });
  const oldest = new Gauge({
    name: 'jobwire_queue_oldest_seconds',
    help: 'Pending or retrying: how long the oldest due job has waited past its due time; processing: how long the oldest attempt has run',
    labelNames: ['type', 'status'] as const,
    registers: [registry],
  });
  const unpublished = new Gauge({ name: 'jobwire_outbox_unpublished', help: 'Jobs recorded but not yet handed to the broker (whole database)', registers: [registry] });
  const outboxOldest = new Gauge({ name: 'jobwire_outbox_oldest_seconds', help: 'Age of the oldest job not yet handed to the broker, 0 when none', registers: [registry] });
  let cached: { at: number; refresh: Promise<void> } | undefined;

  async function refresh(): Promise<void> {
    const snapshot = await readQueueSnapshot(db);
    depth.reset();
    oldest.reset();
    for (const q of snapshot.queues) {
      depth.set({ type: q.type, status: q.status }, q.count);
      oldest.set({ type: q.type, status: q.status }, q.oldestSeconds);
    }
    unpublished.set(snapshot.outbox.unpublished);
    outboxOldest.set(snapshot.outbox.oldestSeconds);
  }

  return {
    registry,
    /** Brings the gauges up to date unless they are fresher than `cacheMs`; concurrent scrapes share one read. */
    async update(): Promise<void> {
      if (!cached || Date.now() - cached.at >= cacheMs) {
        const refreshing = refresh();
        cached = { at: Date.now(), refresh: refreshing };
        refreshing.catch(() => (cached = undefined)); // a failed read is retried by the next scrape
      }
      await cached.refresh;
    },
  };
}
