/**
 * This process's job counters and histograms (prom-client). Each instance counts only what it
 * did itself and exports its own series: sum them across instances in the query
 * (`sum by (type) (rate(jobwire_jobs_completed_total[5m]))`). The domain calls the small hooks
 * below; nothing here touches the database.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { JobType } from '../../shared/catalogue.ts';

export const processRegistry = new Registry();
// Process CPU, memory, GC, handles and the event-loop lag (`nodejs_eventloop_lag_seconds`, percentiles).
collectDefaultMetrics({ register: processRegistry, eventLoopMonitoringPrecision: 20 });

const byType = ['type'] as const;
const counter = (name: string, help: string) => new Counter({ name, help, labelNames: byType, registers: [processRegistry] });

const enqueued = counter('jobwire_jobs_enqueued_total', 'Jobs recorded by jobs.enqueue, the dispatcher or a webhook, by type');
const started = counter('jobwire_jobs_started_total', 'Delivery attempts that claimed their job and ran its handler, by type');
const completed = counter('jobwire_jobs_completed_total', 'Attempts that completed their job, by type');
const failed = counter('jobwire_jobs_failed_total', 'Attempts that failed their job for good (no retries left, or a permanent error), by type');
const retried = counter('jobwire_jobs_retried_total', 'Attempts that failed with a retry to come, by type');
const refused = new Counter({
  name: 'jobwire_deliveries_refused_total',
  help: 'Deliveries the worker routes refused with 401: a missing or invalid Upstash-Signature',
  labelNames: ['reason'] as const,
  registers: [processRegistry],
});
const attemptDuration = new Histogram({
  name: 'jobwire_attempt_duration_seconds',
  help: 'Handler run time of one delivery attempt, by type and outcome (completed, failed, retried)',
  labelNames: ['type', 'outcome'] as const,
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
  registers: [processRegistry],
});
const enqueueToStart = new Histogram({
  name: 'jobwire_enqueue_to_start_seconds',
  help: "Time from a job's due time (enqueue plus its delay) to its first attempt's start, by type",
  labelNames: byType,
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
  registers: [processRegistry],
});
const subscriptions = new Gauge({ name: 'jobwire_subscriptions_open', help: 'Live jobs.onStatus / jobs.onEvents streams open on this instance', registers: [processRegistry] });

/** The attempt as the hooks see it: the claimed row. */
interface Attempt {
  type: JobType;
  retryCount: number;
  runAt: Date;
  /** Claim time (claimJob stamps it). */
  updatedAt: Date;
}

const seconds = (fromMs: number) => Math.max(0, Date.now() - fromMs) / 1000;

/** The hooks the jobs domain calls, one line each. */
export const jobMetrics = {
  enqueued(type: JobType): void {
    enqueued.inc({ type });
  },
  started(attempt: Attempt): void {
    started.inc({ type: attempt.type });
    if (attempt.retryCount === 0) enqueueToStart.observe({ type: attempt.type }, seconds(attempt.runAt.getTime()));
  },
  /** An attempt settled: `completed`, `failed` (for good) or `retried`. */
  settled(attempt: Attempt, outcome: 'completed' | 'failed' | 'retried'): void {
    (outcome === 'completed' ? completed : outcome === 'failed' ? failed : retried).inc({ type: attempt.type });
    attemptDuration.observe({ type: attempt.type, outcome }, seconds(attempt.updatedAt.getTime()));
  },
  deliveryRefused(reason: 'signature'): void {
    refused.inc({ reason });
  },
  /** A live stream opened; call the returned function (any number of times) when it ends. */
  subscriptionOpened(): () => void {
    subscriptions.inc();
    let open = true;
    return () => {
      if (open) subscriptions.dec();
      open = false;
    };
  },
};
