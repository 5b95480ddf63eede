import type { JobPayloadInput, JobType } from '../../shared/catalogue.ts';
import type { BaseJobMetadata, JobOptions } from '../../shared/jobApi.ts';
import type { DbOrTx } from '../db/database.ts';
import { defaultServer } from '../defaultServer.ts';
import type { JobsDeps } from './deps.ts';
import { enqueueJob } from './enqueueJob.ts';
import { createSchedule } from './schedules.ts';

/** The seed's `EnqueueJobOptions`: `delay` (ms), `retries`, `callback`, `failureCallback`, `headers`. */
export type EnqueueJobOptions = JobOptions;

/** `EnqueueJobOptions` plus jobwire's additions. */
export interface DispatchOptions extends EnqueueJobOptions {
  /** One job per key and organization; the same as `metadata.idempotencyKey` (give either). */
  idempotencyKey?: string;
  /** Enqueue inside the caller's transaction: the job exists only if it commits. */
  tx?: DbOrTx;
}

/**
 * The server-side API (the seed's dispatcher): enqueue any job type, unscoped by API access rules.
 * Metadata is the seed's `BaseJobMetadata` (`userId`, `organizationId`, `idempotencyKey`,
 * `createdAt`), validated like the payload before anything is written.
 */
export interface Dispatcher {
  /** Resolves with the job id (the existing job's id for a repeated idempotency key). */
  enqueue<T extends JobType>(type: T, payload: JobPayloadInput<T>, metadata?: BaseJobMetadata, options?: DispatchOptions): Promise<string>;
  /** Resolves with the schedule id. */
  schedule<T extends JobType>(type: T, cron: string, payload: JobPayloadInput<T>, metadata?: BaseJobMetadata): Promise<string>;
}

/**
 * The seed's `JobDispatcher`. Built with dependencies it acts on them; `new JobDispatcher()` acts on
 * the default server (the one `startServer()` started), looked up at each call.
 */
export class JobDispatcher implements Dispatcher {
  readonly #deps: (() => JobsDeps) | undefined;

  constructor(deps?: JobsDeps) {
    this.#deps = deps ? () => deps : undefined;
  }

  #resolve(): JobsDeps {
    return this.#deps ? this.#deps() : defaultServer().jobs;
  }

  async enqueue<T extends JobType>(type: T, payload: JobPayloadInput<T>, metadata?: BaseJobMetadata, options: DispatchOptions = {}): Promise<string> {
    const { idempotencyKey, tx, ...jobOptions } = options;
    const { jobId } = await enqueueJob(this.#resolve(), { type, payload, metadata, options: jobOptions, idempotencyKey }, tx);
    return jobId;
  }

  async schedule<T extends JobType>(type: T, cron: string, payload: JobPayloadInput<T>, metadata?: BaseJobMetadata): Promise<string> {
    const { scheduleId } = await createSchedule(this.#resolve(), { type, cron, payload, metadata });
    return scheduleId;
  }
}

export function createDispatcher(deps: JobsDeps): Dispatcher {
  return new JobDispatcher(deps);
}

/** The seed's `jobDispatcher`: ready once `startServer()` has resolved; acts on the default server. */
export const jobDispatcher: Dispatcher = new JobDispatcher();
