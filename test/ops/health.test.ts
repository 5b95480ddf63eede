/** Health (issue 11 §5): /healthz, /readyz, and the job-health view turning unhealthy for each cause and healthy again. */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../server/db/database.ts';
import type { JobHealth } from '../../server/jobs/jobHealth.ts';
import { startTestServer, type TestServer } from '../support/testServer.ts';
import { insertJobs, operatorToken } from './support/insertJobs.ts';

let t: TestServer;
beforeAll(async () => {
  // No sweeper: it would publish the unpublished rows and retry the stuck ones this test sets up.
  t = await startTestServer({ sweeper: { intervalMs: 3_600_000 } });
});
afterAll(async () => t?.stop());

async function health(organizationId: number | 'operator'): Promise<JobHealth> {
  const token = organizationId === 'operator' ? await operatorToken() : await t.token({ organizationId, role: 'admin' });
  const response = await fetch(`${t.server.url}/api/admin/job-health`, { headers: { Authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as JobHealth;
}
const db = () => t.server.database.db;
const run = (query: ReturnType<typeof sql>) => db().execute(query);

describe('the job-health view', () => {
  it('is healthy with nothing to report, and keeps the seed’s fields', async () => {
    expect(await health(600)).toEqual({
      stats: [],
      failureRate: 0,
      totalJobs: 0,
      health: 'healthy',
      causes: [],
      signals: {
        failureRate: { value: 0, threshold: 0.05, healthy: true },
        stuckProcessing: { count: 0, healthy: true },
        waitingWithoutCompletions: { waiting: 0, completedInLastHour: false, healthy: true },
        outboxBacklog: { unpublished: 0, oldestSeconds: 0, healthy: true },
      },
    });
  });

  it('turns unhealthy on the failure rate over the last hour, and healthy again', async () => {
    const [failed] = await insertJobs(db(), { count: 1, organizationId: 601, error: { name: 'Error', message: 'x' } });
    await insertJobs(db(), { count: 3, organizationId: 601, status: 'completed' });
    const sick = await health(601);
    expect(sick).toMatchObject({ health: 'unhealthy', failureRate: 0.25, totalJobs: 4 });
    expect(sick.causes).toEqual(['1 of 4 jobs created in the last hour failed (25 %; unhealthy from 5 %)']);
    await run(sql`UPDATE job_executions SET status = 'completed', error = NULL WHERE job_id = ${failed!}`);
    expect(await health(601)).toMatchObject({ health: 'healthy', causes: [] });
  });

  it('turns unhealthy on jobs processing past their lease, and healthy again', async () => {
    const stuck = await insertJobs(db(), { count: 2, organizationId: 602, status: 'processing', leaseAgoMs: 5 * 60_000 });
    await insertJobs(db(), { count: 1, organizationId: 602, status: 'processing', leaseAgoMs: -60_000 }); // lease still running
    const sick = await health(602);
    expect(sick.signals.stuckProcessing).toEqual({ count: 2, healthy: false });
    expect(sick.causes).toEqual(['2 jobs still processing more than 60 s past their lease: the worker stopped and the sweeper has not retried them (is the sweeper running?)']);
    await run(sql`UPDATE job_executions SET lease_until = now() + interval '1 minute' WHERE job_id IN (${stuck[0]!}, ${stuck[1]!})`);
    expect(await health(602)).toMatchObject({ health: 'healthy', causes: [] });
  });

  it('turns unhealthy when jobs wait and none completed in the last hour, and healthy again', async () => {
    await insertJobs(db(), { count: 3, organizationId: 603, status: 'pending', agoMs: 2 * 3_600_000 });
    await insertJobs(db(), { count: 1, organizationId: 603, status: 'completed', agoMs: 2 * 3_600_000 }); // completed, but long ago
    const sick = await health(603);
    expect(sick.signals.waitingWithoutCompletions).toEqual({ waiting: 3, completedInLastHour: false, healthy: false });
    expect(sick.causes).toEqual(['3 jobs waiting more than 5 min past due, and no job completed in the last hour (is the broker delivering to the worker routes?)']);
    await insertJobs(db(), { count: 1, organizationId: 603, status: 'completed', agoMs: 60_000 });
    expect(await health(603)).toMatchObject({ health: 'healthy', causes: [] });
  });

  it('turns unhealthy on an outbox backlog, and healthy again', async () => {
    const waiting = await insertJobs(db(), { count: 4, organizationId: 604, status: 'pending', publishedAt: null, runInMs: 3_600_000, agoMs: 10 * 60_000 });
    const sick = await health(604);
    expect(sick.signals.outboxBacklog).toMatchObject({ unpublished: 4, healthy: false });
    expect(sick.signals.outboxBacklog.oldestSeconds).toBeGreaterThanOrEqual(590);
    expect(sick.causes).toEqual(['4 jobs not handed to the broker for more than 60 s, the oldest for 10 min (is the broker reachable?)']);
    await run(sql`UPDATE job_executions SET published_at = now() WHERE job_id IN (${sql.join(waiting.map((id) => sql`${id}`), sql`, `)})`);
    expect(await health(604)).toMatchObject({ health: 'healthy', causes: [] });
  });

  it("gives an operator every organization's signals; other organizations see none of them", async () => {
    await insertJobs(db(), { count: 1, organizationId: 605, status: 'processing', leaseAgoMs: 5 * 60_000 });
    expect((await health('operator')).signals.stuckProcessing.count).toBe(1);
    expect((await health(606)).causes).toEqual([]);
    const admin = await t.client({ organizationId: 605, role: 'admin' });
    expect((await admin.ops.health.query()).signals.stuckProcessing.count).toBe(1);
  });
});

describe('/healthz and /readyz', () => {
  const get = async (path: string) => {
    const response = await fetch(`${t.server.url}${path}`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('says the process is up, and ready when the database, the migrations and the broker are', async () => {
    expect(await get('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await get('/readyz')).toEqual({ status: 200, body: { status: 'ready', checks: { database: true, migrations: true, broker: true } } });
  });

  it('is not ready while a migration is missing', async () => {
    const [last] = await queryRows<{ id: number; hash: string; created_at: string }>(db(), sql`SELECT id, hash, created_at::text FROM drizzle.__drizzle_migrations ORDER BY id DESC LIMIT 1`);
    await run(sql`DELETE FROM drizzle.__drizzle_migrations WHERE id = ${last!.id}`);
    const missing = await get('/readyz');
    await run(sql`INSERT INTO drizzle.__drizzle_migrations (id, hash, created_at) VALUES (${last!.id}, ${last!.hash}, ${last!.created_at}::bigint)`);
    expect(missing.status).toBe(503);
    expect(missing.body.reason).toMatch(/^migrations not applied/);
    expect((await get('/readyz')).status).toBe(200);
  });

  it('is not ready once the broker stops answering', async () => {
    await t.server.broker!.stop();
    const down = await get('/readyz');
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ status: 'unavailable', checks: { database: true, migrations: true, broker: false } });
    expect(down.body.reason).toMatch(/^broker unreachable at http:/);
    // A load balancer's check (`?broker=ignore`) keeps the instance in: enqueues go to the outbox.
    const forBalancer = await get('/readyz?broker=ignore');
    expect(forBalancer).toEqual({ status: 200, body: { status: 'ready', checks: { database: true, migrations: true, broker: false } } });
  });
});
