/**
 * Security round 2, access and limits: items 4 (retry / cancel follow the enqueue access rule),
 * 6 (capped live-status streams) and 7 (schedules spend the enqueue budget), driven from outside
 * with the typed client and raw HTTP, each failing before its fix.
 */
import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobsClient } from '../../client/createJobsClient.ts';
import { JOB_TYPE_LIST, jobTypeConfig } from '../../shared/catalogue.ts';
import { jobExecutions, jobSchedules } from '../../server/db/schema.ts';
import { loadEnv } from '../../server/env.ts';
import { SECURITY_EVENTS } from '../../server/security/securityEvent.ts';
import { trpcCode, waitFor } from '../support/testServer.ts';
import { callProcedure, startSecurityServer, type SecurityServer } from './support/securityServer.ts';
import { MEMBER_ENQUEUE, SAMPLE_PAYLOADS } from './support/surface.ts';

const HOUR = 3_600_000;
const email = { to: 'board@example.com', template: 'welcome', data: { recipientName: 'Board' } } as const;
const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => 'accepted',
    (e: unknown) => `${trpcCode(e)}/${(e as { data?: { jobwireCode?: string } }).data?.jobwireCode}`,
  );

describe('item 4: jobs.retry and jobs.cancel apply the enqueue access rule', () => {
  let t: SecurityServer;
  let admin: JobsClient, member: JobsClient, stranger: JobsClient;
  beforeAll(async () => {
    t = await startSecurityServer();
    [admin, member, stranger] = await Promise.all([
      t.client({ userId: '1', organizationId: 140, role: 'admin' }),
      t.client({ userId: '2', organizationId: 140, role: 'member' }),
      t.client({ userId: '3', organizationId: 141, role: 'admin' }),
    ]);
  });
  afterAll(async () => t?.stopAndScan());

  const status = async (jobId: string) => (await admin.jobs.get.query({ jobId })).status;

  it("a member can neither cancel nor re-run an admin's delayed email; another organization gets NOT_FOUND", async () => {
    const { jobId } = await admin.jobs.enqueue.mutate({ type: 'send-email', payload: email, options: { delay: HOUR } });
    expect(await refusal(member.jobs.cancel.mutate({ jobId }))).toBe('FORBIDDEN/FORBIDDEN_JOB_TYPE');
    expect(await refusal(member.jobs.retry.mutate({ jobId }))).toBe('FORBIDDEN/FORBIDDEN_JOB_TYPE');
    expect(await refusal(stranger.jobs.cancel.mutate({ jobId }))).toBe('NOT_FOUND/JOB_NOT_FOUND');
    expect(await status(jobId)).toBe('pending');

    await admin.jobs.cancel.mutate({ jobId });
    expect(await refusal(member.jobs.retry.mutate({ jobId }))).toBe('FORBIDDEN/FORBIDDEN_JOB_TYPE');
    expect(await refusal(stranger.jobs.retry.mutate({ jobId }))).toBe('NOT_FOUND/JOB_NOT_FOUND');
    expect(await status(jobId)).toBe('cancelled');
  });

  it('checks the payload too: an export of an admin-only entity', async () => {
    const { jobId } = await admin.jobs.enqueue.mutate({ type: 'export-data', payload: { entityType: 'users', format: 'csv' }, options: { delay: HOUR } });
    expect(await refusal(member.jobs.cancel.mutate({ jobId }))).toBe('FORBIDDEN/FORBIDDEN_PAYLOAD');
    await admin.jobs.cancel.mutate({ jobId });
    expect(await refusal(member.jobs.retry.mutate({ jobId }))).toBe('FORBIDDEN/FORBIDDEN_PAYLOAD');
    expect(await status(jobId)).toBe('cancelled');
  });

  it("still lets a member cancel and re-run the organization's member jobs", async () => {
    const { jobId } = await admin.jobs.enqueue.mutate(MEMBER_ENQUEUE);
    await member.jobs.cancel.mutate({ jobId });
    await member.jobs.retry.mutate({ jobId });
    expect(await status(jobId)).not.toBe('cancelled');
  });

  it.each(JOB_TYPE_LIST.filter((type) => jobTypeConfig(type).enqueueAccess === 'server'))('refuses even admins %s, a type only the server creates', async (type) => {
    const jobId = await t.server.dispatcher.enqueue(type, SAMPLE_PAYLOADS[type] as never, { userId: '1', organizationId: 140 }, { delay: HOUR });
    expect(await refusal(admin.jobs.cancel.mutate({ jobId }))).toBe('FORBIDDEN/FORBIDDEN_JOB_TYPE');
    expect(await status(jobId)).toBe('pending');
  });
});

