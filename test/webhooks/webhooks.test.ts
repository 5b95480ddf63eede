import { createHash, createHmac, randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForJob } from '../../client/waitForJob.ts';
import { jobExecutions } from '../../server/db/schema.ts';
import { webhookEvents } from '../../server/db/webhookSchema.ts';
import { createWebhookHandlers, type WebhookEvent } from '../../server/webhooks/webhookHandlers.ts';
import { settledJob } from '../billing/stripeFixtures.ts';
import { startTestServer, trpcCode, type TestServer } from '../support/testServer.ts';

const GITHUB_SECRET = 'gh-webhook-secret';
const ACME_SECRET = 'acme-webhook-secret';

/** What the registered handlers saw, in order. */
const seen: { handler: string; event: WebhookEvent }[] = [];
const failuresLeft = new Map<string, number>();
const handlers = createWebhookHandlers()
  .on('github', 'push', (event) => void seen.push({ handler: 'push', event }))
  .on('github', '*', async (event) => {
    seen.push({ handler: 'any', event });
    const left = failuresLeft.get(event.deliveryId) ?? 0;
    if (left > 0) {
      failuresLeft.set(event.deliveryId, left - 1);
      throw new Error('downstream unavailable');
    }
  })
  .on('acme', 'invoice.paid', (event) => void seen.push({ handler: 'acme', event }));

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({
    webhookSources: [
      { name: 'github', verify: 'github', secret: GITHUB_SECRET, organizationId: 1 },
      { name: 'acme', verify: 'hmac-sha256', secret: ACME_SECRET },
    ],
    webhookHandlers: handlers,
  });
});
afterAll(async () => t?.stop());

const db = () => t.server.database.db;
const sign = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest('hex');
const seenFor = (deliveryId: string, handler?: string) => seen.filter((s) => s.event.deliveryId === deliveryId && (!handler || s.handler === handler));

async function postGithub(event: string, payload: object, options: { delivery?: string; signature?: string | null; body?: string } = {}) {
  const body = options.body ?? JSON.stringify(payload);
  const signature = options.signature === undefined ? `sha256=${sign(GITHUB_SECRET, body)}` : options.signature;
  return fetch(`${t.server.url}/api/webhooks/github`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/abc123',
      'x-github-event': event,
      'x-github-delivery': options.delivery ?? randomUUID(),
      ...(signature === null ? {} : { 'x-hub-signature-256': signature }),
    },
    body,
  });
}

async function postAcme(payload: object) {
  const body = JSON.stringify(payload);
  return fetch(`${t.server.url}/api/webhooks/acme`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-webhook-signature': sign(ACME_SECRET, body) },
    body,
  });
}

// A new body each time: the same body again, under any delivery id, is a duplicate within 24 h.
const newPush = () => ({ ref: 'refs/heads/main', repository: { full_name: 'octo/hello' }, commits: [{ id: 'abc' }], after: randomUUID() });

