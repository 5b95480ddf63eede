/**
 * The mounted `/trpc` endpoint (`createTrpcMiddleware` + the real app router) for everything
 * that is refused before the jobs domain runs: limits, authentication, access and input.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TRPCClientError } from '@trpc/client';
import express from 'express';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobsClient, type JobsClientError } from '../../client/createJobsClient.ts';
import { createTokenVerifier, signToken, type Caller } from '../../server/auth/token.ts';
import { MAX_BATCH_SIZE } from '../../shared/jobApi.ts';
import { createTrpcMiddleware, MAX_BODY_BYTES } from '../../server/trpc/trpcMiddleware.ts';
import { NO_DEPS, TEST_SECRET } from './testRouter.ts';

let server: Server;
let url: string;
beforeAll(async () => {
  const app = express();
  app.use('/trpc', createTrpcMiddleware({ deps: NO_DEPS, verifyToken: createTokenVerifier({ secret: TEST_SECRET }), log: pino({ level: 'silent' }) }));
  server = createServer(app).listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/trpc`; // a TCP listener has an AddressInfo
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const member: Caller = { userId: '5', organizationId: 3, role: 'member' };
const clientAs = async (caller: Caller) => createJobsClient({ url, token: await signToken(caller, TEST_SECRET) });
const errorOf = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail('expected the call to fail'),
    (error: unknown) => {
      expect(error).toBeInstanceOf(TRPCClientError);
      return (error as JobsClientError).data;
    },
  );
const email = { to: 'ada@example.com', template: 'welcome', data: { recipientName: 'Ada' } } as const;
const jobId = '00000000-0000-4000-8000-000000000000';

describe('limits', () => {
  it(`refuses bodies over ${MAX_BODY_BYTES} bytes with 413`, async () => {
    // Input is read lazily, after authentication: anonymous oversize bodies are 401 unread.
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${await signToken(member, TEST_SECRET)}` };
    const body = JSON.stringify({ json: { type: 'export-data', payload: { entityType: 'x'.repeat(MAX_BODY_BYTES), format: 'csv' } } });
    const res = await fetch(`${url}/jobs.enqueue`, { method: 'POST', headers, body });
    expect(res.status).toBe(413);
  });

  it(`refuses batches of more than ${MAX_BATCH_SIZE} calls`, async () => {
    const calls = MAX_BATCH_SIZE + 1;
    const paths = Array.from({ length: calls }, () => 'jobs.get').join(',');
    const input = Object.fromEntries(Array.from({ length: calls }, (_, i) => [i, { json: { jobId } }]));
    const res = await fetch(`${url}/${paths}?batch=1&input=${encodeURIComponent(JSON.stringify(input))}`);
    expect(res.status).toBe(400);
  });
});

describe('jobs router before the domain', () => {
  it('is UNAUTHORIZED without a token, on every procedure', async () => {
    const anonymous = createJobsClient({ url, token: '' });
    const calls = [
      anonymous.jobs.enqueue.mutate({ type: 'export-data', payload: { entityType: 'users', format: 'csv' } }),
      anonymous.jobs.get.query({ jobId }),
      anonymous.jobs.list.query({}),
      anonymous.jobs.retry.mutate({ jobId }),
      anonymous.jobs.cancel.mutate({ jobId }),
      anonymous.jobs.schedule.mutate({ type: 'export-data', cron: '0 * * * *', payload: { entityType: 'users', format: 'csv' } }),
      anonymous.jobs.schedules.list.query(),
      anonymous.jobs.schedules.pause.mutate({ scheduleId: 'nightly' }),
      anonymous.jobs.schedules.resume.mutate({ scheduleId: 'nightly' }),
      anonymous.jobs.schedules.delete.mutate({ scheduleId: 'nightly' }),
    ];
    const errors = await Promise.all(calls.map(errorOf));
    expect(errors.map((e) => e?.code)).toEqual(calls.map(() => 'UNAUTHORIZED'));
  });

  it('refuses members the admin-only job types: FORBIDDEN / FORBIDDEN_JOB_TYPE', async () => {
    const client = await clientAs(member);
    expect(await errorOf(client.jobs.enqueue.mutate({ type: 'send-email', payload: email }))).toMatchObject({ code: 'FORBIDDEN', jobwireCode: 'FORBIDDEN_JOB_TYPE' });
    expect(await errorOf(client.jobs.enqueue.mutate({ type: 'cleanup-old-data', payload: { retention: 30 } }))).toMatchObject({ jobwireCode: 'FORBIDDEN_JOB_TYPE' });
    expect(await errorOf(client.jobs.schedule.mutate({ type: 'send-email', cron: '0 9 * * 1', payload: email }))).toMatchObject({ code: 'FORBIDDEN', jobwireCode: 'FORBIDDEN_JOB_TYPE' });
  });

  it.each(['callback', 'failureCallback', 'headers'] as const)('refuses members the %s option: FORBIDDEN / FORBIDDEN_OPTION', async (option) => {
    const client = await clientAs(member);
    const value = option === 'headers' ? { 'X-Trace': '1' } : 'https://example.com/hook';
    const error = await errorOf(client.jobs.enqueue.mutate({ type: 'export-data', payload: { entityType: 'users', format: 'csv' }, options: { [option]: value } }));
    expect(error).toMatchObject({ code: 'FORBIDDEN', jobwireCode: 'FORBIDDEN_OPTION' });
  });

  it('refuses bad input with BAD_REQUEST and the Zod issues', async () => {
    const client = await clientAs({ ...member, role: 'admin' });
    // @ts-expect-error deliberately wrong: `to` is not an email and `data.resetUrl` is missing
    const error = await errorOf(client.jobs.enqueue.mutate({ type: 'send-email', payload: { to: 'nope', template: 'passwordReset', data: { recipientName: 'Ada' } } }));
    expect(error).toMatchObject({ code: 'BAD_REQUEST', jobwireCode: 'VALIDATION_ERROR' });
    expect(error?.zodError?.fieldErrors.payload?.length).toBe(2);
    expect((await errorOf(client.jobs.get.query({ jobId: 'not-a-uuid' })))?.zodError?.fieldErrors).toHaveProperty('jobId');
    expect((await errorOf(client.jobs.list.query({ limit: 101 })))?.zodError?.fieldErrors).toHaveProperty('limit');
    expect((await errorOf(client.jobs.schedules.pause.mutate({ scheduleId: '../etc' })))?.code).toBe('BAD_REQUEST');
  });
});
