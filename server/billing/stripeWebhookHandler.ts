import type { z } from 'zod';
import type { JobPayload } from '../../shared/catalogue.ts';
import type { JobsDeps } from '../jobs/deps.ts';
import { createDispatcher } from '../jobs/dispatcher.ts';
import { JobValidationError } from '../jobs/errors.ts';
import type { HandlerContext, JobHandler } from '../jobs/handlers.ts';
import { enqueuePaymentFailedEmail, enqueueSubscriptionCreatedEmail } from './billingEmails.ts';
import { findBillingOrganization, getBillingSubscription, insertProvisionalSubscription, MAX_CLOCK_SKEW_MS, upsertSubscriptionState } from './billingStore.ts';
import { CheckoutSession, Invoice, Subscription, invoiceMetadata, organizationIdFrom, periodEndOf, planOf, subscriptionIdOf } from './stripeObjects.ts';

export interface StripeWebhookHandlerOptions {
  jobs: JobsDeps;
  /** Link for `paymentFailed` emails when the invoice has no hosted page. Default none (no email). */
  updatePaymentUrl?: string | undefined;
}

type Payload = JobPayload<'process-stripe-webhook'>;
type Ctx = HandlerContext<'process-stripe-webhook'>;
/** What the job stores as its result. */
export type StripeEventOutcome =
  | { outcome: 'ignored'; reason: string }
  | { outcome: 'applied' | 'stale' | 'recorded' | 'unchanged'; organizationId: number; subscriptionId: string | null; emailJobId?: string | null };

interface Event {
  id: string;
  at: Date;
  emailKey: string;
}

/**
 * Applies a verified Stripe event to `billing_subscriptions` and enqueues its email. Status comes
 * only from `customer.subscription.*` events, fenced by event time; checkout and invoice events
 * create a provisional row when none exists. Without a resolvable organization the job retries
 * (the event naming it may still be on its way) and on its last attempt completes as ignored.
 */
export function createStripeWebhookHandler(options: StripeWebhookHandlerOptions): JobHandler<'process-stripe-webhook'> {
  const dispatcher = createDispatcher(options.jobs);
  const { db } = options.jobs;

  return async (payload, ctx) => {
    const id = payload.eventId ?? `job:${ctx.jobId}`;
    const event: Event = { id, at: eventTime(payload.eventCreated, ctx), emailKey: `stripe:${id}:email` };
    switch (payload.eventType) {
      case 'checkout.session.completed':
        return applyCheckout(parse(CheckoutSession, payload), event, ctx);
      case 'customer.subscription.created':
      case 'customer.subscription.updated':
      case 'customer.subscription.deleted':
        return applySubscription(parse(Subscription, payload), event, ctx, payload.eventType === 'customer.subscription.deleted');
      case 'invoice.payment_failed':
        return applyPaymentFailed(parse(Invoice, payload), event, ctx);
      default:
        return ignored('unhandled event type');
    }
  };

  async function applyCheckout(session: CheckoutSession, event: Event, ctx: Ctx): Promise<StripeEventOutcome> {
    if (session.mode !== 'subscription' || !session.subscription || !session.customer) return ignored('not a subscription checkout');
    const subscriptionId = session.subscription;
    const organizationId = organizationIdFrom(session.metadata) ?? (await findBillingOrganization(db, { subscriptionId, customerId: session.customer }));
    if (organizationId === undefined) return noOrganization(ctx);
    const paid = session.payment_status === 'paid' || session.payment_status === 'no_payment_required';
    const plan = stringOf(session.metadata?.plan);
    const recorded = await insertProvisionalSubscription(db, { subscriptionId, customerId: session.customer, organizationId, plan, status: paid ? 'active' : 'incomplete' });
    const row = await getBillingSubscription(db, subscriptionId);
    const emailJobId = await email(ctx, () =>
      enqueueSubscriptionCreatedEmail(dispatcher, session, {
        organizationId,
        idempotencyKey: event.emailKey,
        planName: stringOf(session.metadata?.planName) ?? plan ?? row?.plan ?? 'Subscription',
        nextBillingDate: row?.currentPeriodEnd ?? null,
      }),
    );
    return { outcome: recorded ? 'recorded' : 'unchanged', organizationId, subscriptionId, emailJobId };
  }

  async function applySubscription(subscription: Subscription, event: Event, ctx: Ctx, deleted: boolean): Promise<StripeEventOutcome> {
    const subscriptionId = subscription.id;
    const organizationId =
      organizationIdFrom(subscription.metadata) ?? (await findBillingOrganization(db, { subscriptionId, customerId: subscription.customer }));
    if (organizationId === undefined) return noOrganization(ctx);
    const applied = await upsertSubscriptionState(db, {
      subscriptionId,
      customerId: subscription.customer,
      organizationId,
      plan: planOf(subscription),
      status: deleted ? 'canceled' : subscription.status,
      currentPeriodEnd: periodEndOf(subscription),
      eventId: event.id,
      eventAt: event.at,
    });
    if (!applied) ctx.log.info({ subscriptionId, eventId: event.id }, '[billing] Older Stripe event left the newer state in place');
    return { outcome: applied ? 'applied' : 'stale', organizationId, subscriptionId };
  }

  async function applyPaymentFailed(invoice: Invoice, event: Event, ctx: Ctx): Promise<StripeEventOutcome> {
    const subscriptionId = subscriptionIdOf(invoice);
    const customerId = invoice.customer ?? null;
    const organizationId = organizationIdFrom(...invoiceMetadata(invoice)) ?? (await findBillingOrganization(db, { subscriptionId, customerId }));
    if (organizationId === undefined) return noOrganization(ctx);
    // Stripe follows a failed renewal with customer.subscription.updated (past_due), which sets the status.
    const recorded =
      subscriptionId && customerId ? await insertProvisionalSubscription(db, { subscriptionId, customerId, organizationId, plan: null, status: 'past_due' }) : false;
    const emailJobId = await email(ctx, () =>
      enqueuePaymentFailedEmail(dispatcher, invoice, { organizationId, idempotencyKey: event.emailKey, fallbackUpdatePaymentUrl: options.updatePaymentUrl }),
    );
    return { outcome: recorded ? 'recorded' : 'unchanged', organizationId, subscriptionId, emailJobId };
  }
}

