import express, { Router } from 'express';
import { createStripeWebhookRoute } from '../billing/stripeWebhookRoute.ts';
import { createStripeVerifier, type StripeVerifierOptions } from '../billing/verifyStripeEvent.ts';
import type { JobsDeps } from '../jobs/deps.ts';
import { createWebhookRoute } from './webhookRoute.ts';
import type { WebhookSource } from './webhookSource.ts';

export interface WebhookIngressOptions {
  jobs: JobsDeps;
  /** Without a webhook secret, `POST /api/stripe/webhook` answers 503. */
  stripe?: Partial<StripeVerifierOptions> | undefined;
  /** Senders served at `POST /api/webhooks/<name>`. Default none (every source is 404). */
  sources?: readonly WebhookSource[] | undefined;
}

/** Stripe's own limit on event payloads is far below this; 413 beyond it. */
const WEBHOOK_BODY_BYTES = 1024 * 1024;

/**
 * The webhook routes: `POST /api/stripe/webhook` and `POST /api/webhooks/:source`. Each reads
 * only an `application/json` body, raw, since signatures cover the exact bytes.
 */
export function createWebhookIngress(options: WebhookIngressOptions): Router {
  const { jobs, stripe } = options;
  const raw = express.raw({ type: 'application/json', limit: WEBHOOK_BODY_BYTES });
  const router = Router();

  const verify = stripe?.webhookSecret ? createStripeVerifier({ ...stripe, webhookSecret: stripe.webhookSecret }) : undefined;
  router.post('/api/stripe/webhook', raw, createStripeWebhookRoute({ jobs, verify }));

  const { findSource, receive } = createWebhookRoute({ jobs, sources: options.sources ?? [] });
  router.post('/api/webhooks/:source', findSource, raw, receive);
  return router;
}