describe('item 6: live-status streams are capped per user, organization and process', () => {
  type Stream = { ok: true; close: () => void } | { ok: false; code: string };
  const opened: Stream[] = [];
  const closeAll = () => opened.splice(0).forEach((s) => s.ok && s.close());
  const servers: SecurityServer[] = [];
  afterAll(async () => {
    closeAll();
    for (const server of servers) await server.stopAndScan();
  });

  /** A server with these caps, and helpers that drive it with the real client. */
  async function capped(subscriptionLimits: { perUser?: number | null; perOrganization?: number | null; global?: number | null }) {
    const t = await startSecurityServer({ security: { subscriptionLimits } });
    servers.push(t);
    const jobIn = async (organizationId: number) => (await (await t.client({ organizationId, role: 'admin' })).jobs.enqueue.mutate(MEMBER_ENQUEUE)).jobId;
    /** Accepted once the first event arrives: both streams replay the job's (organization's) state at once. */
    async function open(caller: { userId: string; organizationId: number }, jobId: string, kind: 'onStatus' | 'onEvents' = 'onStatus'): Promise<Stream> {
      const client = await t.client({ ...caller, role: 'member' });
      const stream = await new Promise<Stream>((resolve) => {
        const handlers = {
          onData: () => resolve({ ok: true, close: () => sub.unsubscribe() }),
          onError: (e: unknown) => resolve({ ok: false, code: `${trpcCode(e)}/${(e as { data?: { jobwireCode?: string } }).data?.jobwireCode}` }),
        };
        const sub = kind === 'onStatus' ? client.jobs.onStatus.subscribe({ jobId }, handlers) : client.jobs.onEvents.subscribe({ lastEventId: '0' }, handlers);
      });
      opened.push(stream);
      return stream;
    }
    return { t, jobIn, open };
  }
  const REFUSED = { ok: false, code: 'TOO_MANY_REQUESTS/TOO_MANY_SUBSCRIPTIONS' };

  it("refuses a user's stream over its cap, over the client and raw SSE alike; a closed stream frees its slot", async () => {
    const { t, jobIn, open } = await capped({ perUser: 2, perOrganization: 3 });
    const jobId = await jobIn(150);
    const ada = { userId: '10', organizationId: 150 };
    expect((await open(ada, jobId)).ok).toBe(true);
    const second = await open(ada, jobId, 'onEvents');
    expect(second.ok).toBe(true);
    for (let i = 0; i < 5; i++) expect(await open(ada, jobId)).toEqual(REFUSED);
    expect(await open(ada, jobId, 'onEvents')).toEqual(REFUSED);
    const raw = await callProcedure(`${t.server.url}/trpc`, { path: 'jobs.onStatus', type: 'subscription', input: { jobId }, token: await t.token({ ...ada, role: 'member' }) });
    expect(raw.error?.data).toMatchObject({ code: 'TOO_MANY_REQUESTS', jobwireCode: 'TOO_MANY_SUBSCRIPTIONS' });
    expect(t.logs.records(SECURITY_EVENTS.subscriptionLimited).filter((r) => r.userId === '10')).toHaveLength(1); // once per burst

    if (second.ok) second.close();
    // The refusals held nothing: exactly one slot is free again.
    await waitFor(async () => (await open(ada, jobId)).ok, { timeout: 5_000, interval: 100 });
    expect(await open(ada, jobId)).toEqual(REFUSED);
  });

  it('caps the organization across its users, leaving other organizations alone', async () => {
    const { jobIn, open } = await capped({ perUser: 2, perOrganization: 3 });
    const jobId = await jobIn(151);
    const users = ['20', '21', '22'].map((userId) => ({ userId, organizationId: 151 }));
    for (const caller of [users[0]!, users[0]!, users[1]!]) expect((await open(caller, jobId)).ok).toBe(true);
    expect(await open(users[2]!, jobId)).toEqual(REFUSED);
    expect((await open({ userId: '23', organizationId: 152 }, await jobIn(152))).ok).toBe(true);
  });

  it('caps the process, and frees a slot when the server ends a stream (the job reached a terminal status)', async () => {
    const { t, jobIn, open } = await capped({ perUser: null, perOrganization: null, global: 3 });
    const jobs = await Promise.all([161, 162, 163, 164].map(jobIn));
    for (const [i, jobId] of jobs.slice(0, 3).entries()) expect((await open({ userId: '31', organizationId: 161 + i }, jobId)).ok).toBe(true);
    expect(await open({ userId: '32', organizationId: 164 }, jobs[3]!)).toEqual(REFUSED);
    await (await t.client({ organizationId: 161, role: 'admin' })).jobs.cancel.mutate({ jobId: jobs[0]! });
    await waitFor(async () => (await open({ userId: '32', organizationId: 164 }, jobs[3]!)).ok, { timeout: 5_000, interval: 100 });
  });

  it('reads the caps from the environment', () => {
    expect(loadEnv({})).toMatchObject({ MAX_SUBSCRIPTIONS_PER_USER: 20, MAX_SUBSCRIPTIONS_PER_ORGANIZATION: 200, MAX_SUBSCRIPTIONS: 5000 });
    expect(loadEnv({ MAX_SUBSCRIPTIONS_PER_USER: '5', MAX_SUBSCRIPTIONS: 'off' })).toMatchObject({ MAX_SUBSCRIPTIONS_PER_USER: 5, MAX_SUBSCRIPTIONS: null });
    expect(() => loadEnv({ MAX_SUBSCRIPTIONS_PER_ORGANIZATION: '0' })).toThrow(/MAX_SUBSCRIPTIONS_PER_ORGANIZATION/);
  });
});

