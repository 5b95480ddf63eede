import type { JobPayloadInput, JobType } from '../../shared/catalogue.ts';
import type { JobMetadata, JobOptions } from '../../shared/jobApi.ts';
import type { DbOrTx } from '../db/database.ts';
import type { JobsDeps } from './deps.ts';
import { enqueueJob } from './enqueueJob.ts';
import { createSchedule } from './schedules.ts';

export interface DispatchOptions extends JobOptions {
  idempotencyKey?: string;
  /** Enqueue inside the caller's transaction: the job exists only if it commits. */
  tx?: DbOrTx;
}

/** The server-side API (the seed's dispatcher): enqueue any job type, unscoped by API access rules. */
export interface Dispatcher {
  enqueue<T extends JobType>(type: T, payload: JobPayloadInput<T>, metadata?: JobMetadata, options?: DispatchOptions): Promise<string>;
  schedule<T extends JobType>(type: T, cron: string, payload: JobPayloadInput<T>, metadata?: JobMetadata): Promise<string>;
}

export function createDispatcher(deps: JobsDeps): Dispatcher {
  return {
    async enqueue(type, payload, metadata, options = {}) {
      const { idempotencyKey, tx, ...jobOptions } = options;
      const { jobId } = await enqueueJob(deps, { type, payload, metadata, options: jobOptions, idempotencyKey }, tx);
      return jobId;
    },
    async schedule(type, cron, payload, metadata) {
      const { scheduleId } = await createSchedule(deps, { type, cron, payload, metadata });
      return scheduleId;
    },
  };
}
