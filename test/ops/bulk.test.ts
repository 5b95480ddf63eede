/** Bulk retry and cancel by filter with a dry run, run-now and replay (issue 11 §2). */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobsClient, type JobsClient } from '../../client/createJobsClient.ts';
import { queryRows } from '../../server/db/database.ts';
import { startTestServer, trpcCode, waitFor, type TestServer } from '../support/testServer.ts';
import { startFakeQStash } from './support/fakeQStash.ts';
import { insertJobs, operatorToken } from './support/insertJobs.ts';

let t: TestServer;
let fake: Awaited<ReturnType<typeof startFakeQStash>>;
let operator: JobsClient;
let admin: JobsClient;
let member: JobsClient;
let otherAdmin: JobsClient;
const MANY = 10_000;
let many: string[];

beforeAll(async () => {
  fake = await startFakeQStash();
  // The sweeper never runs here: every publish the fake sees came from the action under test.
  t = await startTestServer({ qstash: fake.qstashConfig(), sweeper: { intervalMs: 3_600_000 } });
  many = await insertJobs(t.server.database.db, { count: MANY, organizationId: 801, status: 'pending', runInMs: 3_600_000 });
  operator = createJobsClient({ url: `${t.server.url}/trpc`, token: await operatorToken() });
  admin = await t.client({ organizationId: 801, role: 'admin' });
  member = await t.client({ organizationId: 801, role: 'member', userId: '2' });
  otherAdmin = await t.client({ organizationId: 802, role: 'admin' });
}, 60_000);
afterAll(async () => {
  await t?.stop();
  await fake?.close();
});

const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', trpcCode);
const statusCounts = async (organizationId: number) =>
  Object.fromEntries(
    (await queryRows<{ status: string; n: number }>(t.server.database.db, sql`SELECT status, count(*)::int AS n FROM job_executions WHERE organization_id = ${organizationId} GROUP BY status`)).map((r) => [r.status, r.n]),
  );
const eventCount = async () => (await queryRows<{ n: number }>(t.server.database.db, sql`SELECT count(*)::int AS n FROM job_events`))[0]!.n;
const finished = (client: JobsClient, operationId: string) =>
  waitFor(async () => {
    const op = await client.jobs.bulkOperation.query({ operationId });
    return op.status === 'running' ? undefined : op;
  }, { timeout: 180_000, interval: 200 });