describe("item 7: schedules spend the enqueue budget, and members' crons are bounded", () => {
  let t: SecurityServer;
  beforeAll(async () => {
    // A window long enough that nothing refills during the test.
    t = await startSecurityServer({ security: { enqueueRateLimit: { tokens: 3, perMs: 600_000 } } });
  });
  afterAll(async () => t?.stopAndScan());

  let lastOrg = 300;
  const freshOrg = () => ++lastOrg; // each case its own budget
  const schedules = async (organizationId: number) => (await t.server.database.db.select({ n: count() }).from(jobSchedules).where(eq(jobSchedules.organizationId, organizationId)))[0]?.n;
  const schedule = async (organizationId: number, cron = '0 3 * * *', role: 'admin' | 'member' = 'admin') =>
    callProcedure(`${t.server.url}/trpc`, { path: 'jobs.schedule', type: 'mutation', input: { type: 'export-data', cron, payload: MEMBER_ENQUEUE.payload }, token: await t.token({ organizationId, role }) });

  // First, while this server has no other schedule to fire.
  it('charges each firing to the organization: over budget, the firing is recorded failed and never runs', async () => {
    const admin = await t.client({ organizationId: 200, role: 'admin' });
    const { scheduleId } = await admin.jobs.schedule.mutate({ type: 'send-email', cron: '*/5 * * * *', payload: email }); // 1 of 3
    for (let i = 1; i <= 4; i++) expect((await t.server.broker!.fireDueSchedules(Date.now() + i * 6 * 60_000)).map((f) => f.scheduleId)).toContain(scheduleId);
    const rows = () => t.server.database.db.select().from(jobExecutions).where(eq(jobExecutions.scheduleId, scheduleId));
    await waitFor(async () => (await rows()).filter((r) => r.status === 'completed' || r.status === 'failed').length === 4);
    const jobs = await rows();
    expect(jobs.filter((r) => r.status === 'completed')).toHaveLength(2);
    const failed = jobs.filter((r) => r.status === 'failed');
    expect(failed).toHaveLength(2);
    for (const row of failed) {
      expect(row.error).toMatchObject({ name: 'RateLimitedError', message: expect.stringMatching(/^Schedule firing skipped/) });
      expect(row.startedAt).toBeNull(); // never ran
    }
    expect((await t.server.mailbox!.list()).filter((m) => m.to === email.to)).toHaveLength(2);
    // The organization sees the missed firings; the operator gets one line each.
    expect((await admin.jobs.list.query({ status: 'failed' })).items.map((j) => j.jobId).sort()).toEqual(failed.map((r) => r.id).sort());
    expect(t.logs.records().filter((r) => r.msg === '[jobs] Schedule firing skipped: rate limited' && r.scheduleId === scheduleId)).toHaveLength(2);
  });

  it('rate-limits jobs.schedule like jobs.enqueue: 429, Retry-After, RATE_LIMITED, nothing recorded', async () => {
    const org = freshOrg();
    for (let i = 0; i < 3; i++) expect((await schedule(org)).status).toBe(200);
    const refused = await schedule(org);
    expect(refused.status).toBe(429);
    expect(refused.error?.data).toMatchObject({ code: 'TOO_MANY_REQUESTS', jobwireCode: 'RATE_LIMITED' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await schedules(org)).toBe(3);
  });

  it('shares one budget between enqueue and schedule', async () => {
    const org = freshOrg();
    const enqueue = async () => callProcedure(`${t.server.url}/trpc`, { path: 'jobs.enqueue', type: 'mutation', input: MEMBER_ENQUEUE, token: await t.token({ organizationId: org, role: 'member' }) });
    expect([(await enqueue()).status, (await enqueue()).status, (await schedule(org)).status, (await schedule(org)).status]).toEqual([200, 200, 200, 429]);
  });

  it.each(['* * * * *', '*/2 * * * *', '0,1 * * * *', '2,58 10,11 * * *', '*/3 9-17 * * 1-5'])('refuses a member the cron %s, which fires more often than every 5 minutes', async (cron) => {
    const org = freshOrg();
    const result = await schedule(org, cron, 'member');
    expect(result.status).toBe(400);
    expect(result.error?.message).toMatch(/at most once every 5 minutes/);
    expect(result.error?.data.zodError?.fieldErrors.cron?.[0]).toMatch(/fires every [1-4] minutes?/);
    expect(await schedules(org)).toBe(0);
  });

  it('lets members schedule every 5 minutes or less often, and admins every minute', async () => {
    for (const cron of ['*/5 * * * *', '0,30 * * * *', '58 10,12 * * *', '0 3 * * *']) expect((await schedule(freshOrg(), cron, 'member')).status, cron).toBe(200);
    expect((await schedule(freshOrg(), '* * * * *', 'admin')).status).toBe(200);
  });
});
