/** A bulk operation whose process died mid-run is taken over and finished, nothing done twice (issue 11 §2). */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../server/db/database.ts';
import { resumeStaleBulkOperations } from '../../server/ops/resumeBulkOperations.ts';
import { startTestServer, waitFor, type TestServer } from '../support/testServer.ts';
import { startFakeQStash } from './support/fakeQStash.ts';
import { insertJobs } from './support/insertJobs.ts';

let t: TestServer;
let fake: Awaited<ReturnType<typeof startFakeQStash>>;

beforeAll(async () => {
  fake = await startFakeQStash();
  // The sweeper never runs: every publish the fake sees came from a bulk run. The resumer looks often.
  t = await startTestServer({ qstash: fake.qstashConfig(), sweeper: { intervalMs: 3_600_000 }, bulkResumer: { intervalMs: 100 } });
}, 60_000);
afterAll(async () => {
  await t?.stop();
  await fake?.close();
});

const db = () => t.server.database.db;
const uuids = (ids: string[]) => sql`ARRAY[${sql.join(ids.map((id) => sql`${id}`), sql`, `)}]::uuid[]`;
const operation = async (id: string) =>
  (await queryRows<{ status: string; processed: number; succeeded: number; skipped: number; updated_ago_s: number }>(
    db(),
    sql`SELECT status, processed, succeeded, skipped, extract(epoch FROM now() - updated_at)::float8 AS updated_ago_s FROM bulk_operations WHERE id = ${id}`,
  ))[0]!;

/**
 * What a process that died after its first batch leaves: the operation `running` with its
 * heartbeat `heartbeatAgoMs` old, the first `done` jobs retried and published (their items and
 * counts recorded in the same commit), the rest untouched.
 */
async function crashedRetry(organizationId: number, jobIds: string[], done: number, heartbeatAgoMs: number): Promise<string> {
  const [op] = await queryRows<{ id: string }>(
    db(),
    sql`INSERT INTO bulk_operations (id, action, filter, organization_id, requested_by, requested_role, matched, processed, succeeded, created_at, updated_at)
        VALUES (gen_random_uuid(), 'retry', ${JSON.stringify({ status: 'failed', createdAfter: new Date(Date.now() - 3_600_000) })}::jsonb, ${organizationId}, '1', 'admin',
                ${jobIds.length}, ${done}, ${done}, now() - interval '5 minutes', now() - ${heartbeatAgoMs} * interval '1 millisecond')
        RETURNING id`,
  );
  const first = jobIds.slice(0, done);
  await db().execute(sql`UPDATE job_executions SET status = 'pending', error = NULL, completed_at = NULL, published_at = now(), message_id = 'msg_dead_run', updated_at = now() - interval '4 minutes'
                         WHERE job_id IN (SELECT unnest(${uuids(first)}))`);
  await db().execute(sql`INSERT INTO bulk_operation_items (operation_id, job_id, outcome) SELECT ${op!.id}, unnest(${uuids(first)}), 'retried'`);
  return op!.id;
}

const publishedJobs = (organizationJobs: string[]) => fake.published.map((p) => (p.body as { jobId: string }).jobId).filter((id) => organizationJobs.includes(id));

describe('an abandoned bulk operation', () => {
  it('is resumed by the periodic pass once its heartbeat is stale, and finishes without acting on a job twice', async () => {
    const jobs = await insertJobs(db(), { count: 30, organizationId: 811, status: 'failed', error: { name: 'Error', message: 'down' } });
    const other = await insertJobs(db(), { count: 3, organizationId: 812, status: 'failed', error: { name: 'Error', message: 'down' } });
    const id = await crashedRetry(811, jobs, 10, 120_000);

    const done = await waitFor(async () => {
      const op = await operation(id);
      return op.status === 'running' ? undefined : op;
    }, { timeout: 30_000, interval: 100 });
    expect(done).toMatchObject({ status: 'completed', processed: 30, succeeded: 30, skipped: 0 });
    const items = await queryRows<{ outcome: string; n: number }>(db(), sql`SELECT outcome, count(*)::int AS n FROM bulk_operation_items WHERE operation_id = ${id} GROUP BY outcome`);
    expect(items).toEqual([{ outcome: 'retried', n: 30 }]);
    // Only the 20 the dead run never reached were retried now: one publish and one event each.
    const published = publishedJobs(jobs);
    expect(published).toHaveLength(20);
    expect(new Set(published)).toEqual(new Set(jobs.slice(10)));
    const events = await queryRows<{ job_id: string; n: number }>(db(), sql`SELECT job_id, count(*)::int AS n FROM job_events WHERE job_id IN (SELECT unnest(${uuids(jobs)})) GROUP BY job_id`);
    expect(events.every((e) => e.n === 1)).toBe(true);
    expect(new Set(events.map((e) => e.job_id))).toEqual(new Set(jobs.slice(10)));
    // The operation's scope was rebuilt from its row: another organization's jobs were not touched.
    const [untouched] = await queryRows<{ n: number }>(db(), sql`SELECT count(*)::int AS n FROM job_executions WHERE job_id IN (SELECT unnest(${uuids(other)})) AND status = 'failed'`);
    expect(untouched!.n).toBe(3);
  });

  it('is left alone while its heartbeat is fresh, and resumed by one instance only', async () => {
    const jobs = await insertJobs(db(), { count: 12, organizationId: 813, status: 'failed', error: { name: 'Error', message: 'down' } });
    const alive = await crashedRetry(813, jobs, 2, 1_000);
    // Heartbeat 1 s old against the default 60 s: the run is alive somewhere; nothing takes it.
    expect(await resumeStaleBulkOperations(t.server.jobs)).toBe(0);
    expect((await operation(alive)).status).toBe('running');

    // Two instances' passes at once, both seeing the heartbeat as stale: the fenced claim lets one resume it.
    const passes = await Promise.all([resumeStaleBulkOperations(t.server.jobs, { staleMs: 500 }), resumeStaleBulkOperations(t.server.jobs, { staleMs: 500 })]);
    const op = await waitFor(async () => {
      const o = await operation(alive);
      return o.status === 'running' ? undefined : o;
    });
    expect(op).toMatchObject({ status: 'completed', processed: 12, succeeded: 12, skipped: 0 });
    // The periodic pass (60 s) cannot have taken it: whichever pass resumed it, exactly one did.
    expect(passes.reduce((a, b) => a + b, 0)).toBe(1);
    expect(publishedJobs(jobs)).toHaveLength(10);
  });
});
