import { Receiver } from '@upstash/qstash';
import type { RequestHandler, Response } from 'express';
import { decodeProtectedHeader } from 'jose';
import { jobTypeConfig, type AvailableJobType } from '../../shared/catalogue.ts';
import type { JobsDeps } from '../jobs/deps.ts';
import { toError } from '../jobs/errors.ts';
import type { JobHandler } from '../jobs/handlers.ts';
import { processDelivery, type DeliveryOutcome } from '../jobs/processDelivery.ts';
import { workerUrl } from '../qstash/createQStashPublisher.ts';
import { logSecurityEvent, SECURITY_EVENTS } from '../security/securityEvent.ts';

export interface SigningKeys {
  current: string;
  next: string;
}

export interface JobWorkerOptions<T extends AvailableJobType> {
  type: T;
  deps: JobsDeps;
  signingKeys: SigningKeys;
}

/**
 * The Express handler QStash delivers one job type to. Expects the raw body (`express.raw`):
 * the signature covers the exact bytes, and its `sub` claim must be this route's configured
 * public URL, never one rebuilt from Host or X-Forwarded-* headers.
 */
export function createJobWorker<T extends AvailableJobType>(handler: JobHandler<T>, options: JobWorkerOptions<T>): RequestHandler {
  const { type, deps } = options;
  const url = workerUrl(deps.publicUrl, jobTypeConfig(type).endpoint);
  // devMode false: otherwise the SDK honours QSTASH_DEV and silently swaps in the public dev keys.
  const receiver = new Receiver({ currentSigningKey: options.signingKeys.current, nextSigningKey: options.signingKeys.next, devMode: false });

  return async (req, res) => {
    const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    const messageId = req.header('upstash-message-id') ?? '';
    const log = deps.log.child({ jobType: type, messageId });
    const signature = req.header('upstash-signature');
    if (!signature) {
      logSecurityEvent(log, SECURITY_EVENTS.forgedDelivery, { reason: 'no Upstash-Signature header', ip: req.ip }, '[jobs] Rejected delivery with an invalid signature');
      return void res.status(401).json({ error: 'Upstash-Signature header is missing' });
    }
    try {
      // QStash signs HS256 only; the SDK would accept any HMAC algorithm the key fits.
      if (decodeProtectedHeader(signature).alg !== 'HS256') throw new Error('signature algorithm is not HS256');
      await receiver.verify({ signature, body: raw, url });
    } catch (error) {
      logSecurityEvent(log, SECURITY_EVENTS.forgedDelivery, { reason: toError(error).message, ip: req.ip }, '[jobs] Rejected delivery with an invalid signature');
      return void res.status(401).json({ error: 'invalid signature' });
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return void nonRetryable(res, 'body is not JSON');
    }
    try {
      const retried = Number.parseInt(req.header('upstash-retried') ?? '0', 10) || 0;
      const outcome = await processDelivery(deps, handler, { type, body, messageId, retried });
      respond(res, outcome);
    } catch (error) {
      // Infrastructure failure (database down…): nothing was settled, so let the broker retry.
      log.error({ err: toError(error) }, '[jobs] Delivery could not be processed');
      res.status(500).json({ error: 'internal error' });
    }
  };
}

function nonRetryable(res: Response, reason: string): void {
  res.status(489).set('Upstash-NonRetryable-Error', 'true').json({ error: reason });
}

/** Retry-After in whole seconds, or a Go duration for sub-second backoffs (QStash accepts both). */
function retryAfter(ms: number): string {
  return ms >= 1000 ? String(Math.ceil(ms / 1000)) : `${Math.max(1, Math.round(ms))}ms`;
}

function respond(res: Response, outcome: DeliveryOutcome): void {
  switch (outcome.kind) {
    case 'completed':
    case 'duplicate':
      res.status(200).json(outcome);
      return;
    case 'retry':
      res.status(500).set('Retry-After', retryAfter(outcome.retryAfterMs)).json(outcome);
      return;
    case 'busy':
      res.status(503).set('Retry-After', retryAfter(outcome.retryAfterMs)).json(outcome);
      return;
    case 'failed':
      nonRetryable(res, outcome.reason);
      return;
  }
}
