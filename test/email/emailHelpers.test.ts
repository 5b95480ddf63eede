import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SendEmailPayload } from '../../shared/email.ts';
import type { BaseJobMetadata } from '../../shared/jobApi.ts';
import { jobExecutions } from '../../server/db/schema.ts';
import * as helpers from '../../server/email/emailHelpers.ts';
import type { EmailDispatcher, SendEmailPayloadInput } from '../../server/email/emailHelpers.ts';
import type { DispatchOptions } from '../../server/jobs/dispatcher.ts';
import { JobError, JobValidationError } from '../../server/jobs/errors.ts';
import { startTestServer, waitFor, type TestServer } from '../support/testServer.ts';

const TO = 'ada@example.com';

describe('before a server is started', () => {
  it('rejects with SERVER_NOT_STARTED instead of throwing synchronously', async () => {
    const pending = helpers.sendWelcomeEmailAsync({ to: TO, recipientName: 'Ada' });
    await expect(pending).rejects.toBeInstanceOf(JobError);
    await expect(pending).rejects.toMatchObject({ code: 'SERVER_NOT_STARTED' });
    await expect(helpers.sendWelcomeEmail({ to: TO })).rejects.toMatchObject({ code: 'SERVER_NOT_STARTED' });
  });
});

describe('enqueueTemplateEmail (explicit dispatcher)', () => {
  it('splits the flat payload and passes metadata and options through unchanged', async () => {
    const calls: { payload: SendEmailPayloadInput; metadata: BaseJobMetadata | undefined; options: DispatchOptions | undefined }[] = [];
    const dispatcher: EmailDispatcher = {
      async enqueue(_type, payload, metadata, options) {
        calls.push({ payload, metadata, options });
        return `job-${calls.length}`;
      },
    };
    const payload = { to: TO, replyTo: 'support@example.com', recipientName: 'Ada', resetUrl: 'https://a.example.com/r' };
    const jobId = await helpers.enqueueTemplateEmail(dispatcher, 'passwordReset', payload, { userId: 7, organizationId: 3, correlationId: 'req-1' }, { idempotencyKey: 'reset:7' });
    expect(jobId).toBe('job-1');
    expect(calls).toEqual([
      {
        payload: { template: 'passwordReset', to: TO, replyTo: 'support@example.com', data: { recipientName: 'Ada', resetUrl: 'https://a.example.com/r' } },
        metadata: { userId: 7, organizationId: 3, correlationId: 'req-1' },
        options: { idempotencyKey: 'reset:7' },
      },
    ]);
    await helpers.enqueueTemplateEmail(dispatcher, 'welcome', { to: TO });
    expect(calls[1]).toEqual({ payload: { template: 'welcome', to: TO, data: {} }, metadata: undefined, options: undefined });
  });
});

