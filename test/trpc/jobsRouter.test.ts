/**
 * `jobs.*` through `createCaller` on the real domain, database and broker (the lead's test
 * server). test/pipeline drives the same procedures over HTTP with the typed client.
 */
import { TRPCError } from '@trpc/server';
import { eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../server/auth/token.ts';
import { jobExecutions } from '../../server/db/schema.ts';
import { createInnerContext } from '../../server/trpc/context.ts';
import { createCaller } from '../../server/trpc/root.ts';
import { jobwireCodeOf } from '../../server/trpc/errors.ts';
import { startTestServer, type TestServer } from '../support/testServer.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => t?.stop());

const log = pino({ level: 'silent' });
const as = (caller: Caller, requestId?: string) => createCaller(createInnerContext({ deps: t.server.jobs, log, caller, ...(requestId ? { requestId } : {}) }));
const admin: Caller = { userId: '1', organizationId: 40, role: 'admin' };
const member: Caller = { userId: '2', organizationId: 40, role: 'member' };
const outsider: Caller = { userId: '3', organizationId: 41, role: 'admin' };

const email = { to: 'ada@example.com', template: 'welcome', data: { recipientName: 'Ada' } } as const;
const delayed = { type: 'send-email', payload: email, options: { delay: 3_600_000 } } as const;
const delayedExport = { type: 'export-data', payload: { entityType: 'jobs', format: 'csv' }, options: { delay: 3_600_000 } } as const;

/** The tRPC code and shared code a call fails with. */
async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(() => expect.fail('expected the call to fail'), (e: unknown) => e);
  expect(error).toBeInstanceOf(TRPCError);
  return { code: (error as TRPCError).code, jobwireCode: jobwireCodeOf(error as TRPCError) };
}

describe('jobs.enqueue', () => {
  it('records the job under the verified caller, with the request id as correlation id', async () => {
    const { jobId, deduplicated } = await as(admin, 'req-123').jobs.enqueue(delayed);
    expect(deduplicated).toBe(false);
    expect(await as(admin).jobs.get({ jobId })).toMatchObject({ jobId, status: 'pending', userId: '1', organizationId: 40 });
    const [row] = await t.server.database.db.select().from(jobExecutions).where(eq(jobExecutions.id, jobId));
    expect(row?.metadata).toEqual({ userId: '1', organizationId: 40, correlationId: 'req-123', createdAt: expect.any(String) });
    // The seed's metadata.createdAt: the time of enqueue.
    expect(Math.abs(Date.parse((row?.metadata as { createdAt: string }).createdAt) - row!.createdAt.getTime())).toBeLessThan(5_000);
  });

  it('lets a member enqueue member types, which the domain then judges (an unknown export entity type)', async () => {
    expect(await refusal(as(member).jobs.enqueue({ type: 'export-data', payload: { entityType: 'customers', format: 'csv' } }))).toEqual({
      code: 'BAD_REQUEST',
      jobwireCode: 'VALIDATION_ERROR',
    });
  });

  it('refuses a member admin types and admin options', async () => {
    expect(await refusal(as(member).jobs.enqueue(delayed))).toEqual({ code: 'FORBIDDEN', jobwireCode: 'FORBIDDEN_JOB_TYPE' });
    const withCallback = { type: 'export-data', payload: { entityType: 'jobs', format: 'csv' }, options: { callback: 'https://example.com/cb' } } as const;
    expect(await refusal(as(member).jobs.enqueue(withCallback))).toEqual({ code: 'FORBIDDEN', jobwireCode: 'FORBIDDEN_OPTION' });
  });
});

