import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as QStashClient } from '@upstash/qstash';
import { Client as WorkflowClient } from '@upstash/workflow';
import { serve } from '@upstash/workflow/express';
import { and, eq, sql } from 'drizzle-orm';
import express from 'express';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobsClient, type JobsClient } from '../../client/createJobsClient.ts';
import { jobEvents } from '../../client/watchJob.ts';
import { signToken } from '../../server/auth/token.ts';
import { startBroker, type Broker } from '../../server/broker/startBroker.ts';
import { jobExecutions } from '../../server/db/schema.ts';
import { QSTASH_DEV_TOKEN } from '../../server/env.ts';
import type { JobHandler } from '../../server/jobs/handlers.ts';
import { startServer, type RunningServer } from '../../server/startServer.ts';
import { workflowJobHandler, type WorkflowJobInput } from '../../server/workflows/workflowJobHandler.ts';
import type { JobEvent } from '../../shared/jobEvent.ts';
import { waitFor } from '../broker/support/waitFor.ts';
import { createTestDatabaseTarget } from '../support/testDatabase.ts';
import { TEST_AUTH_SECRET } from '../support/testServer.ts';

// A jobwire job type whose handler is an Upstash Workflow: enqueued with jobs.enqueue, its steps in
// jobs.events and jobs.onStatus, and surviving a restart of the broker or of the whole server.
const target = await createTestDatabaseTarget();
const dir = mkdtempSync(join(tmpdir(), 'jobwire-workflow-job-'));
let server: RunningServer;
let client: JobsClient;
let appServer: http.Server;
/** The broker started in place of the server's own by the broker restart test. */
let restarted: Broker | undefined;
const executions: string[] = [];
const failOnce = new Set<string>();
const failAlways = new Set<string>();
/** Step deliveries the workflow endpoint is answering right now. */
let deliveriesInFlight = 0;

const workflowUrl = () => `http://127.0.0.1:${(appServer.address() as AddressInfo).port}/workflows/report`;

function broker(): Broker {
  const current = restarted ?? server.broker;
  if (!current) throw new Error('the test server runs the embedded broker');
  return current;
}

/** Reads of a run's log that fail next (a network blip between the server and the broker). */
let failingReads = 0;
function withFailingReads(client: WorkflowClient): WorkflowClient {
  const logs = client.logs.bind(client);
  client.logs = async (...args) => {
    if (failingReads > 0 && failingReads--) throw new Error('fetch failed (cause: connect ECONNRESET)');
    return logs(...args);
  };
  return client;
}

/** Ends the running server's attempts, just before it stops (see `start`). */
let killAttempts = () => {};

/**
 * The server as the other tests start it, always on this file's database; `ports` to come back where
 * it was. An attempt still running when its server stops dies with it, as it would with the process:
 * it reports and settles nothing more (in one process it would go on, and on PGlite even write).
 */
function start(ports = { port: 0, brokerPort: 0 }): Promise<RunningServer> {
  const generation = { dead: false };
  killAttempts = () => void (generation.dead = true);
  const dead = new Promise<never>(() => {});
  const workflow = workflowJobHandler<'generate-report'>({
    // Resolved at each attempt: the broker in front at that moment.
    connection: () => ({ url: workflowUrl(), client: withFailingReads(new WorkflowClient({ baseUrl: broker().url, token: QSTASH_DEV_TOKEN, enableTelemetry: false })) }),
    expectedSteps: 3,
    pollIntervalMs: 300,
    retries: 2,
    retryDelay: '100',
  });
  const handler: JobHandler<'generate-report'> = (payload, ctx) =>
    workflow(payload, { ...ctx, progress: (fraction, message) => (generation.dead ? dead : ctx.progress(fraction, message)) }).then(
      (result) => (generation.dead ? dead : result),
      (error: unknown) => (generation.dead ? dead : Promise.reject(error)),
    );
  return startServer({
    port: ports.port,
    database: target.pglite ? { pglite: target.pglite } : { url: target.url },
    qstash: { embedded: { port: ports.brokerPort } },
    authSecret: TEST_AUTH_SECRET,
    email: { from: 'jobwire <noreply@jobwire.test>', mailboxDir: join(dir, 'mailbox') },
    filesDir: join(dir, 'files'),
    log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    sweeper: { intervalMs: 100, publishGraceMs: 300, overdueMs: 60_000 },
    backoff: () => 150,
    drainTimeoutMs: 300,
    defaultSchedules: false,
    handlers: { 'generate-report': handler },
  });
}

