/** `dashboard.*` (issue 12): what the web UI reads beyond jobs.*, ops.*, webhooks.*, scoped by role on both databases. */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobsClient, type JobsClient } from '../../client/createJobsClient.ts';
import { attachDeliveries, attemptsOf, loadJobTimeline } from '../../server/dashboard/jobTimeline.ts';
import { webhookEvents } from '../../server/db/webhookSchema.ts';
import type { JobHandler } from '../../server/jobs/handlers.ts';
import { ALL_ORGANIZATIONS } from '../../server/jobs/scope.ts';
import { createQStashClient, createQStashPublisher } from '../../server/qstash/createQStashPublisher.ts';
import type { JobEvent } from '../../shared/jobEvent.ts';
import { insertJobs, operatorToken } from '../ops/support/insertJobs.ts';
import { startTestServer, trpcCode, waitFor, type TestServer } from '../support/testServer.ts';

let t: TestServer;
let operator: JobsClient;
let admin801: JobsClient;
let member801: JobsClient;
let admin802: JobsClient;
let member802: JobsClient;
const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', trpcCode);

// Fails its first attempt, then succeeds: a timeline with two attempts.
const attemptsSeen = new Map<string, number>();
const flaky: JobHandler<'send-email'> = async (payload, ctx) => {
  const n = (attemptsSeen.get(ctx.jobId) ?? 0) + 1;
  attemptsSeen.set(ctx.jobId, n);
  if (payload.to.startsWith('flaky') && n === 1) throw new Error('smtp timed out');
  await ctx.progress(0.5, 'rendered');
  return { sent: payload.to };
};

beforeAll(async () => {
  t = await startTestServer({ handlers: { 'send-email': flaky } });
  operator = createJobsClient({ url: `${t.server.url}/trpc`, token: await operatorToken() });
  admin801 = await t.client({ organizationId: 801, role: 'admin' });
  member801 = await t.client({ organizationId: 801, role: 'member', userId: '2' });
  admin802 = await t.client({ organizationId: 802, role: 'admin' });
  member802 = await t.client({ organizationId: 802, role: 'member', userId: '3' });
});
afterAll(async () => t?.stop());

describe('dashboard.overview', () => {
  it('counts settled jobs per bucket and the queue per type, within the caller scope', async () => {
    const db = t.server.database.db;
    await insertJobs(db, { count: 4, organizationId: 801, status: 'completed', agoMs: 120_000 });
    await insertJobs(db, { count: 1, organizationId: 801, status: 'failed', agoMs: 120_000, error: { name: 'Error', message: 'boom' } });
    await insertJobs(db, { count: 3, organizationId: 802, status: 'completed', agoMs: 120_000 });
    await insertJobs(db, { count: 2, organizationId: 801, type: 'export-data', status: 'pending', runInMs: 3_600_000 });

    const sums = (o: { series: { completed: number; failed: number }[] }) => o.series.reduce((a, b) => ({ completed: a.completed + b.completed, failed: a.failed + b.failed }), { completed: 0, failed: 0 });
    const adminView = await admin801.dashboard.overview.query({});
    expect(adminView.series).toHaveLength(12);
    expect(sums(adminView)).toEqual({ completed: 4, failed: 1 });
    expect(adminView.queue).toEqual([expect.objectContaining({ type: 'export-data', status: 'pending', count: 2 })]);
    expect(adminView.queue[0]!.oldestDueAt.getTime()).toBeGreaterThan(Date.now()); // delayed an hour
    const bucket = adminView.series.find((b) => b.failed > 0)!;
    expect(bucket.failureRate).toBeCloseTo(bucket.failed / (bucket.completed + bucket.failed));

    expect(sums(await member801.dashboard.overview.query({ window: 'day' }))).toEqual({ completed: 4, failed: 1 });
    expect((await member801.dashboard.overview.query({ window: 'day' })).series).toHaveLength(24);
    expect(sums(await admin802.dashboard.overview.query({}))).toEqual({ completed: 3, failed: 0 });
    expect((await member802.dashboard.overview.query({})).queue).toEqual([]);
    expect(sums(await operator.dashboard.overview.query({}))).toEqual({ completed: 7, failed: 1 });
    expect(sums(await operator.dashboard.overview.query({ organizationId: 802 }))).toEqual({ completed: 3, failed: 0 });
    expect(await codeOf(admin801.dashboard.overview.query({ organizationId: 802 }))).toBe('FORBIDDEN');
    expect(await codeOf(member801.dashboard.overview.query({ organizationId: null }))).toBe('FORBIDDEN');
  });
});

