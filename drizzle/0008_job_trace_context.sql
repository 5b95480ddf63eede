-- The enqueue's trace context (traceparent, tracestate), stored only while tracing is on: a publish long
-- after the enqueue (the sweeper's, a retry's) carries it, so the job's attempts join the enqueue's trace.
ALTER TABLE "job_executions" ADD COLUMN "trace_context" jsonb;
