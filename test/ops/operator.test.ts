/** The operator role (issue 11 §1): every organization's jobs and those of none, and the audit log of what operators did. */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobsClient, type JobsClient } from '../../client/createJobsClient.ts';
import { queryRows } from '../../server/db/database.ts';
import { startTestServer, trpcCode, type TestServer } from '../support/testServer.ts';
import { insertJobs, operatorToken } from './support/insertJobs.ts';

let t: TestServer;
let operator: JobsClient;
let admin701: JobsClient;
let member701: JobsClient;
let admin702: JobsClient;
const jobs = { org701: [] as string[], org702: [] as string[], none: [] as string[], pending702: [] as string[] };

beforeAll(async () => {
  t = await startTestServer();
  const db = t.server.database.db;
  jobs.org701 = await insertJobs(db, { count: 3, organizationId: 701, error: { name: 'Error', message: 'smtp down' } });
  jobs.org702 = await insertJobs(db, { count: 2, organizationId: 702, status: 'completed' });
  jobs.pending702 = await insertJobs(db, { count: 1, organizationId: 702, status: 'pending', runInMs: 3_600_000 });
  // A Stripe event's job belongs to no organization: until now nobody could see it through the API.
  jobs.none = await insertJobs(db, { count: 2, organizationId: null, type: 'process-stripe-webhook', error: { name: 'StripeError', message: 'no such customer' }, payload: { bad: true } });
  operator = createJobsClient({ url: `${t.server.url}/trpc`, token: await operatorToken() });
  admin701 = await t.client({ organizationId: 701, role: 'admin' });
  member701 = await t.client({ organizationId: 701, role: 'member', userId: '2' });
  admin702 = await t.client({ organizationId: 702, role: 'admin' });
});
afterAll(async () => t?.stop());

const ids = (page: { items: { jobId: string }[] }) => page.items.map((j) => j.jobId).sort();
const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', trpcCode);

describe('reading', () => {
  it('gives an operator every organization and the jobs of none, narrowed by organizationId', async () => {
    expect(ids(await operator.jobs.list.query({ limit: 100 }))).toEqual([...jobs.org701, ...jobs.org702, ...jobs.pending702, ...jobs.none].sort());
    expect(ids(await operator.jobs.list.query({ organizationId: 701 }))).toEqual([...jobs.org701].sort());
    expect(ids(await operator.jobs.list.query({ organizationId: null }))).toEqual([...jobs.none].sort());
    expect(ids(await operator.jobs.list.query({ organizationId: null, errorText: 'CUSTOMER' }))).toEqual([...jobs.none].sort());
    expect(ids(await operator.jobs.list.query({ errorText: 'smtp' }))).toEqual([...jobs.org701].sort());
    const noOrg = jobs.none[0]!;
    expect((await operator.jobs.get.query({ jobId: noOrg })).organizationId).toBeNull();
    expect(await operator.jobs.events.query({ jobId: noOrg })).toEqual([]);
  });

  it("leaves tenants' views as they were: their organization only, other organizations NOT_FOUND", async () => {
    for (const tenant of [admin701, member701]) {
      expect(ids(await tenant.jobs.list.query({}))).toEqual([...jobs.org701].sort());
      expect(ids(await tenant.jobs.list.query({ organizationId: 701 }))).toEqual([...jobs.org701].sort());
      expect(await codeOf(tenant.jobs.list.query({ organizationId: 702 }))).toBe('FORBIDDEN');
      expect(await codeOf(tenant.jobs.list.query({ organizationId: null }))).toBe('FORBIDDEN');
      expect(await codeOf(tenant.jobs.get.query({ jobId: jobs.none[0]! }))).toBe('NOT_FOUND');
      expect(await codeOf(tenant.jobs.events.query({ jobId: jobs.org702[0]! }))).toBe('NOT_FOUND');
    }
    expect(ids(await admin702.jobs.list.query({ errorText: 'smtp' }))).toEqual([]);
    expect(await codeOf(admin702.jobs.get.query({ jobId: jobs.org701[0]! }))).toBe('NOT_FOUND');
  });

  it('keeps the audit log for operators', async () => {
    expect(await codeOf(admin701.ops.auditLog.query({}))).toBe('FORBIDDEN');
    expect(await codeOf(member701.ops.auditLog.query({}))).toBe('FORBIDDEN');
  });
});

