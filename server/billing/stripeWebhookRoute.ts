import type { RequestHandler, Response } from 'express';
import type { Logger } from '../logger.ts';
import { logSecurityEvent, SECURITY_EVENTS } from '../security/securityEvent.ts';
import type { JobsDeps } from '../jobs/deps.ts';
import { enqueueJob } from '../jobs/enqueueJob.ts';
import { JobValidationError, toError } from '../jobs/errors.ts';
import { StripeEventEnvelope } from './stripeObjects.ts';
import type { StripeVerifier } from './verifyStripeEvent.ts';

export interface StripeWebhookRouteOptions {
  jobs: JobsDeps;
  /** Absent when STRIPE_WEBHOOK_SECRET is unset: the route then answers 503. */
  verify: StripeVerifier | undefined;
}

/**
 * `POST /api/stripe/webhook` (behind `express.raw`): verifies `Stripe-Signature` on the raw
 * body, enqueues `process-stripe-webhook` keyed by the event id and answers at once. The key is
 * global (no organization), so an event delivered twice, even concurrently, is one job. This
 * route is the only way in from the network: the job type is server-only for the API.
 */
export function createStripeWebhookRoute(options: StripeWebhookRouteOptions): RequestHandler {
  const { jobs, verify } = options;
  return async (req, res) => {
    if (!verify) return void res.status(503).json({ error: 'Stripe webhooks are not configured (STRIPE_WEBHOOK_SECRET)' });
    if (!Buffer.isBuffer(req.body)) return void res.status(415).json({ error: 'expected an application/json body' });
    const verified = verify(req.body, req.header('stripe-signature'));
    if (!verified.ok) {
      logSecurityEvent(jobs.log, SECURITY_EVENTS.forgedWebhook, { source: 'stripe', reason: verified.reason, ip: req.ip }, '[billing] Rejected Stripe webhook with an invalid signature');
      return void res.status(400).json({ error: 'invalid signature' });
    }
    const parsed = StripeEventEnvelope.safeParse(verified.event);
    if (!parsed.success) return void unexpectedShape(res, jobs.log, new JobValidationError('Unexpected Stripe event', parsed.error.issues));
    const event = parsed.data;
    const log = jobs.log.child({ stripeEventId: event.id, stripeEventType: event.type });
    try {
      const { jobId, deduplicated } = await enqueueJob(jobs, {
        type: 'process-stripe-webhook',
        payload: {
          eventType: event.type,
          eventData: event.data.object,
          ipAddress: req.ip,
          eventId: event.id,
          eventCreated: event.created,
        },
        metadata: {},
        idempotencyKey: `stripe:${event.id}`,
      });
      log.info({ jobId, deduplicated }, '[billing] Stripe webhook accepted');
      res.status(200).json({ received: true, jobId, deduplicated });
    } catch (error) {
      if (error instanceof JobValidationError) return void unexpectedShape(res, log, error);
      // Nothing was recorded: a 5xx makes Stripe deliver the event again later.
      log.error({ err: toError(error) }, '[billing] Stripe webhook could not be enqueued');
      res.status(500).json({ error: 'internal error' });
    }
  };
}

/** 400 with the issues' paths and messages (never the values, which may hold personal data): Stripe does not redeliver it. */
function unexpectedShape(res: Response, log: Logger, error: JobValidationError): void {
  log.warn({ issues: error.validationErrors }, '[billing] Stripe webhook has an unexpected shape');
  res.status(400).json({ error: 'event does not match the expected shape', issues: error.validationErrors });
}
