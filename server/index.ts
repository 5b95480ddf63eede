/**
 * jobwire's server-side API: everything a host app imports, in the seed's names (its
 * `@/lib/jobs/...`, `@/lib/db/queries` and `@/lib/emails/...` modules are all this one).
 * Start the server once (`await startServer(config)`, or `npm start`); `jobDispatcher`, the email
 * helpers, the job-execution queries and `createJobWorker(handler)` then act on it.
 */
import { startServer as start, type RunningServer, type ServerConfig } from './startServer.ts';
import { serverConfigFromEnv } from './serverConfigFromEnv.ts';

export type { RunningServer, ServerConfig };
export { serverConfigFromEnv };

/**
 * Starts jobwire in this process: with no argument, configured from the environment exactly as
 * `npm start` is (PGlite, the embedded broker and the dev mailbox when nothing else is set).
 */
export function startServer(config: ServerConfig = serverConfigFromEnv()): Promise<RunningServer> {
  return start(config);
}
export { JobDispatcher, jobDispatcher, createDispatcher, type Dispatcher, type DispatchOptions, type EnqueueJobOptions } from './jobs/dispatcher.ts';
export { getJobConfig, JOB_REGISTRY, type JobConfig } from './jobs/jobRegistry.ts';
export { JOB_TYPES, JOB_TYPE_LIST, JOB_CATALOGUE, type JobType, type JobPayload, type JobPayloadInput } from '../shared/catalogue.ts';
export { JOB_STATUSES, JOB_STATUS_LIST, type JobStatus } from '../shared/jobStatus.ts';
export { BaseJobMetadata, BaseJobMetadata as BaseJobMetadataSchema, BaseJob, BaseJob as BaseJobSchema, type JobOptions } from '../shared/jobApi.ts';
export { SendEmailPayload, SendEmailPayload as SendEmailJobPayloadSchema } from '../shared/email.ts';
export { JobError, JobValidationError, NonRetryableJobError } from './jobs/errors.ts';
export { createJobWorker } from './http/createJobWorker.ts';
export { defineJobHandler, type HandlerServices } from './jobs/defineJobHandler.ts';
export { emailJobHandler } from './handlers/send-email.ts';
export type { HandlerContext, JobHandler, JobWorkerHandler } from './jobs/handlers.ts';
export { createJobExecution, getJobExecutionByJobId, updateJobExecution, type JobExecution, type NewJobExecution } from './jobs/jobExecutions.ts';
export {
  sendWelcomeEmailAsync,
  sendPasswordResetEmailAsync,
  sendPasswordChangedEmailAsync,
  sendEmailChangeEmailAsync,
  sendTeamInvitationEmailAsync,
  sendSubscriptionCreatedEmailAsync,
  sendPaymentFailedEmailAsync,
  sendWelcomeEmail,
  sendPasswordResetEmail,
  sendPasswordChangedEmail,
  sendEmailChangeEmail,
  sendTeamInvitationEmail,
  sendSubscriptionCreatedEmail,
  sendPaymentFailedEmail,
} from './email/emailHelpers.ts';
