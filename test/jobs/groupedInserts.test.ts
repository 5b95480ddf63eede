/**
 * Concurrent enqueues share one insert statement (server/jobs/insertJobs.ts `insertJobsGrouped`):
 * one commit for many callers, each caller still answered with its own jobs.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { queryRows } from '../../server/db/database.ts';
import { enqueueJob } from '../../server/jobs/enqueueJob.ts';
import { insertJobsGrouped, type NewJob } from '../../server/jobs/insertJobs.ts';
import { serverOnFakeBroker } from '../ops/support/fakeQStash.ts';

// Nothing but this file's calls touches the rows: no sweeper pass, no deliveries.
const t = serverOnFakeBroker();

const deps = () => t().server.jobs;
const email = (to: string, idempotencyKey?: string) => ({
  type: 'send-email',
  payload: { to, template: 'welcome', data: { recipientName: 'G' } },
  metadata: { userId: 7, organizationId: 31 },
  ...(idempotencyKey ? { idempotencyKey } : {}),
});
// Each from its own callback, as requests read in one turn of the event loop are.
const inCallbacks = <T>(count: number, run: (i: number) => Promise<T>) =>
  Promise.all(Array.from({ length: count }, (_, i) => new Promise<T>((resolve, reject) => setTimeout(() => run(i).then(resolve, reject), 0))));
const transactionsOf = async (ids: string[]) => {
  const [row] = await queryRows<{ n: number }>(t().server.database.db, sql`SELECT count(DISTINCT xmin::text)::int AS n FROM job_executions WHERE job_id::text IN (${sql.join(ids.map((id) => sql`${id}`), sql`, `)})`);
  return row!.n;
};

describe('grouped inserts', () => {
  it('records concurrent enqueues in a few statements, each caller answered with its own job', async () => {
    // Called in one turn, as the calls of one batch request are: whatever the machine's load, no
    // timer or I/O comes between them.
    const outcomes = await Promise.all(Array.from({ length: 30 }, (_, i) => enqueueJob(deps(), email(`grouped-${i}@example.com`))));
    const ids = outcomes.map((o) => o.jobId);
    expect(new Set(ids).size).toBe(30);
    const rows = await queryRows<{ job_id: string; to: string }>(
      t().server.database.db,
      sql`SELECT job_id::text, payload->>'to' AS to FROM job_executions WHERE job_id::text IN (${sql.join(ids.map((id) => sql`${id}`), sql`, `)})`,
    );
    expect(Object.fromEntries(rows.map((r) => [r.job_id, r.to]))).toEqual(Object.fromEntries(ids.map((id, i) => [id, `grouped-${i}@example.com`])));
    // One transaction each before grouping (30); now the first alone and the rest together.
    expect(await transactionsOf(ids)).toBeLessThanOrEqual(3);
  });

  it('gives callers that share an idempotency key in one statement one job', async () => {
    const key = `grouped-key-${randomUUID()}`;
    const outcomes = await inCallbacks(6, (i) => enqueueJob(deps(), email(`same-key-${i}@example.com`, key)));
    expect(new Set(outcomes.map((o) => o.jobId)).size).toBe(1);
    expect(outcomes.filter((o) => !o.deduplicated)).toHaveLength(1);
  });

  it('fails only the submission the database refuses, not the others grouped with it', async () => {
    const job = (id: string): NewJob => ({
      id, type: 'send-email', payload: { to: 'x@example.com', template: 'welcome' }, metadata: { createdAt: new Date().toISOString() },
      maxRetries: 3, timeoutMs: 30_000, delay: 0, publishOptions: {}, userId: null, organizationId: null, idempotencyKey: null, traceContext: null,
    });
    const good = [randomUUID(), randomUUID(), randomUUID()];
    const results = await Promise.allSettled([
      insertJobsGrouped(t().server.database.db, [job(good[0]!)]), // goes at once, alone
      insertJobsGrouped(t().server.database.db, [job(good[1]!)]),
      insertJobsGrouped(t().server.database.db, [job('not-a-uuid')]),
      insertJobsGrouped(t().server.database.db, [job(good[2]!)]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(results.flatMap((r) => (r.status === 'fulfilled' ? r.value.map((row) => row.id) : []))).toEqual(good);
  });
});
