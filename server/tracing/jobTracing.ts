/**
 * OpenTelemetry spans for a job's path: `create <type>` (jobs.enqueue) → `send <type>` (the
 * publish to QStash, which carries the trace context as the forwarded `traceparent` header) →
 * `process <type>` (each delivery attempt, joined to the enqueue's trace) → `run <type>` (the
 * handler). Attributes follow the messaging semantic conventions; payload values never go into
 * a span. Without a registered SDK (the default) every call here is a cheap no-op.
 */
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import type { RequestHandler } from 'express';
import type { JobType } from '../../shared/catalogue.ts';
import type { PublishRequest } from '../jobs/deps.ts';

const tracer = () => trace.getTracer('jobwire');

/** `messaging.system`: QStash is not in the conventions' list, so its own name. */
export const MESSAGING_SYSTEM = 'qstash';

const messaging = (type: JobType, operation: { name: string; type: string }): Attributes => ({
  'messaging.system': MESSAGING_SYSTEM,
  'messaging.destination.name': type,
  'messaging.operation.name': operation.name,
  'messaging.operation.type': operation.type,
});

/** Runs `fn` in an active span (a child of `parent`, default the active context) that ends with it, recording a thrown error (name and message only). */
async function inSpan<T>(name: string, options: { kind: SpanKind; attributes: Attributes }, fn: (span: Span) => Promise<T>, parent: Context = context.active()): Promise<T> {
  return tracer().startActiveSpan(name, options, parent, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      failSpan(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

function failSpan(span: Span, error: unknown): void {
  const { name, message } = error instanceof Error ? error : { name: 'Error', message: String(error) };
  span.setStatus({ code: SpanStatusCode.ERROR, message: `${name}: ${message}`.slice(0, 500) });
  span.setAttribute('error.type', name);
}

/** `jobs.enqueue`: the root of a job's trace (or a child of the caller's span). */
export function traceEnqueue<T extends { jobId: string }>(type: JobType, fn: () => Promise<T>): Promise<T> {
  return inSpan(`create ${type}`, { kind: SpanKind.PRODUCER, attributes: messaging(type, { name: 'enqueue', type: 'create' }) }, async (span) => {
    const result = await fn();
    span.setAttribute('jobwire.job.id', result.jobId);
    return result;
  });
}

/**
 * The active trace context as its propagation headers (`traceparent`, `tracestate`), stored with a
 * job at enqueue; null when there is none, as always while tracing is off (the no-op propagator
 * writes nothing).
 */
export function activeTraceContext(): Record<string, string> | null {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return Object.keys(carrier).length === 0 ? null : carrier;
}

/**
 * The publish to the broker, with the trace context added to the message's forwarded headers:
 * QStash sends it back on every delivery attempt as `traceparent` (and `tracestate`). The context
 * is the job's enqueue's (`enqueued`, stored with the job) when it has one, so a publish long
 * after the enqueue (the sweeper's, a retry's) still joins its trace; else the active one.
 */
export function tracePublish(
  request: PublishRequest,
  publish: (request: PublishRequest) => Promise<{ messageId: string }>,
  enqueued?: Record<string, string> | null,
): Promise<{ messageId: string }> {
  const attributes = { ...messaging(request.type, { name: 'publish', type: 'send' }), 'jobwire.job.id': request.body.jobId };
  return inSpan(
    `send ${request.type}`,
    { kind: SpanKind.PRODUCER, attributes },
    async (span) => {
      const carrier: Record<string, string> = {};
      propagation.inject(context.active(), carrier);
      const withContext = Object.keys(carrier).length === 0 ? request : { ...request, options: { ...request.options, headers: { ...request.options.headers, ...carrier } } };
      const result = await publish(withContext);
      span.setAttribute('messaging.message.id', result.messageId);
      return result;
    },
    enqueued ? propagation.extract(ROOT_CONTEXT, enqueued) : context.active(),
  );
}

/**
 * Express middleware for a worker route (after the body is read): the delivery attempt's span,
 * a child of the trace the message's `traceparent` names, active while the route runs.
 */
export function traceDeliveries(type: JobType): RequestHandler {
  return (req, res, next) => {
    const parent = propagation.extract(context.active(), req.headers);
    const messageId = req.headers['upstash-message-id'];
    const retried = Number(req.headers['upstash-retried'] ?? 0);
    const attributes: Attributes = {
      ...messaging(type, { name: 'process', type: 'process' }),
      ...(typeof messageId === 'string' ? { 'messaging.message.id': messageId } : {}),
      'messaging.message.delivery_attempt': Number.isFinite(retried) ? retried + 1 : 1,
    };
    const span = tracer().startSpan(`process ${type}`, { kind: SpanKind.CONSUMER, attributes }, parent);
    res.once('close', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 400) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${res.statusCode}` });
      span.end();
    });
    context.with(trace.setSpan(parent, span), next);
  };
}

/** The handler's run within an attempt. */
export function traceHandler<T>(job: { id: string; type: JobType; retryCount: number }, run: () => Promise<T>): Promise<T> {
  const attributes = { 'jobwire.job.id': job.id, 'jobwire.job.type': job.type, 'jobwire.job.attempt': job.retryCount + 1 };
  return inSpan(`run ${job.type}`, { kind: SpanKind.INTERNAL, attributes }, () => run());
}
