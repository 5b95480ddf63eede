import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

/** The standard OpenTelemetry variables jobwire reads to decide whether to trace (the exporter reads the rest itself). */
export interface TracingEnv {
  OTEL_SDK_DISABLED?: string | undefined;
  OTEL_TRACES_EXPORTER?: string | undefined;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string | undefined;
  OTEL_SERVICE_NAME?: string | undefined;
}

/** Tracing is on when an OTLP endpoint or `OTEL_TRACES_EXPORTER=otlp` is set, and `OTEL_SDK_DISABLED` is not `true`. Off by default. */
export function tracingEnabled(env: TracingEnv): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  if (exporter === 'none') return false;
  return exporter === 'otlp' || Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * Registers the tracer provider (W3C trace context, async-hooks context) that the spans in
 * jobTracing.ts report to. `processors` for tests (an in-memory exporter); otherwise the OTLP/HTTP
 * exporter configured by the `OTEL_EXPORTER_OTLP_*` variables. Returns the shutdown, which
 * flushes what is buffered.
 */
export function startTracing(options: { serviceName?: string | undefined; processors?: SpanProcessor[] } = {}): { shutdown(): Promise<void> } {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName ?? 'jobwire' }),
    spanProcessors: options.processors ?? [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register();
  return { shutdown: () => provider.shutdown() };
}

/** `startTracing` when the environment asks for it; undefined otherwise. */
export function startTracingFromEnv(env: TracingEnv): { shutdown(): Promise<void> } | undefined {
  return tracingEnabled(env) ? startTracing({ serviceName: env.OTEL_SERVICE_NAME }) : undefined;
}
