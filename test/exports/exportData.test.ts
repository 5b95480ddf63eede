import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView } from '../../shared/jobApi.ts';
import { billingSubscriptions } from '../../server/db/billingSchema.ts';
import { generatedFiles } from '../../server/db/filesSchema.ts';
import { jobEvents, jobExecutions } from '../../server/db/schema.ts';
import { webhookEvents } from '../../server/db/webhookSchema.ts';
import { signFileLink } from '../../server/files/fileLinks.ts';
import { seedJobs } from '../support/seedJobs.ts';
import { startTestServer, TEST_AUTH_SECRET, trpcCode, waitFor, type TestServer } from '../support/testServer.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => t?.stop());

const ORG = 21;
const ROWS = 100_000;

async function finished(organizationId: number, jobId: string, timeout = 60_000): Promise<JobView> {
  const client = await t.client({ organizationId });
  return waitFor(async () => {
    const job = await client.jobs.get.query({ jobId });
    return ['completed', 'failed', 'cancelled'].includes(job.status) ? job : undefined;
  }, { timeout, interval: 100 });
}

const download = (url: string, token?: string) => fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});

/** The first field of each CSV record after the header (ids never need quoting). */
const firstColumn = (csv: string) => csv.split('\r\n').slice(1, -1).map((line) => line.slice(0, line.indexOf(',')));

