import { eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/database.ts';
import { billingSubscriptions, type BillingSubscriptionRow } from '../db/billingSchema.ts';

const b = billingSubscriptions;

/** How far ahead of this server's clock a Stripe event's `created` may be and still order events (Stripe's signature tolerance). */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

export interface SubscriptionState {
  subscriptionId: string;
  customerId: string;
  organizationId: number;
  plan: string | null;
  status: string;
  currentPeriodEnd: Date | null;
  eventId: string;
  /** The Stripe event's `created`. */
  eventAt: Date;
}

/**
 * Applies a subscription event's state in one guarded upsert: a row whose applied event is
 * newer is left alone, so a late, older event never moves the state backwards. Equal times
 * apply (Stripe's `created` has one-second resolution; a retry of one event is a no-op). A
 * stored time beyond the clock skew (written before such times were refused) fences nothing.
 * The organization never changes once recorded. Resolves whether the event was applied.
 */
export async function upsertSubscriptionState(db: DbOrTx, s: SubscriptionState): Promise<boolean> {
  const rows = await db
    .insert(b)
    .values({
      stripeSubscriptionId: s.subscriptionId,
      stripeCustomerId: s.customerId,
      organizationId: s.organizationId,
      plan: s.plan,
      status: s.status,
      currentPeriodEnd: s.currentPeriodEnd,
      lastEventId: s.eventId,
      lastEventAt: s.eventAt,
    })
    .onConflictDoUpdate({
      target: b.stripeSubscriptionId,
      set: {
        stripeCustomerId: sql`excluded.stripe_customer_id`,
        plan: sql`coalesce(excluded.plan, ${b.plan})`,
        status: sql`excluded.status`,
        currentPeriodEnd: sql`coalesce(excluded.current_period_end, ${b.currentPeriodEnd})`,
        lastEventId: sql`excluded.last_event_id`,
        lastEventAt: sql`excluded.last_event_at`,
        updatedAt: sql`now()`,
      },
      setWhere: sql`${b.lastEventAt} IS NULL OR ${b.lastEventAt} <= excluded.last_event_at OR ${b.lastEventAt} > now() + ${MAX_CLOCK_SKEW_MS} * interval '1 millisecond'`,
    })
    .returning({ id: b.stripeSubscriptionId });
  return rows.length > 0;
}

export interface ProvisionalSubscription {
  subscriptionId: string;
  customerId: string;
  organizationId: number;
  plan: string | null;
  status: string;
}

/**
 * Records a subscription a checkout or invoice event tells of, unless a row exists: those
 * events don't carry the subscription's status, so they never override one. The row has no
 * applied event, so every subscription event, however old, still applies to it.
 */
export async function insertProvisionalSubscription(db: DbOrTx, s: ProvisionalSubscription): Promise<boolean> {
  const rows = await db
    .insert(b)
    .values({ stripeSubscriptionId: s.subscriptionId, stripeCustomerId: s.customerId, organizationId: s.organizationId, plan: s.plan, status: s.status })
    .onConflictDoNothing()
    .returning({ id: b.stripeSubscriptionId });
  return rows.length > 0;
}

export async function getBillingSubscription(db: DbOrTx, subscriptionId: string): Promise<BillingSubscriptionRow | undefined> {
  const [row] = await db.select().from(b).where(eq(b.stripeSubscriptionId, subscriptionId)).limit(1);
  return row;
}

/** The organization already recorded for this subscription, else for this customer. */
export async function findBillingOrganization(db: DbOrTx, ids: { subscriptionId?: string | null; customerId?: string | null }): Promise<number | undefined> {
  const { subscriptionId, customerId } = ids;
  if (!subscriptionId && !customerId) return undefined;
  const [row] = await db
    .select({ organizationId: b.organizationId })
    .from(b)
    .where(sql`${b.stripeSubscriptionId} = ${subscriptionId ?? null} OR ${b.stripeCustomerId} = ${customerId ?? null}`)
    // The subscription's own row first, then the customer's most recent one.
    .orderBy(sql`(${b.stripeSubscriptionId} = ${subscriptionId ?? null}) IS TRUE DESC`, sql`${b.updatedAt} DESC`)
    .limit(1);
  return row?.organizationId;
}