describe('acting, and the audit log', () => {
  it("lets an operator retry a job of no organization (a server-only type) and cancel another organization's job", async () => {
    const noOrg = jobs.none[0]!;
    expect(await operator.jobs.retry.mutate({ jobId: noOrg })).toEqual({ jobId: noOrg });
    expect(await operator.jobs.cancel.mutate({ jobId: jobs.pending702[0]! })).toEqual({ jobId: jobs.pending702[0]! });
    expect((await admin702.jobs.get.query({ jobId: jobs.pending702[0]! })).status).toBe('cancelled');
    // Tenants cannot act on what they cannot see.
    expect(await codeOf(admin701.jobs.retry.mutate({ jobId: jobs.none[1]! }))).toBe('NOT_FOUND');
    expect(await codeOf(admin702.jobs.retry.mutate({ jobId: jobs.org701[0]! }))).toBe('NOT_FOUND');
    // A refused operator action is recorded too.
    expect(await codeOf(operator.jobs.retry.mutate({ jobId: jobs.org702[0]! }))).toBe('CONFLICT');

    const log = await operator.ops.auditLog.query({});
    expect(log.items.map((e) => [e.action, e.jobIds, e.outcome, e.userId, e.organizationId])).toEqual([
      ['jobs.retry', [jobs.org702[0]], 'INVALID_TRANSITION', '900', 999],
      ['jobs.cancel', [jobs.pending702[0]], 'ok', '900', 999],
      ['jobs.retry', [noOrg], 'ok', '900', 999],
    ]);
    expect(log.items[0]!.at).toBeInstanceOf(Date);
    expect((await operator.ops.auditLog.query({ jobId: noOrg })).items.map((e) => e.action)).toEqual(['jobs.retry']);
    const paged = await operator.ops.auditLog.query({ limit: 2 });
    expect(paged.items).toHaveLength(2);
    expect((await operator.ops.auditLog.query({ limit: 2, cursor: paged.nextCursor })).items).toHaveLength(1);
    // Tenants' own actions are not an operator's: nothing written for them.
    await admin701.jobs.retry.mutate({ jobId: jobs.org701[2]! });
    expect((await operator.ops.auditLog.query({})).items).toHaveLength(3);
  });

  it("lists and pauses another organization's schedule, and sees the system ones", async () => {
    const { scheduleId } = await admin702.jobs.schedule.mutate({ type: 'cleanup-old-data', cron: '0 3 * * *', payload: { retention: 30 } });
    expect((await admin701.jobs.schedules.list.query()).map((s) => s.scheduleId)).not.toContain(scheduleId);
    expect((await operator.jobs.schedules.list.query()).map((s) => s.scheduleId)).toContain(scheduleId);
    await operator.jobs.schedules.pause.mutate({ scheduleId });
    expect((await admin702.jobs.schedules.list.query()).find((s) => s.scheduleId === scheduleId)?.paused).toBe(true);
    expect(await codeOf(admin701.jobs.schedules.resume.mutate({ scheduleId }))).toBe('NOT_FOUND');
    expect((await operator.ops.auditLog.query({ action: 'jobs.schedules.pause' })).items.map((e) => e.input)).toEqual([{ scheduleId }]);
  });

  it("lists and replays every organization's webhook events, and those of none", async () => {
    const db = t.server.database.db;
    const [own, none] = await queryRows<{ id: string }>(
      db,
      sql`INSERT INTO webhook_events (id, source, event, delivery_id, organization_id, payload) VALUES
          (gen_random_uuid(), 'github', 'push', 'd-1', 701, '{}'), (gen_random_uuid(), 'github', 'push', 'd-2', NULL, '{}') RETURNING id`,
    );
    const listed = (events: { webhookEventId: string }[]) => events.map((e) => e.webhookEventId).sort();
    expect(listed(await operator.webhooks.list.query())).toEqual([own!.id, none!.id].sort());
    expect(listed(await operator.webhooks.list.query({ organizationId: null }))).toEqual([none!.id]);
    expect(listed(await admin701.webhooks.list.query())).toEqual([own!.id]);
    expect(listed(await admin702.webhooks.list.query())).toEqual([]);
    expect(await codeOf(member701.webhooks.list.query())).toBe('FORBIDDEN');
    expect(await codeOf(admin701.webhooks.list.query({ organizationId: null }))).toBe('FORBIDDEN');
    const replayed = await operator.webhooks.replay.mutate({ webhookEventId: none!.id });
    expect(replayed.replayedCount).toBe(1);
    expect((await operator.jobs.get.query({ jobId: replayed.jobId })).organizationId).toBeNull();
    expect(await codeOf(admin702.webhooks.replay.mutate({ webhookEventId: own!.id }))).toBe('NOT_FOUND');
    expect((await operator.ops.auditLog.query({ action: 'webhooks.replay' })).items[0]?.jobIds).toEqual([replayed.jobId]);
  });
});

