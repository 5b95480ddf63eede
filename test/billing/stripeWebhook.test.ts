import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billingSubscriptions } from '../../server/db/billingSchema.ts';
import { jobExecutions } from '../../server/db/schema.ts';
import { startTestServer, waitFor, type TestServer } from '../support/testServer.ts';
import { checkoutSession, invoice, newIds, postStripe, settledJob, signStripe, STRIPE_WEBHOOK_SECRET, stripeEvent, subscription } from './stripeFixtures.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ stripe: { webhookSecret: STRIPE_WEBHOOK_SECRET } });
});
afterAll(async () => t?.stop());

const db = () => t.server.database.db;
const stripeJobs = () => db().$count(jobExecutions, eq(jobExecutions.type, 'process-stripe-webhook'));
const billingRow = async (subscriptionId: string) =>
  (await db().select().from(billingSubscriptions).where(eq(billingSubscriptions.stripeSubscriptionId, subscriptionId)))[0];
const mailTo = async (to: string) => (await t.server.mailbox!.list()).filter((m) => m.to === to);

async function accepted(event: object) {
  const response = await postStripe(t.server.url, event);
  expect(response.status).toBe(200);
  return (await response.json()) as { received: boolean; jobId: string; deduplicated: boolean };
}

describe('checkout.session.completed, end to end', () => {
  it('reaches the billing table and sends the subscriptionCreated email', async () => {
    const ids = newIds();
    const event = stripeEvent('checkout.session.completed', checkoutSession({ ...ids, organizationId: 7, email: 'grace@example.com', name: 'Grace Hopper', plan: 'Team' }));
    const { jobId, deduplicated } = await accepted(event);
    expect(deduplicated).toBe(false);

    const job = await settledJob(db(), jobId);
    expect(job).toMatchObject({ status: 'completed', organizationId: null, idempotencyKey: `stripe:${event.id}` });
    expect(job.payload).toMatchObject({ eventType: 'checkout.session.completed', eventId: event.id, eventCreated: event.created });
    expect(job.result).toMatchObject({ outcome: 'recorded', organizationId: 7, subscriptionId: ids.subscription });

    expect(await billingRow(ids.subscription)).toMatchObject({ stripeCustomerId: ids.customer, organizationId: 7, plan: 'Team', status: 'active' });
    const [mail] = await waitFor(async () => ((await mailTo('grace@example.com')).length > 0 ? mailTo('grace@example.com') : undefined));
    expect(mail?.subject).toMatch(/subscription|team/i);
    expect(mail?.html).toContain('Grace Hopper');
    expect(mail?.text).toContain('Amount: $29.00');
    // The email job belongs to the subscription's organization; Stripe's cents become the template's decimal string.
    const [emailJob] = await db().select().from(jobExecutions).where(eq(jobExecutions.idempotencyKey, `stripe:${event.id}:email`));
    expect(emailJob).toMatchObject({ type: 'send-email', organizationId: 7 });
    expect(emailJob?.payload).toMatchObject({ template: 'subscriptionCreated', to: 'grace@example.com', data: { recipientName: 'Grace Hopper', planName: 'Team', amount: '29.00', currency: 'usd' } });
  });

  it('turns a replayed event into no second job and no second email', async () => {
    const ids = newIds();
    const event = stripeEvent('checkout.session.completed', checkoutSession({ ...ids, organizationId: 7, email: 'replay@example.com' }));
    const first = await accepted(event);
    await settledJob(db(), first.jobId);
    await waitFor(async () => (await mailTo('replay@example.com')).length === 1);
    const before = await stripeJobs();

    const again = await accepted(event); // Stripe redelivers the very same event (freshly signed)
    expect(again).toMatchObject({ jobId: first.jobId, deduplicated: true });
    expect(await stripeJobs()).toBe(before);
    expect(await mailTo('replay@example.com')).toHaveLength(1);
  });

  it('makes one job of one event delivered five times at once', async () => {
    const event = stripeEvent('checkout.session.completed', checkoutSession({ ...newIds(), organizationId: 7, email: 'burst@example.com' }));
    const bodies = await Promise.all(Array.from({ length: 5 }, () => accepted(event)));
    expect(new Set(bodies.map((b) => b.jobId)).size).toBe(1);
    expect(bodies.filter((b) => !b.deduplicated)).toHaveLength(1);
    expect(await db().$count(jobExecutions, eq(jobExecutions.idempotencyKey, `stripe:${event.id}`))).toBe(1);
    await settledJob(db(), bodies[0]!.jobId);
    await waitFor(async () => (await mailTo('burst@example.com')).length === 1);
  });
});

