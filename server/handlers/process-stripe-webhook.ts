import { createStripeWebhookHandler } from '../billing/stripeWebhookHandler.ts';
import { defineJobHandler } from '../jobs/defineJobHandler.ts';

/** Applies a verified Stripe event to billing state and enqueues its email. */
export default defineJobHandler('process-stripe-webhook', {
  create: ({ jobs, stripe }) => createStripeWebhookHandler({ jobs, updatePaymentUrl: stripe.updatePaymentUrl }),
});
