// Apart from startTracing.ts, so deciding whether to trace does not load the OpenTelemetry SDK
// (a tenth of a second of a start that does not trace: README "Start-up time").

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