describe('GitHub-style webhooks, end to end', () => {
  it('verifies a good signature, stores the event and calls the handlers for its source and event', async () => {
    const delivery = randomUUID();
    const push = newPush();
    const response = await postGithub('push', push, { delivery });
    expect(response.status).toBe(200);
    const { jobId, deduplicated, duplicate } = (await response.json()) as { jobId: string; deduplicated: boolean; duplicate: boolean };
    expect(deduplicated).toBe(false);
    expect(duplicate).toBe(false);

    const job = await waitForJob(await t.client(), jobId, { timeout: 20_000 });
    expect(job).toMatchObject({ status: 'completed', type: 'process-webhook', organizationId: 1, idempotencyKey: `webhook:github:${delivery}` });
    expect(job.result).toMatchObject({ handlers: 2, replayedCount: 0 });

    const [row] = await db().select().from(webhookEvents).where(eq(webhookEvents.deliveryId, delivery));
    expect(row).toMatchObject({ source: 'github', event: 'push', organizationId: 1, payload: push, replayedCount: 0 });
    expect(row!.bodySha256).toBe(createHash('sha256').update(JSON.stringify(push)).digest('hex'));
    expect(row!.headers).toEqual({ 'x-github-event': 'push', 'x-github-delivery': delivery, 'user-agent': 'GitHub-Hookshot/abc123', 'content-type': 'application/json' });
    expect(row!.receivedAt).toBeInstanceOf(Date);
    expect(row!.processedAt!.getTime()).toBeGreaterThanOrEqual(row!.receivedAt.getTime());
    expect(seenFor(delivery).map((s) => s.handler)).toEqual(['push', 'any']);
    expect(seenFor(delivery)[0]!.event.id).toBe(row!.id);
  });

  it('answers 401 to a bad or missing signature and records nothing', async () => {
    const before = await db().$count(jobExecutions, eq(jobExecutions.type, 'process-webhook'));
    const push = newPush();
    const body = JSON.stringify(push);
    const responses = await Promise.all([
      postGithub('push', push, { signature: `sha256=${sign('wrong-secret', body)}` }),
      postGithub('push', push, { signature: null }),
      postGithub('push', push, { signature: 'sha256=nothex' }),
      postGithub('push', push, { body: body.replace('main', 'evil'), signature: `sha256=${sign(GITHUB_SECRET, body)}` }),
    ]);
    expect(responses.map((r) => r.status)).toEqual([401, 401, 401, 401]);
    expect(await db().$count(jobExecutions, eq(jobExecutions.type, 'process-webhook'))).toBe(before);
  });

  it('makes one job of a redelivery (the same X-GitHub-Delivery), even concurrently', async () => {
    const delivery = randomUUID();
    const push = newPush();
    const responses = await Promise.all(Array.from({ length: 4 }, () => postGithub('push', push, { delivery })));
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as { jobId: string; deduplicated: boolean; duplicate: boolean }[];
    expect(new Set(bodies.map((b) => b.jobId)).size).toBe(1);
    expect(bodies.filter((b) => !b.duplicate)).toHaveLength(1);
    await waitForJob(await t.client(), bodies[0]!.jobId, { timeout: 20_000 });
    expect(seenFor(delivery, 'push')).toHaveLength(1);
    expect(await db().$count(webhookEvents, eq(webhookEvents.deliveryId, delivery))).toBe(1);
  });

  it('retries the job when a handler fails, without storing the event twice', async () => {
    const delivery = randomUUID();
    failuresLeft.set(delivery, 1);
    const { jobId } = (await (await postGithub('issues', { action: 'opened' }, { delivery })).json()) as { jobId: string };
    const job = await waitForJob(await t.client(), jobId, { timeout: 20_000 });
    expect(job).toMatchObject({ status: 'completed', retryCount: 1 });
    expect(seenFor(delivery, 'any')).toHaveLength(2);
    expect(await db().$count(webhookEvents, eq(webhookEvents.deliveryId, delivery))).toBe(1);
  });
});