describe('with a started server', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t?.stop());

  const db = () => t.server.database.db;
  const jobRow = async (jobId: string) => (await db().select().from(jobExecutions).where(eq(jobExecutions.id, jobId)))[0];
  const completed = (jobId: string) => waitFor(async () => ((await jobRow(jobId))?.status === 'completed' ? jobRow(jobId) : undefined));
  const mailTo = async (to: string) => (await t.server.mailbox!.list()).filter((m) => m.to === to);

  it('enqueues one send-email job per async helper, with its template, recipient and data', async () => {
    const cases = [
      ['welcome', await helpers.sendWelcomeEmailAsync({ to: 'h1@example.com', recipientName: 'Ada' })],
      ['passwordReset', await helpers.sendPasswordResetEmailAsync({ to: 'h2@example.com', recipientName: 'Ada', resetUrl: 'https://a.example.com/r' })],
      ['passwordChanged', await helpers.sendPasswordChangedEmailAsync({ to: 'h3@example.com', recipientName: 'Ada' })],
      ['emailChange', await helpers.sendEmailChangeEmailAsync({ to: 'h4@example.com', recipientName: 'Ada', newEmail: 'new@example.com', confirmationUrl: 'https://a.example.com/c' })],
      ['teamInvitation', await helpers.sendTeamInvitationEmailAsync({ to: 'h5@example.com', recipientName: 'Ada', inviterName: 'Grace', organizationName: 'Core', invitationUrl: 'https://a.example.com/i' })],
      ['subscriptionCreated', await helpers.sendSubscriptionCreatedEmailAsync({ to: 'h6@example.com', recipientName: 'Ada', planName: 'Pro', amount: '19.99', currency: 'usd' })],
      ['paymentFailed', await helpers.sendPaymentFailedEmailAsync({ to: 'h7@example.com', recipientName: 'Ada', amountDue: '19.99', paymentDetailsUrl: 'https://a.example.com/p' })],
    ] as const;

    const rows = await Promise.all(cases.map(([, jobId]) => completed(jobId)));
    expect(new Set(cases.map(([, jobId]) => jobId)).size).toBe(7);
    rows.forEach((row, i) => {
      expect(row.type).toBe('send-email');
      expect(row.payload).toMatchObject({ template: cases[i]?.[0], to: `h${i + 1}@example.com` });
      expect(row.payload).not.toHaveProperty('replyTo');
      expect(row.idempotencyKey).toBeNull();
      expect(SendEmailPayload.safeParse(row.payload).success).toBe(true);
    });
    expect(rows[1]?.payload).toEqual({ template: 'passwordReset', to: 'h2@example.com', data: { recipientName: 'Ada', resetUrl: 'https://a.example.com/r', expiresInMinutes: 60 } });
    for (let i = 1; i <= 7; i++) expect(await mailTo(`h${i}@example.com`)).toHaveLength(1);
  });

  it('stores metadata on the job, puts reply-to in the payload and dedupes by idempotency key', async () => {
    const send = () =>
      helpers.sendWelcomeEmailAsync({ to: 'meta@example.com', recipientName: 'Ada', replyTo: 'support@example.com' }, { userId: 123, organizationId: 456, correlationId: 'req-1' }, { idempotencyKey: 'welcome:123' });
    const jobId = await send();
    expect(await send()).toBe(jobId);
    const row = await completed(jobId);
    expect(row).toMatchObject({ userId: '123', organizationId: 456, idempotencyKey: 'welcome:123' });
    expect(row.metadata).toMatchObject({ userId: 123, organizationId: 456, correlationId: 'req-1' });
    expect(row.payload).toEqual({ template: 'welcome', to: 'meta@example.com', replyTo: 'support@example.com', data: { recipientName: 'Ada' } });
    const mails = await mailTo('meta@example.com');
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({ replyTo: 'support@example.com', subject: 'Welcome, Ada' });
  });

  it('refuses a misspelt field with a JobValidationError naming it, and enqueues nothing', async () => {
    const before = await db().$count(jobExecutions);
    // @ts-expect-error recipentName is a typo of recipientName
    const error = await helpers.sendWelcomeEmailAsync({ to: TO, recipentName: 'Ada' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobValidationError);
    expect((error as JobValidationError).issues).toEqual([expect.objectContaining({ path: ['data'], code: 'unrecognized_keys' })]);
    expect((error as JobValidationError).issues[0]?.message).toBe('Unknown welcome field(s) recipentName; its fields are recipientName, loginUrl');
    expect(await db().$count(jobExecutions)).toBe(before);
  });

  it('sends at once with the sync helpers, applying schema defaults', async () => {
    const { id } = await helpers.sendPasswordResetEmail({ to: 'sync@example.com', recipientName: 'Ada', resetUrl: 'https://a.example.com/r' });
    const mail = await t.server.mailbox!.find((m) => m.id === id);
    expect(mail).toMatchObject({ to: 'sync@example.com', from: 'jobwire <noreply@jobwire.test>', subject: 'Reset your password' });
    expect(mail?.text).toContain('Hi Ada,');
    expect(mail?.text).toContain('expires in 1 hour');
  });

  it('sends each direct call separately', async () => {
    await helpers.sendWelcomeEmail({ to: 'twice@example.com', recipientName: 'Ada' });
    await helpers.sendWelcomeEmail({ to: 'twice@example.com', recipientName: 'Ada' });
    expect(await mailTo('twice@example.com')).toHaveLength(2);
  });

  it('rejects invalid data with JobValidationError before sending', async () => {
    const error = await helpers.sendWelcomeEmail({ to: 'not-an-address', recipientName: 'Ada' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobValidationError);
    expect((error as JobValidationError).issues[0]?.path).toEqual(['to']);
    expect((error as JobValidationError).message).toMatch(/^Invalid welcome email: to: /);
    expect(await mailTo('not-an-address')).toEqual([]);
  });
});
