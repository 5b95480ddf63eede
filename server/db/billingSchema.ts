import { index, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { tz } from './schema.ts';

/**
 * Billing state per Stripe subscription, applied from verified Stripe events. `last_event_at`
 * (the event's `created`) fences updates: an event older than the one applied never overwrites
 * it, so out-of-order deliveries cannot move the state backwards.
 */
export const billingSubscriptions = pgTable(
  'billing_subscriptions',
  {
    stripeSubscriptionId: text('stripe_subscription_id').primaryKey(),
    stripeCustomerId: text('stripe_customer_id').notNull(),
    organizationId: integer('organization_id').notNull(),
    /** The price's nickname or lookup key (else its id), or the checkout's `metadata.plan`. */
    plan: text('plan'),
    /** Stripe's subscription status (`active`, `past_due`, `canceled`, …). */
    status: text('status').notNull(),
    currentPeriodEnd: tz('current_period_end'),
    /**
     * The newest subscription event applied (`customer.subscription.*`, which alone set the
     * status). NULL while the row only holds what a checkout or invoice event provisionally said.
     */
    lastEventId: text('last_event_id'),
    lastEventAt: tz('last_event_at'),
    createdAt: tz('created_at').notNull().defaultNow(),
    updatedAt: tz('updated_at').notNull().defaultNow(),
  },
  (t) => [index('billing_subscriptions_customer_idx').on(t.stripeCustomerId), index('billing_subscriptions_org_idx').on(t.organizationId)],
);

export type BillingSubscriptionRow = typeof billingSubscriptions.$inferSelect;
