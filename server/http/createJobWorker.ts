import type { Request, RequestHandler, Response } from 'express';
import { JOB_TYPE_LIST, jobTypeConfig, type AvailableJobType } from '../../shared/catalogue.ts';
import { defaultServer } from '../defaultServer.ts';
import type { JobsDeps } from '../jobs/deps.ts';
import { toError } from '../jobs/errors.ts';
import type { JobHandler, JobWorkerHandler } from '../jobs/handlers.ts';
import { processDelivery, type DeliveryOutcome } from '../jobs/processDelivery.ts';
import { workerUrl } from '../qstash/createQStashPublisher.ts';
import { logSecurityEvent, SECURITY_EVENTS } from '../security/securityEvent.ts';
import { createDeliveryVerifier, type DeliveryVerifier } from './verifyDeliverySignature.ts';

/** Largest body read when no parser ran (the app's own worker routes use express.raw with the same limit). */
const WORKER_BODY_LIMIT = 1024 * 1024;

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
 * The Express handler QStash delivers one job type to (the seed's `createJobWorker(handler)`).
 * The signature covers the exact body bytes, and its `sub` claim must be the type's configured
 * public URL (`PUBLIC_URL` + the catalogue's endpoint), never one rebuilt from Host or X-Forwarded-*.
 *
 * With `options`, it serves that type on those dependencies (the server's own routes). Without,
 * it acts on the default server (`startServer()`), and the job type is the catalogue entry whose
 * `endpoint` is the path it is mounted at: `app.post('/api/jobs/sms', createJobWorker(smsJobHandler))`.
 * Mount it before any JSON body parser, or behind `express.raw({ type: () => true })`.
 */
export function createJobWorker<P>(handler: JobWorkerHandler<P>): RequestHandler;
export function createJobWorker<T extends AvailableJobType>(handler: JobHandler<T>, options: JobWorkerOptions<T>): RequestHandler;
export function createJobWorker<T extends AvailableJobType>(handler: JobHandler<T>, options?: JobWorkerOptions<T>): RequestHandler {
  if (options) {
    const verify = verifierFor(options.signingKeys);
    const url = workerUrl(options.deps.publicUrl, jobTypeConfig(options.type).endpoint);
    return (req, res) => serveDelivery(req, res, { handler, type: options.type, deps: options.deps, verify, url });
  }
  return async (req, res) => {
    const type = JOB_TYPE_LIST.find((t) => jobTypeConfig(t).endpoint === `${req.baseUrl}${req.path}`.replace(/\/+$/, ''));
    if (!type || jobTypeConfig(type).availability !== 'available') {
      return void res.status(404).json({ error: `no available job type has the endpoint ${req.baseUrl}${req.path}` });
    }
    const server = defaultServer();
    const url = workerUrl(server.publicUrl, jobTypeConfig(type).endpoint);
    // The path names the type; `handler` was written for it (the seed's one-route-per-type files).
    await serveDelivery(req, res, { handler: handler as JobHandler<AvailableJobType>, type, deps: server.jobs, verify: verifierFor(server.signingKeys), url });
  };
}

const verifiers = new Map<string, DeliveryVerifier>();
function verifierFor(keys: SigningKeys): DeliveryVerifier {
  const id = `${keys.current}\n${keys.next}`;
  let verify = verifiers.get(id);
  if (!verify) {
    verify = createDeliveryVerifier(keys);
    verifiers.set(id, verify);
  }
  return verify;
}

interface Served<T extends AvailableJobType> {
  handler: JobHandler<T>;
  type: T;
  deps: JobsDeps;
  verify: DeliveryVerifier;
  /** The URL the signature must name. */
  url: string;
}

async function serveDelivery<T extends AvailableJobType>(req: Request, res: Response, served: Served<T>): Promise<void> {
  const { type, deps, verify, url } = served;
  const messageId = req.header('upstash-message-id') ?? '';
  // Bound only when something is logged: the path that succeeds logs from processDelivery.
  const log = () => deps.log.child({ jobType: type, messageId });
  const raw = await rawBody(req);
  if (raw === undefined) {
    log().error('[jobs] Worker route has no raw body: mount createJobWorker before express.json(), or behind express.raw()');
    return void res.status(500).json({ error: 'worker route misconfigured' });
  }
  const signature = req.header('upstash-signature');
  if (!signature) {
    logSecurityEvent(log(), SECURITY_EVENTS.forgedDelivery, { reason: 'no Upstash-Signature header', ip: req.ip }, '[jobs] Rejected delivery with an invalid signature');
    return void res.status(401).json({ error: 'Upstash-Signature header is missing' });
  }
  try {
    // Over the exact bytes received, against the configured URL of this route.
    verify({ signature, body: raw, url });
  } catch (error) {
    logSecurityEvent(log(), SECURITY_EVENTS.forgedDelivery, { reason: toError(error).message, ip: req.ip }, '[jobs] Rejected delivery with an invalid signature');
    return void res.status(401).json({ error: 'invalid signature' });
  }
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return void nonRetryable(res, 'body is not JSON');
  }
  try {
    const retried = Number.parseInt(req.header('upstash-retried') ?? '0', 10) || 0;
    const outcome = await processDelivery(deps, served.handler, { type, body, messageId, retried });
    respond(res, outcome);
  } catch (error) {
    // Infrastructure failure (database down…): nothing was settled, so let the broker retry.
    log().error({ err: toError(error) }, '[jobs] Delivery could not be processed');
    res.status(500).json({ error: 'internal error' });
  }
}

/** The body as sent: from `express.raw`, or read here when no body parser ran. Undefined if a parser consumed it. */
async function rawBody(req: Request): Promise<Buffer | undefined> {
  if (Buffer.isBuffer(req.body)) return req.body;
  if (req.readableEnded || req.body !== undefined) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > WORKER_BODY_LIMIT) throw Object.assign(new Error('request body too large'), { status: 413 });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
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