beforeAll(async () => {
  const app = express();
  app.use(express.json());
  appServer = http.createServer(app);
  await new Promise<void>((resolve) => appServer.listen(0, '127.0.0.1', resolve));
  server = await start();
  client = createJobsClient({ url: `${server.url}/trpc`, token: await signToken({ userId: '1', organizationId: 1, role: 'admin' }, TEST_AUTH_SECRET) });
  app.use('/workflows/report', (_req, res, next) => {
    deliveriesInFlight++;
    res.on('close', () => deliveriesInFlight--);
    next();
  });
  // The broker keeps its port across every restart below, so one QStash client serves the endpoint throughout.
  const qstashClient = new QStashClient({ baseUrl: broker().url, token: QSTASH_DEV_TOKEN, enableTelemetry: false, retry: { retries: 3, backoff: () => 50 } });
  app.use(
    '/workflows/report',
    serve<WorkflowJobInput<'generate-report'>>(
      async (context) => {
        const { jobId, payload } = context.requestPayload;
        const step = <R>(name: string, fn: () => R) =>
          context.run(name, () => {
            executions.push(`${jobId}:${name}`);
            if (failAlways.has(jobId) && name === 'render') throw new Error('renderer is down');
            if (failOnce.delete(`${jobId}:${name}`)) throw new Error(`${name} failed once`);
            return fn();
          });
        const rows = await step('query', () => ({ rows: 3, reportType: payload.reportType }));
        const file = await step('render', () => ({ file: `report.${payload.format}`, rows: rows.rows }));
        if (payload.reportType === 'monthly-analytics') await context.sleep('cool-down', 3);
        await step('store', () => file.file);
        return { ...file, range: `${payload.startDate}..${payload.endDate}` };
      },
      { qstashClient, env: {} },
    ),
  );
});
afterAll(async () => {
  await restarted?.stop();
  await server?.stop();
  appServer?.closeAllConnections();
  await new Promise<void>((resolve) => appServer?.close(() => resolve()));
  await target.drop();
  rmSync(dir, { recursive: true, force: true });
});

const payload = { reportType: 'job-summary', startDate: '2025-05-01', endDate: '2025-05-07', format: 'json' } as const;
const stepsOf = (jobId: string) => executions.filter((e) => e.startsWith(`${jobId}:`)).map((e) => e.slice(jobId.length + 1));

async function settled(jobId: string, status: 'completed' | 'failed') {
  return waitFor(async () => {
    const current = await client.jobs.get.query({ jobId });
    return current.status === status && current;
  }, { timeoutMs: 30_000, what: `the job to be ${status}` });
}

/**
 * Until the run sleeps between "render" and "store": the sleep is recorded (its step is in the job's
 * timeline) and no step delivery is being answered (one in flight when the broker stops would be
 * delivered again, at least once, like any message).
 */
async function untilSleeping(jobId: string): Promise<void> {
  await waitFor(async () => {
    const messages = (await client.jobs.events.query({ jobId })).map((e) => e.message);
    return messages.includes('workflow step "cool-down" finished') && deliveriesInFlight === 0;
  }, { timeoutMs: 20_000, intervalMs: 50, what: 'the run to sleep' });
  expect(stepsOf(jobId)).toEqual(['query', 'render']);
}

