/**
 * The seed's dispatcher, registry, constants and error samples (core concepts, usage guide, API
 * reference, setup guide), run as the seed writes them: only `@/lib/...` imports became
 * `server/index.ts`. Each runs against a started server (the default one), on both databases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobExecutions } from '../../server/db/schema.ts';
import { publishBatcher } from '../../server/jobs/publishBatcher.ts';
import { createLogger } from '../../server/logger.ts';
import { eq } from 'drizzle-orm';
import {
  emailJobHandler,
  getJobConfig,
  jobDispatcher,
  JobDispatcher,
  JobError,
  JobValidationError,
  JOB_STATUSES,
  JOB_TYPES,
  type BaseJobMetadata,
  type EnqueueJobOptions,
  type JobConfig,
  type JobType,
} from '../../server/index.ts';
import { startTestServer, waitFor, type TestServer } from '../support/testServer.ts';

let t: TestServer;
const lines: string[] = [];

beforeAll(async () => {
  t = await startTestServer({ log: createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } }) });
});
afterAll(() => t.stop());

const row = async (jobId: string) => (await t.server.database.db.select().from(jobExecutions).where(eq(jobExecutions.id, jobId)))[0];
/** Server-side jobs may have no organization (no tenant can see them): watch the row itself. */
const completed = async (jobId: string) => expect(await waitFor(async () => ((await row(jobId))?.status === 'completed' ? 'completed' : undefined))).toBe('completed');
/** Jobs with a 60 s delay would call out after the test: withdraw them. */
const cancelDelayed = async (jobId: string) => {
  await t.server.database.db.update(jobExecutions).set({ status: 'cancelled' }).where(eq(jobExecutions.id, jobId));
};

describe('setup guide: verify setup', () => {
  it('enqueues the test email, runs it, and logs the four [jobs] lines with { jobId, type }', async () => {
    const jobId = await jobDispatcher.enqueue(
      JOB_TYPES.SEND_EMAIL,
      {
        template: 'welcome',
        to: 'test@example.com',
        data: { recipientName: 'Test User' },
      },
      { userId: 1 },
    );
    await waitFor(async () => (await row(jobId))?.status === 'completed');
    const recordsOf = () => lines.map((l) => JSON.parse(l) as { msg: string; jobId?: string; type?: string }).filter((r) => r.jobId === jobId);
    // The success line is written after the settle commits: wait for it rather than race it.
    const records = await waitFor(() => {
      const found = recordsOf();
      return found.some((r) => r.msg === '[jobs] Job processed successfully') ? found : undefined;
    });
    for (const msg of ['[jobs] Enqueueing job', '[jobs] Job enqueued successfully', '[jobs] Processing job', '[jobs] Job processed successfully']) {
      expect(records.find((r) => r.msg === msg), msg).toMatchObject({ jobId, type: 'send-email' });
    }
    expect(await row(jobId)).toMatchObject({ userId: '1', metadata: { userId: 1 } });
    expect(await t.server.mailbox?.find((m) => m.to === 'test@example.com' && m.text.includes('Test User'))).toBeDefined();
  });
});

