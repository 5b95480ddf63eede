import { asc, eq } from 'drizzle-orm';
import { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForJob } from '../../client/waitForJob.ts';
import { jobEvents, jobExecutions } from '../../server/db/schema.ts';
import { NonRetryableJobError } from '../../server/jobs/errors.ts';
import type { JobHandler } from '../../server/jobs/handlers.ts';
import { startTestServer, trpcCode, waitFor, type TestServer } from '../support/testServer.ts';

/** Fails while the recipient's local part asks for it: `fail2@…` fails its first two attempts. */
const attempts = new Map<string, number>();
const flakyEmail: JobHandler<'send-email'> = async (payload, ctx) => {
  const seen = (attempts.get(ctx.jobId) ?? 0) + 1;
  attempts.set(ctx.jobId, seen);
  if (payload.to.startsWith('permanent')) throw new NonRetryableJobError('mailbox does not exist');
  const failures = Number(/^fail(\d+)@/.exec(payload.to)?.[1] ?? 0);
  if (seen <= failures) throw new Error(`SMTP unavailable (attempt ${seen})`);
  return { delivered: payload.to, attempt: ctx.attempt };
};

let t: TestServer;
let flaky: TestServer;
beforeAll(async () => {
  [t, flaky] = await Promise.all([startTestServer(), startTestServer({ handlers: { 'send-email': flakyEmail } })]);
});
afterAll(async () => {
  await Promise.all([t?.stop(), flaky?.stop()]);
});

const welcome = (to: string) => ({ type: 'send-email' as const, payload: { to, template: 'welcome' as const, data: { recipientName: 'Ada' } } });

async function statuses(server: TestServer, jobId: string) {
  const rows = await server.server.database.db.select().from(jobEvents).where(eq(jobEvents.jobId, jobId)).orderBy(asc(jobEvents.id));
  return rows.map((r) => r.status);
}

describe('the verify-setup flow', () => {
  it('enqueues a welcome email that goes pending → processing → completed and lands in the mailbox', async () => {
    const client = await t.client();
    const { jobId, deduplicated } = await client.jobs.enqueue.mutate(welcome('ada@example.com'));
    expect(deduplicated).toBe(false);
    const job = await waitForJob(client, jobId, { timeout: 15_000 });
    expect(job).toMatchObject({ status: 'completed', type: 'send-email', retryCount: 0, maxRetries: 3, organizationId: 1, userId: '1', progress: 1 });
    expect(job.startedAt).toBeInstanceOf(Date);
    expect(job.completedAt!.getTime()).toBeGreaterThanOrEqual(job.startedAt!.getTime());
    expect(await statuses(t, jobId)).toEqual(['pending', 'processing', 'completed']);
    const mail = await t.server.mailbox!.find((m) => m.to === 'ada@example.com');
    expect(mail?.subject).toMatch(/welcome/i);
    expect(mail?.html).toContain('Ada');
  });
});

