import { createHash } from 'node:crypto';
import { logSecurityEvent, SECURITY_EVENTS } from '../security/securityEvent.ts';
import type { Request, RequestHandler } from 'express';
import type { JobsDeps } from '../jobs/deps.ts';
import { JobValidationError, toError } from '../jobs/errors.ts';
import { acceptWebhookDelivery } from './acceptWebhookDelivery.ts';
import { verifyWebhookSignature } from './verifyWebhookSignature.ts';
import { resolveWebhookSource, type ResolvedWebhookSource, type WebhookSource } from './webhookSource.ts';

export interface WebhookRouteOptions {
  jobs: JobsDeps;
  sources: readonly WebhookSource[];
}

/** `res.locals` key the source lookup leaves for the handler. */
const SOURCE = 'webhookSource';

/**
 * `POST /api/webhooks/:source`, as two handlers around `express.raw`: the first answers 404 for
 * an unknown source before any body is read; the second verifies the signature (401), stores the
 * event and enqueues `process-webhook` (acceptWebhookDelivery). A redelivery (the same delivery
 * id) or a replay (the same body within the window, under any delivery id or event) is answered
 * 200 with `duplicate: true` and the first delivery's job.
 */
export function createWebhookRoute(options: WebhookRouteOptions): { findSource: RequestHandler; receive: RequestHandler } {
  const { jobs } = options;
  const sources = new Map(options.sources.map((s) => [s.name, resolveWebhookSource(s)]));

  const findSource: RequestHandler = (req, res, next) => {
    const source = sources.get(String(req.params.source));
    if (!source) return void res.status(404).json({ error: 'unknown webhook source' });
    res.locals[SOURCE] = source;
    next();
  };

  const receive: RequestHandler = async (req, res) => {
    const source = res.locals[SOURCE] as ResolvedWebhookSource; // set by findSource, which runs first
    if (!Buffer.isBuffer(req.body)) return void res.status(415).json({ error: 'expected an application/json body' });
    const verified = verifyWebhookSignature(source, req.body, req.header(source.signatureHeader));
    if (!verified.ok) {
      logSecurityEvent(jobs.log, SECURITY_EVENTS.forgedWebhook, { source: source.name, reason: verified.reason, ip: req.ip }, '[webhooks] Rejected webhook with an invalid signature');
      return void res.status(401).json({ error: 'invalid signature' });
    }
    const data = parseObject(req.body);
    if (!data) return void res.status(400).json({ error: 'body must be a JSON object' });

    const bodySha256 = createHash('sha256').update(req.body).digest('hex');
    const deliveryId = req.header(source.deliveryIdHeader)?.trim() || `sha256:${bodySha256}`;
    const event = req.header(source.eventHeader)?.trim() || eventInBody(data) || 'unknown';
    const log = jobs.log.child({ source: source.name, event, deliveryId });
    try {
      const headers = headersThatMatter(req, source);
      const accepted = await acceptWebhookDelivery(jobs, { source: source.name, organizationId: source.organizationId, event, deliveryId, data, headers, bodySha256 });
      log.info(accepted, accepted.duplicate ? '[webhooks] Duplicate webhook delivery' : '[webhooks] Webhook accepted');
      res.status(200).json({ received: true, ...accepted });
    } catch (error) {
      if (error instanceof JobValidationError) {
        // A 4xx: senders redeliver 5xx for days, and this body will never fit.
        return void res.status(400).json({ error: 'webhook does not fit the process-webhook payload', issues: error.validationErrors });
      }
      log.error({ err: toError(error) }, '[webhooks] Webhook could not be stored or enqueued');
      res.status(500).json({ error: 'internal error' });
    }
  };

  return { findSource, receive };
}

function parseObject(body: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Senders without an event header often name it in the body. */
function eventInBody(data: Record<string, unknown>): string | undefined {
  const named = data.type ?? data.event;
  return typeof named === 'string' && named.trim() ? named.trim() : undefined;
}

/** Event, delivery id, user-agent and content-type: enough to audit and replay, never the signature. */
function headersThatMatter(req: Request, source: ResolvedWebhookSource): Record<string, string> {
  const names = [source.eventHeader, source.deliveryIdHeader, 'user-agent', 'content-type'];
  const kept: Record<string, string> = {};
  for (const name of names) {
    const value = req.header(name);
    if (value) kept[name] = value.slice(0, 1000);
  }
  return kept;
}
