/** Tracing (issue 11 §6): one trace from jobs.enqueue through publish, each delivery attempt and the handler. */
import { SpanKind } from '@opentelemetry/api';
import { sql } from 'drizzle-orm';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../server/db/database.ts';
import type { JobHandler } from '../../server/jobs/handlers.ts';
import { sweepOnce } from '../../server/jobs/sweeper.ts';
import { startTracing, tracingEnabled } from '../../server/tracing/startTracing.ts';
import { startTestServer, waitFor, type TestServer } from '../support/testServer.ts';

const exporter = new InMemorySpanExporter();
const tracing = startTracing({ processors: [new SimpleSpanProcessor(exporter)] });
const seen = new Set<string>();
// Fails its first attempt, so the trace holds two delivery attempts.
const email: JobHandler<'send-email'> = async (payload, ctx) => {
  if (!seen.has(ctx.jobId)) {
    seen.add(ctx.jobId);
    throw new Error('first attempt fails');
  }
  return { to: payload.to };
};

let t: TestServer;
beforeAll(async () => {
  // The sweeper waits long enough not to republish a job whose own publish is still being recorded
  // on a busy machine: a republished job is a new message, with a publish span and message id of its own.
  t = await startTestServer({ handlers: { 'send-email': email }, sweeper: { intervalMs: 100, publishGraceMs: 10_000, overdueMs: 60_000 } });
});
afterAll(async () => {
  await t?.stop();
  await tracing.shutdown();
});

const SECRET_ADDRESS = 'very-private-person@example.com';