describe('usage guide: enqueueing jobs', () => {
  const payload = { template: 'welcome' as const, to: 'user@example.com', data: { recipientName: 'John Doe' } };

  it('basic enqueueing returns a job id that runs', async () => {
    // Basic enqueueing
    const jobId = await jobDispatcher.enqueue(JOB_TYPES.SEND_EMAIL, {
      template: 'welcome',
      to: 'user@example.com',
      data: { recipientName: 'John Doe' },
    });
    expect(jobId).toMatch(/^[0-9a-f-]{36}$/);
    await completed(jobId);
  });

  it('with metadata for tracking: userId, organizationId, and the idempotency key deduplicates', async () => {
    // With metadata for tracking
    const first = await jobDispatcher.enqueue(JOB_TYPES.SEND_EMAIL, payload, {
      userId: 123,
      organizationId: 456,
      idempotencyKey: 'unique-operation-id',
    });
    const again = await jobDispatcher.enqueue(JOB_TYPES.SEND_EMAIL, payload, {
      userId: 123,
      organizationId: 456,
      idempotencyKey: 'unique-operation-id',
    });
    expect(again).toBe(first);
    expect(await row(first)).toMatchObject({ userId: '123', organizationId: 456, idempotencyKey: 'unique-operation-id' });
    expect((await row(first))?.metadata).toMatchObject({ userId: 123, organizationId: 456, idempotencyKey: 'unique-operation-id', createdAt: expect.any(String) });
  });

  it('with custom options: delay, retries, callback and headers are recorded', async () => {
    // With custom options
    const jobId = await jobDispatcher.enqueue(
      JOB_TYPES.SEND_EMAIL,
      payload,
      { userId: 123 },
      {
        delay: 60000, // Delay 60 seconds
        retries: 5,
        callback: 'https://example.com/callback',
        headers: { 'X-Custom': 'value' },
      },
    );
    const stored = await row(jobId);
    await cancelDelayed(jobId);
    expect(stored).toMatchObject({ maxRetries: 5, publishOptions: { callback: 'https://example.com/callback', headers: { 'X-Custom': 'value' } } });
    expect(stored!.runAt.getTime() - stored!.createdAt.getTime()).toBeGreaterThanOrEqual(59_000);
  });

  it('core concepts: default retries from the registry, or an override with empty metadata', async () => {
    // Default retries from registry
    const byDefault = await jobDispatcher.enqueue(JOB_TYPES.SEND_EMAIL, payload);
    // Custom retries per job
    const custom = await jobDispatcher.enqueue(
      JOB_TYPES.SEND_EMAIL,
      payload,
      {},
      { retries: 5 }, // Override default
    );
    expect((await row(byDefault))?.maxRetries).toBe(3);
    expect((await row(custom))?.maxRetries).toBe(5);
  });

  it('API reference: enqueue with { userId: 123 } and { retries: 5, delay: 60000 }', async () => {
    const jobId = await jobDispatcher.enqueue(JOB_TYPES.SEND_EMAIL, { template: 'welcome', to: 'user@example.com', data: {} }, { userId: 123 }, { retries: 5, delay: 60000 });
    const stored = await row(jobId);
    await cancelDelayed(jobId);
    expect(stored).toMatchObject({ status: 'pending', maxRetries: 5, userId: '123' });
  });

  it('best practice: idempotency keys per webhook, batches with Promise.all, and the error-handling pattern', async () => {
    const user = { id: 7 };
    const webhookId = 'wh_1';
    const webhookPayload = { source: 'github', event: 'push', data: { ref: 'refs/heads/main' } };
    const a = await jobDispatcher.enqueue(JOB_TYPES.PROCESS_WEBHOOK, webhookPayload, {
      userId: user.id,
      idempotencyKey: `webhook-${webhookId}`, // Unique per webhook
    });
    const b = await jobDispatcher.enqueue(JOB_TYPES.PROCESS_WEBHOOK, webhookPayload, { userId: user.id, idempotencyKey: `webhook-${webhookId}` });
    expect(b).toBe(a);

    const email1Payload = { template: 'welcome' as const, to: 'a@example.com', data: {} };
    const ids = await Promise.all([
      jobDispatcher.enqueue(JOB_TYPES.SEND_EMAIL, email1Payload),
      jobDispatcher.enqueue(JOB_TYPES.SEND_EMAIL, { ...email1Payload, to: 'b@example.com' }),
      jobDispatcher.enqueue(JOB_TYPES.SEND_EMAIL, { ...email1Payload, to: 'c@example.com' }),
    ]);
    expect(new Set(ids).size).toBe(3);

    let failed: unknown;
    try {
      // @ts-expect-error the seed's failure case: a payload that is not a send-email payload
      await jobDispatcher.enqueue(JOB_TYPES.SEND_EMAIL, { to: 'test@example.com' });
    } catch (error) {
      failed = error; // Fallback to synchronous processing or show error to user
    }
    expect(failed).toBeInstanceOf(JobValidationError);
  });
});

