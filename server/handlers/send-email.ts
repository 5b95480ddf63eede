import type { BaseJob } from '../../shared/jobApi.ts';
import { SendEmailPayload } from '../../shared/email.ts';
import { defaultServer } from '../defaultServer.ts';
import { createSendEmailHandler, type SendEmailResult } from '../email/sendEmailHandler.ts';
import { defineJobHandler } from '../jobs/defineJobHandler.ts';
import { JobValidationError } from '../jobs/errors.ts';

/** Renders the payload's email template and sends it through Resend, or into the dev mailbox. */
export default defineJobHandler('send-email', { create: ({ email }) => createSendEmailHandler(email) });

/**
 * The seed's `emailJobHandler`, callable directly (its "Test Job Handler Directly" debugging
 * step): validates the payload and sends now through the default server's sender, with no job row,
 * no retries and no timeline. The email is keyed by `job.jobId`, so calling twice sends once.
 */
export async function emailJobHandler(payload: unknown, job: Pick<BaseJob, 'jobId'> & Partial<BaseJob>): Promise<SendEmailResult> {
  const parsed = SendEmailPayload.safeParse(payload);
  if (!parsed.success) throw new JobValidationError('Invalid job payload', parsed.error.issues, job.jobId);
  const server = defaultServer();
  const log = server.jobs.log.child({ jobId: job.jobId, jobType: 'send-email' });
  return createSendEmailHandler(server.email)(parsed.data, {
    jobId: job.jobId,
    type: 'send-email',
    payload: parsed.data,
    attempt: 1,
    maxRetries: 0,
    organizationId: job.metadata?.organizationId ?? null,
    userId: job.metadata?.userId === undefined ? null : String(job.metadata.userId),
    metadata: job.metadata ?? {},
    signal: new AbortController().signal,
    log,
    progress: async () => undefined,
  }) as Promise<SendEmailResult>;
}
