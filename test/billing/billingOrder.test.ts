import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billingSubscriptions } from '../../server/db/billingSchema.ts';
import { startTestServer, type TestServer } from '../support/testServer.ts';
import { checkoutSession, newIds, postStripe, settledJob, STRIPE_WEBHOOK_SECRET, stripeEvent, subscription } from './stripeFixtures.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ stripe: { webhookSecret: STRIPE_WEBHOOK_SECRET } });
});
afterAll(async () => t?.stop());

const T0 = Math.floor(Date.now() / 1000) - 3600;
const db = () => t.server.database.db;
const row = async (subscriptionId: string) => (await db().select().from(billingSubscriptions).where(eq(billingSubscriptions.stripeSubscriptionId, subscriptionId)))[0];

/** Delivers one event and waits for its job; resolves with the job's result. */
async function apply(event: ReturnType<typeof stripeEvent>) {
  const response = await postStripe(t.server.url, event);
  expect(response.status).toBe(200);
  const { jobId } = (await response.json()) as { jobId: string };
  const job = await settledJob(db(), jobId);
  expect(job.status).toBe('completed');
  return job.result;
}

const updated = (ids: { customer: string; subscription: string }, status: string, created: number, periodEnd: number) =>
  stripeEvent('customer.subscription.updated', subscription({ id: ids.subscription, customer: ids.customer, status, periodEnd, organizationId: 3 }), { created });

describe('events arriving out of order never move the state backwards', () => {
  it('keeps the newer update when an older one arrives after it', async () => {
    const ids = newIds();
    const newer = updated(ids, 'active', T0 + 20, T0 + 40 * 86_400);
    const older = updated(ids, 'past_due', T0 + 10, T0 + 10 * 86_400);
    expect(await apply(newer)).toMatchObject({ outcome: 'applied' });
    const before = await row(ids.subscription);

    expect(await apply(older)).toMatchObject({ outcome: 'stale' });
    expect(await row(ids.subscription)).toEqual(before);
    expect(before).toMatchObject({ status: 'active', lastEventId: newer.id, currentPeriodEnd: new Date((T0 + 40 * 86_400) * 1000) });
  });

  it('keeps a subscription canceled when an older update arrives after the deletion', async () => {
    const ids = newIds();
    const deleted = stripeEvent('customer.subscription.deleted', subscription({ id: ids.subscription, customer: ids.customer, status: 'canceled', organizationId: 3 }), { created: T0 + 30 });
    await apply(deleted);
    expect(await apply(updated(ids, 'active', T0 + 5, T0 + 30 * 86_400))).toMatchObject({ outcome: 'stale' });
    expect(await row(ids.subscription)).toMatchObject({ status: 'canceled', lastEventId: deleted.id });
  });

  it('lets a later checkout event neither override the status nor fence older subscription events', async () => {
    const ids = newIds();
    // Stripe creates the subscription events first; here the checkout is delivered first.
    const checkout = stripeEvent('checkout.session.completed', checkoutSession({ ...ids, organizationId: 3, plan: 'Team' }), { created: T0 + 50 });
    expect(await apply(checkout)).toMatchObject({ outcome: 'recorded' });
    expect(await row(ids.subscription)).toMatchObject({ status: 'active', lastEventAt: null });

    // The (older) subscription event still applies: the checkout only recorded a provisional row.
    expect(await apply(updated(ids, 'trialing', T0 + 40, T0 + 14 * 86_400))).toMatchObject({ outcome: 'applied' });
    // A redelivered checkout changes nothing.
    expect(await apply(stripeEvent('checkout.session.completed', checkoutSession({ ...ids, organizationId: 3 }), { created: T0 + 60 }))).toMatchObject({ outcome: 'unchanged' });
    expect(await row(ids.subscription)).toMatchObject({ status: 'trialing', organizationId: 3, currentPeriodEnd: new Date((T0 + 14 * 86_400) * 1000) });
  });

  it('applies two updates of the same second in arrival order (Stripe created times have one-second resolution)', async () => {
    const ids = newIds();
    const first = updated(ids, 'incomplete', T0 + 70, T0 + 30 * 86_400);
    const second = updated(ids, 'active', T0 + 70, T0 + 30 * 86_400);
    await apply(first);
    expect(await apply(second)).toMatchObject({ outcome: 'applied' });
    expect((await row(ids.subscription))?.status).toBe('active');
  });
});
