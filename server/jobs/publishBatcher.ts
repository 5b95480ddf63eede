/**
 * Group commit for publishes: enqueues hand their committed rows here and answer their callers
 * (unless the backlog is long: `MAX_PUBLISH_BACKLOG`). With nothing in flight a
 * row is published at once (no added latency at light load); while a publish is in flight, the
 * rows that arrive meanwhile wait for it and then go together, as one `/v2/batch` call, with
 * their message ids stamped in one statement. A failure never reaches the enqueue (the outbox:
 * the row keeps `published_at IS NULL` and the sweeper publishes it); a message the broker
 * refuses fails only its own job.
 */
import { context, type Context } from '@opentelemetry/api';
import { brokerReachability } from './brokerReachability.ts';
import type { JobsDeps, PublishRequest } from './deps.ts';
import { JobValidationError, toError } from './errors.ts';
import { failUnpublishable, stampPublished, type PublishableRow } from './publishJob.ts';
import { tracePublish } from '../tracing/jobTracing.ts';

/** Most messages in one `/v2/batch` call; more waiting go in the next. */
export const MAX_PUBLISH_BATCH = 100;

/**
 * Most messages waiting or in flight before `accept` makes its caller wait for its own publish
 * (back-pressure): ten batches, about half a second of publishing at full speed. While the broker
 * is slow or away the backlog fills and enqueues wait for their publish, as they would alone.
 */
export const MAX_PUBLISH_BACKLOG = 1_000;

/** A committed row and its broker request (built by enqueue from values it validated). */
export interface QueuedPublish {
  row: PublishableRow;
  request: PublishRequest;
}

interface Waiting extends QueuedPublish {
  /** The enqueue's trace context: its publish span is a child of the enqueue's. */
  context: Context;
  done: () => void;
}

export interface PublishBatcher {
  /**
   * Queues rows for publishing and resolves at once while the backlog is under
   * `MAX_PUBLISH_BACKLOG`; beyond it, once these rows' publish settled (never rejects).
   */
  accept(items: readonly QueuedPublish[]): Promise<void>;
  /** Resolves once everything queued so far has settled (shutdown). */
  flush(): Promise<void>;
}

const byDeps = new WeakMap<JobsDeps, PublishBatcher>();

/** The batcher of these dependencies (one per server: its publisher and database). */
export function publishBatcher(deps: JobsDeps): PublishBatcher {
  let batcher = byDeps.get(deps);
  if (!batcher) {
    batcher = createPublishBatcher(deps);
    byDeps.set(deps, batcher);
  }
  return batcher;
}

function createPublishBatcher(deps: JobsDeps): PublishBatcher {
  let queue: Waiting[] = [];
  let inFlight = 0;
  let draining: Promise<void> | undefined;

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.slice(0, MAX_PUBLISH_BATCH);
      queue = queue.slice(batch.length);
      inFlight = batch.length;
      try {
        await publishBatch(deps, batch);
      } catch (error) {
        // Only the database throws here (stamping, failing a refused job): the sweeper takes the rows up.
        deps.log.warn({ err: toError(error), jobs: batch.length }, '[jobs] Failed to record published jobs; the sweeper will retry');
      } finally {
        inFlight = 0;
        for (const item of batch) item.done();
      }
    }
    draining = undefined;
  }

  /** Queues rows; resolves once their publish settled either way (never rejects). */
  function publish(items: readonly QueuedPublish[]): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    const settled = items.map((item) => new Promise<void>((done) => queue.push({ ...item, context: context.active(), done })));
    draining ??= drain();
    return Promise.all(settled).then(() => undefined);
  }

  return {
    accept(items) {
      const settled = publish(items);
      return queue.length + inFlight > MAX_PUBLISH_BACKLOG ? settled : Promise.resolve();
    },
    async flush() {
      while (draining) await draining;
    },
  };
}

type Outcome = { messageId: string } | { error: Error };

/** One `/v2/batch` call (or one publish, for a single row), then one stamping statement. */
async function publishBatch(deps: JobsDeps, batch: readonly Waiting[]): Promise<void> {
  const outcomes = await sendTraced(deps, batch);
  const published: { row: PublishableRow; messageId: string }[] = [];
  const refused: { row: PublishableRow; error: Error }[] = [];
  let unreachable: Error | undefined;
  batch.forEach(({ row }, i) => {
    const outcome = outcomes[i]!; // one outcome per item
    if ('messageId' in outcome) published.push({ row, messageId: outcome.messageId });
    else if (outcome.error instanceof JobValidationError) refused.push({ row, error: outcome.error });
    else unreachable ??= outcome.error;
  });
  if (published.length > 0 || refused.length > 0) brokerReachability(deps.publisher).note(true);
  else if (unreachable) brokerReachability(deps.publisher).note(false);
  if (unreachable) deps.log.warn({ err: toError(unreachable), jobs: batch.length - published.length - refused.length }, '[jobs] Failed to publish job; the sweeper will retry');
  await stampPublished(deps.db, published);
  for (const { row, error } of refused) await failUnpublishable(deps, row, error);
}

/**
 * Sends the batch, each message under its own `send <type>` span (a child of its enqueue's), which
 * also puts the trace context into the message's forwarded headers.
 */
async function sendTraced(deps: JobsDeps, batch: readonly Waiting[]): Promise<Outcome[]> {
  const traced: PublishRequest[] = [];
  const answers: Array<(outcome: Outcome) => void> = [];
  let handedOver = 0;
  let allHandedOver!: () => void; // set by the executor, which runs at once
  const ready = new Promise<void>((resolve) => (allHandedOver = resolve));
  const spans = batch.map((item, i) =>
    context.with(item.context, () =>
      tracePublish(
        item.request,
        (request) => {
          traced[i] = request;
          if (++handedOver === batch.length) allHandedOver();
          return new Promise<{ messageId: string }>((resolve, reject) => {
            answers[i] = (outcome) => ('messageId' in outcome ? resolve(outcome) : reject(outcome.error));
          });
        },
        item.row.traceContext,
      ).catch(() => undefined), // the outcome is read from `outcomes`, not from the span
    ),
  );
  await ready;
  const outcomes = await send(deps, traced);
  outcomes.forEach((outcome, i) => answers[i]!(outcome));
  await Promise.all(spans);
  return outcomes;
}

/** One request per publish for a single message or a publisher without batches; `/v2/batch` otherwise. */
async function send(deps: JobsDeps, requests: readonly PublishRequest[]): Promise<Outcome[]> {
  const single = (request: PublishRequest): Promise<Outcome> => deps.publisher.publish(request).catch((error: unknown) => ({ error: toError(error) }));
  if (requests.length === 1 || !deps.publisher.publishBatch) return Promise.all(requests.map(single));
  let outcomes: Outcome[];
  try {
    outcomes = await deps.publisher.publishBatch(requests);
  } catch (error) {
    // The broker refused the batch as a whole: find the message it objects to by sending each alone.
    if (error instanceof JobValidationError) return Promise.all(requests.map(single));
    return requests.map(() => ({ error: toError(error) }));
  }
  // A message the batch refused (`{ error }`) is tried once alone: its own answer says whether it
  // is the message (a 4xx: the job fails) or the moment (anything else: the sweeper retries).
  return Promise.all(outcomes.map((outcome, i) => ('error' in outcome ? single(requests[i]!) : outcome)));
}
