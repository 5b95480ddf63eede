/**
 * Security round 2, webhooks and billing (items 2, 3, 10, 11 of the outside review), driven as
 * the attacker did: the typed client and raw tRPC, signed Stripe events, signed webhooks.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { count, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../server/auth/token.ts';
import { billingSubscriptions } from '../../server/db/billingSchema.ts';
import { jobExecutions, jobSchedules } from '../../server/db/schema.ts';
import { webhookEvents } from '../../server/db/webhookSchema.ts';
import { createWebhookHandlers, type WebhookEvent } from '../../server/webhooks/webhookHandlers.ts';
import { invoice, newIds, settledJob, signStripe, stripeEvent, subscription } from '../billing/stripeFixtures.ts';
import { TEST_AUTH_SECRET, trpcCode } from '../support/testServer.ts';
import { rememberSecret } from './support/capturedLogs.ts';
import { callProcedure, SECURITY_STRIPE_SECRET, startSecurityServer, type SecurityServer } from './support/securityServer.ts';

const GITHUB = rememberSecret('github-round2-secret-0123456789');
const ACME = rememberSecret('acme-round2-secret-0123456789');
const PLAIN = rememberSecret('plain-round2-secret-0123456789');
const seen: WebhookEvent[] = [];
const handlers = createWebhookHandlers().on('github', '*', (event) => void seen.push(event));

let t: SecurityServer;
beforeAll(async () => {
  t = await startSecurityServer({
    webhookSources: [
      { name: 'github', verify: 'github', secret: GITHUB, organizationId: 1 },
      { name: 'acme', verify: 'hmac-sha256', secret: ACME, organizationId: 1, timestamped: true },
      { name: 'plain', verify: 'hmac-sha256', secret: PLAIN },
    ],
    webhookHandlers: handlers,
  });
});
afterAll(async () => t?.stopAndScan());

const db = () => t.server.database.db;
const now = () => Math.floor(Date.now() / 1000);
const hmac = (secret: string, text: string) => createHmac('sha256', secret).update(text).digest('hex');
const deep = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
const refusal = (promise: Promise<unknown>) => promise.then(() => 'accepted', (e: unknown) => trpcCode(e));
const counts = async () => ({
  jobs: (await db().select({ n: count() }).from(jobExecutions))[0]?.n,
  schedules: (await db().select({ n: count() }).from(jobSchedules))[0]?.n,
  webhookEvents: (await db().select({ n: count() }).from(webhookEvents))[0]?.n,
  billing: (await db().select({ n: count() }).from(billingSubscriptions))[0]?.n,
});
const billingRow = async (id: string) => (await db().select().from(billingSubscriptions).where(eq(billingSubscriptions.stripeSubscriptionId, id)))[0];

const postStripeRaw = (body: string) =>
  fetch(`${t.server.url}/api/stripe/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signStripe(body, { secret: SECURITY_STRIPE_SECRET }) }, body });
async function deliverStripe(event: object) {
  const response = await postStripeRaw(JSON.stringify(event));
  expect(response.status).toBe(200);
  const job = await settledJob(db(), ((await response.json()) as { jobId: string }).jobId);
  return job.result;
}

function postWebhook(source: string, body: string, headers: Record<string, string>) {
  return fetch(`${t.server.url}/api/webhooks/${source}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
}
const postGithub = (event: string, body: string, delivery: string = randomUUID()) =>
  postWebhook('github', body, { 'x-github-event': event, 'x-github-delivery': delivery, 'x-hub-signature-256': `sha256=${hmac(GITHUB, body)}` });
const accepted = async (response: Response) => {
  expect(response.status).toBe(200);
  return (await response.json()) as { jobId: string; deduplicated: boolean; duplicate: boolean };
};

describe('items 2 and 3: webhook job types are created only by the server', () => {
  const forgedStripe = { eventType: 'customer.subscription.deleted', eventData: { id: 'sub_x', customer: 'cus_x', status: 'canceled' }, eventId: 'evt_forged', eventCreated: 4_102_444_800 };
  const forgedWebhook = { source: 'github', event: 'push', data: { forged: true }, deliveryId: 'org-1-delivery' };

  it.each([['process-stripe-webhook', forgedStripe], ['process-webhook', forgedWebhook]] as const)('every API role is refused %s at enqueue and schedule, nothing stored', async (type, payload) => {
    const before = await counts();
    const operator = rememberSecret(await signToken({ userId: '3', organizationId: 2, role: 'operator' }, TEST_AUTH_SECRET));
    for (const token of [await t.token({ organizationId: 2, role: 'admin' }), await t.token({ organizationId: 2, role: 'member' }), operator]) {
      for (const [path, input] of [['jobs.enqueue', { type, payload }], ['jobs.schedule', { type, cron: '* * * * *', payload }]] as const) {
        const result = await callProcedure(`${t.server.url}/trpc`, { path, type: 'mutation', input, token });
        expect(result.error?.data, path).toMatchObject({ code: 'FORBIDDEN', jobwireCode: 'FORBIDDEN_JOB_TYPE' });
      }
    }
    expect(await counts()).toEqual(before);
  });

  it("an admin of org 2 can neither cancel org 1's subscription, fence out its next event, nor make org 1 send email", async () => {
    const ids = newIds();
    const sub = (status: string) => subscription({ id: ids.subscription, customer: ids.customer, status, organizationId: 1 });
    await deliverStripe(stripeEvent('customer.subscription.updated', sub('active'), { created: now() - 60 }));
    const admin2 = await t.client({ organizationId: 2, role: 'admin' });
    const cancel = { eventType: 'customer.subscription.deleted', eventData: sub('canceled'), eventId: 'evt_forged_2100', eventCreated: 4_102_444_800 };
    expect(await refusal(admin2.jobs.enqueue.mutate({ type: 'process-stripe-webhook', payload: cancel }))).toBe('FORBIDDEN');
    const email = { eventType: 'invoice.payment_failed', eventData: invoice({ customer: ids.customer, subscription: ids.subscription, email: 'victim@example.com' }) };
    expect(await refusal(admin2.jobs.enqueue.mutate({ type: 'process-stripe-webhook', payload: email }))).toBe('FORBIDDEN');

    const genuine = stripeEvent('customer.subscription.updated', sub('past_due'));
    expect(await deliverStripe(genuine)).toMatchObject({ outcome: 'applied', organizationId: 1 });
    expect(await billingRow(ids.subscription)).toMatchObject({ organizationId: 1, status: 'past_due', lastEventId: genuine.id });
  });

  it('an eventCreated far in the future, even from server code or already stored, never fences out genuine events', async () => {
    const ids = newIds();
    const sub = (status: string) => subscription({ id: ids.subscription, customer: ids.customer, status, organizationId: 1 });
    const future = await t.server.dispatcher.enqueue('process-stripe-webhook', { eventType: 'customer.subscription.updated', eventData: sub('paused'), eventId: 'evt_future', eventCreated: 4_102_444_800 });
    await settledJob(db(), future);
    expect((await billingRow(ids.subscription))!.lastEventAt!.getTime()).toBeLessThan(Date.now() + 60_000);
    const genuine = stripeEvent('customer.subscription.updated', sub('active'), { created: now() + 1 });
    expect(await deliverStripe(genuine)).toMatchObject({ outcome: 'applied' });

    // A row poisoned before this fix heals with the next genuine event.
    await db().update(billingSubscriptions).set({ lastEventAt: new Date('2100-01-01T00:00:00Z') }).where(eq(billingSubscriptions.stripeSubscriptionId, ids.subscription));
    const next = stripeEvent('customer.subscription.updated', sub('past_due'));
    expect(await deliverStripe(next)).toMatchObject({ outcome: 'applied' });
    expect(await billingRow(ids.subscription)).toMatchObject({ status: 'past_due', lastEventId: next.id });
  });

  it("events of another organization with the same source and delivery id neither hide nor take the place of org 1's", async () => {
    const delivery = randomUUID();
    // What an org 2 admin could enqueue before; only server code can now.
    const asOrg2 = (data: Record<string, unknown>) => t.server.dispatcher.enqueue('process-webhook', { source: 'github', event: 'push', data, deliveryId: delivery }, { organizationId: 2, userId: '9' });
    await settledJob(db(), await asOrg2({ forged: 'first' }));
    const genuine = { ref: 'refs/heads/main', after: randomUUID() };
    const { jobId } = await accepted(await postGithub('push', JSON.stringify(genuine), delivery));
    expect((await settledJob(db(), jobId)).status).toBe('completed');
    const mine = seen.filter((e) => e.deliveryId === delivery);
    expect(mine.map((e) => [e.organizationId, e.payload])).toEqual([[2, { forged: 'first' }], [1, genuine]]);

    await settledJob(db(), await asOrg2({ forged: 'again' }));
    expect(seen.filter((e) => e.deliveryId === delivery).at(-1)).toMatchObject({ organizationId: 2, payload: { forged: 'first' } });
    const rows = await db().select().from(webhookEvents).where(eq(webhookEvents.deliveryId, delivery)).orderBy(webhookEvents.organizationId);
    expect(rows.map((r) => [r.organizationId, r.payload, r.replayedCount])).toEqual([[1, genuine, 0], [2, { forged: 'first' }, 0]]);
  });
});

describe('item 10: signed input the database cannot store is a 4xx with a reason and changes nothing', () => {
  const event = () => {
    const ids = newIds();
    return stripeEvent('customer.subscription.updated', subscription({ id: ids.subscription, customer: ids.customer, status: 'active', organizationId: 1 }));
  };
  const stripeCases: [string, () => string][] = [
    ['no data', () => JSON.stringify({ ...event(), data: undefined })],
    ['data without object', () => JSON.stringify({ ...event(), data: {} })],
    ['a null object', () => JSON.stringify({ ...event(), data: { object: null } })],
    ['no id', () => JSON.stringify({ ...event(), id: undefined })],
    ['a JSON null body', () => 'null'],
    ['NUL in a value', () => JSON.stringify({ ...event(), data: { object: { id: 'sub_1', name: 'a\u0000b' } } })],
    ['NUL in a key', () => JSON.stringify({ ...event(), data: { object: { id: 'sub_1', 'k\u0000': 1 } } })],
    ['NUL in the type', () => JSON.stringify({ ...event(), type: 'customer.subscription.updated\u0000' })],
    ['NUL in the id', () => JSON.stringify({ ...event(), id: 'evt_\u0000' })],
    ['an object nested 5000 deep', () => JSON.stringify({ ...event(), data: { object: { id: 'sub_1', x: 'HOLE' } } }).replace('"HOLE"', deep(5000))],
  ];
  it.each(stripeCases)('Stripe event with %s: 400', async (_name, body) => {
    const before = await counts();
    const response = await postStripeRaw(body());
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: expect.any(String) });
    expect(await counts()).toEqual(before);
  });

  const webhookCases: [string, () => Promise<Response>][] = [
    ['NUL in a value', () => postGithub('push', JSON.stringify({ note: 'a\u0000b', id: randomUUID() }))],
    ['NUL in a key', () => postGithub('push', JSON.stringify({ 'k\u0000': 1, id: randomUUID() }))],
    ['a body nested 5000 deep', () => postGithub('push', `{"id":"${randomUUID()}","x":${deep(5000)}}`)],
    ['NUL in the event named by the body', () => {
      const body = JSON.stringify({ type: 'invoice.paid\u0000', id: randomUUID() });
      return postWebhook('plain', body, { 'x-webhook-signature': hmac(PLAIN, body) });
    }],
  ];
  it.each(webhookCases)('webhook with %s: 400', async (_name, post) => {
    const before = await counts();
    const response = await post();
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: expect.any(String) });
    expect(await counts()).toEqual(before);
  });
});

describe('item 11: a captured generic webhook does not replay', () => {
  it('the same body under fresh delivery ids or relabelled, even concurrently, is a duplicate: 200, no new job', async () => {
    const body = JSON.stringify({ ref: 'refs/heads/main', after: randomUUID() });
    const first = await accepted(await postGithub('push', body));
    expect(first).toMatchObject({ duplicate: false, deduplicated: false });
    const before = await counts();
    const replays = await Promise.all([postGithub('push', body), postGithub('delete', body), postGithub('push', body), postGithub('release', body)]);
    for (const replay of replays) expect(await accepted(replay)).toMatchObject({ duplicate: true, jobId: first.jobId });
    expect(await counts()).toEqual(before);
  });

  it('makes one job of copies that arrive together', async () => {
    const body = JSON.stringify({ ref: 'refs/heads/dev', after: randomUUID() });
    const bodies = await Promise.all(Array.from({ length: 4 }, (_, i) => postGithub(i % 2 ? 'push' : 'create', body).then(accepted)));
    expect(new Set(bodies.map((b) => b.jobId)).size).toBe(1);
    expect(bodies.filter((b) => !b.duplicate)).toHaveLength(1);
  });

  it('takes the same body again once the 24 h window has passed', async () => {
    const after = randomUUID();
    const body = JSON.stringify({ ref: 'refs/heads/main', after });
    const first = await accepted(await postGithub('push', body));
    await settledJob(db(), first.jobId);
    await db().update(webhookEvents).set({ receivedAt: sql`now() - interval '25 hours'` }).where(sql`${webhookEvents.payload}->>'after' = ${after}`);
    const later = await accepted(await postGithub('push', body));
    expect(later).toMatchObject({ duplicate: false, deduplicated: false });
    expect(later.jobId).not.toBe(first.jobId);
  });

  it('timestamped hmac-sha256 sources sign `${t}.${body}` and refuse timestamps outside 5 minutes', async () => {
    const body = JSON.stringify({ type: 'invoice.paid', id: randomUUID() });
    const signed = (ts: number, text = `${ts}.${body}`) => `t=${ts},v1=${hmac(ACME, text)}`;
    const post = (signature: string) => postWebhook('acme', body, { 'x-webhook-signature': signature });
    const before = await counts();
    // Each signature is made just before its request, and the out-of-window ones sit 10 s past the
    // tolerance: the server compares with millisecond time, so a bare 301 s turns into 300.x s on a
    // slow machine and is (rightly) accepted.
    const refused: Array<() => string> = [
      () => signed(now() - 310),
      () => signed(now() + 310),
      () => hmac(ACME, body), // the untimestamped scheme
      () => `t=${now()},v1=${hmac(ACME, `${now() - 100}.${body}`)}`, // the timestamp changed after signing
      () => `v1=${hmac(ACME, `${now()}.${body}`)}`,
      () => `t=${now()}`,
    ];
    for (const make of refused) {
      const signature = make();
      expect((await post(signature)).status, signature).toBe(401);
    }
    expect(await counts()).toEqual(before);
    expect(await accepted(await post(signed(now() - 60)))).toMatchObject({ duplicate: false });
    expect(await accepted(await post(signed(now())))).toMatchObject({ duplicate: true });
  });
});
