/** Stripe events as Stripe sends them, signed with the SDK's own test-header helper. */
import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import Stripe from 'stripe';
import { jobExecutions, type JobRow } from '../../server/db/schema.ts';
import type { Db } from '../../server/db/database.ts';
import { waitFor } from '../support/testServer.ts';

export const STRIPE_WEBHOOK_SECRET = 'whsec_test_0123456789abcdef0123456789abcdef';
const stripe = new Stripe('sk_test_unused');

const id = (prefix: string) => `${prefix}_${randomBytes(8).toString('hex')}`;
const now = () => Math.floor(Date.now() / 1000);

export interface StripeEventOptions {
  id?: string;
  /** Unix seconds. Default now. */
  created?: number;
}

export function stripeEvent(type: string, object: Record<string, unknown>, options: StripeEventOptions = {}) {
  return {
    id: options.id ?? id('evt'),
    object: 'event',
    api_version: '2025-09-30.clover',
    created: options.created ?? now(),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    data: { object },
  };
}

export function checkoutSession(o: { customer: string; subscription: string; organizationId?: number | string; email?: string; name?: string; plan?: string; amount?: number }) {
  return {
    id: id('cs_test'),
    object: 'checkout.session',
    mode: 'subscription',
    status: 'complete',
    payment_status: 'paid',
    customer: o.customer,
    subscription: o.subscription,
    amount_total: o.amount ?? 2900,
    currency: 'usd',
    customer_details: { email: o.email ?? 'ada@example.com', name: o.name ?? 'Ada Lovelace' },
    metadata: { ...(o.organizationId === undefined ? {} : { organizationId: String(o.organizationId) }), ...(o.plan ? { plan: o.plan } : {}) },
  };
}

/** A subscription in the current API shape: the period end lives on its items. */
export function subscription(o: { id: string; customer: string; status: string; periodEnd?: number; organizationId?: number; price?: string }) {
  return {
    id: o.id,
    object: 'subscription',
    customer: o.customer,
    status: o.status,
    metadata: o.organizationId === undefined ? {} : { organizationId: String(o.organizationId) },
    items: {
      object: 'list',
      data: [{ id: id('si'), object: 'subscription_item', current_period_end: o.periodEnd ?? now() + 30 * 86_400, price: { id: id('price'), nickname: o.price ?? 'Pro', lookup_key: null } }],
    },
  };
}

export function invoice(o: { customer: string; subscription?: string; email?: string; amount?: number; hostedUrl?: string | null }) {
  return {
    id: id('in'),
    object: 'invoice',
    customer: o.customer,
    customer_email: o.email ?? 'ada@example.com',
    customer_name: 'Ada Lovelace',
    amount_due: o.amount ?? 2900,
    currency: 'usd',
    hosted_invoice_url: o.hostedUrl === undefined ? 'https://invoice.stripe.com/i/acct_test/test_123' : o.hostedUrl,
    next_payment_attempt: now() + 3 * 86_400,
    parent: o.subscription ? { type: 'subscription_details', subscription_details: { subscription: o.subscription, metadata: {} } } : null,
  };
}

export const newIds = () => ({ customer: id('cus'), subscription: id('sub') });

export function signStripe(payload: string, options: { secret?: string; timestamp?: number } = {}): string {
  return stripe.webhooks.generateTestHeaderString({ payload, secret: options.secret ?? STRIPE_WEBHOOK_SECRET, ...(options.timestamp ? { timestamp: options.timestamp } : {}) });
}

/** POSTs an event to the server's Stripe route, signed unless `signature` is given. */
export async function postStripe(baseUrl: string, event: object | string, options: { signature?: string | null; secret?: string } = {}) {
  const payload = typeof event === 'string' ? event : JSON.stringify(event);
  const signature = options.signature === undefined ? signStripe(payload, { secret: options.secret }) : options.signature;
  return fetch(`${baseUrl}/api/stripe/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8', ...(signature === null ? {} : { 'stripe-signature': signature }) },
    body: payload,
  });
}

/** The job row once it is terminal (Stripe jobs have no organization, so no client can watch them). */
export async function settledJob(db: Db, jobId: string, timeout = 20_000): Promise<JobRow> {
  return waitFor(
    async () => {
      const [row] = await db.select().from(jobExecutions).where(eq(jobExecutions.id, jobId));
      return row && ['completed', 'failed', 'cancelled'].includes(row.status) ? row : undefined;
    },
    { timeout },
  );
}