describe('dashboard.timeline', () => {
  it('joins the row, the message id and each attempt with its error, progress and next attempt time', async () => {
    const { jobId } = await admin801.jobs.enqueue.mutate({ type: 'send-email', payload: { to: 'flaky@example.com', template: 'welcome', data: { recipientName: 'F' } } });
    await waitFor(async () => (await admin801.jobs.get.query({ jobId })).status === 'completed');
    const timeline = await admin801.dashboard.timeline.query({ jobId });
    expect(timeline.job.jobId).toBe(jobId);
    expect(timeline.messageId).toEqual(expect.any(String));
    expect(timeline.publishedAt).toBeInstanceOf(Date);
    expect(timeline.attempts.map((a) => [a.number, a.outcome, a.error?.message ?? null])).toEqual([
      [1, 'retrying', 'smtp timed out'],
      [2, 'completed', null],
    ]);
    expect(timeline.attempts[0]!.nextAttemptAt).toBeInstanceOf(Date);
    expect(timeline.attempts[1]!.progress.map((p) => [p.progress, p.message])).toEqual([[0.5, 'rendered']]);
    for (const attempt of timeline.attempts) expect(attempt.durationMs).toBeGreaterThanOrEqual(0);
    expect(timeline.events.at(-1)!.status).toBe('completed');

    expect((await member801.dashboard.timeline.query({ jobId })).job.jobId).toBe(jobId);
    expect((await operator.dashboard.timeline.query({ jobId })).attempts).toHaveLength(2);
    expect(await codeOf(admin802.dashboard.timeline.query({ jobId }))).toBe('NOT_FOUND');
    expect(await codeOf(member802.dashboard.timeline.query({ jobId }))).toBe('NOT_FOUND');
  });

  it("gives each attempt the worker's HTTP status and times from the broker's delivery log", async () => {
    const { jobId } = await admin801.jobs.enqueue.mutate({ type: 'send-email', payload: { to: 'flaky-status@example.com', template: 'welcome', data: { recipientName: 'F' } } });
    // The broker logs a delivery once the worker has answered, a moment after the job settles.
    const timeline = await waitFor(async () => {
      const read = await admin801.dashboard.timeline.query({ jobId });
      return read.attempts.length === 2 && read.attempts.every((a) => a.delivery) ? read : undefined;
    });
    expect(timeline.brokerLog).toBe('read');
    expect(timeline.attempts.map((a) => [a.outcome, a.delivery?.httpStatus])).toEqual([
      ['retrying', 500],
      ['completed', 200],
    ]);
    for (const { startedAt, endedAt, delivery } of timeline.attempts) {
      expect(delivery!.messageId).toBe(timeline.messageId);
      // The broker's delivery began before the handler was claimed and ended after it settled (one clock here).
      expect(delivery!.startedAt!.getTime()).toBeLessThanOrEqual(startedAt.getTime());
      expect(delivery!.endedAt.getTime()).toBeGreaterThanOrEqual(endedAt!.getTime());
    }
    expect(timeline.attempts[0]!.delivery!.endedAt.getTime()).toBeLessThan(timeline.attempts[1]!.delivery!.startedAt!.getTime());

    // A broker that does not answer costs the status codes, not the timeline.
    const closed = createServer().listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const { port } = closed.address() as AddressInfo; // listening on TCP: an AddressInfo
    await new Promise((resolve) => closed.close(resolve));
    const unreachable = createQStashPublisher(createQStashClient({ baseUrl: `http://127.0.0.1:${port}`, token: 'unused' }), t.server.url);
    const without = await loadJobTimeline({ db: t.server.database.db, publisher: unreachable }, ALL_ORGANIZATIONS, jobId);
    expect(without.brokerLog).toBe('unavailable');
    expect(without.attempts.map((a) => [a.outcome, a.delivery])).toEqual([
      ['retrying', null],
      ['completed', null],
    ]);
  });

  it('matches deliveries to attempts by time: busy deliveries and an earlier message find no partner', () => {
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
    // Only the fields attemptsOf reads.
    const event = (s: number, status: JobEvent['status']) => ({ status, at: at(s), progress: null, message: null, error: null, nextAttemptAt: null }) as JobEvent;
    // Attempt 1 ran under an earlier message (a manual retry published anew); 2 and 3 under the current one.
    const attempts = attemptsOf([event(0, 'processing'), event(1, 'failed'), event(100, 'processing'), event(101, 'retrying'), event(200, 'processing'), event(201, 'completed')]);
    const delivery = (from: number | null, to: number, httpStatus: number) => ({ messageId: 'msg_2', startedAt: from === null ? null : at(from), endedAt: at(to), httpStatus, error: null });
    attachDeliveries(attempts, [delivery(99.5, 101.5, 500), delivery(150, 150.1, 503), delivery(null, 201.5, 200)]);
    expect(attempts.map((a) => a.delivery?.httpStatus ?? null)).toEqual([null, 500, 200]);
  });
});