function parse<T extends z.ZodType>(schema: T, payload: Payload): z.output<T> {
  const parsed = schema.safeParse(payload.eventData);
  if (!parsed.success) throw new JobValidationError(`Stripe ${payload.eventType} object does not have the expected shape`, parsed.error.issues);
  return parsed.data;
}

/**
 * When the event happened, for ordering. Without its time (an event enqueued by server code), it
 * counts as the newest; so does a time beyond the clock skew, which would otherwise fence out
 * every genuine event until then.
 */
function eventTime(created: number | undefined, ctx: Ctx): Date {
  const now = Date.now();
  if (created === undefined) return new Date(now);
  if (created * 1000 <= now + MAX_CLOCK_SKEW_MS) return new Date(created * 1000);
  ctx.log.warn({ jobId: ctx.jobId, eventCreated: created }, '[billing] Stripe event time is in the future: ordered at processing time');
  return new Date(now);
}

const ignored = (reason: string): StripeEventOutcome => ({ outcome: 'ignored', reason });
const stringOf = (value: unknown): string | null => (typeof value === 'string' && value.trim() ? value.trim().slice(0, 200) : null);

/** Retries while attempts remain (the checkout naming the organization may arrive later), then gives up quietly. */
function noOrganization(ctx: Ctx): StripeEventOutcome {
  if (ctx.attempt <= ctx.maxRetries) throw new Error('No organization for this Stripe object yet (metadata.organizationId or an earlier event)');
  ctx.log.warn({ jobId: ctx.jobId }, '[billing] Stripe event ignored: no organization');
  return ignored('no organization');
}

/** An email that fails its own schema (a malformed address) must not undo or retry the billing update. */
async function email(ctx: Ctx, enqueue: () => Promise<string | null>): Promise<string | null> {
  try {
    return await enqueue();
  } catch (error) {
    if (!(error instanceof JobValidationError)) throw error;
    ctx.log.warn({ jobId: ctx.jobId, issues: error.issues.map((i) => i.path.join('.')) }, '[billing] Billing email skipped: invalid email data');
    return null;
  }
}
