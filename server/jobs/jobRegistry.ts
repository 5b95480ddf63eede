import { isJobType, JOB_CATALOGUE, type JobCatalogue, type JobType, type JobTypeConfig } from '../../shared/catalogue.ts';
import { JobError } from './errors.ts';

/** The seed's `JobConfig`: `type, endpoint, retries, timeout` (seconds), `description`, plus jobwire's fields. */
export type JobConfig = JobTypeConfig;

/** The seed's `JOB_REGISTRY`: every job type's configuration, keyed by type (the catalogue itself). */
export const JOB_REGISTRY: JobCatalogue = JOB_CATALOGUE;

/** A job type's configuration. Throws a `JobError` (`UNKNOWN_JOB_TYPE`) for a type the catalogue does not have. */
export function getJobConfig<T extends JobType>(type: T): JobCatalogue[T];
export function getJobConfig(type: string): JobConfig;
export function getJobConfig(type: string): JobConfig {
  if (!isJobType(type)) throw new JobError(`Unknown job type "${type}"`, 'UNKNOWN_JOB_TYPE');
  return JOB_CATALOGUE[type];
}