describe('bulk cancel, then bulk retry, of 10,000 jobs', () => {
  it('answers a dry run with the count and a sample, touching nothing', async () => {
    const events = await eventCount();
    const dry = await admin.jobs.bulkCancel.mutate({ status: 'pending', dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, matched: MANY });
    if (!dry.dryRun) throw new Error('a dry run');
    expect(dry.sample).toHaveLength(10);
    expect(dry.sample.every((j) => j.organizationId === 801 && j.status === 'pending')).toBe(true);
    expect(await statusCounts(801)).toEqual({ pending: MANY });
    expect(await eventCount()).toBe(events);
    // Tenant-scoped: another organization's admin matches none of them; members may not bulk at all.
    expect(await otherAdmin.jobs.bulkCancel.mutate({ dryRun: true })).toMatchObject({ matched: 0 });
    expect(await codeOf(member.jobs.bulkCancel.mutate({ dryRun: true }))).toBe('FORBIDDEN');
    expect(await codeOf(otherAdmin.jobs.bulkCancel.mutate({ dryRun: true, organizationId: 801 }))).toBe('FORBIDDEN');
    expect(await codeOf(admin.jobs.bulkCancel.mutate({ dryRun: true, createdAfter: 'yesterday' as never }))).toBe('BAD_REQUEST');
  });

  it('cancels them in batches with per-job outcomes, and a repeat does nothing more', async () => {
    const started = await admin.jobs.bulkCancel.mutate({ status: 'pending' });
    if (started.dryRun) throw new Error('a real run');
    expect(started.matched).toBe(MANY);
    const op = await finished(admin, started.operationId);
    expect(op).toMatchObject({ action: 'cancel', status: 'completed', matched: MANY, processed: MANY, succeeded: MANY, skipped: 0, organizationId: 801 });
    expect(await statusCounts(801)).toEqual({ cancelled: MANY });
    // Each job's timeline got its event; every job's outcome is listed, page by page.
    const outcomes = new Map<string, string>();
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof admin.jobs.bulkOperationItems.query>> = await admin.jobs.bulkOperationItems.query({ operationId: started.operationId, limit: 1000, cursor });
      for (const item of page.items) outcomes.set(item.jobId, item.outcome);
      cursor = page.nextCursor;
    } while (cursor);
    expect(outcomes.size).toBe(MANY);
    expect(new Set(outcomes.values())).toEqual(new Set(['cancelled']));
    expect((await admin.jobs.events.query({ jobId: many[0]! })).map((e) => e.status)).toEqual(['cancelled']);
    // Safe to repeat: nothing is left to cancel.
    const again = await admin.jobs.bulkCancel.mutate({ status: 'pending' });
    if (again.dryRun) throw new Error('a real run');
    expect(await finished(admin, again.operationId)).toMatchObject({ matched: 0, processed: 0, status: 'completed' });
    // The other organization cannot read the operation.
    expect(await codeOf(otherAdmin.jobs.bulkOperation.query({ operationId: started.operationId }))).toBe('NOT_FOUND');
  }, 180_000);

  it('retries them by filter: a dry run over all 10,000, then the newest 1,000 by time range, each republished once', async () => {
    const dry = await admin.jobs.bulkRetry.mutate({ dryRun: true, type: 'send-email', status: 'cancelled' });
    expect(dry).toMatchObject({ dryRun: true, matched: MANY });
    expect(fake.published).toHaveLength(0);
    // Handing 10,000 jobs to the broker is 10,000 publishes: the real run takes a time-range slice.
    const [edge] = await queryRows<{ created_at: string }>(
      t.server.database.db,
      sql`SELECT created_at::text FROM job_executions WHERE organization_id = 801 ORDER BY created_at DESC OFFSET 999 LIMIT 1`,
    );
    const slice = { type: 'send-email' as const, status: 'cancelled' as const, createdAfter: new Date(edge!.created_at) };
    expect(await admin.jobs.bulkRetry.mutate({ ...slice, dryRun: true })).toMatchObject({ matched: 1000 });
    const started = await admin.jobs.bulkRetry.mutate(slice);
    if (started.dryRun) throw new Error('a real run');
    expect(await finished(admin, started.operationId)).toMatchObject({ status: 'completed', processed: 1000, succeeded: 1000 });
    expect(await statusCounts(801)).toEqual({ pending: 1000, cancelled: MANY - 1000 });
    expect(new Set(fake.published.map((p) => (p.body as { jobId: string }).jobId)).size).toBe(1000);
    expect(fake.published).toHaveLength(1000);
    const [unpublished] = await queryRows<{ n: number }>(t.server.database.db, sql`SELECT count(*)::int AS n FROM job_executions WHERE organization_id = 801 AND status = 'pending' AND message_id IS NULL`);
    expect(unpublished!.n).toBe(0);
    expect((await admin.jobs.get.query({ jobId: many.at(-1)! })).status).toBe('pending'); // the newest row
  }, 180_000);
});

