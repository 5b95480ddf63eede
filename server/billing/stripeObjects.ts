/**
 * The parts of Stripe objects billing reads, as schemas. Stripe sends webhook payloads in the
 * account's API version, so fields that moved between versions are read from both places
 * (`current_period_end` on the subscription or its items; an invoice's subscription at the top
 * level or under `parent.subscription_details`).
 */
import { z } from 'zod';

/** What the route reads of a verified event: anything else is a 400 (a 5xx would be redelivered for days). */
export const StripeEventEnvelope = z.object({
  id: z.string().min(1).max(255),
  type: z.string().min(1).max(200),
  created: z.number().int().nonnegative(),
  data: z.object({ object: z.record(z.string(), z.unknown()) }),
});

/** An id, or the expanded object carrying it. */
const Ref = z.union([z.string(), z.looseObject({ id: z.string() })]).transform((v) => (typeof v === 'string' ? v : v.id));
const Metadata = z.record(z.string(), z.unknown()).nullish();

export const CheckoutSession = z.object({
  id: z.string(),
  mode: z.string().nullish(),
  payment_status: z.string().nullish(),
  customer: Ref.nullish(),
  subscription: Ref.nullish(),
  metadata: Metadata,
  customer_details: z.object({ email: z.string().nullish(), name: z.string().nullish() }).nullish(),
  customer_email: z.string().nullish(),
  amount_total: z.number().int().nullish(),
  currency: z.string().nullish(),
});
export type CheckoutSession = z.infer<typeof CheckoutSession>;

const Price = z.object({ id: z.string(), nickname: z.string().nullish(), lookup_key: z.string().nullish() });

export const Subscription = z.object({
  id: z.string(),
  customer: Ref,
  status: z.string().min(1),
  metadata: Metadata,
  current_period_end: z.number().nullish(),
  items: z
    .object({ data: z.array(z.object({ current_period_end: z.number().nullish(), price: Price.nullish() })) })
    .nullish(),
});
export type Subscription = z.infer<typeof Subscription>;

export const Invoice = z.object({
  id: z.string(),
  customer: Ref.nullish(),
  customer_email: z.string().nullish(),
  customer_name: z.string().nullish(),
  amount_due: z.number().int().nonnegative(),
  currency: z.string(),
  hosted_invoice_url: z.string().nullish(),
  next_payment_attempt: z.number().nullish(),
  metadata: Metadata,
  /** API versions before 2025-03-31. */
  subscription: Ref.nullish(),
  subscription_details: z.object({ metadata: Metadata }).nullish(),
  /** API versions from 2025-03-31. */
  parent: z.object({ subscription_details: z.object({ subscription: Ref.nullish(), metadata: Metadata }).nullish() }).nullish(),
});
export type Invoice = z.infer<typeof Invoice>;

/**
 * `metadata.organizationId`, which the host app sets when it creates the Checkout Session
 * (`metadata`) and the subscription (`subscription_data.metadata`). A positive 32-bit integer.
 */
export function organizationIdFrom(...metadata: (Record<string, unknown> | null | undefined)[]): number | undefined {
  for (const m of metadata) {
    const value = m?.organizationId;
    const text = typeof value === 'number' ? String(value) : value;
    if (typeof text === 'string' && /^[1-9]\d{0,9}$/.test(text) && Number(text) <= 2 ** 31 - 1) return Number(text);
  }
  return undefined;
}

/** The first item's price nickname, lookup key or id. */
export function planOf(subscription: Subscription): string | null {
  const price = subscription.items?.data[0]?.price;
  return price ? (price.nickname ?? price.lookup_key ?? price.id) : null;
}

export function periodEndOf(subscription: Subscription): Date | null {
  const seconds = subscription.current_period_end ?? subscription.items?.data[0]?.current_period_end;
  return seconds ? new Date(seconds * 1000) : null;
}

export function subscriptionIdOf(invoice: Invoice): string | null {
  return invoice.parent?.subscription_details?.subscription ?? invoice.subscription ?? null;
}

export function invoiceMetadata(invoice: Invoice): (Record<string, unknown> | null | undefined)[] {
  return [invoice.parent?.subscription_details?.metadata, invoice.subscription_details?.metadata, invoice.metadata];
}

/** A display name: the given name, else the email's local part. */
export function displayName(name: string | null | undefined, email: string): string {
  return name?.trim() || email.split('@')[0] || email;
}