describe('jobs.get / list / retry / cancel', () => {
  it('lets members of the organization see and cancel its jobs; other organizations get NOT_FOUND', async () => {
    const { jobId } = await as(admin).jobs.enqueue(delayedExport);
    expect((await as(member).jobs.get({ jobId })).jobId).toBe(jobId);
    expect((await as(member).jobs.list({ userId: '1' })).items.map((j) => j.jobId)).toContain(jobId);
    expect(await refusal(as(outsider).jobs.get({ jobId }))).toEqual({ code: 'NOT_FOUND', jobwireCode: 'JOB_NOT_FOUND' });
    expect(await refusal(as(outsider).jobs.cancel({ jobId }))).toEqual({ code: 'NOT_FOUND', jobwireCode: 'JOB_NOT_FOUND' });
    expect(await as(member).jobs.cancel({ jobId })).toEqual({ jobId });
    expect((await as(admin).jobs.get({ jobId })).status).toBe('cancelled');
  });

  it('lets members see, but not cancel or retry, jobs of admin-only types (the enqueue rule)', async () => {
    const { jobId } = await as(admin).jobs.enqueue(delayed);
    expect((await as(member).jobs.get({ jobId })).jobId).toBe(jobId);
    expect(await refusal(as(member).jobs.cancel({ jobId }))).toEqual({ code: 'FORBIDDEN', jobwireCode: 'FORBIDDEN_JOB_TYPE' });
    expect((await as(admin).jobs.get({ jobId })).status).toBe('pending');
    await as(admin).jobs.cancel({ jobId });
    expect(await refusal(as(member).jobs.retry({ jobId }))).toEqual({ code: 'FORBIDDEN', jobwireCode: 'FORBIDDEN_JOB_TYPE' });
    expect((await as(admin).jobs.get({ jobId })).status).toBe('cancelled');
  });

  it('answers CONFLICT to transitions the status does not allow', async () => {
    const { jobId } = await as(admin).jobs.enqueue(delayed);
    expect(await refusal(as(admin).jobs.retry({ jobId }))).toEqual({ code: 'CONFLICT', jobwireCode: 'INVALID_TRANSITION' });
    await as(admin).jobs.cancel({ jobId });
    expect(await refusal(as(admin).jobs.cancel({ jobId }))).toEqual({ code: 'CONFLICT', jobwireCode: 'INVALID_TRANSITION' });
  });
});

describe('jobs.schedule and jobs.schedules', () => {
  it('follows the enqueue access rule for creating and for acting on schedules', async () => {
    const weekly = { type: 'send-email', cron: '0 9 * * 1', payload: email } as const;
    expect(await refusal(as(member).jobs.schedule(weekly))).toEqual({ code: 'FORBIDDEN', jobwireCode: 'FORBIDDEN_JOB_TYPE' });
    const { scheduleId } = await as(admin).jobs.schedule({ ...weekly, timezone: 'Europe/Paris' });

    expect((await as(member).jobs.schedules.list()).map((s) => s.scheduleId)).toContain(scheduleId);
    for (const act of [as(member).jobs.schedules.pause, as(member).jobs.schedules.resume, as(member).jobs.schedules.delete]) {
      expect(await refusal(act({ scheduleId }))).toEqual({ code: 'FORBIDDEN', jobwireCode: 'FORBIDDEN_JOB_TYPE' });
    }
    expect(await refusal(as(member).jobs.schedules.pause({ scheduleId: 'no-such-schedule' }))).toEqual({ code: 'NOT_FOUND', jobwireCode: 'SCHEDULE_NOT_FOUND' });
    expect(await refusal(as(outsider).jobs.schedules.pause({ scheduleId }))).toEqual({ code: 'NOT_FOUND', jobwireCode: 'SCHEDULE_NOT_FOUND' });

    await as(admin).jobs.schedules.pause({ scheduleId });
    expect((await as(admin).jobs.schedules.list()).find((s) => s.scheduleId === scheduleId)?.paused).toBe(true);
    await as(admin).jobs.schedules.resume({ scheduleId });
    expect(await as(admin).jobs.schedules.delete({ scheduleId })).toEqual({ scheduleId });
    expect((await as(admin).jobs.schedules.list()).map((s) => s.scheduleId)).not.toContain(scheduleId);
  });

  it('refuses an unknown time zone with BAD_REQUEST', async () => {
    const bad = as(admin).jobs.schedule({ type: 'send-email', cron: '0 9 * * 1', payload: email, timezone: 'Mars/Olympus' });
    expect(await refusal(bad)).toEqual({ code: 'BAD_REQUEST', jobwireCode: 'VALIDATION_ERROR' });
  });
});
