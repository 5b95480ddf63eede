import { describe, expectTypeOf, it } from 'vitest';
import { createJobsClient, type JobsClient, type JobsClientError } from '../../client/createJobsClient.ts';
import { waitForJob } from '../../client/waitForJob.ts';
import type { JobPayloadInput, JobType } from '../../shared/catalogue.ts';
import type { ErrorCode } from '../../shared/errors.ts';
import type { JobView, ScheduleView } from '../../shared/jobApi.ts';

declare const client: JobsClient;
const email = { to: 'ada@example.com', template: 'welcome', data: { recipientName: 'Ada' } } as const;

describe('the typed client', () => {
  it('is what createJobsClient returns', () => {
    expectTypeOf(createJobsClient({ url: '', token: '' })).toEqualTypeOf<JobsClient>();
  });

  it("infers each job type's payload on jobs.enqueue", () => {
    expectTypeOf(client.jobs.enqueue.mutate({ type: 'send-email', payload: email })).resolves.toEqualTypeOf<{ jobId: string; deduplicated: boolean }>();
    void client.jobs.enqueue.mutate({ type: 'export-data', payload: { entityType: 'users', format: 'csv' } });
    void client.jobs.enqueue.mutate({ type: 'cleanup-old-data', payload: { retention: 30 }, idempotencyKey: 'k', options: { delay: 1000, retries: 2 } });

    // @ts-expect-error `to` is missing
    void client.jobs.enqueue.mutate({ type: 'send-email', payload: { template: 'welcome', data: { recipientName: 'Ada' } } });
    // @ts-expect-error `welcome` has no `resetUrl`
    void client.jobs.enqueue.mutate({ type: 'send-email', payload: { to: 'a@b.c', template: 'welcome', data: { resetUrl: 'https://x' } } });
    // @ts-expect-error `passwordReset` needs `resetUrl`
    void client.jobs.enqueue.mutate({ type: 'send-email', payload: { to: 'a@b.c', template: 'passwordReset', data: { recipientName: 'Ada' } } });
    // @ts-expect-error a `send-email` payload does not fit `export-data`
    void client.jobs.enqueue.mutate({ type: 'export-data', payload: email });
    // @ts-expect-error unknown job type
    void client.jobs.enqueue.mutate({ type: 'launch-rocket', payload: {} });
    // @ts-expect-error `delay` is a number of milliseconds
    void client.jobs.enqueue.mutate({ type: 'send-email', payload: email, options: { delay: '1m' } });
  });

  it("accepts the seed's payloads as the seed writes them, and refuses misspelt field names", () => {
    const enqueue = (payload: JobPayloadInput<'send-email'>) => client.jobs.enqueue.mutate({ type: 'send-email', payload });
    void enqueue({ template: 'welcome', to: 'test@example.com', data: { recipientName: 'Test User' } });
    void enqueue({ template: 'welcome', to: 'user@example.com', data: {} });
    void enqueue({ template: 'passwordReset', to: 'user@example.com', data: { recipientName: 'John Doe', resetUrl: 'https://example.com/reset/token' } });
    void enqueue({
      template: 'teamInvitation',
      to: 'invited@example.com',
      data: { recipientName: 'Jane Doe', inviterName: 'John Doe', organizationName: 'Acme Corp', invitationUrl: 'https://example.com/invite/token' },
    });
    void enqueue({ template: 'subscriptionCreated', to: 'user@example.com', data: { recipientName: 'John Doe', planName: 'Pro Plan', amount: '29.99', dashboardUrl: 'https://example.com/app/general' } });
    void enqueue({ template: 'paymentFailed', to: 'user@example.com', data: { recipientName: 'John Doe', amountDue: '29.99', paymentDetailsUrl: 'https://example.com/app/settings/billing' } });
    void client.jobs.enqueue.mutate({ type: 'export-data', payload: { entityType: 'users', format: 'csv', filters: { createdAfter: '2025-01-01' } } });
    void client.jobs.enqueue.mutate({ type: 'generate-report', payload: { reportType: 'monthly-analytics', startDate: '2025-01-01', endDate: '2025-01-31', format: 'pdf' } });
    void client.jobs.schedule.mutate({ type: 'cleanup-old-data', cron: '0 2 * * *', payload: { retention: 30 } });

    // @ts-expect-error misspelt: `recipentName`
    void enqueue({ template: 'welcome', to: 'a@b.c', data: { recipentName: 'Ada' } });
    // @ts-expect-error jobwire's old name: the seed says `organizationName`
    void enqueue({ template: 'teamInvitation', to: 'a@b.c', data: { recipientName: 'A', inviterName: 'B', teamName: 'Acme', invitationUrl: 'https://x.example' } });
    // @ts-expect-error amounts are display strings ('29.99'), not numbers
    void enqueue({ template: 'subscriptionCreated', to: 'a@b.c', data: { recipientName: 'A', planName: 'Pro', amount: 2999, dashboardUrl: 'https://x.example' } });
    // @ts-expect-error misspelt: `paymentDetailUrl`
    void enqueue({ template: 'paymentFailed', to: 'a@b.c', data: { recipientName: 'A', amountDue: '29.99', paymentDetailUrl: 'https://x.example' } });
  });

  it('takes the catalogue payload type for every job type', () => {
    type EnqueueArg = Parameters<JobsClient['jobs']['enqueue']['mutate']>[0];
    expectTypeOf<Extract<EnqueueArg, { type: 'generate-report' }>['payload']>().toEqualTypeOf<JobPayloadInput<'generate-report'>>();
    expectTypeOf<EnqueueArg['type']>().toEqualTypeOf<JobType>();
  });

  it('returns JobView with real Dates from jobs.get, and pages from jobs.list', () => {
    expectTypeOf(client.jobs.get.query({ jobId: '' })).resolves.toEqualTypeOf<JobView>();
    expectTypeOf(client.jobs.get.query({ jobId: '' })).resolves.toHaveProperty('createdAt').toEqualTypeOf<Date>();
    expectTypeOf(client.jobs.get.query({ jobId: '' })).resolves.toHaveProperty('completedAt').toEqualTypeOf<Date | null>();
    expectTypeOf(client.jobs.list.query({ createdAfter: new Date(), limit: 10 })).resolves.toEqualTypeOf<{ items: JobView[]; nextCursor: string | null }>();
    // @ts-expect-error dates travel as Dates (superjson), not strings
    void client.jobs.list.query({ createdAfter: '2024-01-01' });
  });

  it('types retry, cancel, schedule and schedules.*', () => {
    expectTypeOf(client.jobs.retry.mutate({ jobId: '' })).resolves.toEqualTypeOf<{ jobId: string }>();
    expectTypeOf(client.jobs.cancel.mutate({ jobId: '' })).resolves.toEqualTypeOf<{ jobId: string }>();
    expectTypeOf(client.jobs.schedule.mutate({ type: 'send-email', cron: '0 9 * * 1', payload: email })).resolves.toEqualTypeOf<{ scheduleId: string }>();
    // @ts-expect-error the schedule payload is checked like enqueue's
    void client.jobs.schedule.mutate({ type: 'send-email', cron: '0 9 * * 1', payload: { to: 'a@b.c' } });
    expectTypeOf(client.jobs.schedules.list.query()).resolves.toEqualTypeOf<ScheduleView[]>();
    expectTypeOf(client.jobs.schedules.pause.mutate({ scheduleId: 's' })).resolves.toEqualTypeOf<{ scheduleId: string }>();
  });

  it('carries jobwireCode and zodError on errors', () => {
    expectTypeOf<NonNullable<JobsClientError['data']>['jobwireCode']>().toEqualTypeOf<ErrorCode | null>();
    expectTypeOf<NonNullable<JobsClientError['data']>['zodError']>().toEqualTypeOf<{ formErrors: string[]; fieldErrors: Record<string, string[]> } | null>();
  });

  it('waitForJob resolves with a JobView', () => {
    expectTypeOf(waitForJob(client, 'id', { timeout: 5_000, until: (job) => job.status === 'processing' })).resolves.toEqualTypeOf<JobView>();
  });
});