describe('schedules: next runs, cron preview, trigger now', () => {
  it('lists next firings, previews a cron in a time zone, and triggers a schedule by the access rules', async () => {
    const { scheduleId } = await admin801.jobs.schedule.mutate({ type: 'send-email', cron: '0 9 * * 1-5', timezone: 'Europe/Berlin', payload: { to: 'sched@example.com', template: 'welcome', data: { recipientName: 'S' } } });
    const [listed] = (await admin801.dashboard.schedules.query()).filter((s) => s.scheduleId === scheduleId);
    expect(listed!.nextRunAt!.getTime()).toBeGreaterThan(Date.now());
    expect((await member802.dashboard.schedules.query()).map((s) => s.scheduleId)).not.toContain(scheduleId);
    expect((await operator.dashboard.schedules.query()).map((s) => s.scheduleId)).toContain(scheduleId);

    const preview = await member801.dashboard.cronPreview.query({ cron: '30 6 * * *', timezone: 'Asia/Tokyo' });
    expect(preview.nextRuns).toHaveLength(3);
    for (const run of preview.nextRuns) expect([run.getUTCHours(), run.getUTCMinutes()]).toEqual([21, 30]); // 06:30 in Tokyo
    expect(await codeOf(member801.dashboard.cronPreview.query({ cron: '99 * * * *' }))).toBe('BAD_REQUEST');
    expect(await codeOf(member801.dashboard.cronPreview.query({ cron: '0 9 * * *', timezone: 'Mars/Olympus' }))).toBe('BAD_REQUEST');

    const triggered = await admin801.dashboard.triggerSchedule.mutate({ scheduleId });
    const job = await admin801.jobs.get.query({ jobId: triggered.jobId });
    expect([job.type, job.organizationId, job.payload]).toEqual(['send-email', 801, { to: 'sched@example.com', template: 'welcome', data: { recipientName: 'S' } }]);
    // send-email is an admin type: a member of the organization may not trigger it; other organizations do not find it.
    expect(await codeOf(member801.dashboard.triggerSchedule.mutate({ scheduleId }))).toBe('FORBIDDEN');
    expect(await codeOf(admin802.dashboard.triggerSchedule.mutate({ scheduleId }))).toBe('NOT_FOUND');
    const byOperator = await operator.dashboard.triggerSchedule.mutate({ scheduleId });
    expect((await admin801.jobs.get.query({ jobId: byOperator.jobId })).organizationId).toBe(801);
    expect((await operator.ops.auditLog.query({})).items.map((e) => e.action)).toContain('dashboard.triggerSchedule');
  });
});

describe('dashboard.webhookJobs and dashboard.me', () => {
  it("lists a stored event's jobs, a replay's included, for its organization's admins and operators only", async () => {
    const db = t.server.database.db;
    const id = randomUUID();
    await db.insert(webhookEvents).values({ id, source: 'github', event: 'push', deliveryId: 'd-1', organizationId: 801, payload: { ref: 'main' } });
    const [original] = await insertJobs(db, { count: 1, organizationId: 801, type: 'process-webhook', status: 'completed' });
    const { sql } = await import('drizzle-orm');
    await db.execute(sql`UPDATE job_executions SET idempotency_key = 'webhook:github:d-1' WHERE job_id = ${original!}`);
    const replay = await admin801.webhooks.replay.mutate({ webhookEventId: id });
    const jobs = await admin801.dashboard.webhookJobs.query({ webhookEventId: id });
    expect(jobs.map((j) => j.jobId)).toEqual([original, replay.jobId]);
    expect((await operator.dashboard.webhookJobs.query({ webhookEventId: id })).map((j) => j.jobId)).toEqual([original, replay.jobId]);
    expect(await codeOf(admin802.dashboard.webhookJobs.query({ webhookEventId: id }))).toBe('NOT_FOUND');
    expect(await codeOf(member801.dashboard.webhookJobs.query({ webhookEventId: id }))).toBe('FORBIDDEN');
  });

  it('names the verified caller, and refuses a call without a token', async () => {
    expect(await member801.dashboard.me.query()).toEqual({ userId: '2', organizationId: 801, role: 'member' });
    expect((await operator.dashboard.me.query()).role).toBe('operator');
    const anonymous = createJobsClient({ url: `${t.server.url}/trpc`, token: '' });
    expect(await codeOf(anonymous.dashboard.me.query())).toBe('UNAUTHORIZED');
    expect(await codeOf(anonymous.dashboard.overview.query({}))).toBe('UNAUTHORIZED');
  });
});
