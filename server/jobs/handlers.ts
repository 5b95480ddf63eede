import type { AvailableJobType, JobPayload, JobType } from '../../shared/catalogue.ts';
import type { BaseJob, JobMetadata } from '../../shared/jobApi.ts';
import type { Logger } from '../logger.ts';

/**
 * What a handler gets besides its payload: a superset of the seed's `BaseJob & { payload }`
 * (`jobId`, `type`, `payload`, `metadata`), so a seed-style `(payload, job) => …` handler fits.
 */
export interface HandlerContext<T extends JobType = JobType> {
  readonly jobId: string;
  readonly type: T;
  /** The parsed payload, as the first argument. */
  readonly payload: JobPayload<T>;
  /** 1 for the first attempt. */
  readonly attempt: number;
  readonly maxRetries: number;
  readonly organizationId: number | null;
  readonly userId: string | null;
  readonly metadata: JobMetadata;
  /** Aborted when the attempt's time limit (the catalogue's `timeoutMs`) is reached. */
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** Reports progress (a fraction 0–1); throttled, persisted on the row and emitted as an event. */
  progress(fraction: number, message?: string): Promise<void>;
}

/** The seed's `JobWorkerHandler<T>`: jobwire handlers may also resolve a value, stored as the job's `result`. */
export type JobWorkerHandler<T> = (payload: T, job: BaseJob & { payload: T }) => Promise<unknown>;

/** Does a job type's work; the resolved value is stored as the job's `result`. */
export type JobHandler<T extends JobType> = (payload: JobPayload<T>, ctx: HandlerContext<T>) => Promise<unknown>;

/** One handler per available job type: a missing one is a compile error. */
export type HandlerRegistry = { readonly [T in AvailableJobType]: JobHandler<T> };
