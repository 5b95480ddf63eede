/**
 * The seed's job-execution queries (API reference "Database Queries", "Using Database Queries",
 * "Debugging Failed Jobs", core concepts "Manual Retry"), run as the seed writes them against the
 * default server, on both databases. Every state change must be a guarded transition.
 */
import { randomUUID } from 'node:crypto';
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { JOB_TYPES } from '../../shared/catalogue.ts';
import { jobEvents, jobExecutions } from '../../server/db/schema.ts';
import { jobDispatcher } from '../../server/jobs/dispatcher.ts';
import { InvalidTransitionError, JobError, JobNotFoundError, JobValidationError, NonRetryableJobError } from '../../server/jobs/errors.ts';
import { createJobExecution, getJobExecutionByJobId, updateJobExecution, type NewJobExecution } from '../../server/jobs/jobExecutions.ts';
import { startTestServer, waitFor, type TestServer } from '../support/testServer.ts';

/** Attempts per job. `fail…@` always fails; `flaky…@` fails its first attempt only. */
const attempts = new Map<string, number>();
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({
    handlers: {
      'send-email': async (payload, ctx) => {
        const attempt = (attempts.get(ctx.jobId) ?? 0) + 1;
        attempts.set(ctx.jobId, attempt);
        if (payload.to.startsWith('fail') || (payload.to.startsWith('flaky') && attempt === 1)) throw new NonRetryableJobError('boom');
        return { delivered: payload.to };
      },
    },
  });
});
afterAll(async () => t?.stop());

const db = () => t.server.database.db;
const email = (to: string) => ({ template: 'welcome' as const, to, data: {} });
const timeline = async (jobId: string) =>
  (await db().select().from(jobEvents).where(eq(jobEvents.jobId, jobId)).orderBy(asc(jobEvents.id))).map((e) => (e.message ? `${e.status} (${e.message})` : e.status));
const settled = (jobId: string, status: string) =>
  waitFor(async () => (await db().select().from(jobExecutions).where(eq(jobExecutions.id, jobId)))[0]?.status === status);
/** A job that stays pending for an hour. */
const parked = () => jobDispatcher.enqueue(JOB_TYPES.SEND_EMAIL, email('later@example.com'), { organizationId: 456 }, { delay: 3_600_000 });
const rejection = (promise: Promise<unknown>) => promise.then(() => undefined, (e: unknown) => e);

describe('createJobExecution(data)', () => {
  it('runs the sample: records the job (envelope as payload), and the job runs', async () => {
    const jobId = randomUUID();
    const jobData = { jobId, type: 'send-email', payload: email('ada@example.com'), metadata: { userId: 123, organizationId: 456, createdAt: new Date().toISOString() } };
    const execution = await createJobExecution({
      jobId,
      jobType: 'send-email',
      status: 'pending',
      payload: jobData,
      userId: 123,
    });
    expect(execution).toMatchObject({ id: jobId, jobId, jobType: 'send-email', status: 'pending', error: null, retryCount: 0, userId: 123, organizationId: 456 });
    expect(execution.payload).toEqual({ ...jobData, metadata: { ...jobData.metadata, idempotencyKey: `job:${jobId}` } });
    await settled(jobId, 'completed');
    expect(await timeline(jobId)).toEqual(['pending', 'processing', 'completed']);
  });

  it('takes a bare payload too', async () => {
    const jobId = randomUUID();
    await createJobExecution({ jobId, jobType: 'send-email', payload: email('bare@example.com'), organizationId: 456 });
    await settled(jobId, 'completed');
    expect((await getJobExecutionByJobId(jobId))?.payload.payload).toEqual(email('bare@example.com'));
  });

  it('refuses what is not a new pending job of a catalogue type', async () => {
    const base = { jobId: randomUUID(), jobType: 'send-email', payload: email('x@example.com') } as const;
    const refused = async (data: unknown) => rejection(createJobExecution(data as NewJobExecution));
    expect(await refused({ ...base, jobId: 'uuid' })).toBeInstanceOf(JobValidationError);
    expect(await refused({ ...base, status: 'completed' })).toBeInstanceOf(JobValidationError);
    expect(await refused({ ...base, retryCount: 2 })).toBeInstanceOf(JobValidationError);
    expect(await refused({ ...base, payload: { template: 'welcome', to: 'not-an-email' } })).toBeInstanceOf(JobValidationError);
    expect(await refused({ ...base, payload: { jobId: randomUUID(), type: 'send-email', payload: email('x@example.com'), metadata: {} } })).toBeInstanceOf(JobValidationError);
    expect(await refused({ ...base, userId: 1, payload: { jobId: base.jobId, type: 'send-email', payload: email('x@example.com'), metadata: { userId: 2 } } })).toBeInstanceOf(JobValidationError);
    expect(await refused({ ...base, jobType: 'launch-rocket' })).toMatchObject({ code: 'UNKNOWN_JOB_TYPE' });
    expect(await db().$count(jobExecutions, eq(jobExecutions.id, base.jobId))).toBe(0);

    await createJobExecution({ ...base, organizationId: 456 });
    const duplicate = await refused(base);
    expect(duplicate).toBeInstanceOf(JobError);
    expect(duplicate).toMatchObject({ code: 'DUPLICATE_JOB', jobId: base.jobId });
  });
});