describe('failure groups', () => {
  it('groups failed and retrying jobs by type and normalized error, with counts, first and last seen, and a sample', async () => {
    const db = t.server.database.db;
    const timeouts = await insertJobs(db, { count: 4, organizationId: 703, error: { name: 'JobTimeoutError', message: 'Job timed out after 3000{i} ms' }, agoMs: 120_000 });
    const missing = await insertJobs(db, { count: 3, organizationId: 703, status: 'retrying', nextAttemptInMs: 60_000, error: { name: 'Error', message: `User "u{i}" not found in org 4f0c2a1e-0000-4000-8000-00000000000{i}` }, agoMs: 60_000 });
    await insertJobs(db, { count: 1, organizationId: 703, type: 'export-data', error: { name: 'Error', message: "Entity 'users' is empty" }, payload: { entityType: 'users', format: 'csv' } });
    await insertJobs(db, { count: 2, organizationId: 704, error: { name: 'JobTimeoutError', message: 'Job timed out after 5 ms' } });
    const admin703 = await t.client({ organizationId: 703, role: 'admin' });
    const groups = await admin703.ops.failureGroups.query();
    expect(groups.map((g) => [g.type, g.errorName, g.errorMessage, g.count, g.failed, g.retrying])).toEqual([
      ['send-email', 'JobTimeoutError', 'Job timed out after <n> ms', 4, 4, 0],
      ['send-email', 'Error', 'User <value> not found in org <uuid>', 3, 0, 3],
      ['export-data', 'Error', 'Entity <value> is empty', 1, 1, 0],
    ]);
    const [first, second] = groups;
    expect(timeouts).toContain(first!.sampleJobId);
    expect(first!.sampleJobId).toBe(timeouts.at(-1)); // the most recent
    expect(missing).toContain(second!.sampleJobId);
    expect(first!.firstSeen.getTime()).toBeLessThan(first!.lastSeen.getTime());
    expect(await admin703.ops.failureGroups.query({ type: 'export-data' })).toHaveLength(1);
    // Operators see every organization's, and narrow by one; other tenants see none of 703's; members none at all.
    const all = await operator.ops.failureGroups.query({});
    expect(all.find((g) => g.errorMessage === 'Job timed out after <n> ms')?.count).toBe(6);
    expect((await operator.ops.failureGroups.query({ organizationId: 704 })).map((g) => g.count)).toEqual([2]);
    expect((await admin702.ops.failureGroups.query()).some((g) => g.errorName === 'JobTimeoutError')).toBe(false);
    expect(await codeOf(member701.ops.failureGroups.query())).toBe('FORBIDDEN');
    expect(await codeOf(admin702.ops.failureGroups.query({ organizationId: 703 }))).toBe('FORBIDDEN');
  });
});
