import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobsClient, type JobsClient } from '../../client/createJobsClient.ts';
import { waitForJob } from '../../client/waitForJob.ts';
import { signToken } from '../../server/auth/token.ts';
import { QSTASH_DEV_CURRENT_SIGNING_KEY, QSTASH_DEV_NEXT_SIGNING_KEY, QSTASH_DEV_TOKEN } from '../../server/env.ts';
import { startServer, type RunningServer } from '../../server/startServer.ts';
import type { JobEvent } from '../../shared/jobEvent.ts';
import { freePort } from '../support/freePort.ts';
import { TEST_DRIVER } from '../support/testDatabase.ts';
import { startTestServer, TEST_AUTH_SECRET, waitFor, type TestServer } from '../support/testServer.ts';
import pino from 'pino';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => t?.stop());

const email = (to: string) => ({ type: 'send-email' as const, payload: { to, template: 'welcome' as const, data: { recipientName: 'Org' } } });

/** Collects an organization stream in the background. */
function record(client: JobsClient, input: Parameters<JobsClient['jobs']['onEvents']['subscribe']>[0] = {}) {
  const events: JobEvent[] = [];
  const sub = client.jobs.onEvents.subscribe(input, { onData: ({ data }) => void events.push(data) });
  return { events, stop: () => sub.unsubscribe() };
}

describe('jobs.onEvents', () => {
  it("streams every event of the caller's organization and never another's", async () => {
    const org1 = await t.client({ organizationId: 31 });
    const org2 = await t.client({ organizationId: 32 });
    const one = record(org1);
    const two = record(org2);
    const completedOnly = record(org1, { status: 'completed' });
    await waitFor(() => t.server.jobs.events.subscriberCount === 3);

    const { jobId: a } = await org1.jobs.enqueue.mutate(email('a@example.com'));
    const { jobId: b } = await org2.jobs.enqueue.mutate(email('b@example.com'));
    await waitForJob(org1, a);
    await waitForJob(org2, b);
    await waitFor(() => one.events.some((e) => e.status === 'completed') && two.events.some((e) => e.status === 'completed'));

    expect(new Set(one.events.map((e) => e.jobId))).toEqual(new Set([a]));
    expect(new Set(two.events.map((e) => e.jobId))).toEqual(new Set([b]));
    expect(one.events.map((e) => e.status)).toEqual(['pending', 'processing', 'completed']);
    await waitFor(() => completedOnly.events.length === 1);
    expect(completedOnly.events[0]).toMatchObject({ jobId: a, status: 'completed' });
    for (const s of [one, two, completedOnly]) s.stop();
    await waitFor(() => t.server.jobs.events.subscriberCount === 0);
  });

  it('replays what a dashboard missed, from lastEventId', async () => {
    const org = await t.client({ organizationId: 33 });
    const { jobId } = await org.jobs.enqueue.mutate(email('missed@example.com'));
    await waitForJob(org, jobId);
    const timeline = await org.jobs.events.query({ jobId });
    const resumed = record(org, { lastEventId: timeline[0]!.eventId });
    await waitFor(() => resumed.events.length >= timeline.length - 1);
    resumed.stop();
    expect(resumed.events.map((e) => e.eventId)).toEqual(timeline.slice(1).map((e) => e.eventId));
  });
});