describe('bad input', () => {
  it('refuses an invalid payload with BAD_REQUEST and the Zod issues, and writes no row', async () => {
    const client = await t.client();
    const before = await t.server.database.db.$count(jobExecutions);
    const error = await client.jobs.enqueue
      // @ts-expect-error deliberately wrong: `data.resetUrl` is missing
      .mutate({ type: 'send-email', payload: { to: 'not-an-email', template: 'passwordReset', data: {} } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TRPCClientError);
    expect(trpcCode(error)).toBe('BAD_REQUEST');
    expect(JSON.stringify((error as TRPCClientError<never>).shape)).toMatch(/to|resetUrl/);
    expect(await t.server.database.db.$count(jobExecutions)).toBe(before);
  });

  it('refuses an unknown job type with BAD_REQUEST', async () => {
    const client = await t.client();
    // @ts-expect-error deliberately unknown type
    const error = await client.jobs.enqueue.mutate({ type: 'launch-rocket', payload: {} }).catch((e: unknown) => e);
    expect(trpcCode(error)).toBe('BAD_REQUEST');
  });

  // Every catalogue type is now available, so the JOB_TYPE_NOT_AVAILABLE refusal (validateJob)
  // has no subject left to test end to end.
});

describe('retries', () => {
  it('retries a failing handler: retrying with nextAttemptAt, then completed on the third attempt', async () => {
    const client = await flaky.client();
    const { jobId } = await client.jobs.enqueue.mutate(welcome('fail2@example.com'));
    const job = await waitForJob(client, jobId, { timeout: 20_000 });
    expect(job).toMatchObject({ status: 'completed', retryCount: 2, error: null, result: { attempt: 3 } });
    expect(await statuses(flaky, jobId)).toEqual(['pending', 'processing', 'retrying', 'processing', 'retrying', 'processing', 'completed']);
    const retryEvents = await flaky.server.database.db.select().from(jobEvents).where(eq(jobEvents.jobId, jobId));
    for (const e of retryEvents.filter((r) => r.status === 'retrying')) expect(e.nextAttemptAt).toBeInstanceOf(Date);
    expect(attempts.get(jobId)).toBe(3);
  });

  it('fails after exhausting its retries, keeps the error, and jobs.retry runs it again', async () => {
    const client = await flaky.client();
    const { jobId } = await client.jobs.enqueue.mutate({ ...welcome('fail9@example.com'), options: { retries: 1 } });
    const failed = await waitForJob(client, jobId, { timeout: 20_000 });
    expect(failed).toMatchObject({ status: 'failed', retryCount: 1, maxRetries: 1, error: { name: 'Error', message: 'SMTP unavailable (attempt 2)' } });
    expect(attempts.get(jobId)).toBe(2);

    await client.jobs.retry.mutate({ jobId });
    const again = await waitForJob(client, jobId, { timeout: 20_000, until: (j) => j.status === 'failed' && (attempts.get(jobId) ?? 0) >= 4 });
    expect(again.status).toBe('failed');
    expect(attempts.get(jobId)).toBe(4);
  });

  it('fails at once on a permanent error, without retrying', async () => {
    const client = await flaky.client();
    const { jobId } = await client.jobs.enqueue.mutate(welcome('permanent@example.com'));
    const job = await waitForJob(client, jobId, { timeout: 15_000 });
    expect(job).toMatchObject({ status: 'failed', retryCount: 0, error: { name: 'NonRetryableJobError', message: 'mailbox does not exist' } });
    expect(attempts.get(jobId)).toBe(1);
  });

  it('refuses to retry a job that has not failed', async () => {
    const client = await t.client();
    const { jobId } = await client.jobs.enqueue.mutate(welcome('done@example.com'));
    await waitForJob(client, jobId);
    const error = await client.jobs.retry.mutate({ jobId }).catch((e: unknown) => e);
    expect(trpcCode(error)).toBe('CONFLICT');
  });
});

describe('cancel', () => {
  it('cancels a delayed job, which then never runs', async () => {
    const client = await t.client();
    const { jobId } = await client.jobs.enqueue.mutate({ ...welcome('later@example.com'), options: { delay: 1_500 } });
    await client.jobs.cancel.mutate({ jobId });
    expect((await client.jobs.get.query({ jobId })).status).toBe('cancelled');
    await new Promise((r) => setTimeout(r, 2_500));
    expect((await client.jobs.get.query({ jobId })).status).toBe('cancelled');
    expect(await t.server.mailbox!.find((m) => m.to === 'later@example.com')).toBeUndefined();
    const error = await client.jobs.cancel.mutate({ jobId }).catch((e: unknown) => e);
    expect(trpcCode(error)).toBe('CONFLICT');
  });

  it('runs a cancelled job again on jobs.retry', async () => {
    const client = await t.client();
    const { jobId } = await client.jobs.enqueue.mutate({ ...welcome('second-chance@example.com'), options: { delay: 60_000 } });
    await client.jobs.cancel.mutate({ jobId });
    await client.jobs.retry.mutate({ jobId });
    expect((await waitForJob(client, jobId)).status).toBe('completed');
  });
});

describe('idempotent enqueue', () => {
  it('returns the same job for the same key in one organization, a new one in another', async () => {
    const a = await t.client({ organizationId: 1 });
    const b = await t.client({ organizationId: 2 });
    const input = { ...welcome('once@example.com'), idempotencyKey: 'signup-42' };
    const [first, ...rest] = await Promise.all(Array.from({ length: 5 }, () => a.jobs.enqueue.mutate(input)));
    expect(new Set([first!.jobId, ...rest.map((r) => r.jobId)]).size).toBe(1);
    expect([first, ...rest].filter((r) => !r!.deduplicated)).toHaveLength(1);
    const other = await b.jobs.enqueue.mutate(input);
    expect(other.jobId).not.toBe(first!.jobId);
    await waitForJob(a, first!.jobId);
    await waitFor(async () => (await t.server.mailbox!.list()).filter((m) => m.to === 'once@example.com').length === 2);
  });
});

describe('list', () => {
  it('pages newest first with a keyset cursor and filters by status and type', async () => {
    const client = await t.client({ organizationId: 77 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await client.jobs.enqueue.mutate({ ...welcome(`list${i}@example.com`), options: { delay: 60_000 } })).jobId);
    const page1 = await client.jobs.list.query({ limit: 2 });
    const page2 = await client.jobs.list.query({ limit: 2, cursor: page1.nextCursor });
    const page3 = await client.jobs.list.query({ limit: 2, cursor: page2.nextCursor });
    expect([...page1.items, ...page2.items, ...page3.items].map((j) => j.jobId)).toEqual([...ids].reverse());
    expect(page3.nextCursor).toBeNull();
    expect((await client.jobs.list.query({ status: 'completed' })).items).toHaveLength(0);
    expect((await client.jobs.list.query({ type: 'send-email', status: 'pending' })).items).toHaveLength(5);
    const bad = await client.jobs.list.query({ cursor: 'garbage' }).catch((e: unknown) => e);
    expect(trpcCode(bad)).toBe('BAD_REQUEST');
    const tooMany = await client.jobs.list.query({ limit: 1000 }).catch((e: unknown) => e);
    expect(trpcCode(tooMany)).toBe('BAD_REQUEST');
  });
});
