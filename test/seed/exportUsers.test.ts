/**
 * Seed 003 "Data Export Jobs", run as written (`@/lib/...` imports became `server/index.ts`):
 * `entityType: 'users'` exports the organization's user directory (the users jobwire has seen
 * through verified tokens). Admin-only through the API.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobExecutions, jobSchedules, type JobRow } from '../../server/db/schema.ts';
import { jobwireUsers } from '../../server/db/usersSchema.ts';
import { jobDispatcher, JOB_TYPES } from '../../server/index.ts';
import { startTestServer, waitFor, type TestServer } from '../support/testServer.ts';

let testServer: TestServer;
beforeAll(async () => {
  testServer = await startTestServer();
});
afterAll(async () => testServer?.stop());

const db = () => testServer.server.database.db;
const USERS_HEADER = 'userId,organizationId,role,firstSeenAt,lastSeenAt';

/** The job once it has settled. */
const settled = (jobId: string): Promise<JobRow> =>
  waitFor(async () => {
    const [row] = await db().select().from(jobExecutions).where(eq(jobExecutions.id, jobId));
    return row && ['completed', 'failed', 'cancelled'].includes(row.status) ? row : undefined;
  }, { timeout: 30_000, interval: 100 });

/** The exported file's text, through the result's signed link. */
async function downloaded(job: JobRow): Promise<string> {
  expect(job.status).toBe('completed');
  const { downloadUrl } = job.result as { downloadUrl: string };
  const response = await fetch(downloadUrl);
  expect(response.status).toBe(200);
  return response.text();
}

/** One authenticated tRPC call per user, which records the user in the directory. */
async function seen(organizationId: number, users: Record<string, 'member' | 'admin'>): Promise<void> {
  for (const [userId, role] of Object.entries(users)) await (await testServer.client({ userId, organizationId, role })).jobs.list.query({});
  await waitFor(async () => (await db().select().from(jobwireUsers).where(eq(jobwireUsers.organizationId, organizationId))).length >= Object.keys(users).length);
}

beforeAll(async () => {
  await seen(456, { '123': 'admin', '124': 'member', '125': 'member' });
  await seen(457, { '900': 'admin', '123': 'member' }); // another organization, sharing a user id
  // Seen before the sample's createdAfter: exported without the filter only.
  await db().insert(jobwireUsers).values({ userId: '99', organizationId: 456, role: 'member', firstSeenAt: new Date('2024-06-01T00:00:00Z'), lastSeenAt: new Date('2024-12-31T00:00:00Z') });
});

describe('seed: export users', () => {
  it('runs the sample as written: a CSV of exactly organization 456’s users seen after 2025-01-01', async () => {
    // jobDispatcher acts on the default server: this file's test server.
    const jobId = await jobDispatcher.enqueue(
      JOB_TYPES.EXPORT_DATA,
      {
        entityType: 'users',
        format: 'csv',
        filters: { createdAfter: '2025-01-01' },
      },
      { userId: 123, organizationId: 456 },
    );
    const job = await settled(jobId);
    expect(job.result).toMatchObject({ entityType: 'users', format: 'csv', rowCount: 3 });
    const csv = await downloaded(job);
    const [header, ...records] = csv.split('\r\n').slice(0, -1);
    expect(header).toBe(USERS_HEADER);
    const rows = records.map((line) => line.split(','));
    expect(rows.map(([userId, organizationId, role]) => `${organizationId}/${userId}/${role}`).sort()).toEqual(['456/123/admin', '456/124/member', '456/125/member']);
    for (const [, , , firstSeenAt, lastSeenAt] of rows) {
      expect(Date.parse(firstSeenAt!)).toBeGreaterThanOrEqual(Date.parse('2025-01-01'));
      expect(Date.parse(lastSeenAt!)).toBeGreaterThanOrEqual(Date.parse(firstSeenAt!));
    }
    // Ordered by first sight, along (organization_id, first_seen_at).
    expect(rows.map((r) => r[3])).toEqual(rows.map((r) => r[3]).sort());
  });

  it('lets an admin export users through tRPC (NDJSON, filtered by role)', async () => {
    const admin = await testServer.client({ userId: '123', organizationId: 456, role: 'admin' });
    const all = await admin.jobs.enqueue.mutate({ type: 'export-data', payload: { entityType: 'users', format: 'json' } });
    const lines = (await downloaded(await settled(all.jobId))).trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]?.userId).toBe('99'); // first seen first
    expect(lines.map((l) => `${String(l.organizationId)}/${String(l.userId)}`).sort()).toEqual(['456/123', '456/124', '456/125', '456/99']);
    expect(Object.keys(lines[0]!)).toEqual(USERS_HEADER.split(','));

    const members = await admin.jobs.enqueue.mutate({ type: 'export-data', payload: { entityType: 'users', format: 'csv', filters: { role: 'member', createdBefore: '2025-01-01' } } });
    const csv = await downloaded(await settled(members.jobId));
    expect(csv.split('\r\n').slice(1, -1).map((line) => line.split(',')[0])).toEqual(['99']);
  });

  it('refuses a member users and webhook-events (FORBIDDEN, at enqueue and schedule time) and stores nothing', async () => {
    const member = await testServer.client({ userId: '124', organizationId: 456, role: 'member' });
    const before = await db().select({ id: jobExecutions.id }).from(jobExecutions).where(eq(jobExecutions.organizationId, 456));
    for (const entityType of ['users', 'webhook-events']) {
      const payload = { entityType, format: 'csv', filters: {} } as const;
      for (const attempt of [member.jobs.enqueue.mutate({ type: 'export-data', payload }), member.jobs.schedule.mutate({ type: 'export-data', cron: '0 3 * * *', payload })]) {
        const error = await attempt.then(() => expect.fail('expected FORBIDDEN'), (e: unknown) => e);
        expect((error as { data?: unknown }).data).toMatchObject({ code: 'FORBIDDEN', jobwireCode: 'FORBIDDEN_PAYLOAD' });
        expect(String(error)).toContain(`export entity "${entityType}"`);
      }
    }
    expect(await db().select({ id: jobExecutions.id }).from(jobExecutions).where(eq(jobExecutions.organizationId, 456))).toEqual(before);
    expect(await db().select().from(jobSchedules).where(eq(jobSchedules.organizationId, 456))).toEqual([]);

    // Members still export jobs; and may not touch an admin's users-export schedule.
    await expect(member.jobs.enqueue.mutate({ type: 'export-data', payload: { entityType: 'jobs', format: 'csv', filters: {} }, options: { delay: 3_600_000 } })).resolves.toMatchObject({ deduplicated: false });
    const admin = await testServer.client({ userId: '123', organizationId: 456, role: 'admin' });
    const { scheduleId } = await admin.jobs.schedule.mutate({ type: 'export-data', cron: '0 3 * * *', payload: { entityType: 'users', format: 'csv' } });
    const pause = await member.jobs.schedules.pause.mutate({ scheduleId }).catch((e: unknown) => e);
    expect((pause as { data?: unknown }).data).toMatchObject({ code: 'FORBIDDEN', jobwireCode: 'FORBIDDEN_PAYLOAD' });
    await admin.jobs.schedules.delete.mutate({ scheduleId });
  });
});