describe('a job’s trace', () => {
  it('joins enqueue, publish, every attempt and the handler in one trace, with messaging attributes and no payload values', async () => {
    const admin = await t.client({ role: 'admin' });
    const { jobId } = await admin.jobs.enqueue.mutate({ type: 'send-email', payload: { to: SECRET_ADDRESS, template: 'welcome' } });
    await waitFor(async () => (await admin.jobs.get.query({ jobId })).status === 'completed');
    const ofJob = () => exporter.getFinishedSpans().filter((s) => s.attributes['jobwire.job.id'] === jobId || s.name.startsWith('process '));
    // Two handler runs (the failure, then the success). A busy machine may add deliveries that never
    // reach the handler (answered 503 while the first attempt still settles): they are attempts too.
    await waitFor(() => ofJob().filter((s) => s.name === 'run send-email').length === 2 && ofJob().filter((s) => s.name === 'process send-email').length >= 2);
    const spans = ofJob();
    const byName = (name: string) => spans.filter((s) => s.name === name);
    const [enqueue] = byName('create send-email');
    const [publish] = byName('send send-email');
    const attempts = byName('process send-email').sort((a, b) => Number(a.attributes['messaging.message.delivery_attempt']) - Number(b.attributes['messaging.message.delivery_attempt']));
    const runs = byName('run send-email');
    expect(enqueue && publish && attempts.length >= 2 && runs.length === 2).toBe(true);
    const traceId = enqueue!.spanContext().traceId;
    for (const span of [publish!, ...attempts, ...runs]) expect(span.spanContext().traceId).toBe(traceId);
    // Parentage: enqueue → publish → each attempt (through the forwarded traceparent) → its handler run.
    const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
    expect(parentOf(publish!)).toBe(enqueue!.spanContext().spanId);
    for (const attempt of attempts) expect(parentOf(attempt)).toBe(publish!.spanContext().spanId);
    for (const run of runs) expect(attempts.map((a) => a.spanContext().spanId)).toContain(parentOf(run));

    expect(enqueue!.kind).toBe(SpanKind.PRODUCER);
    expect(attempts[0]!.kind).toBe(SpanKind.CONSUMER);
    expect(enqueue!.attributes).toMatchObject({ 'messaging.system': 'qstash', 'messaging.destination.name': 'send-email', 'messaging.operation.type': 'create' });
    const messageId = publish!.attributes['messaging.message.id'];
    expect(messageId).toEqual(expect.any(String));
    expect(attempts.map((a) => [a.attributes['messaging.message.id'], a.attributes['messaging.message.delivery_attempt'], a.attributes['messaging.operation.type']])).toEqual(
      attempts.map((_, i) => [messageId, i + 1, 'process']),
    );
    const handled = attempts.filter((a) => runs.some((r) => parentOf(r) === a.spanContext().spanId));
    expect(handled.map((a) => a.attributes['http.response.status_code'])).toEqual([500, 200]);
    expect(runs.find((r) => r.status.code === 2)?.status.message).toBe('Error: first attempt fails');
    // Nothing of the payload in any span.
    const everything = JSON.stringify(spans.map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, status: s.status })));
    expect(everything).not.toContain(SECRET_ADDRESS);
  });

  it('is joined by the attempts of a job the sweeper published after the enqueue’s publish failed', async () => {
    const admin = await t.client({ role: 'admin' });
    const publisher = t.server.jobs.publisher;
    const { publish, publishBatch } = publisher;
    // The broker is away while the job is enqueued: its publish fails and the row waits for the sweeper.
    publisher.publish = () => Promise.reject(new Error('broker away'));
    publisher.publishBatch = () => Promise.reject(new Error('broker away'));
    let jobId: string;
    try {
      ({ jobId } = await admin.jobs.enqueue.mutate({ type: 'send-email', payload: { to: 'later@example.com', template: 'welcome' } }));
    } finally {
      publisher.publish = publish;
      publisher.publishBatch = publishBatch;
    }
    const [row] = await queryRows<{ unpublished: boolean }>(t.server.database.db, sql`SELECT published_at IS NULL AS unpublished FROM job_executions WHERE job_id = ${jobId}`);
    expect(row?.unpublished).toBe(true);
    // No active context here: the sweeper's publish must take the enqueue's from the row.
    await sweepOnce(t.server.jobs, { publishGraceMs: 0 });
    await waitFor(async () => (await admin.jobs.get.query({ jobId })).status === 'completed');

    const sends = () => exporter.getFinishedSpans().filter((s) => s.name === 'send send-email' && s.attributes['jobwire.job.id'] === jobId);
    const messageId = (await waitFor(() => sends().find((s) => s.attributes['messaging.message.id'])?.attributes['messaging.message.id'])) as string;
    const ofMessage = (name: string) => exporter.getFinishedSpans().filter((s) => s.name === name && s.attributes['messaging.message.id'] === messageId);
    await waitFor(() => exporter.getFinishedSpans().filter((s) => s.name === 'run send-email' && s.attributes['jobwire.job.id'] === jobId).length === 2 && ofMessage('process send-email').length >= 2);
    const [enqueue] = exporter.getFinishedSpans().filter((s) => s.name === 'create send-email' && s.attributes['jobwire.job.id'] === jobId);
    const [failedSend, sweeperSend] = [sends().find((s) => s.status.code === 2), sends().find((s) => s.attributes['messaging.message.id'] === messageId)];
    const attempts = ofMessage('process send-email');
    const runs = exporter.getFinishedSpans().filter((s) => s.name === 'run send-email' && s.attributes['jobwire.job.id'] === jobId);
    expect(enqueue && failedSend && sweeperSend).toBeTruthy();
    const traceId = enqueue!.spanContext().traceId;
    for (const span of [failedSend!, sweeperSend!, ...attempts, ...runs]) expect(span.spanContext().traceId).toBe(traceId);
    expect(sweeperSend!.parentSpanContext?.spanId).toBe(enqueue!.spanContext().spanId);
    for (const attempt of attempts) expect(attempt.parentSpanContext?.spanId).toBe(sweeperSend!.spanContext().spanId);
  });

  it('is off by default and turned on by the standard OTEL_* variables', () => {
    expect(tracingEnabled({})).toBe(false);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracingEnabled({ OTEL_TRACES_EXPORTER: 'otlp' })).toBe(true);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces', OTEL_SDK_DISABLED: 'true' })).toBe(false);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
  });
});
