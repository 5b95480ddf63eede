/**
 * The seed's `createJobWorker<T>(handler)` (API reference, Creating New Job Types step 4) as a
 * host app mounts it: an Express route that verifies the QStash signature against `PUBLIC_URL` +
 * the catalogue endpoint, claims the job, runs `(payload, job)` and settles it. Also the usage
 * guide's "Monitoring Job Status" polling sample.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QSTASH_DEV_CURRENT_SIGNING_KEY } from '../../server/env.ts';
import { createJobWorker, getJobExecutionByJobId, jobDispatcher, JOB_TYPES, type BaseJob } from '../../server/index.ts';
import { signDelivery } from '../support/signDelivery.ts';
import { startTestServer, waitFor, type TestServer } from '../support/testServer.ts';

let t: TestServer;
let hostApp: Server;
let hostUrl: string;
const seen: Array<{ payload: unknown; job: BaseJob }> = [];

interface MyPayload {
  template: string;
  to: string;
}

beforeAll(async () => {
  t = await startTestServer();
  const myJobHandler = async (payload: MyPayload, job: BaseJob) => {
    // Process job
    seen.push({ payload, job });
  };
  const POST = createJobWorker<MyPayload>(myJobHandler);
  const app = express();
  app.post('/api/jobs/email', POST);
  app.post('/api/jobs/not-a-type', POST);
  hostApp = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => hostApp.once('listening', resolve));
  hostUrl = `http://127.0.0.1:${(hostApp.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => hostApp.close(resolve));
  await t.stop();
});

/** A job the broker holds back for an hour, so that this test alone delivers it, to the host app. */
async function deliverToHostApp(path: string, opts: { signFor?: string } = {}) {
  const jobId = await jobDispatcher.enqueue(JOB_TYPES.SEND_EMAIL, { template: 'welcome', to: 'host@example.com', data: {} }, { userId: 5 }, { delay: 3_600_000 });
  const body = JSON.stringify({ jobId, type: 'send-email', payload: {}, metadata: {} });
  const signature = await signDelivery({ url: `${t.server.publicUrl}${opts.signFor ?? '/api/jobs/email'}`, body, key: QSTASH_DEV_CURRENT_SIGNING_KEY });
  const response = await fetch(`${hostUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'upstash-signature': signature, 'upstash-message-id': 'msg_host' }, body });
  return { jobId, response };
}

describe('createJobWorker(handler) in a host app', () => {
  it('verifies, runs the seed-style handler with (payload, job) from the row, and settles the job', async () => {
    const { jobId, response } = await deliverToHostApp('/api/jobs/email');
    expect(response.status).toBe(200);
    const run = seen.find((s) => s.job.jobId === jobId);
    expect(run?.payload).toEqual({ template: 'welcome', to: 'host@example.com', data: {} });
    expect(run?.job).toMatchObject({ jobId, type: 'send-email', payload: run?.payload, metadata: { userId: 5 } });
    expect((await getJobExecutionByJobId(jobId))?.status).toBe('completed');
  });

  it('refuses a signature made for another URL, and a path that is no catalogue endpoint', async () => {
    const forged = await deliverToHostApp('/api/jobs/email', { signFor: '/api/jobs/report' });
    expect(forged.response.status).toBe(401);
    expect((await getJobExecutionByJobId(forged.jobId))?.status).toBe('pending');
    const unknown = await deliverToHostApp('/api/jobs/not-a-type');
    expect(unknown.response.status).toBe(404);
  });
});

describe('usage guide: monitoring job status', () => {
  it('polls getJobExecutionByJobId until the export completes', async () => {
    const payload = { entityType: 'jobs', format: 'csv' as const, filters: {} };
    const jobId = await jobDispatcher.enqueue(JOB_TYPES.EXPORT_DATA, payload, { organizationId: 9 });

    // Poll for completion (in a real app, use WebSockets or Server-Sent Events)
    let shown = '';
    const checkJobStatus = async () => {
      const execution = await getJobExecutionByJobId(jobId);
      if (execution?.status === 'completed') {
        shown = 'success'; // Show success message
      } else if (execution?.status === 'failed') {
        shown = 'error'; // Show error message
      }
    };
    await waitFor(async () => (await checkJobStatus(), shown));
    expect(shown).toBe('success');
  });
});
