import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SendEmailPayload } from '../../shared/email.ts';
import type { JobMetadata } from '../../shared/jobApi.ts';
import { createDevMailbox, type DevMailbox } from '../../server/email/devMailbox.ts';
import * as helpers from '../../server/email/emailHelpers.ts';
import type { EmailDispatcher, SendEmailPayloadInput } from '../../server/email/emailHelpers.ts';
import { JobValidationError } from '../../server/jobs/errors.ts';

interface EnqueueCall {
  type: 'send-email';
  payload: SendEmailPayloadInput;
  metadata: JobMetadata | undefined;
  options: { idempotencyKey?: string } | undefined;
}

/** Records what the helpers enqueue; stands in for our own Dispatcher interface. */
function recordingDispatcher(): EmailDispatcher & { calls: EnqueueCall[] } {
  const calls: EnqueueCall[] = [];
  return {
    calls,
    async enqueue(type, payload, metadata, options) {
      calls.push({ type, payload, metadata, options });
      return `job-${calls.length}`;
    },
  };
}

const TO = 'ada@example.com';

describe('send*EmailAsync', () => {
  it('enqueues one send-email job per helper with its template, recipient and data', async () => {
    const d = recordingDispatcher();
    const cases = [
      ['welcome', await helpers.sendWelcomeEmailAsync(d, TO, { name: 'Ada' })],
      ['passwordReset', await helpers.sendPasswordResetEmailAsync(d, TO, { name: 'Ada', resetUrl: 'https://a.example.com/r' })],
      ['passwordChanged', await helpers.sendPasswordChangedEmailAsync(d, TO, { name: 'Ada' })],
      ['emailChange', await helpers.sendEmailChangeEmailAsync(d, TO, { name: 'Ada', newEmail: 'new@example.com', confirmUrl: 'https://a.example.com/c' })],
      ['teamInvitation', await helpers.sendTeamInvitationEmailAsync(d, TO, { inviterName: 'Grace', teamName: 'Core', inviteUrl: 'https://a.example.com/i' })],
      ['subscriptionCreated', await helpers.sendSubscriptionCreatedEmailAsync(d, TO, { name: 'Ada', planName: 'Pro', amount: 1999, currency: 'usd' })],
      ['paymentFailed', await helpers.sendPaymentFailedEmailAsync(d, TO, { name: 'Ada', amount: 1999, currency: 'usd', updatePaymentUrl: 'https://a.example.com/p' })],
    ] as const;

    expect(cases.map(([, jobId]) => jobId)).toEqual(['job-1', 'job-2', 'job-3', 'job-4', 'job-5', 'job-6', 'job-7']);
    expect(d.calls.map((c) => c.payload.template)).toEqual(cases.map(([template]) => template));
    for (const call of d.calls) {
      expect(call.type).toBe('send-email');
      expect(call.payload.to).toBe(TO);
      expect(call.payload).not.toHaveProperty('replyTo');
      expect(call.options).toBeUndefined();
      expect(SendEmailPayload.safeParse(call.payload).success).toBe(true);
    }
    expect(d.calls[1]?.payload).toEqual({ template: 'passwordReset', to: TO, data: { name: 'Ada', resetUrl: 'https://a.example.com/r' } });
  });

  it('passes metadata, the enqueue idempotency key and reply-to where they belong', async () => {
    const d = recordingDispatcher();
    await helpers.sendWelcomeEmailAsync(d, TO, { name: 'Ada' }, {
      userId: 'user-1',
      organizationId: 7,
      correlationId: 'req-1',
      idempotencyKey: 'welcome:user-1',
      replyTo: 'support@example.com',
    });
    expect(d.calls).toEqual([
      {
        type: 'send-email',
        payload: { template: 'welcome', to: TO, replyTo: 'support@example.com', data: { name: 'Ada' } },
        metadata: { userId: 'user-1', organizationId: 7, correlationId: 'req-1' },
        options: { idempotencyKey: 'welcome:user-1' },
      },
    ]);
  });
});

describe('send*Email (direct, no job)', () => {
  let root: string;
  let mailbox: DevMailbox;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'jobwire-helpers-'));
    mailbox = createDevMailbox({ dir: join(root, 'mailbox') });
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('renders and sends at once, applying schema defaults', async () => {
    const { id } = await helpers.sendPasswordResetEmail(mailbox, 'jobwire <noreply@jobwire.dev>', TO, { name: 'Ada', resetUrl: 'https://a.example.com/r' });
    const mail = await mailbox.find((m) => m.id === id);
    expect(mail).toMatchObject({ to: TO, from: 'jobwire <noreply@jobwire.dev>', subject: 'Reset your jobwire password' });
    expect(mail?.text).toContain('expires in 1 hour');
  });

  it('sends each direct call separately', async () => {
    await helpers.sendWelcomeEmail(mailbox, 'noreply@jobwire.dev', TO, { name: 'Ada' });
    await helpers.sendWelcomeEmail(mailbox, 'noreply@jobwire.dev', TO, { name: 'Ada' });
    expect(await mailbox.list()).toHaveLength(2);
  });

  it('rejects invalid data with JobValidationError before sending', async () => {
    const error = await helpers.sendWelcomeEmail(mailbox, 'noreply@jobwire.dev', 'not-an-address', { name: 'Ada' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobValidationError);
    expect((error as JobValidationError).issues[0]?.path).toEqual(['to']);
    expect(await mailbox.list()).toEqual([]);
  });
});
