/** `GET /metrics` (issue 11 §4), parsed as Prometheus text and checked against what was done. */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobTypeConfig } from '../../shared/catalogue.ts';
import type { JobHandler } from '../../server/jobs/handlers.ts';
import { insertJobs } from '../ops/support/insertJobs.ts';
import { startTestServer, waitFor, type TestServer } from '../support/testServer.ts';
import { parsePrometheus, type Exposition } from './support/parsePrometheus.ts';

const TOKEN = 'metrics-token-0123456789';
const email: JobHandler<'send-email'> = async (payload) => {
  if (payload.to.startsWith('fail')) throw new Error(`mailbox ${payload.to} refused`);
  return { to: payload.to };
};

let t: TestServer;
beforeAll(async () => {
  // No sweeper: the only publishes are enqueue's, and rows inserted below stay as they are.
  t = await startTestServer({ handlers: { 'send-email': email }, metrics: { token: TOKEN, port: 0, cacheMs: 0 }, sweeper: { intervalMs: 3_600_000 } });
});
afterAll(async () => t?.stop());

async function scrape(url = `${t.server.url}/metrics`, token: string | undefined = TOKEN): Promise<Exposition> {
  const response = await fetch(url, token ? { headers: { Authorization: `Bearer ${token}` } } : {});
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheus(await response.text());
}
const count = (m: Exposition, name: string, labels: Record<string, string> = {}) => m.value(name, labels) ?? 0;

