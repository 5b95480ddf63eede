import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobEvents, watchJob } from '../../client/watchJob.ts';
import type { JobsClient } from '../../client/createJobsClient.ts';
import type { JobHandler } from '../../server/jobs/handlers.ts';
import type { JobEvent } from '../../shared/jobEvent.ts';
import { startTestServer, trpcCode, waitFor, type TestServer } from '../support/testServer.ts';

/** Gates let a test hold a job mid-run: `hold@…` waits until its gate opens. */
const gates = new Map<string, () => void>();
const attempts = new Map<string, number>();
const steppedEmail: JobHandler<'send-email'> = async (payload, ctx) => {
  const n = (attempts.get(ctx.jobId) ?? 0) + 1;
  attempts.set(ctx.jobId, n);
  if (payload.to.startsWith('flaky') && n === 1) throw new Error('temporary failure');
  for (const fraction of [0.25, 0.5, 0.75]) {
    await ctx.progress(fraction, `step ${fraction * 4}`);
    await new Promise((r) => setTimeout(r, 300)); // past the progress throttle
    if (payload.to.startsWith('hold') && fraction === 0.5) await new Promise<void>((r) => gates.set(ctx.jobId, r));
  }
  return { sent: payload.to };
};

let t: TestServer;
let client: JobsClient;
beforeAll(async () => {
  t = await startTestServer({ handlers: { 'send-email': steppedEmail } });
  client = await t.client({ organizationId: 1 });
});
afterAll(async () => t?.stop());

const email = (to: string) => ({ type: 'send-email' as const, payload: { to, template: 'welcome' as const, data: { recipientName: 'Live' } } });

async function collect(jobId: string, lastEventId?: string): Promise<JobEvent[]> {
  const events: JobEvent[] = [];
  for await (const event of jobEvents(client, jobId, lastEventId ? { lastEventId } : {})) events.push(event);
  return events;
}

describe('jobs.onStatus', () => {
  it('streams pending → processing → progress → completed, then ends', async () => {
    const { jobId } = await client.jobs.enqueue.mutate(email('steps@example.com'));
    const events = await collect(jobId, '0'); // from the very first event
    expect(events.map((e) => [e.status, e.progress])).toEqual([
      ['pending', null],
      ['processing', null],
      ['processing', 0.25],
      ['processing', 0.5],
      ['processing', 0.75],
      ['completed', 1],
    ]);
    expect(events[2]?.message).toBe('step 1');
    expect(events.at(-1)).toMatchObject({ jobId, type: 'send-email', result: { sent: 'steps@example.com' } });
    const ids = events.map((e) => Number(e.eventId));
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    expect(await client.jobs.events.query({ jobId })).toEqual(events);
  });

  it('starts with the current state when no lastEventId is given', async () => {
    const { jobId } = await client.jobs.enqueue.mutate(email('current@example.com'));
    await waitFor(async () => (await client.jobs.get.query({ jobId })).status === 'completed');
    expect((await collect(jobId)).map((e) => e.status)).toEqual(['completed']);
  });

  it('shows the retrying attempt with its retry count and next attempt time', async () => {
    const { jobId } = await client.jobs.enqueue.mutate(email('flaky@example.com'));
    const events = await collect(jobId, '0');
    const statuses = events.filter((e) => e.progress === null || e.status !== 'processing').map((e) => e.status);
    expect(statuses).toEqual(['pending', 'processing', 'retrying', 'processing', 'completed']);
    const retrying = events.find((e) => e.status === 'retrying')!;
    expect(retrying).toMatchObject({ retryCount: 1, maxRetries: 3, error: { name: 'Error', message: 'temporary failure' } });
    expect(retrying.nextAttemptAt!.getTime()).toBeGreaterThan(retrying.at.getTime());
  });

  it('resumes after a dropped connection with lastEventId: nothing lost, nothing repeated', async () => {
    const { jobId } = await client.jobs.enqueue.mutate(email('hold@example.com'));
    const seen: JobEvent[] = [];
    let completed = false;
    const sub = watchJob(client, jobId, { lastEventId: '0', onEvent: (e) => seen.push(e), onComplete: () => (completed = true) });
    await waitFor(() => seen.some((e) => e.progress === 0.5) && gates.has(jobId));
    // Cut every connection: the SSE client reconnects and sends the last event id it saw.
    t.server.http.closeAllConnections();
    gates.get(jobId)!();
    await waitFor(() => completed, { timeout: 20_000 });
    sub.unsubscribe();
    const timeline = await client.jobs.events.query({ jobId });
    expect(seen.map((e) => e.eventId)).toEqual(timeline.map((e) => e.eventId));
  });

  it('resumes from an explicit lastEventId', async () => {
    const { jobId } = await client.jobs.enqueue.mutate(email('resume@example.com'));
    const all = await collect(jobId, '0');
    const rest = await collect(jobId, all[1]!.eventId);
    expect(rest).toEqual(all.slice(2));
    // A resumed stream that already saw the end ends at once.
    expect(await collect(jobId, all.at(-1)!.eventId)).toEqual([]);
  });

  it("answers NOT_FOUND for another organization's job and releases every listener", async () => {
    const { jobId } = await client.jobs.enqueue.mutate({ ...email('private@example.com'), options: { delay: 60_000 } });
    const stranger = await t.client({ organizationId: 2 });
    const error = await (async () => {
      for await (const _ of jobEvents(stranger, jobId)) return undefined;
    })().catch((e: unknown) => e);
    expect(trpcCode(error)).toBe('NOT_FOUND');
    expect(trpcCode(await stranger.jobs.events.query({ jobId }).catch((e: unknown) => e))).toBe('NOT_FOUND');

    const abort = new AbortController();
    const stream = jobEvents(client, jobId, { signal: abort.signal });
    expect((await stream.next()).value).toMatchObject({ status: 'pending' });
    expect(t.server.jobs.events.subscriberCount).toBeGreaterThan(0);
    abort.abort();
    await stream.return(undefined);
    await waitFor(() => t.server.jobs.events.subscriberCount === 0);
  });
});