describe('across server instances', () => {
  // A second `npm start` compiles the server with tsx on the fly: seconds when idle, far more
  // while the rest of the suite loads both cores, so it starts in a hook with room to spare.
  let other: { url: string; stop(): Promise<void> };
  beforeAll(async () => {
    other = await startOtherInstance(t);
  }, 150_000);
  afterAll(async () => other?.stop());

  it('shows a job processed by one instance live to a subscriber on another', async () => {
    const token = await signToken({ userId: '1', organizationId: 34, role: 'admin' }, TEST_AUTH_SECRET);
    const onOther = createJobsClient({ url: `${other.url}/trpc`, token });
    const onFirst = createJobsClient({ url: `${t.server.url}/trpc`, token });
    const dashboard = record(onOther);
    // The stream carries only what happens after it attaches (no lastEventId), so enqueue
    // probes until one shows up on it: from then on it is live.
    const probes = new Set<string>();
    await waitFor(async () => {
      probes.add((await onFirst.jobs.enqueue.mutate(email('probe@example.com'))).jobId);
      return dashboard.events.some((e) => probes.has(e.jobId));
    }, { timeout: 60_000, interval: 250 });

    // Enqueued through the first instance, so its worker route runs it.
    const { jobId } = await onFirst.jobs.enqueue.mutate(email('cross@example.com'));
    const job = await waitForJob(onOther, jobId);
    expect(job.status).toBe('completed');
    await waitFor(() => dashboard.events.some((e) => e.jobId === jobId && e.status === 'completed'));
    expect(dashboard.events.filter((e) => e.jobId === jobId).map((e) => e.status)).toEqual(['pending', 'processing', 'completed']);
    dashboard.stop();
  }, 120_000);
});

/**
 * A second instance on the same database, publishing to the first one's broker (one broker per
 * database). With PostgreSQL it is a separate OS process started as `npm start` would; PGlite
 * cannot be shared across processes, so there it is a second in-process instance on the same
 * PGlite.
 */
async function startOtherInstance(first: TestServer): Promise<{ url: string; stop(): Promise<void> }> {
  const qstash = { baseUrl: first.server.broker!.url, token: QSTASH_DEV_TOKEN, signingKeys: { current: QSTASH_DEV_CURRENT_SIGNING_KEY, next: QSTASH_DEV_NEXT_SIGNING_KEY } };
  if (TEST_DRIVER === 'pglite') {
    const mailboxDir = mkdtempSync(join(tmpdir(), 'jobwire-other-'));
    const server: RunningServer = await startServer({
      port: 0,
      database: { pglite: first.server.database.pglite! },
      qstash,
      authSecret: TEST_AUTH_SECRET,
      email: { from: 'x <x@jobwire.test>', mailboxDir },
      log: pino({ level: 'silent' }),
      drainTimeoutMs: 1_000,
    });
    return { url: server.url, stop: async () => (await server.stop(), rmSync(mailboxDir, { recursive: true, force: true })) };
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'jobwire-other-'));
  // freePort() can lose its port to another test file before the child binds it: try again then.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      env: {
        ...process.env,
        NODE_ENV: 'test',
        PORT: String(port),
        DATA_DIR: dataDir,
        DATABASE_URL: first.server.database.url!,
        QSTASH_URL: qstash.baseUrl,
        QSTASH_TOKEN: qstash.token,
        QSTASH_CURRENT_SIGNING_KEY: qstash.signingKeys.current,
        QSTASH_NEXT_SIGNING_KEY: qstash.signingKeys.next,
        AUTH_SECRET: TEST_AUTH_SECRET,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    for (const stream of [child.stdout!, child.stderr!]) stream.on('data', (chunk: Buffer) => void (output += chunk.toString()));
    let exitCode: number | null | undefined;
    const exited = new Promise<void>((resolve) => child.once('exit', (code) => ((exitCode = code), resolve())));
    const url = `http://127.0.0.1:${port}`;
    // The banner is printed once this child itself listens (a health check could be answered by
    // whichever process took the port).
    await waitFor(() => exitCode !== undefined || output.includes('jobwire is running'), { timeout: 120_000, interval: 100 });
    if (exitCode === undefined) {
      return {
        url,
        async stop() {
          child.kill('SIGTERM');
          await exited;
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    }
    if (attempt < 3 && output.includes('EADDRINUSE')) continue;
    throw new Error(`the second instance exited with code ${exitCode} before it was healthy:\n${output}`);
  }
}
