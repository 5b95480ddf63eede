import { sendPaymentFailedEmailAsync, sendSubscriptionCreatedEmailAsync } from '../email/emailHelpers.ts';
import type { Dispatcher } from '../jobs/dispatcher.ts';
import { displayName, type CheckoutSession, type Invoice } from './stripeObjects.ts';

/** Who the email job belongs to, and its key: one email per Stripe event however often it runs. */
export interface BillingEmailOptions {
  organizationId: number;
  idempotencyKey: string;
}

const isoDate = (date: Date) => date.toISOString().slice(0, 10);

/** Enqueues `subscriptionCreated` to the checkout's customer; resolves with the job id, or null without an email address. */
export async function enqueueSubscriptionCreatedEmail(
  dispatcher: Dispatcher,
  session: CheckoutSession,
  details: BillingEmailOptions & { planName: string; nextBillingDate: Date | null },
): Promise<string | null> {
  const to = session.customer_details?.email ?? session.customer_email;
  if (!to) return null;
  const data = {
    name: displayName(session.customer_details?.name, to),
    planName: details.planName,
    amount: session.amount_total ?? 0,
    currency: session.currency ?? 'usd',
    ...(details.nextBillingDate ? { nextBillingDate: isoDate(details.nextBillingDate) } : {}),
  };
  return sendSubscriptionCreatedEmailAsync(dispatcher, to, data, { organizationId: details.organizationId, idempotencyKey: details.idempotencyKey });
}

/**
 * Enqueues `paymentFailed` to the invoice's customer, linking Stripe's hosted invoice page (or
 * the configured fallback); resolves with the job id, or null without an address or a link.
 */
export async function enqueuePaymentFailedEmail(
  dispatcher: Dispatcher,
  invoice: Invoice,
  details: BillingEmailOptions & { fallbackUpdatePaymentUrl?: string | undefined },
): Promise<string | null> {
  const to = invoice.customer_email;
  const updatePaymentUrl = invoice.hosted_invoice_url ?? details.fallbackUpdatePaymentUrl;
  if (!to || !updatePaymentUrl) return null;
  const data = {
    name: displayName(invoice.customer_name, to),
    amount: invoice.amount_due,
    currency: invoice.currency,
    updatePaymentUrl,
    ...(invoice.next_payment_attempt ? { nextRetryDate: isoDate(new Date(invoice.next_payment_attempt * 1000)) } : {}),
  };
  return sendPaymentFailedEmailAsync(dispatcher, to, data, { organizationId: details.organizationId, idempotencyKey: details.idempotencyKey });
}