describe('usage guide: job types', () => {
  it('report generation with metadata runs to completion', async () => {
    const jobId = await jobDispatcher.enqueue(
      JOB_TYPES.GENERATE_REPORT,
      {
        reportType: 'monthly-analytics',
        startDate: '2025-01-01',
        endDate: '2025-01-31',
        format: 'pdf',
      },
      { userId: 123, organizationId: 456 },
    );
    await completed(jobId);
  });

  it('generic webhook processing from server code', async () => {
    const webhookPayload = { action: 'opened', number: 1 };
    const jobId = await jobDispatcher.enqueue(JOB_TYPES.PROCESS_WEBHOOK, {
      source: 'github',
      event: 'pull_request',
      data: webhookPayload,
    });
    await completed(jobId);
  });

  it('Stripe webhook processing with the request headers as the seed writes them (x-forwarded-for may be null)', async () => {
    const request = new Request('http://127.0.0.1/api/stripe/webhook', { method: 'POST' });
    const stripeEvent = { data: { object: { id: 'sub_1', object: 'subscription', status: 'active', customer: 'cus_1', items: { data: [] } } } };
    const jobId = await jobDispatcher.enqueue(JOB_TYPES.PROCESS_STRIPE_WEBHOOK, {
      eventType: 'customer.subscription.updated',
      eventData: stripeEvent.data.object,
      ipAddress: request.headers.get('x-forwarded-for'),
    });
    expect((await row(jobId))?.payload).toMatchObject({ ipAddress: null });
  });

  it('schedules: daily cleanup with and without metadata, and the same key names the same schedule', async () => {
    // Run cleanup every day at 2 AM
    const scheduleId = await jobDispatcher.schedule(JOB_TYPES.CLEANUP_OLD_DATA, '0 2 * * *', { retention: 30 }, { organizationId: 456 });
    expect(scheduleId).toMatch(/^sch_/);
    const quickStart = await jobDispatcher.schedule(
      JOB_TYPES.CLEANUP_OLD_DATA,
      '0 2 * * *', // Daily at 2 AM
      { retention: 30 },
    );
    // Schedule daily at 3 AM
    await jobDispatcher.schedule(
      JOB_TYPES.CLEANUP_OLD_DATA,
      '0 3 * * *',
      { retention: 90 }, // Keep 90 days of history
    );
    expect(quickStart).not.toBe(scheduleId);
    const keyed = await jobDispatcher.schedule(JOB_TYPES.CLEANUP_OLD_DATA, '0 4 * * *', { retention: 7 }, { organizationId: 456, idempotencyKey: 'nightly' });
    expect(await jobDispatcher.schedule(JOB_TYPES.CLEANUP_OLD_DATA, '0 5 * * *', { retention: 7 }, { organizationId: 456, idempotencyKey: 'nightly' })).toBe(keyed);
  });
});

describe('metadata is validated before anything is written', () => {
  it.each<[string, unknown]>([
    ['a negative user id', { userId: -1 }],
    ['a fractional organization', { organizationId: 1.5 }],
    ['a non-ISO createdAt', { createdAt: 'yesterday' }],
    ['a misspelt key', { userid: 1 }],
    ['an empty idempotency key', { idempotencyKey: '' }],
  ])('%s is a JobValidationError and no row', async (_name, metadata) => {
    const before = await t.server.database.db.$count(jobExecutions);
    const error = await jobDispatcher.enqueue(JOB_TYPES.SEND_EMAIL, { template: 'welcome', to: 'a@example.com', data: {} }, metadata as BaseJobMetadata).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobValidationError);
    expect((error as JobValidationError).code).toBe('VALIDATION_ERROR');
    expect((error as JobValidationError).validationErrors[0]).toMatch(/^metadata/);
    expect(await t.server.database.db.$count(jobExecutions)).toBe(before);
  });

  it('two different idempotency keys (option and metadata) are refused', async () => {
    const error = await jobDispatcher
      .enqueue(JOB_TYPES.SEND_EMAIL, { template: 'welcome', to: 'a@example.com' }, { idempotencyKey: 'a' }, { idempotencyKey: 'b' } as EnqueueJobOptions)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobValidationError);
  });

  it('a stored row whose metadata no longer parses is failed with a clear error, not republished forever', async () => {
    const jobId = await jobDispatcher.enqueue(JOB_TYPES.SEND_EMAIL, { template: 'welcome', to: 'a@example.com' }, {}, { delay: 60_000 });
    // As an older version (or a hand edit) might have left it, unpublished; once enqueue's own publish is done.
    await publishBatcher(t.server.jobs).flush();
    await t.server.database.db.update(jobExecutions).set({ metadata: { userId: 'not a number' }, publishedAt: null, runAt: new Date() }).where(eq(jobExecutions.id, jobId));
    const failed = await waitFor(async () => ((await row(jobId))?.status === 'failed' ? row(jobId) : undefined));
    expect(failed.error?.message).toMatch(/metadata no longer parses/);
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((r) => r.jobId === jobId && r.msg === '[jobs] Job processing failed');
    expect(logged).toMatchObject({ jobId, type: 'send-email' });
  });
});

