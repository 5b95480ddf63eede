/**
 * Several instances behind a real load balancer (issue 14 item 6): three `npm start` processes
 * on one PostgreSQL, one standalone broker (`npm run qstash:dev`, standing in for QStash cloud),
 * HAProxy in front. Every request and every delivery goes through HAProxy. Handler runs are
 * counted from the job timeline (`job_events`), never from timing.
 *
 * Run with `npm run test:multi-instance` (scripts/multi-instance/run.sh); it prints the numbers
 * docs/deployment.md quotes.
 */
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobsClient, type JobsClient } from '../../../client/createJobsClient.ts';
import { watchJob } from '../../../client/watchJob.ts';
import { signToken } from '../../../server/auth/token.ts';
import type { JobEvent } from '../../../shared/jobEvent.ts';
import { brokerPublishes, executors, inPool, jobRuns, sleep, unfinished } from './inspect.ts';
import { startTopology, waitUntil, type Instance, type Topology } from './topology.ts';

let topology: Topology;
let sql: postgres.Sql;
let brokerSql: postgres.Sql;
let token: string;
/** Through the load balancer, as every user and the broker reach the system. */
let lb: JobsClient;
const numbers: Record<string, string> = {};

const email = (to: string) => ({ type: 'send-email' as const, payload: { template: 'welcome' as const, to, data: { recipientName: 'Ada' } } });
const clientOf = (url: string) => createJobsClient({ url: `${url}/trpc`, token });
const allCompleted = (jobIds: readonly string[], timeoutMs = 60_000) =>
  waitUntil(async () => (await unfinished(sql, jobIds)) === 0, timeoutMs, `${jobIds.length} jobs completed`);

/** Every job completed, its handler ran exactly once and it completed exactly once. */
async function expectRanOnce(jobIds: readonly string[]) {
  const runs = await jobRuns(sql, jobIds);
  expect(runs.size).toBe(jobIds.length);
  const wrong = [...runs].filter(([, r]) => r.status !== 'completed' || r.runs !== 1 || r.completions !== 1);
  expect(wrong).toEqual([]);
}

beforeAll(async () => {
  const started = Date.now();
  topology = await startTopology();
  numbers['topology start (3 instances, broker, HAProxy)'] = `${((Date.now() - started) / 1000).toFixed(1)} s`;
  sql = postgres(topology.databaseUrl, { max: 2, onnotice: () => undefined });
  brokerSql = postgres(topology.brokerDatabaseUrl, { max: 1, onnotice: () => undefined });
  token = await signToken({ userId: '1', organizationId: 1, role: 'admin' }, topology.authSecret);
  lb = clientOf(topology.url);
}, 240_000);

afterAll(async () => {
  await sql?.end();
  await brokerSql?.end();
  await topology?.stop();
  process.stdout.write(`\nMulti-instance numbers (${topology?.instances.length ?? 0} instances behind HAProxy):\n`);
  for (const [name, value] of Object.entries(numbers)) process.stdout.write(`  ${name.padEnd(58)} ${value}\n`);
}, 120_000);