describe('a job type implemented as a workflow', () => {
  it('runs end to end through jobs.enqueue; each step shows in jobs.events; a failing step is retried alone', async () => {
    const { jobId } = await client.jobs.enqueue.mutate({ type: 'generate-report', payload });
    failOnce.add(`${jobId}:render`);
    const job = await settled(jobId, 'completed');
    expect(job.result).toEqual({ file: 'report.json', rows: 3, range: '2025-05-01..2025-05-07' });
    expect(stepsOf(jobId)).toEqual(['query', 'render', 'render', 'store']);
    const events = await client.jobs.events.query({ jobId });
    const messages = events.map((e) => e.message);
    for (const name of ['query', 'render', 'store']) expect(messages).toContain(`workflow step "${name}" finished`);
    expect(events.at(-1)?.status).toBe('completed');
  });

  it('streams each step and the completed status live on jobs.onStatus', async () => {
    const { jobId } = await client.jobs.enqueue.mutate({ type: 'generate-report', payload });
    const live: JobEvent[] = [];
    for await (const event of jobEvents(client, jobId, { lastEventId: '0' })) live.push(event); // ends once the job is terminal
    const progress = live.filter((e) => e.status === 'processing' && e.progress !== null);
    expect(progress.map((e) => e.message)).toEqual(['workflow step "query" finished', 'workflow step "render" finished', 'workflow step "store" finished']);
    expect(progress.map((e) => e.progress)).toEqual([expect.closeTo(1 / 3, 5), expect.closeTo(2 / 3, 5), expect.closeTo(0.99, 5)]); // stored as a real
    expect(live[0]?.status).toBe('pending');
    expect(live.at(-1)).toMatchObject({ jobId, status: 'completed', progress: 1, result: { file: 'report.json', rows: 3, range: '2025-05-01..2025-05-07' } });
    // The stream is the job's timeline as jobs.events stores it.
    expect(await client.jobs.events.query({ jobId })).toEqual(live);
  });

  it('a failed read of the run\'s log costs the job no attempt', async () => {
    failingReads = 3;
    const { jobId } = await client.jobs.enqueue.mutate({ type: 'generate-report', payload });
    const job = await settled(jobId, 'completed');
    expect(failingReads).toBe(0);
    expect(job).toMatchObject({ retryCount: 0, result: { file: 'report.json' } });
    expect(stepsOf(jobId)).toEqual(['query', 'render', 'store']);
  });

  it('a run that fails for good fails the job once, with the step\'s error', async () => {
    const { jobId } = await client.jobs.enqueue.mutate({ type: 'generate-report', payload });
    failAlways.add(jobId);
    const job = await settled(jobId, 'failed');
    expect(job.error?.message).toContain('renderer is down');
    expect(stepsOf(jobId).filter((s) => s === 'query')).toHaveLength(1);
    expect(stepsOf(jobId).filter((s) => s === 'render')).toHaveLength(3); // 1 + 2 step retries
  });

  it('a server restart in the middle of the run loses nothing, runs no step twice and completes the job once', async () => {
    const { jobId } = await client.jobs.enqueue.mutate({ type: 'generate-report', payload: { ...payload, reportType: 'monthly-analytics' } });
    // Stop the whole server (its broker with it) while the run sleeps, and start a new one on the same database and ports.
    await untilSleeping(jobId);
    const ports = { port: Number(new URL(server.url).port), brokerPort: broker().port };
    killAttempts();
    await server.stop();
    server = await start(ports);
    // The stopped server's attempt still holds the job's lease: skip the LEASE_MS it takes to lapse,
    // until the new server's sweeper has taken it over (only that attempt's: the next has retry_count 1;
    // in one process the dead attempt's lease renewal outlives its server, hence the repeat).
    const lostAttempt = and(eq(jobExecutions.id, jobId), eq(jobExecutions.status, 'processing'), eq(jobExecutions.retryCount, 0));
    await waitFor(async () => {
      const lapsed = await server.database.db.update(jobExecutions).set({ leaseUntil: sql`now() - interval '1 second'` }).where(lostAttempt).returning({ id: jobExecutions.id });
      return lapsed.length === 0;
    }, { timeoutMs: 10_000, intervalMs: 50, what: 'the lost attempt to be taken over' });
    const job = await settled(jobId, 'completed');
    expect(job.result).toMatchObject({ file: 'report.json' });
    expect(stepsOf(jobId)).toEqual(['query', 'render', 'store']);
    const events = await client.jobs.events.query({ jobId });
    expect(events.filter((e) => e.status === 'completed')).toHaveLength(1);
    // The lost attempt counts as a failed one (taken over by the sweeper or by the next delivery's
    // claim); the next re-attaches and reports what finished before it in one event (by then the run
    // may have finished: it went on in the restarted broker), then the rest.
    expect(events.find((e) => e.message?.startsWith('workflow run re-attached'))?.retryCount).toBe(1);
    const messages = events.map((e) => e.message).filter((m) => m !== null);
    const reattached = messages.findIndex((m) => m.startsWith('workflow run re-attached'));
    expect(messages.slice(0, 2)).toEqual(['workflow step "query" finished', 'workflow step "render" finished']);
    expect(messages[reattached]).toMatch(/^workflow run re-attached; \d step\(s\) already finished: "query", "render"/);
    // No step is announced finished twice; the catch-up names what finished before the new attempt, and only that.
    const stepName = (m: string) => /^workflow step "(.+)" finished$/.exec(m)?.[1];
    const announced = messages.map(stepName).filter((name) => name !== undefined);
    expect(new Set(announced).size).toBe(announced.length);
    const caughtUp = [...messages[reattached]!.matchAll(/"([^"]+)"/g)].map((match) => match[1]);
    expect(messages.slice(reattached + 1).map(stepName).filter((name) => name !== undefined && caughtUp.includes(name))).toEqual([]);
    expect(new Set([...announced, ...caughtUp])).toEqual(new Set(['query', 'render', 'cool-down', 'store']));
  });

  it('a broker restart in the middle of the run loses nothing and runs no step twice', async () => {
    const { jobId } = await client.jobs.enqueue.mutate({ type: 'generate-report', payload: { ...payload, reportType: 'monthly-analytics' } });
    await untilSleeping(jobId);
    const current = broker();
    const port = current.port;
    await current.stop();
    const storage = server.database.pglite ? { pglite: server.database.pglite } : { url: server.database.url! };
    restarted = await startBroker({ port, storage });
    const job = await settled(jobId, 'completed');
    expect(job.result).toMatchObject({ file: 'report.json' });
    expect(stepsOf(jobId)).toEqual(['query', 'render', 'store']);
    const messages = (await client.jobs.events.query({ jobId })).map((e) => e.message);
    expect(messages).toEqual(expect.arrayContaining(['workflow step "query" finished', 'workflow step "render" finished', 'workflow step "cool-down" finished', 'workflow step "store" finished']));
  });
});