describe('monitoring guide: test the job handler directly', () => {
  it("the seed's bypass route calls emailJobHandler with a bare BaseJob, and the email is sent", async () => {
    // app/api/test/job/route.ts
    async function POST(request: Request) {
      const payload = await request.json();

      await emailJobHandler(payload, {
        jobId: 'test-job',
        type: 'send-email',
        payload,
        metadata: { createdAt: new Date().toISOString() },
      });

      return Response.json({ success: true });
    }

    const body = { template: 'passwordReset', to: 'direct@example.com', data: { recipientName: 'Direct', resetUrl: 'https://example.com/reset/token' } };
    const response = await POST(new Request('http://127.0.0.1/api/test/job', { method: 'POST', body: JSON.stringify(body) }));
    expect(await response.json()).toEqual({ success: true });
    expect(await t.server.mailbox?.find((m) => m.to === 'direct@example.com' && m.text.includes('https://example.com/reset/token'))).toBeDefined();
    await expect(emailJobHandler({ to: 'direct@example.com' }, { jobId: 'test-job' })).rejects.toBeInstanceOf(JobValidationError);
  });
});

describe('API reference: registry, constants and errors', () => {
  it('getJobConfig returns the seed JobConfig and throws a JobError for an unknown type', () => {
    const config: JobConfig = getJobConfig(JOB_TYPES.SEND_EMAIL);
    expect(config).toMatchObject({ type: 'send-email', endpoint: '/api/jobs/email', retries: 3, timeout: 30, description: expect.any(String) });
    expect(() => getJobConfig('nope' as JobType)).toThrow(JobError);
    try {
      getJobConfig('nope');
    } catch (error) {
      expect(error).toMatchObject({ name: 'JobError', code: 'UNKNOWN_JOB_TYPE' });
    }
  });

  it('JOB_TYPES and JOB_STATUSES are the seed constants', () => {
    expect(JOB_TYPES).toEqual({
      SEND_EMAIL: 'send-email',
      PROCESS_WEBHOOK: 'process-webhook',
      PROCESS_STRIPE_WEBHOOK: 'process-stripe-webhook',
      EXPORT_DATA: 'export-data',
      GENERATE_REPORT: 'generate-report',
      CLEANUP_OLD_DATA: 'cleanup-old-data',
    });
    expect(JOB_STATUSES).toMatchObject({ PENDING: 'pending', PROCESSING: 'processing', COMPLETED: 'completed', FAILED: 'failed' });
  });

  it('JobError(message, code, jobId?) and JobValidationError(message, validationErrors, jobId?)', () => {
    const error = new JobError('Boom', 'MY_CODE', 'job-1');
    expect(error).toMatchObject({ name: 'JobError', message: 'Boom', code: 'MY_CODE', jobId: 'job-1' });
    const invalid = new JobValidationError('Invalid job payload', ['to: Invalid email'], 'job-2');
    expect(invalid).toBeInstanceOf(JobError);
    expect(invalid).toMatchObject({ name: 'JobValidationError', code: 'VALIDATION_ERROR', validationErrors: ['to: Invalid email'], jobId: 'job-2' });
  });

  it('new JobDispatcher() acts on the started server', async () => {
    const dispatcher = new JobDispatcher();
    const jobId = await dispatcher.enqueue('send-email' as JobType, { to: 'test@example.com', template: 'welcome' } as never, { userId: 1 });
    expect(jobId).toBeTruthy();
    await expect(dispatcher.enqueue('send-email' as JobType, { to: 'test@example.com' } as never, {})).rejects.toThrow(JobValidationError);
  });
});
