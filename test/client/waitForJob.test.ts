import { TRPCClientError, type TRPCClient } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createJobsClient, isJobsClientError, type EventSourceClass } from '../../client/createJobsClient.ts';
import { waitForJob, WaitForJobTimeoutError } from '../../client/waitForJob.ts';
import type { JobStatus } from '../../shared/jobStatus.ts';
import { JobIdInput, type JobView } from '../../shared/jobApi.ts';
import { signToken } from '../../server/auth/token.ts';
import { JobNotFoundError } from '../../server/jobs/errors.ts';
import { protectedProcedure, router } from '../../server/trpc/trpc.ts';
import { serveRouter, TEST_SECRET, type ServedRouter } from '../trpc/testRouter.ts';

/**
 * A stand-in for `jobs.get` with scripted status sequences (the real one is driven end to end
 * in test/pipeline), served through the real tRPC root and context over real HTTP.
 */
const scripts = new Map<string, JobStatus[]>([
  ['00000000-0000-4000-8000-000000000001', ['pending', 'processing', 'processing', 'completed']],
  ['00000000-0000-4000-8000-000000000002', ['pending', 'retrying', 'failed']],
  ['00000000-0000-4000-8000-000000000003', ['pending']],
]);
const polls = new Map<string, number>();
const seenTokens: string[] = [];

const clientTestRouter = router({
  jobs: router({
    get: protectedProcedure.input(JobIdInput).query(({ ctx, input }): JobView => {
      seenTokens.push(ctx.caller.userId);
      const script = scripts.get(input.jobId);
      if (!script) throw new JobNotFoundError('job', input.jobId);
      const n = polls.get(input.jobId) ?? 0;
      polls.set(input.jobId, n + 1);
      const status = script[Math.min(n, script.length - 1)] ?? 'pending';
      const now = new Date();
      return {
        jobId: input.jobId, type: 'send-email', status, payload: {}, result: null, error: null, progress: null, retryCount: 0, maxRetries: 3,
        userId: ctx.caller.userId, organizationId: ctx.scope.organizationId, idempotencyKey: null, scheduleId: null,
        createdAt: now, updatedAt: now, startedAt: status === 'pending' ? null : now, completedAt: null, nextAttemptAt: null,
      };
    }),
    ticks: protectedProcedure.input(z.object({ count: z.number().int().max(5) })).subscription(async function* ({ ctx, input }) {
      for (let i = 1; i <= input.count; i++) yield { i, userId: ctx.caller.userId };
    }),
  }),
});
type ClientTestRouter = typeof clientTestRouter;

let served: ServedRouter;
let token: string;
beforeAll(async () => {
  served = await serveRouter(clientTestRouter);
  token = await signToken({ userId: '8', organizationId: 2, role: 'member' }, TEST_SECRET);
});
afterAll(() => served.close());

const job = (n: number) => `00000000-0000-4000-8000-00000000000${n}`;

