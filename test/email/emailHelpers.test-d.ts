import { describe, expectTypeOf, it } from 'vitest';
import type { EmailTemplateData } from '../../shared/email.ts';
import type { BaseJobMetadata } from '../../shared/jobApi.ts';
import {
  sendPasswordResetEmail,
  sendPasswordResetEmailAsync,
  sendPaymentFailedEmailAsync,
  sendSubscriptionCreatedEmailAsync,
  sendTeamInvitationEmailAsync,
  sendWelcomeEmail,
  sendWelcomeEmailAsync,
  type EmailHelperPayload,
} from '../../server/email/emailHelpers.ts';

type Recipient = { to: string; replyTo?: string | undefined };

describe('email helper types', () => {
  it('types each helper’s payload as the recipient plus its template’s fields, flat', () => {
    expectTypeOf(sendWelcomeEmailAsync).parameter(0).toEqualTypeOf<EmailHelperPayload<'welcome'>>();
    expectTypeOf<EmailHelperPayload<'welcome'>>().toEqualTypeOf<Recipient & EmailTemplateData<'welcome'>>();
    expectTypeOf(sendPasswordResetEmailAsync).parameter(0).toEqualTypeOf<Recipient & EmailTemplateData<'passwordReset'>>();
    expectTypeOf(sendPasswordResetEmail).parameter(0).toEqualTypeOf<Recipient & EmailTemplateData<'passwordReset'>>();
    expectTypeOf(sendWelcomeEmailAsync).parameter(1).toEqualTypeOf<BaseJobMetadata | undefined>();
    // Defaulted fields are optional for callers; every welcome field is optional.
    expectTypeOf<EmailTemplateData<'passwordReset'>['expiresInMinutes']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<EmailTemplateData<'welcome'>>().toEqualTypeOf<{ recipientName?: string | undefined; loginUrl?: string | undefined }>();
    expectTypeOf(sendWelcomeEmailAsync).returns.toEqualTypeOf<Promise<string>>();
    expectTypeOf(sendWelcomeEmail).returns.toEqualTypeOf<Promise<{ id: string }>>();
  });

  it('accepts the seed’s calls as written', () => {
    void sendWelcomeEmailAsync({ to: 'user@example.com', recipientName: 'John Doe' }, { userId: 123 });
    void sendSubscriptionCreatedEmailAsync(
      { to: 'user@example.com', recipientName: 'John Doe', planName: 'Pro Plan', amount: '29.99', dashboardUrl: 'https://example.com/app/general' },
      { userId: 123, organizationId: 456 },
    );
    void sendWelcomeEmail({ to: 'user@example.com', recipientName: 'John Doe' });
  });

  it('rejects fields of another template and misspelt ones', () => {
    // @ts-expect-error resetUrl belongs to passwordReset, not welcome
    void sendWelcomeEmailAsync({ to: 'a@example.com', recipientName: 'Ada', resetUrl: 'https://a.example.com' });
    // @ts-expect-error passwordReset needs resetUrl
    void sendPasswordResetEmailAsync({ to: 'a@example.com', recipientName: 'Ada' });
    // @ts-expect-error amountDue is a decimal string ('19.99'), not a number
    void sendPaymentFailedEmailAsync({ to: 'a@example.com', recipientName: 'Ada', amountDue: 19.99, paymentDetailsUrl: 'https://a.example.com' });
    // @ts-expect-error the seed calls the recipient recipientName, not name
    void sendTeamInvitationEmailAsync({ to: 'a@example.com', name: 'Ada', inviterName: 'Grace', organizationName: 'Core', invitationUrl: 'https://a.example.com' });
    // @ts-expect-error the recipient is required
    void sendWelcomeEmail({ recipientName: 'Ada' });
    // @ts-expect-error the sync helpers take no metadata: nothing is enqueued
    void sendWelcomeEmail({ to: 'a@example.com' }, { userId: 1 });
  });
});