describe('GET /metrics', () => {
  it('asks for the bearer token, on the app port and the metrics port alike', async () => {
    expect((await fetch(`${t.server.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${t.server.url}/metrics`, { headers: { Authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    expect(t.server.metricsUrl).toBeDefined();
    expect((await fetch(`${t.server.metricsUrl}/metrics`)).status).toBe(401);
    const separate = await scrape(`${t.server.metricsUrl}/metrics`);
    expect(separate.types.get('jobwire_jobs_enqueued_total')).toBe('counter');
    expect((await fetch(`${t.server.metricsUrl}/trpc/jobs.list`)).status).toBe(404); // only /metrics there
  });

  it('counts enqueued, started, completed, retried and failed jobs, attempt durations and enqueue-to-start latency', async () => {
    const before = await scrape();
    const admin = await t.client({ role: 'admin' });
    const ok = await Promise.all([admin.jobs.enqueue.mutate({ type: 'send-email', payload: { to: 'a@example.com', template: 'welcome' } }), admin.jobs.enqueue.mutate({ type: 'send-email', payload: { to: 'b@example.com', template: 'welcome' } })]);
    const bad = await admin.jobs.enqueue.mutate({ type: 'send-email', payload: { to: 'fail@example.com', template: 'welcome' }, options: { retries: 1 } });
    await waitFor(async () => (await Promise.all([...ok, bad].map((j) => admin.jobs.get.query({ jobId: j.jobId })))).every((j) => j.status === 'completed' || j.status === 'failed'));
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) => count(after, name, labels) - count(before, name, labels);
    const email = { type: 'send-email' };
    expect(delta('jobwire_jobs_enqueued_total', email)).toBe(3);
    expect(delta('jobwire_jobs_started_total', email)).toBe(4); // the failing job ran twice
    expect(delta('jobwire_jobs_completed_total', email)).toBe(2);
    expect(delta('jobwire_jobs_retried_total', email)).toBe(1);
    expect(delta('jobwire_jobs_failed_total', email)).toBe(1);
    expect(delta('jobwire_attempt_duration_seconds_count', { ...email, outcome: 'completed' })).toBe(2);
    expect(delta('jobwire_attempt_duration_seconds_count', { ...email, outcome: 'retried' })).toBe(1);
    expect(delta('jobwire_attempt_duration_seconds_count', { ...email, outcome: 'failed' })).toBe(1);
    expect(delta('jobwire_enqueue_to_start_seconds_count', email)).toBe(3); // first attempts only
    expect(count(after, 'jobwire_enqueue_to_start_seconds_bucket', { ...email, le: '+Inf' })).toBe(count(after, 'jobwire_enqueue_to_start_seconds_count', email));
    expect(after.types.get('jobwire_attempt_duration_seconds')).toBe('histogram');
  });

  it('counts deliveries refused for their signature', async () => {
    const before = count(await scrape(), 'jobwire_deliveries_refused_total', { reason: 'signature' });
    const endpoint = `${t.server.url}${jobTypeConfig('send-email').endpoint}`;
    const unsigned = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const forged = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json', 'upstash-signature': 'e30.e30.e30' }, body: '{}' });
    expect([unsigned.status, forged.status]).toEqual([401, 401]);
    expect(count(await scrape(), 'jobwire_deliveries_refused_total', { reason: 'signature' }) - before).toBe(2);
  });

  it('reports queue depth, the oldest waiting job and the outbox backlog from the database', async () => {
    const db = t.server.database.db;
    await insertJobs(db, { count: 5, organizationId: 1, type: 'generate-report', status: 'pending', agoMs: 120_000 });
    await insertJobs(db, { count: 2, organizationId: 1, type: 'generate-report', status: 'retrying', nextAttemptInMs: 600_000, agoMs: 30_000 });
    await insertJobs(db, { count: 3, organizationId: null, type: 'cleanup-old-data', status: 'pending', publishedAt: null, agoMs: 600_000 });
    const m = await scrape();
    expect(m.value('jobwire_queue_depth', { type: 'generate-report', status: 'pending' })).toBe(5);
    expect(m.value('jobwire_queue_depth', { type: 'generate-report', status: 'retrying' })).toBe(2);
    expect(m.value('jobwire_queue_depth', { type: 'cleanup-old-data', status: 'pending' })).toBe(3);
    expect(m.value('jobwire_queue_oldest_seconds', { type: 'generate-report', status: 'pending' })).toBeGreaterThanOrEqual(110);
    expect(m.value('jobwire_queue_oldest_seconds', { type: 'generate-report', status: 'retrying' })).toBe(0); // none due yet
    expect(m.value('jobwire_outbox_unpublished')).toBe(3);
    expect(m.value('jobwire_outbox_oldest_seconds')).toBeGreaterThanOrEqual(590);
    await db.execute(sql`UPDATE job_executions SET status = 'completed', completed_at = now() WHERE job_type IN ('generate-report', 'cleanup-old-data')`);
    const drained = await scrape();
    expect(drained.value('jobwire_queue_depth', { type: 'generate-report', status: 'pending' })).toBeUndefined();
    expect(drained.value('jobwire_outbox_unpublished')).toBe(0);
    expect(drained.value('jobwire_outbox_oldest_seconds')).toBe(0);
  });

  it('reports open subscriptions, the event-loop lag and the default process metrics', async () => {
    const admin = await t.client({ role: 'admin' });
    // A job that stays pending: a stream on a finished job ends (and closes) by itself.
    const [jobId] = await insertJobs(t.server.database.db, { count: 1, organizationId: 1, status: 'pending', runInMs: 3_600_000 });
    const base = count(await scrape(), 'jobwire_subscriptions_open');
    const sub = admin.jobs.onStatus.subscribe({ jobId: jobId! }, { onData: () => undefined });
    await waitFor(async () => count(await scrape(), 'jobwire_subscriptions_open') === base + 1);
    sub.unsubscribe();
    await waitFor(async () => count(await scrape(), 'jobwire_subscriptions_open') === base);
    const m = await scrape();
    expect(m.types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
    expect(m.value('nodejs_eventloop_lag_p99_seconds')).toBeGreaterThanOrEqual(0);
    expect(m.value('process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(m.value('process_resident_memory_bytes')).toBeGreaterThan(0);
  });
});