describe('getJobExecutionByJobId(jobId)', () => {
  it('runs the samples: status and error of a job, undefined for an unknown or malformed id', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const jobId = await jobDispatcher.enqueue(JOB_TYPES.SEND_EMAIL, email('fail@example.com'), { userId: 123, organizationId: 456 });
      await settled(jobId, 'failed');

      // Using Database Queries: get job status
      const execution = (await getJobExecutionByJobId(jobId))!;
      console.log(execution.status, execution.error);
      expect(log).toHaveBeenLastCalledWith('failed', 'boom');

      // Debugging Failed Jobs, step 1
      console.log({
        status: execution.status,
        error: execution.error,
        retryCount: execution.retryCount,
        payload: execution.payload,
      });
      expect(log).toHaveBeenLastCalledWith({
        status: 'failed',
        error: 'boom',
        retryCount: 0,
        payload: { jobId, type: 'send-email', payload: email('fail@example.com'), metadata: expect.objectContaining({ userId: 123, organizationId: 456, idempotencyKey: `job:${jobId}` }) },
      });

      // API reference
      const missing = await getJobExecutionByJobId('job-uuid');
      if (missing) {
        console.log(missing.status, missing.error);
      }
      expect(missing).toBeUndefined();
      expect(await getJobExecutionByJobId(randomUUID())).toBeUndefined();
      expect(log).toHaveBeenCalledTimes(2);
    } finally {
      log.mockRestore();
    }
  });
});

describe('updateJobExecution(jobId, updates)', () => {
  it('runs "Manually Retry Failed Job": reset, then re-enqueue, and the job runs exactly once more', async () => {
    const failedJobId = await jobDispatcher.enqueue(JOB_TYPES.SEND_EMAIL, email('flaky@example.com'), { userId: 123, organizationId: 456 });
    await settled(failedJobId, 'failed');
    const jobsBefore = await db().$count(jobExecutions);

    // Get failed job
    const execution = (await getJobExecutionByJobId(failedJobId))!;

    // Reset and retry
    await updateJobExecution(failedJobId, {
      status: 'pending',
      error: null,
      retryCount: 0,
    });

    // Re-enqueue
    const reEnqueued = await jobDispatcher.enqueue(
      execution.jobType,
      execution.payload.payload,
      execution.payload.metadata
    );

    expect(reEnqueued).toBe(failedJobId);
    await settled(failedJobId, 'completed');
    await new Promise((r) => setTimeout(r, 500)); // a few sweeps: nothing else may run
    expect(attempts.get(failedJobId)).toBe(2);
    expect(await db().$count(jobExecutions)).toBe(jobsBefore);
    expect(await timeline(failedJobId)).toEqual(['pending', 'processing', 'failed', 'pending (manual retry)', 'processing', 'completed']);
    expect(await getJobExecutionByJobId(failedJobId)).toMatchObject({ status: 'completed', error: null, retryCount: 0, result: { delivered: 'flaky@example.com' } });
  });

  it('runs the API reference sample: completes a job by hand, as an event', async () => {
    const jobId = await parked();
    const completedAt = new Date();
    await updateJobExecution(jobId, {
      status: 'completed',
      completedAt: completedAt,
    });
    expect(await getJobExecutionByJobId(jobId)).toMatchObject({ status: 'completed', completedAt, error: null, result: null });
    expect(await timeline(jobId)).toEqual(['pending', 'completed (manually completed)']);
    expect(attempts.has(jobId)).toBe(false);
  });

  it('fails or cancels an unsettled job by hand', async () => {
    const [toFail, toCancel] = [await parked(), await parked()];
    await updateJobExecution(toFail, { status: 'failed', error: 'gave up' });
    await updateJobExecution(toCancel, { status: 'cancelled' });
    expect(await getJobExecutionByJobId(toFail)).toMatchObject({ status: 'failed', error: 'gave up' });
    expect(await getJobExecutionByJobId(toCancel)).toMatchObject({ status: 'cancelled' });
    expect(await timeline(toFail)).toEqual(['pending', 'failed (manually failed)']);
  });

  it('refuses transitions the status does not allow, and never retries a job twice', async () => {
    const done = await parked();
    await updateJobExecution(done, { status: 'completed' });
    for (const updates of [{ status: 'pending' }, { status: 'cancelled' }, { status: 'completed' }, { status: 'failed' }] as const) {
      expect(await rejection(updateJobExecution(done, updates))).toBeInstanceOf(InvalidTransitionError);
    }
    expect(await timeline(done)).toEqual(['pending', 'completed (manually completed)']);

    const failed = await jobDispatcher.enqueue(JOB_TYPES.SEND_EMAIL, email('fail@example.com'), { organizationId: 456 });
    await settled(failed, 'failed');
    const both = await Promise.allSettled([updateJobExecution(failed, { status: 'pending' }), updateJobExecution(failed, { status: 'pending' })]);
    expect(both.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(both.find((r) => r.status === 'rejected')?.reason).toBeInstanceOf(InvalidTransitionError);
  });

  it('refuses updates it cannot make, and unknown jobs', async () => {
    const jobId = await parked();
    const refused = (updates: unknown, id = jobId) => rejection(updateJobExecution(id, updates as never));
    for (const updates of [{ status: 'processing' }, { status: 'retrying' }, {}, { status: 'completed', foo: 1 }, { status: 'pending', retryCount: 2 }, { status: 'completed', payload: {} }]) {
      expect(await refused(updates)).toBeInstanceOf(JobValidationError);
    }
    expect(await refused({ status: 'completed' }, 'job-uuid')).toBeInstanceOf(JobNotFoundError);
    expect(await refused({ status: 'completed' }, randomUUID())).toBeInstanceOf(JobNotFoundError);
    expect((await getJobExecutionByJobId(jobId))?.status).toBe('pending');
  });
});
