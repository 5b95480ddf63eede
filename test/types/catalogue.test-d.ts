import { describe, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import type { AvailableJobType, JobCatalogue, JobPayload, JobType } from '../../shared/catalogue.ts';
import type { EnqueueInput } from '../../shared/jobApi.ts';
import type { SendEmailPayload } from '../../shared/email.ts';
import type { HandlerRegistry, JobHandler } from '../../server/jobs/handlers.ts';
import type { Dispatcher } from '../../server/jobs/dispatcher.ts';

describe('the catalogue-derived contract', () => {
  it('derives the enqueue input as a union discriminated on type, one variant per job type', () => {
    expectTypeOf<EnqueueInput['type']>().toEqualTypeOf<JobType>();
    expectTypeOf<Extract<EnqueueInput, { type: 'send-email' }>['payload']>().toEqualTypeOf<SendEmailPayload>();
  });

  it("gives each handler exactly its schema's payload", () => {
    expectTypeOf<Parameters<JobHandler<'send-email'>>[0]>().toEqualTypeOf<z.output<JobCatalogue['send-email']['payload']>>();
    expectTypeOf<JobPayload<'cleanup-old-data'>>().toEqualTypeOf<{ retention: number }>();
  });

  it('requires a handler for every available job type', () => {
    expectTypeOf<keyof HandlerRegistry>().toEqualTypeOf<AvailableJobType>();
    // @ts-expect-error a registry without the send-email handler does not compile
    const missing: HandlerRegistry = {};
    void missing;
  });

  it('types the dispatcher by job type', () => {
    const dispatcher = {} as Dispatcher;
    void (() => dispatcher.enqueue('send-email', { to: 'a@b.co', template: 'welcome', data: { recipientName: 'A' } }));
    // @ts-expect-error wrong data for the template
    void (() => dispatcher.enqueue('send-email', { to: 'a@b.co', template: 'welcome', data: { resetUrl: 'x' } }));
    // @ts-expect-error unknown job type
    void (() => dispatcher.enqueue('send-sms', {}));
  });
});