describe('waitForJob', () => {
  it('polls jobs.get until the job is terminal and resolves with it, Dates intact', async () => {
    const client = createJobsClient({ url: served.url, token });
    const view = await waitForJob(client, job(1), { transport: 'poll', interval: 10 });
    expect(view).toMatchObject({ jobId: job(1), status: 'completed', organizationId: 2, userId: '8' });
    expect(view.createdAt).toBeInstanceOf(Date);
    expect(polls.get(job(1))).toBe(4);
    expect((await waitForJob(client, job(2), { transport: 'poll', interval: 10 })).status).toBe('failed');
  });

  it('resolves as soon as `until` holds', async () => {
    polls.delete(job(1));
    const client = createJobsClient({ url: served.url, token });
    expect((await waitForJob(client, job(1), { transport: 'poll', interval: 10, until: (j) => j.status === 'processing' })).status).toBe('processing');
    expect(polls.get(job(1))).toBe(2);
  });

  it('rejects with WaitForJobTimeoutError naming the last status', async () => {
    const client = createJobsClient({ url: served.url, token });
    const error = await waitForJob(client, job(3), { transport: 'poll', timeout: 200, interval: 20 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitForJobTimeoutError);
    expect(error).toMatchObject({ jobId: job(3), timeout: 200, lastSeen: { status: 'pending' } });
    expect((error as Error).message).toMatch(/200 ms.*last status: pending/);
  });

  it('passes on errors of jobs.get, such as NOT_FOUND', async () => {
    const client = createJobsClient({ url: served.url, token });
    const error = await waitForJob(client, job(9), { transport: 'poll' }).catch((e: unknown) => e);
    expect(isJobsClientError(error) && error.data).toMatchObject({ code: 'NOT_FOUND', jobwireCode: 'JOB_NOT_FOUND' });
  });

  it('stops when the caller aborts', async () => {
    const client = createJobsClient({ url: served.url, token });
    const controller = new AbortController();
    const waiting = waitForJob(client, job(3), { transport: 'poll', interval: 20, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('user gave up')), 50);
    await expect(waiting).rejects.toThrow('user gave up');
  });
});

describe('createJobsClient', () => {
  // A lone call goes out by itself at once; calls made in the same turn share one batch request
  // (promptBatchLink in createJobsClient.ts).
  it('sends a lone call by itself and the calls of one turn as one batch', async () => {
    const requests: string[] = [];
    const fetch: typeof globalThis.fetch = (input, init) => {
      requests.push(String(input instanceof Request ? input.url : input).replace(served.url, ''));
      return globalThis.fetch(input, init);
    };
    const client = createJobsClient({ url: served.url, token, fetch });
    expect((await client.jobs.get.query({ jobId: job(2) })).jobId).toBe(job(2));
    const views = await Promise.all([1, 2, 3].map((n) => client.jobs.get.query({ jobId: job(n) })));
    expect(views.map((v) => v.jobId)).toEqual([job(1), job(2), job(3)]);
    // Calls from separate callbacks that run in one turn go together too.
    const fromCallbacks = await Promise.all([1, 2].map((n) => new Promise((resolve, reject) => queueMicrotask(() => client.jobs.get.query({ jobId: job(n) }).then(resolve, reject)))));
    expect(fromCallbacks).toHaveLength(2);
    // One after the other, each alone again.
    await client.jobs.get.query({ jobId: job(1) });
    expect(requests.map((url) => url.replace(/\?.*/, (q) => (q.includes('batch=1') ? '?batch' : '')))).toEqual([
      '/jobs.get',
      '/jobs.get,jobs.get,jobs.get?batch',
      '/jobs.get,jobs.get?batch',
      '/jobs.get',
    ]);
  });

  it('reads a token function per request', async () => {
    let n = 0;
    const client = createJobsClient({ url: served.url, token: () => signToken({ userId: String(100 + n++), organizationId: 2, role: 'member' }, TEST_SECRET) });
    seenTokens.length = 0;
    await client.jobs.get.query({ jobId: job(1) });
    await client.jobs.get.query({ jobId: job(1) });
    // Requests of earlier tests that timed out client-side may still reach the server: filter.
    expect(seenTokens.filter((userId) => userId.startsWith('10'))).toEqual(['100', '101']);
  });

  // The app router has no subscriptions yet; the client's links do not care which router it is.
  const subscribable = (client: unknown) => client as TRPCClient<ClientTestRouter>;
  const collect = (client: TRPCClient<ClientTestRouter>, count: number) =>
    new Promise<unknown[]>((resolve, reject) => {
      const seen: unknown[] = [];
      const sub = client.jobs.ticks.subscribe({ count }, {
        onData: (data) => {
          seen.push(data);
          if (seen.length === count) {
            sub.unsubscribe();
            resolve(seen);
          }
        },
        onError: reject,
      });
    });

  it('runs subscriptions over SSE with the token as connectionParams, loading `eventsource` in Node', async () => {
    expect((globalThis as { EventSource?: unknown }).EventSource).toBeUndefined(); // Node 20
    const client = subscribable(createJobsClient({ url: served.url, token }));
    expect(await collect(client, 2)).toEqual([{ i: 1, userId: '8' }, { i: 2, userId: '8' }]);
  });

  it('uses the EventSource it is given', async () => {
    const { EventSource } = await import('eventsource');
    const urls: string[] = [];
    class CountingEventSource extends EventSource {
      constructor(url: string | URL, init?: ConstructorParameters<typeof EventSource>[1]) {
        super(url, init);
        urls.push(String(url));
      }
    }
    const client = subscribable(createJobsClient({ url: served.url, token, EventSource: CountingEventSource as EventSourceClass }));
    expect(await collect(client, 1)).toEqual([{ i: 1, userId: '8' }]);
    expect(urls).toHaveLength(1);
    expect(urls[0]).toContain('connectionParams=');
  });

  it('fails subscriptions clearly without a valid token', async () => {
    const client = subscribable(createJobsClient({ url: served.url, token: 'nope' }));
    const error = await collect(client, 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TRPCClientError);
    expect((error as TRPCClientError<ClientTestRouter>).data?.code).toBe('UNAUTHORIZED');
  });
});
