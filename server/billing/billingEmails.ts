import { enqueueTemplateEmail } from '../email/emailHelpers.ts';
import { minorUnitsToDecimal } from '../email/templates/format.ts';
import type { Dispatcher } from '../jobs/dispatcher.ts';
import { displayName, type CheckoutSession, type Invoice } from './stripeObjects.ts';

/** Who the email job belongs to, and its key: one email per Stripe event however often it runs. */
export interface BillingEmailOptions {
  organizationId: number;
  idempotencyKey: string;
}

const isoDate = (date: Date) => date.toISOString().slice(0, 10);

/** Stripe's minor-unit amount → the template's decimal string plus its currency (`2999, 'usd'` → `'29.99'`, shown `$29.99`). */
const money = (amount: number, currency: string) => ({ amount: minorUnitsToDecimal(amount, currency), currency });

/** Enqueues `subscriptionCreated` to the checkout's customer; resolves with the job id, or null without an email address. */
export async function enqueueSubscriptionCreatedEmail(
  dispatcher: Dispatcher,
  session: CheckoutSession,
  details: BillingEmailOptions & { planName: string; nextBillingDate: Date | null },
): Promise<string | null> {
  const to = session.customer_details?.email ?? session.customer_email;
  if (!to) return null;
  const { amount, currency } = money(session.amount_total ?? 0, session.currency ?? 'usd');
  const payload = {
    to,
    recipientName: displayName(session.customer_details?.name, to),
    planName: details.planName,
    amount,
    currency,
    ...(details.nextBillingDate ? { nextBillingDate: isoDate(details.nextBillingDate) } : {}),
  };
  return enqueueTemplateEmail(dispatcher, 'subscriptionCreated', payload, { organizationId: details.organizationId }, { idempotencyKey: details.idempotencyKey });
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
  const paymentDetailsUrl = invoice.hosted_invoice_url ?? details.fallbackUpdatePaymentUrl;
  if (!to || !paymentDetailsUrl) return null;
  const { amount, currency } = money(invoice.amount_due, invoice.currency);
  const payload = {
    to,
    recipientName: displayName(invoice.customer_name, to),
    amountDue: amount,
    currency,
    paymentDetailsUrl,
    ...(invoice.next_payment_attempt ? { nextRetryDate: isoDate(new Date(invoice.next_payment_attempt * 1000)) } : {}),
  };
  return enqueueTemplateEmail(dispatcher, 'paymentFailed', payload, { organizationId: details.organizationId }, { idempotencyKey: details.idempotencyKey });
}
