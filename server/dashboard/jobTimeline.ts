import type { JobView } from '../../shared/jobApi.ts';
import type { JobEvent } from '../../shared/jobEvent.ts';
import type { DbOrTx } from '../db/database.ts';
import type { BrokerDelivery, JobPublisher } from '../jobs/deps.ts';
import { toError } from '../jobs/errors.ts';
import { findJobRow } from '../jobs/getJob.ts';
import { toJobView } from '../jobs/jobView.ts';
import { readJobEvents } from '../jobs/listJobEvents.ts';
import type { Scope } from '../jobs/scope.ts';
import type { Logger } from '../logger.ts';

export interface Attempt {
  /** 1 for the first delivery that ran the handler, 2 for the first retry, … */
  number: number;
  startedAt: Date;
  /** When the attempt settled; null while it runs. */
  endedAt: Date | null;
  durationMs: number | null;
  /** The status the attempt left the job in: `processing` while it runs. */
  outcome: JobEvent['status'];
  error: JobEvent['error'];
  /** When the broker delivers again, for an attempt that ended `retrying`. */
  nextAttemptAt: Date | null;
  /** The handler's progress reports during the attempt (0–1, message). */
  progress: { at: Date; progress: number; message: string | null }[];
  /**
   * The broker's delivery that ran the attempt: the worker's HTTP status and the broker's times.
   * Null when the broker's log does not have it (an earlier publish generation's message, log
   * retention, or the log unread: see `JobTimeline.brokerLog`).
   */
  delivery: BrokerDelivery | null;
}

export interface JobTimeline {
  job: JobView;
  /** The broker's message id once published (QStash `messageId`), and when. */
  messageId: string | null;
  publishedAt: Date | null;
  attempts: Attempt[];
  /** Every recorded event, oldest first (`jobs.events`). */
  events: JobEvent[];
  /**
   * Whether the broker's delivery log was read for the current message: `unavailable` when the
   * broker failed or was slow to answer, `none` when there was nothing to ask (no message or no
   * attempt yet, or a publisher without a log).
   */
  brokerLog: 'read' | 'unavailable' | 'none';
}

export interface TimelineDeps {
  db: DbOrTx;
  /** The broker, for each attempt's HTTP status; without it, attempts carry none. */
  publisher?: Pick<JobPublisher, 'deliveryLog'> | undefined;
  log?: Logger | undefined;
}

/** How long the timeline waits for the broker's log before answering without it. */
const BROKER_LOG_TIMEOUT_MS = 2_000;
/** Clock difference tolerated between the database (attempt times) and the broker (delivery times). */
const CLOCK_SKEW_MS = 2_000;

/**
 * One job's story in one answer: the row (enqueued, published with its message id), then each
 * delivery that ran the handler, with its progress, duration and how it ended. An attempt starts
 * at a `processing` event without progress (the claim) and ends at the next event that leaves
 * `processing`. Each attempt gets its HTTP status from the broker's log of the current message,
 * best effort: the timeline never fails or waits long for the broker. NOT_FOUND outside the scope.
 */
export async function loadJobTimeline(deps: TimelineDeps, scope: Scope, jobId: string): Promise<JobTimeline> {
  const row = await findJobRow(deps.db, scope, jobId);
  const events = await readJobEvents(deps.db, jobId);
  const attempts = attemptsOf(events);
  const deliveries = row.messageId && attempts.length > 0 ? await readBrokerLog(deps, row.messageId) : undefined;
  if (deliveries) attachDeliveries(attempts, deliveries);
  const brokerLog = deliveries === undefined ? 'none' : deliveries === null ? 'unavailable' : 'read';
  return { job: toJobView(row), messageId: row.messageId, publishedAt: row.publishedAt, attempts, events, brokerLog };
}

/** The broker's deliveries of a message; null when it could not say in time, undefined when it has no log. Never throws. */
async function readBrokerLog(deps: TimelineDeps, messageId: string): Promise<BrokerDelivery[] | null | undefined> {
  if (!deps.publisher?.deliveryLog) return undefined;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${BROKER_LOG_TIMEOUT_MS} ms`)), BROKER_LOG_TIMEOUT_MS);
  });
  try {
    return await Promise.race([deps.publisher.deliveryLog(messageId), timeout]);
  } catch (error) {
    // The timeline is still worth showing without status codes; the UI says they are unavailable.
    deps.log?.debug({ messageId, err: toError(error) }, '[dashboard] Broker delivery log unavailable');
    return null;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Gives each attempt the delivery that ran it, by time: the handler was claimed while the broker
 * awaited the worker's answer, so the attempt's start lies within the delivery. Deliveries that
 * ran no handler (busy, duplicate) and attempts of an earlier message (a manual retry publishes
 * anew) find no partner. Both lists oldest first.
 */
export function attachDeliveries(attempts: Attempt[], deliveries: readonly BrokerDelivery[]): void {
  const free = deliveries.map((delivery, i) => ({
    delivery,
    // Without its ACTIVE entry, a delivery began no earlier than the one before it ended.
    from: (delivery.startedAt ?? deliveries[i - 1]?.endedAt ?? new Date(0)).getTime(),
    to: delivery.endedAt.getTime(),
  }));
  for (const attempt of attempts) {
    const at = attempt.startedAt.getTime();
    const gap = (d: (typeof free)[number]) => (at < d.from ? d.from - at : at > d.to ? at - d.to : 0);
    const best = free.reduce<(typeof free)[number] | undefined>((a, d) => (a === undefined || gap(d) < gap(a) ? d : a), undefined);
    if (!best || gap(best) > CLOCK_SKEW_MS) continue;
    attempt.delivery = best.delivery;
    free.splice(free.indexOf(best), 1);
  }
}

export function attemptsOf(events: JobEvent[]): Attempt[] {
  const attempts: Attempt[] = [];
  let current: Attempt | undefined;
  for (const event of events) {
    if (event.status === 'processing' && event.progress === null) {
      current = { number: attempts.length + 1, startedAt: event.at, endedAt: null, durationMs: null, outcome: 'processing', error: null, nextAttemptAt: null, progress: [], delivery: null };
      attempts.push(current);
    } else if (current && event.status === 'processing' && event.progress !== null) {
      current.progress.push({ at: event.at, progress: event.progress, message: event.message });
    } else if (current && event.status !== 'processing') {
      current.endedAt = event.at;
      current.durationMs = event.at.getTime() - current.startedAt.getTime();
      current.outcome = event.status;
      current.error = event.error;
      current.nextAttemptAt = event.nextAttemptAt;
      current = undefined;
    }
  }
  return attempts;
}