describe('three instances behind HAProxy', () => {
  let scheduleId: string;
  let scheduleCreatedAt: number;

  it('creates a schedule once through the load balancer (checked firing at the end)', async () => {
    // Every minute: the firings are checked after the other steps, which take over two minutes.
    ({ scheduleId } = await lb.jobs.schedule.mutate({ type: 'send-email', cron: '* * * * *', payload: email('cron@example.com').payload }));
    scheduleCreatedAt = Date.now();
    const [row] = await brokerSql<{ n: number }[]>`SELECT count(*)::int AS n FROM qstash.schedules WHERE id = ${scheduleId}`;
    expect(row?.n).toBe(1);
  });

  it('spreads requests and deliveries over every instance, and runs each job once', async () => {
    const before = await topology.lbStats();
    const jobIds = await inPool(Array.from({ length: 60 }, (_, i) => i), 6, async (i) => (await lb.jobs.enqueue.mutate(email(`spread-${i}@example.com`))).jobId);
    await allCompleted(jobIds);
    await expectRanOnce(jobIds);
    const after = await topology.lbStats();
    for (const instance of topology.instances) expect(after.get(instance.name)!.total).toBeGreaterThan(before.get(instance.name)!.total);
    const ranOn = new Set(jobIds.flatMap((id) => executors(topology.instances).get(id) ?? []));
    expect(ranOn.size).toBe(topology.instances.length);
  });

  it('streams live status from every instance while the job runs on another one', async () => {
    // Delayed, so every subscriber is connected before the job runs.
    const { jobId } = await lb.jobs.enqueue.mutate({ ...email('live@example.com'), options: { delay: 6_000 } });
    const seen = new Map<string, JobEvent[]>();
    const subscriptions = topology.instances.map((instance) => {
      seen.set(instance.name, []);
      return watchJob(clientOf(instance.url), jobId, { onEvent: (e) => seen.get(instance.name)!.push(e) });
    });
    try {
      await waitUntil(async () => [...seen.values()].every((events) => events.length > 0), 6_000, 'every instance streamed the pending state');
      await waitUntil(async () => [...seen.values()].every((events) => events.some((e) => e.status === 'completed')), 30_000, 'every instance streamed the completion');
    } finally {
      for (const s of subscriptions) s.unsubscribe();
    }
    const ranOn = executors(topology.instances).get(jobId) ?? [];
    expect(ranOn).toHaveLength(1);
    const timeline = await lb.jobs.events.query({ jobId });
    const others = topology.instances.filter((i) => i.name !== ranOn[0]);
    expect(others).toHaveLength(topology.instances.length - 1);
    for (const other of others) {
      const events = seen.get(other.name)!;
      // Started from the pending state, then every change as it happened on the other instance.
      expect(events[0]?.status).toBe('pending');
      expect(events.map((e) => e.eventId)).toEqual(timeline.filter((e) => BigInt(e.eventId) >= BigInt(events[0]!.eventId)).map((e) => e.eventId));
      expect(events.map((e) => e.status)).toContain('processing');
    }
  });

  it('publishes what the broker missed exactly once, though three sweepers look for it', async () => {
    await topology.stopBroker();
    let jobIds: string[];
    let restartedAt: number;
    try {
      // The broker is down: enqueue still answers (the row is committed first) and leaves the rows unpublished.
      jobIds = await inPool(Array.from({ length: 6 }, (_, i) => i), 3, async (i) => (await lb.jobs.enqueue.mutate(email(`outbox-${i}@example.com`))).jobId);
      const [waiting] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM job_executions WHERE job_id = ANY(${jobIds}::uuid[]) AND published_at IS NULL`;
      expect(waiting?.n).toBe(jobIds.length);
    } finally {
      restartedAt = Date.now();
      await topology.startBroker();
    }
    await allCompleted(jobIds, 90_000); // sweepers run every 10 s
    numbers['broker outage: unpublished jobs completed after broker start'] = `${((Date.now() - restartedAt) / 1000).toFixed(1)} s`;
    await expectRanOnce(jobIds);
    expect(await brokerPublishes(brokerSql, restartedAt)).toBe(jobIds.length);
  }, 150_000);

  it('measures throughput through the load balancer', async () => {
    const count = 400;
    const started = Date.now();
    const jobIds = await inPool(Array.from({ length: count }, (_, i) => i), 16, async (i) => (await lb.jobs.enqueue.mutate(email(`load-${i}@example.com`))).jobId);
    const enqueued = Date.now();
    await allCompleted(jobIds, 180_000);
    const done = Date.now();
    await expectRanOnce(jobIds);
    numbers[`enqueue through HAProxy (${count} jobs, 16 concurrent clients)`] = `${((count * 1000) / (enqueued - started)).toFixed(0)} jobs/s`;
    numbers[`enqueue → completed, end to end (${count} send-email jobs)`] = `${((count * 1000) / (done - started)).toFixed(0)} jobs/s (${((done - started) / 1000).toFixed(1)} s)`;
  }, 240_000);

  it('restarts every instance in turn under load, losing and repeating nothing', async () => {
    // A live stream of the organization's completions, through the load balancer, kept across the restarts.
    const streamed = new Set<string>();
    const stream = lb.jobs.onEvents.subscribe({ status: 'completed' }, { onData: ({ data }) => void streamed.add(data.jobId) });
    await sleep(500);

    const accepted: string[] = [];
    const failures: string[] = [];
    /** Failed enqueues while an instance was stopped without being drained first (measured, not asserted). */
    const undrainedFailures: string[] = [];
    let drained = true;
    const latencies: number[] = [];
    let load = true;
    let n = 0;
    const client = async () => {
      while (load) {
        const started = Date.now();
        try {
          const { jobId } = await lb.jobs.enqueue.mutate(email(`rolling-${n++}@example.com`));
          accepted.push(jobId);
          latencies.push(Date.now() - started);
        } catch (error) {
          (drained ? failures : undrainedFailures).push(error instanceof Error ? error.message : String(error));
        }
        await sleep(20);
      }
    };
    const clients = Array.from({ length: 4 }, client);

    const restartTimes: number[] = [];
    for (const instance of topology.instances) restartTimes.push(await rollingRestart(instance));
    // For the docs: the same restart without draining in HAProxy first (SIGTERM only; HAProxy finds out from its checks).
    drained = false;
    const acceptedBefore = accepted.length;
    await topology.instances[0]!.stop();
    await topology.instances[0]!.start();
    await waitUntil(async () => (await topology.lbStats()).get(topology.instances[0]!.name)?.status === 'UP', 20_000, 'back UP');
    const undrainedAccepted = accepted.length - acceptedBefore;
    drained = true;
    await sleep(1_000); // load on the restarted set
    load = false;
    await Promise.all(clients);

    try {
      await allCompleted(accepted, 120_000);
      await waitUntil(async () => accepted.every((id) => streamed.has(id)), 30_000, 'the live stream saw every completion');
    } finally {
      stream.unsubscribe();
    }
    expect(failures).toEqual([]);
    expect(accepted.length).toBeGreaterThan(0);
    await expectRanOnce(accepted);
    latencies.sort((a, b) => a - b);
    numbers['rolling restart: jobs enqueued during the restarts'] = `${accepted.length}, ${failures.length} failed, ${accepted.length} completed once`;
    numbers['rolling restart: enqueue latency p50 / p99 / max'] = [0.5, 0.99, 1].map((q) => `${latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]} ms`).join(' / ');
    numbers['rolling restart: per instance (drain, stop, start, ready)'] = restartTimes.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ');
    numbers['restart WITHOUT draining first: enqueues accepted / failed'] = `${undrainedAccepted} / ${undrainedFailures.length}${undrainedFailures[0] ? ` (${undrainedFailures[0].slice(0, 60)})` : ''}`;
  }, 400_000);

  it('fired the schedule once per minute, not once per instance', async () => {
    const firings = async () =>
      sql<{ minute: Date; jobs: number }[]>`
        SELECT date_trunc('minute', created_at) AS minute, count(*)::int AS jobs FROM job_executions
        WHERE schedule_id = ${scheduleId} GROUP BY 1 ORDER BY 1`;
    await waitUntil(async () => (await firings()).length > 0, Math.max(5_000, scheduleCreatedAt + 130_000 - Date.now()), 'the schedule fired');
    await sleep(3_000); // room for duplicate deliveries of the latest firing to land
    await lb.jobs.schedules.delete.mutate({ scheduleId });
    const rows = await firings();
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.filter((r) => r.jobs !== 1)).toEqual([]);
    const jobIds = (await sql<{ id: string }[]>`SELECT job_id AS id FROM job_executions WHERE schedule_id = ${scheduleId}`).map((r) => r.id);
    await allCompleted(jobIds);
    await expectRanOnce(jobIds);
    numbers['schedule "* * * * *": firings seen, jobs per firing'] = `${rows.length}, ${[...new Set(rows.map((r) => r.jobs))].join(',')}`;
  }, 120_000);

  it('keeps one default cleanup schedule and no orphaned broker schedules after every instance started twice', async () => {
    const [app] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM job_schedules WHERE id = 'jobwire-cleanup-daily'`;
    const [broker] = await brokerSql<{ n: number }[]>`SELECT count(*)::int AS n FROM qstash.schedules WHERE id = 'jobwire-cleanup-daily'`;
    expect(app?.n).toBe(1);
    expect(broker?.n).toBe(1);
    const appIds = (await sql<{ id: string }[]>`SELECT id FROM job_schedules ORDER BY id`).map((r) => r.id);
    const brokerIds = (await brokerSql<{ id: string }[]>`SELECT id FROM qstash.schedules ORDER BY id`).map((r) => r.id);
    expect(brokerIds).toEqual(appIds);
  });
});

/** Drain in the load balancer, stop (SIGTERM: running requests finish), start, wait ready, back in. */
async function rollingRestart(instance: Instance): Promise<number> {
  const started = Date.now();
  await topology.setLbState(instance, 'maint');
  await instance.stop();
  await instance.start();
  await topology.setLbState(instance, 'ready');
  await waitUntil(async () => (await topology.lbStats()).get(instance.name)?.status === 'UP', 20_000, `${instance.name} UP in HAProxy`);
  return Date.now() - started;
}