describe('the other handled events', () => {
  it('applies customer.subscription.updated: status, plan and current period end', async () => {
    const ids = newIds();
    const periodEnd = Math.floor(Date.now() / 1000) + 40 * 86_400;
    const event = stripeEvent('customer.subscription.updated', subscription({ id: ids.subscription, customer: ids.customer, status: 'trialing', periodEnd, organizationId: 9, price: 'Scale' }));
    const job = await settledJob(db(), (await accepted(event)).jobId);
    expect(job.result).toMatchObject({ outcome: 'applied', organizationId: 9 });
    expect(await billingRow(ids.subscription)).toMatchObject({
      organizationId: 9,
      status: 'trialing',
      plan: 'Scale',
      currentPeriodEnd: new Date(periodEnd * 1000),
      lastEventId: event.id,
      lastEventAt: new Date(event.created * 1000),
    });
  });

  it('records a subscription created outside checkout (customer.subscription.created)', async () => {
    const ids = newIds();
    const periodEnd = Math.floor(Date.now() / 1000) + 14 * 86_400;
    const event = stripeEvent('customer.subscription.created', subscription({ id: ids.subscription, customer: ids.customer, status: 'trialing', periodEnd, organizationId: 9, price: 'Starter' }));
    const job = await settledJob(db(), (await accepted(event)).jobId);
    expect(job.result).toMatchObject({ outcome: 'applied', organizationId: 9 });
    expect(await billingRow(ids.subscription)).toMatchObject({ organizationId: 9, status: 'trialing', plan: 'Starter', currentPeriodEnd: new Date(periodEnd * 1000), lastEventId: event.id });
  });

  it('marks a deleted subscription canceled', async () => {
    const ids = newIds();
    await settledJob(db(), (await accepted(stripeEvent('checkout.session.completed', checkoutSession({ ...ids, organizationId: 9 })))).jobId);
    const deleted = stripeEvent('customer.subscription.deleted', subscription({ id: ids.subscription, customer: ids.customer, status: 'canceled' }));
    const job = await settledJob(db(), (await accepted(deleted)).jobId);
    // No metadata on the subscription: the organization comes from the checkout's row.
    expect(job.result).toMatchObject({ outcome: 'applied', organizationId: 9 });
    expect((await billingRow(ids.subscription))?.status).toBe('canceled');
  });

  it('sends paymentFailed for invoice.payment_failed, finding the organization by customer', async () => {
    const ids = newIds();
    await settledJob(db(), (await accepted(stripeEvent('checkout.session.completed', checkoutSession({ ...ids, organizationId: 11, email: 'payer@example.com' })))).jobId);
    const failed = stripeEvent('invoice.payment_failed', invoice({ customer: ids.customer, email: 'payer@example.com', amount: 4900 }));
    const job = await settledJob(db(), (await accepted(failed)).jobId);
    expect(job.result).toMatchObject({ outcome: 'unchanged', organizationId: 11 });
    const mail = await waitFor(async () => (await mailTo('payer@example.com')).find((m) => /payment/i.test(m.subject)));
    expect(mail.html).toContain('https://invoice.stripe.com/i/acct_test/test_123');
    expect(mail.text).toMatch(/49/);
    expect(mail.subject).toContain('$49.00');
    const [emailJob] = await db().select().from(jobExecutions).where(and(eq(jobExecutions.type, 'send-email'), eq(jobExecutions.idempotencyKey, `stripe:${failed.id}:email`)));
    expect(emailJob?.organizationId).toBe(11);
    expect(emailJob?.payload).toMatchObject({
      template: 'paymentFailed',
      data: { recipientName: 'Ada Lovelace', amountDue: '49.00', currency: 'usd', paymentDetailsUrl: 'https://invoice.stripe.com/i/acct_test/test_123' },
    });
  });

  it('completes other event types as ignored', async () => {
    const job = await settledJob(db(), (await accepted(stripeEvent('customer.created', { id: 'cus_x', object: 'customer' }))).jobId);
    expect(job).toMatchObject({ status: 'completed', result: { outcome: 'ignored', reason: 'unhandled event type' } });
  });

  it('completes an event whose organization cannot be found as ignored, after its retries', async () => {
    const ids = newIds();
    const event = stripeEvent('customer.subscription.updated', subscription({ id: ids.subscription, customer: ids.customer, status: 'active' }));
    const job = await settledJob(db(), (await accepted(event)).jobId);
    expect(job).toMatchObject({ status: 'completed', result: { outcome: 'ignored', reason: 'no organization' } });
    expect(await billingRow(ids.subscription)).toBeUndefined();
  });
});

describe('what the route refuses', () => {
  const event = () => stripeEvent('checkout.session.completed', checkoutSession({ ...newIds(), organizationId: 7 }));

  it('answers 400 and records nothing for a missing, forged or tampered signature', async () => {
    const before = await stripeJobs();
    const e = event();
    const payload = JSON.stringify(e);
    const responses = await Promise.all([
      postStripe(t.server.url, e, { signature: null }),
      postStripe(t.server.url, e, { secret: 'whsec_someone_else' }),
      postStripe(t.server.url, e, { signature: 't=1,v1=deadbeef' }),
      postStripe(t.server.url, payload.replace('"usd"', '"eur"'), { signature: signStripe(payload) }),
    ]);
    expect(responses.map((r) => r.status)).toEqual([400, 400, 400, 400]);
    expect(await stripeJobs()).toBe(before);
  });

  it('answers 415 for a body that is not JSON, and 413 for one over 1 MiB', async () => {
    const form = await fetch(`${t.server.url}/api/stripe/webhook`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' });
    expect(form.status).toBe(415);
    const huge = await postStripe(t.server.url, JSON.stringify({ padding: 'x'.repeat(1024 * 1024 + 10) }));
    expect(huge.status).toBe(413);
  });
});