describe('export-data', () => {
  it(`exports ${ROWS.toLocaleString('en')} jobs as CSV through the broker; the download returns exactly those rows`, { timeout: 120_000 }, async () => {
    const ids = await seedJobs(t.server.database.db, { organizationId: ORG, count: ROWS });
    await seedJobs(t.server.database.db, { organizationId: ORG + 1, count: 50 }); // another organization's
    const member = await t.client({ organizationId: ORG, role: 'member' });
    const { jobId } = await member.jobs.enqueue.mutate({ type: 'export-data', payload: { entityType: 'jobs', format: 'csv', filters: { status: 'completed' } } });
    const job = await finished(ORG, jobId, 100_000);
    expect(job.status).toBe('completed');
    const result = job.result as { rowCount: number; bytes: number; format: string; downloadUrl: string; fileId: string };
    expect(result).toMatchObject({ rowCount: ROWS, format: 'csv' });
    expect(result.downloadUrl.startsWith(`${t.server.publicUrl}/api/files/${result.fileId}?expires=`)).toBe(true);

    // The signed link alone is enough.
    const viaLink = await download(result.downloadUrl);
    expect(viaLink.status).toBe(200);
    expect(viaLink.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(viaLink.headers.get('content-disposition')).toMatch(/^attachment; filename="export-jobs-.+\.csv"$/);
    expect(Number(viaLink.headers.get('content-length'))).toBe(result.bytes);
    const csv = await viaLink.text();
    expect(Buffer.byteLength(csv)).toBe(result.bytes);
    expect(csv.slice(0, csv.indexOf('\r\n'))).toBe('jobId,type,status,userId,scheduleId,idempotencyKey,retryCount,maxRetries,progress,createdAt,startedAt,completedAt,payload,result,error');
    const exported = firstColumn(csv);
    expect(exported).toHaveLength(ROWS);
    expect(new Set(exported)).toEqual(new Set(ids));

    // So is a bearer token of the same organization (any role); the bytes are the same.
    const viaToken = await download(`${t.server.url}/api/files/${result.fileId}`, await t.token({ organizationId: ORG, role: 'member' }));
    expect(viaToken.status).toBe(200);
    expect(await viaToken.text()).toBe(csv);

    // Progress was reported while it ran.
    const progress = await t.server.database.db.select({ p: jobEvents.progress }).from(jobEvents).where(eq(jobEvents.jobId, jobId));
    expect(progress.some(({ p }) => p !== null && p > 0 && p < 1)).toBe(true);
  });

  it('serves a file to nobody else: other organizations, tampered or expired links, no credentials', async () => {
    await seedJobs(t.server.database.db, { organizationId: 31, count: 3 });
    const member = await t.client({ organizationId: 31, role: 'member' });
    const { jobId } = await member.jobs.enqueue.mutate({ type: 'export-data', payload: { entityType: 'jobs', format: 'json', filters: { status: ['completed'] } } });
    const { fileId, downloadUrl } = (await finished(31, jobId)).result as { fileId: string; downloadUrl: string };
    const fileUrl = `${t.server.url}/api/files/${fileId}`;

    expect((await download(fileUrl, await t.token({ organizationId: 32, role: 'admin' }))).status).toBe(404);
    expect((await download(fileUrl)).status).toBe(401);
    expect((await download(fileUrl, 'not-a-jwt')).status).toBe(401);
    expect((await download(`${t.server.url}/api/files/00000000-0000-4000-8000-000000000000`, await t.token({ organizationId: 31 }))).status).toBe(404);
    const tampered = downloadUrl.replace(/sig=(.)/, (_m, c: string) => `sig=${c === 'A' ? 'B' : 'A'}`);
    expect((await download(tampered)).status).toBe(404);
    const later = new URL(downloadUrl);
    later.searchParams.set('expires', String(Number(later.searchParams.get('expires')) + 3600));
    expect((await download(later.toString())).status).toBe(404);
    const stale = signFileLink({ publicUrl: t.server.url, fileId, expiresAt: new Date(Date.now() - 1000), secret: TEST_AUTH_SECRET });
    expect((await download(stale)).status).toBe(403);
    const forged = signFileLink({ publicUrl: t.server.url, fileId, expiresAt: new Date(Date.now() + 60_000), secret: 'another-secret-0123456789abcdef0123' });
    expect((await download(forged)).status).toBe(404);

    // NDJSON: one object per line with the entity's columns.
    const body = await (await download(downloadUrl)).text();
    const lines = body.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(3);
    // Newest first, like jobs.list.
    expect(lines.map((l) => (l.payload as { n: number }).n)).toEqual([2, 1, 0]);
    expect(lines[0]).toMatchObject({ type: 'send-email', status: 'completed', userId: '1', completedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });

    // An expired file is gone (410) even for its own organization.
    await t.server.database.db.update(generatedFiles).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(generatedFiles.id, fileId));
    expect((await download(fileUrl, await t.token({ organizationId: 31 }))).status).toBe(410);
  });

  it('applies the filters and the organization scope', async () => {
    const db = t.server.database.db;
    const base = new Date('2025-03-01T00:00:00Z');
    await seedJobs(db, { organizationId: 41, count: 10, createdAt: base, stepMs: 86_400_000 }); // Mar 1 … Mar 10
    await seedJobs(db, { organizationId: 41, count: 4, status: 'failed', type: 'generate-report', createdAt: base });
    const member = await t.client({ organizationId: 41, role: 'member' });
    const { jobId } = await member.jobs.enqueue.mutate({
      type: 'export-data',
      payload: { entityType: 'jobs', format: 'csv', filters: { type: 'send-email', createdAfter: '2025-03-03', createdBefore: '2025-03-06T00:00:00Z' } },
    });
    const result = (await finished(41, jobId)).result as { rowCount: number; downloadUrl: string };
    expect(result.rowCount).toBe(3); // Mar 3, 4, 5
    const failed = await member.jobs.enqueue.mutate({ type: 'export-data', payload: { entityType: 'jobs', format: 'csv', filters: { status: 'failed' } } });
    expect(((await finished(41, failed.jobId)).result as { rowCount: number }).rowCount).toBe(4);
  });

  it('exports webhook events of the organization (admin)', async () => {
    const db = t.server.database.db;
    const row = (n: number, organizationId: number) => ({
      id: crypto.randomUUID(), source: 'github', event: n % 2 ? 'push' : 'issues', deliveryId: `d-${organizationId}-${n}`, organizationId, payload: { n },
    });
    await db.insert(webhookEvents).values([row(1, 51), row(2, 51), row(3, 51), row(4, 52)]);
    const admin = await t.client({ organizationId: 51, role: 'admin' });
    const { jobId } = await admin.jobs.enqueue.mutate({ type: 'export-data', payload: { entityType: 'webhook-events', format: 'json', filters: { event: 'push' } } });
    const result = (await finished(51, jobId)).result as { rowCount: number; downloadUrl: string };
    expect(result.rowCount).toBe(2);
    const lines = (await (await download(result.downloadUrl)).text()).trimEnd().split('\n').map((l) => JSON.parse(l) as { deliveryId: string });
    expect(lines.map((l) => l.deliveryId).sort()).toEqual(['d-51-1', 'd-51-3']);
  });

  it('exports billing records of the organization to admins only', async () => {
    const sub = (id: string, organizationId: number, status: string) => ({ stripeSubscriptionId: id, stripeCustomerId: `cus_${id}`, organizationId, status, plan: 'pro' });
    await t.server.database.db.insert(billingSubscriptions).values([sub('sub_a', 53, 'active'), sub('sub_b', 53, 'past_due'), sub('sub_c', 54, 'active')]);
    const payload = { entityType: 'billing-records', format: 'csv', filters: { status: 'active' } } as const;
    // Admin-only: a member is refused before anything is recorded.
    const member = await t.client({ organizationId: 53, role: 'member' });
    const refused = await member.jobs.enqueue.mutate({ type: 'export-data', payload }).catch((e: unknown) => e);
    expect(trpcCode(refused)).toBe('FORBIDDEN');
    expect(await t.server.database.db.select().from(jobExecutions).where(eq(jobExecutions.organizationId, 53))).toEqual([]);
    const admin = await t.client({ organizationId: 53, role: 'admin' });
    const { jobId } = await admin.jobs.enqueue.mutate({ type: 'export-data', payload });
    const result = (await finished(53, jobId)).result as { rowCount: number; downloadUrl: string };
    expect(result.rowCount).toBe(1);
    const csv = await (await download(result.downloadUrl)).text();
    expect(csv.split('\r\n')[0]).toBe('stripeSubscriptionId,stripeCustomerId,plan,status,currentPeriodEnd,lastEventId,lastEventAt,createdAt,updatedAt');
    expect(firstColumn(csv)).toEqual(['sub_a']);
  });

  it('refuses an unknown entity type or bad filters with BAD_REQUEST at enqueue, recording nothing', async () => {
    const member = await t.client({ organizationId: 61, role: 'member' });
    const unknown = await member.jobs.enqueue.mutate({ type: 'export-data', payload: { entityType: 'customers', format: 'csv' } }).catch((e: unknown) => e);
    expect(trpcCode(unknown)).toBe('BAD_REQUEST');
    expect(String(unknown)).toMatch(/unknown export entity type "customers"/i);
    const badFilter = await member.jobs.enqueue
      .mutate({ type: 'export-data', payload: { entityType: 'jobs', format: 'csv', filters: { status: 'sleeping' } } })
      .catch((e: unknown) => e);
    expect(trpcCode(badFilter)).toBe('BAD_REQUEST');
    const extraFilter = await member.jobs.enqueue.mutate({ type: 'export-data', payload: { entityType: 'jobs', format: 'csv', filters: { organizationId: 1 } } }).catch((e: unknown) => e);
    expect(trpcCode(extraFilter)).toBe('BAD_REQUEST');
    const scheduled = await member.jobs.schedule.mutate({ type: 'export-data', cron: '0 * * * *', payload: { entityType: 'nope', format: 'csv' } }).catch((e: unknown) => e);
    expect(trpcCode(scheduled)).toBe('BAD_REQUEST');
    expect(await t.server.database.db.select().from(jobExecutions).where(eq(jobExecutions.organizationId, 61))).toEqual([]);
  });

  it('fails a server-side export without an organization permanently, writing no file', async () => {
    const jobId = await t.server.dispatcher.enqueue('export-data', { entityType: 'jobs', format: 'csv' });
    const job = await waitFor(async () => {
      const [row] = await t.server.database.db.select().from(jobExecutions).where(and(eq(jobExecutions.id, jobId), eq(jobExecutions.status, 'failed')));
      return row;
    });
    expect(job).toMatchObject({ retryCount: 0, error: { name: 'NonRetryableJobError' } });
    expect(await t.server.database.db.select().from(generatedFiles).where(eq(generatedFiles.jobId, jobId))).toEqual([]);
  });
});
