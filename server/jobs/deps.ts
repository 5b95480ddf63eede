import type { JobPayload, JobType } from '../../shared/catalogue.ts';
import type { BaseJob, JobOptions, ScheduledFiring } from '../../shared/jobApi.ts';
import type { Db } from '../db/database.ts';
import type { Logger } from '../logger.ts';
import type { RateLimiter } from '../security/rateLimiter.ts';
import type { JobEventHub } from './eventHub.ts';

/** A job ready to hand to the broker. */
export interface PublishRequest {
  type: JobType;
  /** QStash deduplication id: `<jobId>-<generation>`, so a republish of one generation is a no-op. */
  deduplicationId: string;
  body: BaseJob;
  retries: number;
  timeoutMs: number;
  /** Deliver no earlier than this. */
  notBefore?: Date;
  options: Pick<JobOptions, 'callback' | 'failureCallback' | 'headers'>;
}

export interface ScheduleRequest {
  scheduleId: string;
  type: JobType;
  cron: string;
  timezone?: string | null;
  body: ScheduledFiring;
  retries: number;
  timeoutMs: number;
}

/** One delivery of a message to the worker, as the broker logged it. */
export interface BrokerDelivery {
  messageId: string;
  /** When the broker began the delivery (its ACTIVE entry); null when the log lacks it. */
  startedAt: Date | null;
  /** When the broker logged the outcome. */
  endedAt: Date;
  /** The worker's HTTP status; null when none arrived (timeout, connection refused). */
  httpStatus: number | null;
  /** The broker's error text for a failed delivery (e.g. its timeout), when it gives one. */
  error: string | null;
}

/** The broker as the jobs domain sees it: QStash cloud or the embedded broker, through the SDK. */
export interface JobPublisher {
  publish(request: PublishRequest): Promise<{ messageId: string }>;
  /**
   * Publishes several messages in one request (QStash's `/v2/batch`); one outcome per request, in
   * order: the message id, or the error for a message the broker refused (a JobValidationError
   * when it refused the message itself). Throws when the batch as a whole failed. Optional: without
   * it, batches are published one message at a time.
   */
  publishBatch?(requests: readonly PublishRequest[]): Promise<Array<{ messageId: string } | { error: Error }>>;
  cancel(messageId: string): Promise<void>;
  /**
   * The broker's log of a message's deliveries, oldest first (QStash's logs API): what the worker
   * answered each time, for the dashboard's timeline. Optional; may be partial or empty (log
   * retention) and may throw (broker unreachable): callers treat it as best effort.
   */
  deliveryLog?(messageId: string): Promise<BrokerDelivery[]>;
  upsertSchedule(request: ScheduleRequest): Promise<void>;
  /**
   * Whether the broker already holds this schedule exactly as `upsertSchedule(request)` would
   * write it, and running (not paused): start-up then leaves it alone instead of writing it again.
   * Optional; may throw (broker unreachable): callers then upsert.
   */
  hasSchedule?(request: ScheduleRequest): Promise<boolean>;
  pauseSchedule(scheduleId: string): Promise<void>;
  resumeSchedule(scheduleId: string): Promise<void>;
  deleteSchedule(scheduleId: string): Promise<void>;
}

export interface JobsDeps {
  db: Db;
  publisher: JobPublisher;
  log: Logger;
  /** Base URL QStash uses to reach the worker routes. */
  publicUrl: string;
  /** This process's fan-out of job events to live subscribers. */
  events: JobEventHub;
  /** Delay before the next attempt, given the failed attempts so far. Default: QStash's backoff. */
  backoff?: (retryCount: number) => number;
  /**
   * Checks beyond a type's payload schema, run at enqueue and schedule time (the export registry's
   * entity types and filters, which the shared schema cannot know). Throw `JobValidationError`.
   */
  payloadChecks?: PayloadChecks;
  /** What in a payload only admins may ask for through the API (admin-only export entities); server code is never checked. */
  payloadAccess?: PayloadAccess;
  /** Most schedules one organization may have (bounds `jobs.schedules.list`). Default 1,000, QStash's PAYG limit. */
  maxSchedulesPerOrganization?: number;
  /**
   * The per-organization enqueue budget (`ENQUEUE_RATE_LIMIT`), shared with `jobs.enqueue` and
   * `jobs.schedule`; schedule firings spend it too. Null: off. Undefined: firings are not
   * charged, and `createApp` builds the API's limiter from its `SecurityConfig`.
   */
  enqueueLimiter?: RateLimiter | null | undefined;
}

/** Per job type, a check of the parsed payload; default none. */
export type PayloadChecks = { readonly [T in JobType]?: (payload: JobPayload<T>) => void };

/**
 * Per job type, given the parsed payload: a description of what in it only admins may use (e.g.
 * `export entity "users"`), for the refusal's message; undefined when members may use it too.
 */
export type PayloadAccess = { readonly [T in JobType]?: (payload: JobPayload<T>) => string | undefined };

/** QStash's default backoff: `min(86400, e^(2.5·n))` seconds (qstash-protocol.md §3). */
export function qstashBackoff(retryCount: number): number {
  return Math.min(86_400, Math.exp(2.5 * Math.max(1, retryCount))) * 1000;
}
