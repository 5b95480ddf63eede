import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

// Whether to trace is decided apart (tracingEnabled.ts), without loading this SDK.
export { tracingEnabled, type TracingEnv } from './tracingEnabled.ts';

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
