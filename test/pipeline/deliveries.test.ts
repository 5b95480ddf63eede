import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForJob } from '../../client/waitForJob.ts';
import { jobEvents, jobExecutions } from '../../server/db/schema.ts';
import { QSTASH_DEV_CURRENT_SIGNING_KEY, QSTASH_DEV_NEXT_SIGNING_KEY } from '../../server/env.ts';
import type { JobHandler } from '../../server/jobs/handlers.ts';
import { signDelivery } from '../support/signDelivery.ts';
import { startTestServer, type TestServer } from '../support/testServer.ts';

const runs = new Map<string, number>();
const countingEmail: JobHandler<'send-email'> = async (payload, ctx) => {
  runs.set(ctx.jobId, (runs.get(ctx.jobId) ?? 0) + 1);
  await new Promise((r) => setTimeout(r, 200)); // long enough for concurrent deliveries to overlap
  return { to: payload.to };
};

let t: TestServer;
let workerUrl: string;
beforeAll(async () => {
  t = await startTestServer({ handlers: { 'send-email': countingEmail } });
  workerUrl = `${t.server.publicUrl}/api/jobs/email`;
});
afterAll(async () => t?.stop());

async function deliver(body: string, options: { key?: string; url?: string; signedBody?: string; messageId?: string } = {}) {
  const signature = await signDelivery({ url: options.url ?? workerUrl, body: options.signedBody ?? body, key: options.key ?? QSTASH_DEV_CURRENT_SIGNING_KEY });
  return fetch(`${t.server.url}/api/jobs/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'upstash-signature': signature, 'upstash-message-id': options.messageId ?? 'msg_test', 'upstash-retried': '0' },
    body,
  });
}

/** A job the broker holds back for a minute, so the test controls its deliveries. */
async function heldJob(to: string) {
  const client = await t.client();
  const { jobId } = await client.jobs.enqueue.mutate({ type: 'send-email', payload: { to, template: 'welcome', data: { recipientName: 'Held' } }, options: { delay: 60_000 } });
  const body = JSON.stringify({ jobId, type: 'send-email', payload: { to, template: 'welcome', data: { recipientName: 'Held' } }, metadata: { organizationId: 1, userId: '1' } });
  return { client, jobId, body };
}

async function eventCount(jobId: string) {
  return t.server.database.db.$count(jobEvents, eq(jobEvents.jobId, jobId));
}

describe('duplicate and replayed deliveries', () => {
  it('runs a job once when the same delivery arrives five times at once', async () => {
    const { client, jobId, body } = await heldJob('concurrent@example.com');
    const responses = await Promise.all(Array.from({ length: 5 }, () => deliver(body)));
    const codes = responses.map((r) => r.status).sort();
    expect(codes.filter((c) => c === 200).length).toBeGreaterThanOrEqual(1);
    expect(codes.every((c) => c === 200 || c === 503)).toBe(true);
    expect(responses.filter((r) => r.status === 503).every((r) => r.headers.get('retry-after'))).toBe(true);
    expect((await client.jobs.get.query({ jobId })).status).toBe('completed');
    expect(runs.get(jobId)).toBe(1);
  });

  it('answers a replay of a completed job with 200 and runs nothing', async () => {
    const { client, jobId, body } = await heldJob('replay@example.com');
    expect((await deliver(body)).status).toBe(200);
    const events = await eventCount(jobId);
    const replay = await deliver(body);
    expect(replay.status).toBe(200);
    expect(await replay.json()).toMatchObject({ kind: 'duplicate', status: 'completed' });
    expect(runs.get(jobId)).toBe(1);
    expect(await eventCount(jobId)).toBe(events);
    expect((await client.jobs.get.query({ jobId })).status).toBe('completed');
  });

  it('accepts a delivery signed with the next signing key (rotation)', async () => {
    const { client, jobId, body } = await heldJob('rotated@example.com');
    expect((await deliver(body, { key: QSTASH_DEV_NEXT_SIGNING_KEY })).status).toBe(200);
    expect((await client.jobs.get.query({ jobId })).status).toBe('completed');
  });
});

describe('forged and tampered deliveries', () => {
  it.each([
    ['signed with an unknown key', { key: 'sig_not_a_real_key_000000000000' }],
    ['whose body was altered after signing', { signedBody: '{"jobId":"00000000-0000-4000-8000-000000000000"}' }],
    ['signed for another route', { url: 'http://127.0.0.1:1/api/jobs/export' }],
  ])('refuses a delivery %s with 401 and changes nothing', async (_name, options) => {
    const { client, jobId, body } = await heldJob(`forged${Math.random()}@example.com`);
    const events = await eventCount(jobId);
    const response = await deliver(body, options);
    expect(response.status).toBe(401);
    expect((await client.jobs.get.query({ jobId })).status).toBe('pending');
    expect(await eventCount(jobId)).toBe(events);
    expect(runs.get(jobId)).toBeUndefined();
  });

  it('refuses a delivery without a signature, and an expired one', async () => {
    const { jobId, body } = await heldJob('unsigned@example.com');
    const unsigned = await fetch(`${t.server.url}/api/jobs/email`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(unsigned.status).toBe(401);
    const old = Math.floor(Date.now() / 1000) - 3600;
    const expired = await signDelivery({ url: workerUrl, body, key: QSTASH_DEV_CURRENT_SIGNING_KEY, issuedAt: old });
    const response = await fetch(`${t.server.url}/api/jobs/email`, { method: 'POST', headers: { 'upstash-signature': expired }, body });
    expect(response.status).toBe(401);
    expect(runs.get(jobId)).toBeUndefined();
  });

  it('ignores Host and X-Forwarded-* headers when checking the signed URL', async () => {
    const { jobId, body } = await heldJob('spoof@example.com');
    const spoofedUrl = 'https://evil.example/api/jobs/email';
    const signature = await signDelivery({ url: spoofedUrl, body, key: QSTASH_DEV_CURRENT_SIGNING_KEY });
    const response = await fetch(`${t.server.url}/api/jobs/email`, {
      method: 'POST',
      headers: { 'upstash-signature': signature, 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' },
      body,
    });
    expect(response.status).toBe(401);
    expect(runs.get(jobId)).toBeUndefined();
  });

  it('never trusts tenant fields in the message: the row decides', async () => {
    const { client, jobId } = await heldJob('tenant@example.com');
    const lying = JSON.stringify({ jobId, type: 'send-email', payload: { to: 'attacker@example.com', template: 'welcome', data: { recipientName: 'X' } }, metadata: { organizationId: 999 } });
    expect((await deliver(lying)).status).toBe(200);
    const job = await client.jobs.get.query({ jobId });
    expect(job).toMatchObject({ status: 'completed', organizationId: 1, result: { to: 'tenant@example.com' } });
  });

  it('answers 489 (non-retryable) to a signed body that is not a job', async () => {
    const response = await deliver(JSON.stringify({ hello: 'world' }));
    expect(response.status).toBe(489);
    expect(response.headers.get('upstash-nonretryable-error')).toBe('true');
  });
});

describe('a delivery for a job that has no row', () => {
  it('asks the broker to retry briefly, then gives up with 489', async () => {
    const body = JSON.stringify({ jobId: '11111111-1111-4111-8111-111111111111', type: 'send-email', payload: {}, metadata: {} });
    const first = await deliver(body);
    expect(first.status).toBe(503);
    const signature = await signDelivery({ url: workerUrl, body, key: QSTASH_DEV_CURRENT_SIGNING_KEY });
    const late = await fetch(`${t.server.url}/api/jobs/email`, { method: 'POST', headers: { 'upstash-signature': signature, 'upstash-retried': '3' }, body });
    expect(late.status).toBe(489);
    expect(await t.server.database.db.$count(jobExecutions, eq(jobExecutions.id, '11111111-1111-4111-8111-111111111111'))).toBe(0);
  });
});

describe('through the broker', () => {
  it('completes normally when the broker delivers', async () => {
    const client = await t.client();
    const { jobId } = await client.jobs.enqueue.mutate({ type: 'send-email', payload: { to: 'normal@example.com', template: 'welcome', data: { recipientName: 'N' } } });
    expect((await waitForJob(client, jobId)).status).toBe('completed');
    expect(runs.get(jobId)).toBe(1);
  });
});
