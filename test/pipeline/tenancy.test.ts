import { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobsClient } from '../../client/createJobsClient.ts';
import { startTestServer, trpcCode, type TestServer } from '../support/testServer.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => t?.stop());

const codeOf = async (promise: Promise<unknown>) => {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(TRPCClientError);
  return trpcCode(error);
};

const delayedEmail = { type: 'send-email' as const, payload: { to: 'x@example.com', template: 'welcome' as const, data: { recipientName: 'X' } }, options: { delay: 60_000 } };

describe('tenant isolation', () => {
  it("makes another organization's job NOT_FOUND for get, cancel and retry, and absent from list", async () => {
    const owner = await t.client({ organizationId: 10, role: 'admin' });
    const stranger = await t.client({ organizationId: 11, role: 'admin' });
    const { jobId } = await owner.jobs.enqueue.mutate(delayedEmail);
    expect(await codeOf(stranger.jobs.get.query({ jobId }))).toBe('NOT_FOUND');
    expect(await codeOf(stranger.jobs.cancel.mutate({ jobId }))).toBe('NOT_FOUND');
    expect(await codeOf(stranger.jobs.retry.mutate({ jobId }))).toBe('NOT_FOUND');
    expect((await stranger.jobs.list.query({})).items.map((j) => j.jobId)).not.toContain(jobId);
    expect((await owner.jobs.get.query({ jobId })).status).toBe('pending');
  });

  it("makes another organization's schedule NOT_FOUND", async () => {
    const owner = await t.client({ organizationId: 12, role: 'admin' });
    const stranger = await t.client({ organizationId: 13, role: 'admin' });
    const { scheduleId } = await owner.jobs.schedule.mutate({ type: 'send-email', cron: '0 9 * * 1', payload: delayedEmail.payload });
    expect(await codeOf(stranger.jobs.schedules.pause.mutate({ scheduleId }))).toBe('NOT_FOUND');
    expect(await codeOf(stranger.jobs.schedules.delete.mutate({ scheduleId }))).toBe('NOT_FOUND');
    expect((await stranger.jobs.schedules.list.query()).map((s) => s.scheduleId)).not.toContain(scheduleId);
    expect((await owner.jobs.schedules.list.query()).map((s) => s.scheduleId)).toContain(scheduleId);
  });

  it('takes organization and user from the token, whatever the input says', async () => {
    const client = await t.client({ organizationId: 14, userId: '99' });
    // Extra keys are not part of the input schema; they must not reach the row.
    const { jobId } = await client.jobs.enqueue.mutate({ ...delayedEmail, organizationId: 1, metadata: { organizationId: 1 } } as typeof delayedEmail);
    expect(await client.jobs.get.query({ jobId })).toMatchObject({ organizationId: 14, userId: '99' });
  });
});

describe('access', () => {
  it('refuses a member the admin-only job types and options', async () => {
    const member = await t.client({ role: 'member' });
    expect(await codeOf(member.jobs.enqueue.mutate(delayedEmail))).toBe('FORBIDDEN');
  });

  it('refuses callers without a valid token', async () => {
    const anonymous = createJobsClient({ url: `${t.server.url}/trpc`, token: '' });
    expect(await codeOf(anonymous.jobs.list.query({}))).toBe('UNAUTHORIZED');
    const forged = createJobsClient({ url: `${t.server.url}/trpc`, token: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIiwib3JnIjoxLCJyb2xlIjoiYWRtaW4ifQ.' });
    expect(await codeOf(forged.jobs.list.query({}))).toBe('UNAUTHORIZED');
  });
});