describe('other sources and bad requests', () => {
  it('accepts a generic HMAC source, taking the event from the body and the delivery id from a body hash', async () => {
    const response = await postAcme({ type: 'invoice.paid', id: 'inv_1' });
    expect(response.status).toBe(200);
    const { jobId } = (await response.json()) as { jobId: string };
    const job = await settledJob(db(), jobId);
    expect(job).toMatchObject({ status: 'completed', organizationId: null });
    const [row] = await db().select().from(webhookEvents).where(eq(webhookEvents.payload, { type: 'invoice.paid', id: 'inv_1' }));
    expect(row).toMatchObject({ event: 'invoice.paid', deliveryId: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), organizationId: null });
    expect(seen.some((s) => s.handler === 'acme' && s.event.id === row!.id)).toBe(true);
  });

  it('answers 404 for an unknown source, 400 for a body that is not a JSON object, 415 and 413 for wrong bodies', async () => {
    const unknown = await fetch(`${t.server.url}/api/webhooks/gitlab`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(unknown.status).toBe(404);
    for (const body of ['[1,2]', 'not json', '"text"']) {
      expect((await postGithub('push', {}, { body })).status).toBe(400);
    }
    const text = await fetch(`${t.server.url}/api/webhooks/github`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    expect(text.status).toBe(415);
    expect((await postGithub('push', {}, { body: JSON.stringify({ pad: 'x'.repeat(1024 * 1024) }) })).status).toBe(413);
  });

  it('answers 503 on the Stripe route of a server without STRIPE_WEBHOOK_SECRET', async () => {
    const response = await fetch(`${t.server.url}/api/stripe/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=00' }, body: '{}' });
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ error: expect.stringMatching(/STRIPE_WEBHOOK_SECRET/) });
  });
});

describe('webhooks.replay and webhooks.list (admin)', () => {
  async function storedPush() {
    const delivery = randomUUID();
    const { jobId } = (await (await postGithub('push', newPush(), { delivery })).json()) as { jobId: string };
    await waitForJob(await t.client(), jobId, { timeout: 20_000 });
    const [row] = await db().select().from(webhookEvents).where(eq(webhookEvents.deliveryId, delivery));
    return { delivery, jobId, row: row! };
  }

  it('replays a stored event as a second run of its handlers', async () => {
    const { delivery, jobId, row } = await storedPush();
    const admin = await t.client({ role: 'admin', organizationId: 1, userId: '5' });
    const replay = await admin.webhooks.replay.mutate({ webhookEventId: row.id });
    expect(replay).toMatchObject({ replayedCount: 1 });
    expect(replay.jobId).not.toBe(jobId);

    const job = await waitForJob(admin, replay.jobId, { timeout: 20_000 });
    expect(job).toMatchObject({ status: 'completed', type: 'process-webhook', userId: '5', organizationId: 1, idempotencyKey: `replay:${row.id}:1` });
    expect(seenFor(delivery, 'push').map((s) => s.event.replayedCount)).toEqual([0, 1]);
    expect(await db().$count(webhookEvents, eq(webhookEvents.deliveryId, delivery))).toBe(1);

    const again = await admin.webhooks.replay.mutate({ webhookEventId: row.id });
    expect(again.replayedCount).toBe(2);
    const listed = await admin.webhooks.list.query({ source: 'github' });
    expect(listed.find((e) => e.webhookEventId === row.id)).toMatchObject({ deliveryId: delivery, replayedCount: 2, event: 'push' });
  });

  it("refuses members, and hides other organizations' and organization-less events", async () => {
    const { row } = await storedPush();
    const member = await t.client({ role: 'member', organizationId: 1 });
    expect(trpcCode(await member.webhooks.replay.mutate({ webhookEventId: row.id }).catch((e: unknown) => e))).toBe('FORBIDDEN');
    expect(trpcCode(await member.webhooks.list.query({}).catch((e: unknown) => e))).toBe('FORBIDDEN');

    const otherAdmin = await t.client({ role: 'admin', organizationId: 2 });
    const hidden = await otherAdmin.webhooks.replay.mutate({ webhookEventId: row.id }).catch((e: unknown) => e);
    expect(hidden).toMatchObject({ data: { code: 'NOT_FOUND', jobwireCode: 'WEBHOOK_EVENT_NOT_FOUND' } });
    expect(await otherAdmin.webhooks.list.query({})).toEqual([]);

    const admin = await t.client({ role: 'admin', organizationId: 1 });
    const { jobId } = (await (await postAcme({ type: 'invoice.paid', id: 'inv_2' })).json()) as { jobId: string };
    await settledJob(db(), jobId);
    const [acme] = await db().select().from(webhookEvents).where(eq(webhookEvents.source, 'acme'));
    expect(trpcCode(await admin.webhooks.replay.mutate({ webhookEventId: acme!.id }).catch((e: unknown) => e))).toBe('NOT_FOUND');
    expect(trpcCode(await admin.webhooks.replay.mutate({ webhookEventId: 'not-a-uuid' }).catch((e: unknown) => e))).toBe('BAD_REQUEST');
    expect((await admin.webhooks.list.query()).every((e) => e.organizationId === 1)).toBe(true);
  });
});