describe('operators across organizations', () => {
  it('act on the jobs of no organization, and the audit log names the bulk operation', async () => {
    const none = await insertJobs(t.server.database.db, { count: 3, organizationId: null, type: 'process-stripe-webhook', status: 'retrying', nextAttemptInMs: 3_600_000, error: { name: 'Error', message: 'stripe 500' } });
    expect(await operator.jobs.bulkCancel.mutate({ organizationId: null, dryRun: true })).toMatchObject({ matched: 3 });
    // An admin's bulk never reaches them (no organization, and a server-only type).
    expect(await admin.jobs.bulkCancel.mutate({ dryRun: true, status: 'retrying' })).toMatchObject({ matched: 0 });
    const started = await operator.jobs.bulkCancel.mutate({ organizationId: null, errorText: 'stripe' });
    if (started.dryRun) throw new Error('a real run');
    expect(await finished(operator, started.operationId)).toMatchObject({ succeeded: 3, organizationId: null });
    expect((await operator.jobs.list.query({ organizationId: null })).items.filter((j) => none.includes(j.jobId)).map((j) => j.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    const [entry] = (await operator.ops.auditLog.query({ action: 'jobs.bulkCancel' })).items;
    expect(entry).toMatchObject({ bulkOperationId: started.operationId, outcome: 'ok', input: { organizationId: null, errorText: 'stripe' } });
    // An admin never sees an operator's all-organization run.
    expect(await codeOf(admin.jobs.bulkOperation.query({ operationId: started.operationId }))).toBe('NOT_FOUND');
  });
});

describe('run now and replay', () => {
  it('runs a delayed job at once, withdrawing the waiting message', async () => {
    const [jobId] = await insertJobs(t.server.database.db, { count: 1, organizationId: 801, status: 'pending', runInMs: 3_600_000 });
    await t.server.database.db.execute(sql`UPDATE job_executions SET message_id = 'msg_waiting' WHERE job_id = ${jobId!}`);
    const before = fake.published.length;
    expect(await admin.jobs.runNow.mutate({ jobId: jobId! })).toEqual({ jobId });
    expect(fake.cancelled).toContain('msg_waiting');
    const publish = fake.published.slice(before);
    expect(publish).toHaveLength(1);
    expect(publish[0]!.headers['upstash-not-before']).toBeUndefined();
    expect(publish[0]!.headers['upstash-deduplication-id']).toBe(`${jobId}-1`);
    expect(await codeOf(member.jobs.runNow.mutate({ jobId: jobId! }))).toBe('FORBIDDEN'); // send-email is an admin type
    expect(await codeOf(otherAdmin.jobs.runNow.mutate({ jobId: jobId! }))).toBe('NOT_FOUND');
  });

  it('runs a retrying job before its backoff ends; a finished job cannot be run now', async () => {
    const [retrying] = await insertJobs(t.server.database.db, { count: 1, organizationId: 801, status: 'retrying', nextAttemptInMs: 3_600_000, error: { name: 'Error', message: 'flaky' } });
    await admin.jobs.runNow.mutate({ jobId: retrying! });
    const job = await admin.jobs.get.query({ jobId: retrying! });
    expect(job).toMatchObject({ status: 'retrying', retryCount: 1, nextAttemptAt: null });
    const [done] = await insertJobs(t.server.database.db, { count: 1, organizationId: 801, status: 'completed' });
    expect(await codeOf(admin.jobs.runNow.mutate({ jobId: done! }))).toBe('CONFLICT');
  });

  it('replays a finished job with an edited payload, validated, as a new job linked to the original', async () => {
    const [original] = await insertJobs(t.server.database.db, { count: 1, organizationId: 801, status: 'failed', error: { name: 'Error', message: 'bounced' } });
    const jobsBefore = (await statusCounts(801)).pending ?? 0;
    expect(await codeOf(admin.jobs.replay.mutate({ jobId: original!, payload: { to: 'not an address', template: 'welcome' } }))).toBe('BAD_REQUEST');
    expect((await statusCounts(801)).pending ?? 0).toBe(jobsBefore);
    const edited = { to: 'fixed@example.com', template: 'welcome' };
    const replay = await admin.jobs.replay.mutate({ jobId: original!, payload: edited });
    expect(replay.replayOf).toBe(original);
    expect(replay.jobId).not.toBe(original);
    expect(await admin.jobs.get.query({ jobId: replay.jobId })).toMatchObject({ type: 'send-email', organizationId: 801, payload: { to: 'fixed@example.com', template: 'welcome' } });
    expect((await admin.jobs.get.query({ jobId: original! })).status).toBe('failed');
    expect(await admin.jobs.replays.query({ jobId: original! })).toEqual({ replayOf: null, replays: [replay.jobId] });
    expect(await admin.jobs.replays.query({ jobId: replay.jobId })).toEqual({ replayOf: original, replays: [] });
    expect(fake.published.some((p) => (p.body as { jobId: string }).jobId === replay.jobId)).toBe(true);
    // Unchanged payload by default; a running job cannot be replayed; nor another organization's.
    expect((await admin.jobs.replay.mutate({ jobId: original! })).replayOf).toBe(original);
    const [running] = await insertJobs(t.server.database.db, { count: 1, organizationId: 801, status: 'processing' });
    expect(await codeOf(admin.jobs.replay.mutate({ jobId: running! }))).toBe('CONFLICT');
    expect(await codeOf(otherAdmin.jobs.replay.mutate({ jobId: original! }))).toBe('NOT_FOUND');
  });
});
