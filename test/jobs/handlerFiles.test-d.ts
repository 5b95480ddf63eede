import { describe, expectTypeOf, it } from 'vitest';
import type { JobPayload } from '../../shared/catalogue.ts';
import cleanupOldData from '../../server/handlers/cleanup-old-data.ts';
import exportData from '../../server/handlers/export-data.ts';
import generateReport from '../../server/handlers/generate-report.ts';
import processStripeWebhook from '../../server/handlers/process-stripe-webhook.ts';
import processWebhook from '../../server/handlers/process-webhook.ts';
import sendEmail from '../../server/handlers/send-email.ts';
import { defineJobHandler, type JobHandlerDefinition } from '../../server/jobs/defineJobHandler.ts';
import type { HandlerContext, JobHandler } from '../../server/jobs/handlers.ts';

describe('handler files', () => {
  it("each built-in file defines its own type's handler", () => {
    expectTypeOf(sendEmail).toEqualTypeOf<JobHandlerDefinition<'send-email'>>();
    expectTypeOf(processWebhook).toEqualTypeOf<JobHandlerDefinition<'process-webhook'>>();
    expectTypeOf(processStripeWebhook).toEqualTypeOf<JobHandlerDefinition<'process-stripe-webhook'>>();
    expectTypeOf(exportData).toEqualTypeOf<JobHandlerDefinition<'export-data'>>();
    expectTypeOf(generateReport).toEqualTypeOf<JobHandlerDefinition<'generate-report'>>();
    expectTypeOf(cleanupOldData).toEqualTypeOf<JobHandlerDefinition<'cleanup-old-data'>>();
    expectTypeOf(sendEmail.create).returns.toEqualTypeOf<JobHandler<'send-email'>>();
  });

  it("types a plain handler's payload and job from the catalogue", () => {
    defineJobHandler('cleanup-old-data', async (payload, job) => {
      expectTypeOf(payload).toEqualTypeOf<{ retention: number }>();
      expectTypeOf(job).toEqualTypeOf<HandlerContext<'cleanup-old-data'>>();
      expectTypeOf(job.jobId).toEqualTypeOf<string>();
    });
  });

  it("refuses a handler of another type's payload, and an unknown type", () => {
    const emailHandler = async (payload: JobPayload<'send-email'>) => payload.to;
    // @ts-expect-error a send-email handler is not a cleanup-old-data handler
    defineJobHandler('cleanup-old-data', emailHandler);
    // @ts-expect-error the factory must build the same type's handler
    defineJobHandler('cleanup-old-data', { create: () => emailHandler });
    // @ts-expect-error unknown job type
    defineJobHandler('launch-rocket', async () => null);
  });
});
