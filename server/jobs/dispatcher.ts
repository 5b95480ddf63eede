import type { JobPayloadInput, JobType } from '../../shared/catalogue.ts';
import { MAX_ENQUEUE_MANY, type BaseJobMetadata, type JobOptions } from '../../shared/jobApi.ts';
import type { DbOrTx } from '../db/database.ts';
import { defaultServer } from '../defaultServer.ts';
import type { JobsDeps } from './deps.ts';
import { enqueueJob, enqueueJobs, type EnqueueResult } from './enqueueJob.ts';
import { JobValidationError } from './errors.ts';
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

/** One job of `enqueueMany`: the arguments of `enqueue(type, payload, metadata?, options?)` as an object. */
export type DispatchItem = {
  [T in JobType]: { type: T; payload: JobPayloadInput<T>; metadata?: BaseJobMetadata; options?: Omit<DispatchOptions, 'tx'> };
}[JobType];

/**
 * The server-side API (the seed's dispatcher): enqueue any job type, unscoped by API access rules.
 * Metadata is the seed's `BaseJobMetadata` (`userId`, `organizationId`, `idempotencyKey`,
 * `createdAt`), validated like the payload before anything is written.
 */
export interface Dispatcher {
  /** Resolves with the job id (the existing job's id for a repeated idempotency key). */
  enqueue<T extends JobType>(type: T, payload: JobPayloadInput<T>, metadata?: BaseJobMetadata, options?: DispatchOptions): Promise<string>;
  /**
   * Up to MAX_ENQUEUE_MANY jobs in one statement (`{ tx }`: in the caller's transaction), each
   * validated on its own: one result per item, in order, the job or the error that refused it.
   * Over the bound: a JobValidationError, nothing written.
   */
  enqueueMany(items: readonly DispatchItem[], options?: { tx?: DbOrTx }): Promise<EnqueueResult[]>;
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

  async enqueueMany(items: readonly DispatchItem[], options: { tx?: DbOrTx } = {}): Promise<EnqueueResult[]> {
    if (items.length > MAX_ENQUEUE_MANY) {
      throw new JobValidationError(`At most ${MAX_ENQUEUE_MANY} jobs per enqueueMany call`, [{ path: [], message: `${items.length} jobs given` }]);
    }
    const inputs = items.map(({ type, payload, metadata, options: { idempotencyKey, ...jobOptions } = {} }) => ({ type, payload, metadata, options: jobOptions, idempotencyKey }));
    return enqueueJobs(this.#resolve(), inputs, options.tx);
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
