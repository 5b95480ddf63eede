import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView } from '../../shared/jobApi.ts';
import { deleteOldJobs } from '../../server/cleanup/deleteOldJobs.ts';
import { queryRows } from '../../server/db/database.ts';
import { generatedFiles } from '../../server/db/filesSchema.ts';
import { jobEvents, jobExecutions } from '../../server/db/schema.ts';
import { webhookEvents } from '../../server/db/webhookSchema.ts';
import { seedJobs } from '../support/seedJobs.ts';
import { startTestServer, waitFor, type TestServer } from '../support/testServer.ts';

let t: TestServer;
const filesDir = mkdtempSync(join(tmpdir(), 'jobwire-cleanup-files-'));
beforeAll(async () => {
  t = await startTestServer({ filesDir });
});
afterAll(async () => {
  await t?.stop();
  rmSync(filesDir, { recursive: true, force: true });
});

const DAY = 86_400_000;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY);

async function addEvents(ids: string[], perJob: number) {
  for (let i = 0; i < perJob; i++) {
    await t.server.database.db.execute(sql`
      INSERT INTO job_events (job_id, organization_id, type, status, retry_count, max_retries)
      SELECT job_id, organization_id, job_type, status, 0, 0 FROM job_executions WHERE job_id IN ${ids}`);
  }
}

async function finished(jobId: string): Promise<JobView | { status: string; result: unknown }> {
  return waitFor(async () => {
    const [row] = await t.server.database.db.select().from(jobExecutions).where(eq(jobExecutions.id, jobId));
    return row && ['completed', 'failed'].includes(row.status) ? row : undefined;
  });
}

const remaining = async (ids: string[]) =>
  (await t.server.database.db.select({ id: jobExecutions.id }).from(jobExecutions).where(inArray(jobExecutions.id, ids))).map((r) => r.id).sort();

describe('cleanup-old-data', () => {
  it('deletes exactly the old terminal jobs, their events, expired files and old webhook events', async () => {
    const db = t.server.database.db;
    // Organization 81: old terminal jobs (completed 40 days ago), old but unfinished ones, recent ones.
    const oldCompleted = await seedJobs(db, { organizationId: 81, count: 5, createdAt: daysAgo(41) });
    const oldFailed = await seedJobs(db, { organizationId: 81, count: 3, status: 'failed', createdAt: daysAgo(41) });
    const oldCancelled = await seedJobs(db, { organizationId: 81, count: 2, status: 'cancelled', createdAt: daysAgo(41) });
    const oldPending = await seedJobs(db, { organizationId: 81, count: 2, status: 'pending', createdAt: daysAgo(41) });
    const recent = await seedJobs(db, { organizationId: 81, count: 4, createdAt: daysAgo(29) });
    const systemOld = await seedJobs(db, { organizationId: null, count: 2, createdAt: daysAgo(60) });
    // Organization 82: old jobs its own admin will clean.
    const otherOld = await seedJobs(db, { organizationId: 82, count: 3, createdAt: daysAgo(35) });
    const old = [...oldCompleted, ...oldFailed, ...oldCancelled, ...systemOld];
    await addEvents([...old, ...oldPending, ...recent], 2);
    await addEvents(otherOld, 3);
    const hook = (n: number, organizationId: number | null, receivedAt: Date) => ({
      id: crypto.randomUUID(), source: 'github', event: 'push', deliveryId: `c-${n}`, organizationId, payload: {}, receivedAt,
    });
    await db.insert(webhookEvents).values([hook(1, 81, daysAgo(31)), hook(2, null, daysAgo(90)), hook(3, 81, daysAgo(2)), hook(4, 82, daysAgo(40))]);

    // An export whose file has expired, and one still valid.
    const member = await t.client({ organizationId: 81, role: 'member' });
    const expiring = await member.jobs.enqueue.mutate({ type: 'export-data', payload: { entityType: 'jobs', format: 'json', filters: { status: 'pending' } } });
    const keeping = await member.jobs.enqueue.mutate({ type: 'export-data', payload: { entityType: 'jobs', format: 'csv', filters: { status: 'pending' } } });
    await finished(expiring.jobId);
    await finished(keeping.jobId);
    await db.update(generatedFiles).set({ expiresAt: daysAgo(1) }).where(eq(generatedFiles.jobId, expiring.jobId));
    expect(existsSync(join(filesDir, 'exports', `${expiring.jobId}.ndjson`))).toBe(true);

    // An organization's admin cleans only its own organization.
    const admin82 = await t.client({ organizationId: 82, role: 'admin' });
    const byAdmin = await admin82.jobs.enqueue.mutate({ type: 'cleanup-old-data', payload: { retention: 30 } });
    expect((await finished(byAdmin.jobId)).result).toMatchObject({ jobsDeleted: 3, eventsDeleted: 9, filesDeleted: 0, webhookEventsDeleted: 1 });
    expect(await remaining(otherOld)).toEqual([]);
    expect(await remaining(old)).toHaveLength(old.length);

    // The system cleanup (no organization, like the default schedule) cleans everyone.
    const jobId = await t.server.dispatcher.enqueue('cleanup-old-data', { retention: 30 });
    const job = await finished(jobId);
    expect(job.status).toBe('completed');
    expect(job.result).toMatchObject({ jobsDeleted: old.length, eventsDeleted: old.length * 2, filesDeleted: 1, webhookEventsDeleted: 2 });

    expect(await remaining(old)).toEqual([]);
    expect(await remaining([...oldPending, ...recent])).toEqual([...oldPending, ...recent].sort());
    const events = await db.select({ jobId: jobEvents.jobId }).from(jobEvents).where(inArray(jobEvents.jobId, [...old, ...oldPending, ...recent]));
    expect(events).toHaveLength((oldPending.length + recent.length) * 2);
    const files = await db.select({ jobId: generatedFiles.jobId }).from(generatedFiles);
    expect(files.map((f) => f.jobId)).toEqual([keeping.jobId]);
    expect(existsSync(join(filesDir, 'exports', `${expiring.jobId}.ndjson`))).toBe(false);
    expect(existsSync(join(filesDir, 'exports', `${keeping.jobId}.csv`))).toBe(true);
    expect((await db.select({ id: webhookEvents.deliveryId }).from(webhookEvents)).map((w) => w.id)).toEqual(['c-3']);
  });

  it('deletes in batches until nothing old is left', async () => {
    const db = t.server.database.db;
    const ids = await seedJobs(db, { organizationId: 83, count: 23, createdAt: daysAgo(100) });
    await addEvents(ids, 1);
    const deleted = await deleteOldJobs(db, { cutoff: daysAgo(30), organizationId: 83, batchSize: 5 });
    expect(deleted).toEqual({ jobsDeleted: 23, eventsDeleted: 23 });
    expect(await queryRows(db, sql`SELECT 1 FROM job_executions WHERE organization_id = 83`)).toEqual([]);
  });
});
