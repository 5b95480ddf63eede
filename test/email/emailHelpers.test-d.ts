import { describe, expectTypeOf, it } from 'vitest';
import type { EmailTemplateData } from '../../shared/email.ts';
import {
  sendPasswordResetEmail,
  sendPasswordResetEmailAsync,
  sendPaymentFailedEmailAsync,
  sendTeamInvitationEmailAsync,
  sendWelcomeEmailAsync,
  type EmailDispatcher,
} from '../../server/email/emailHelpers.ts';
import type { EmailSender } from '../../server/email/emailSender.ts';

declare const dispatcher: EmailDispatcher;
declare const sender: EmailSender;

describe('email helper types', () => {
  it('types each helper’s data as its template’s schema input', () => {
    expectTypeOf(sendWelcomeEmailAsync).parameter(2).toEqualTypeOf<EmailTemplateData<'welcome'>>();
    expectTypeOf(sendPasswordResetEmailAsync).parameter(2).toEqualTypeOf<EmailTemplateData<'passwordReset'>>();
    expectTypeOf(sendPasswordResetEmail).parameter(3).toEqualTypeOf<EmailTemplateData<'passwordReset'>>();
    // Defaulted fields are optional for callers.
    expectTypeOf<EmailTemplateData<'passwordReset'>['expiresInMinutes']>().toEqualTypeOf<number | undefined>();
    expectTypeOf(sendWelcomeEmailAsync).returns.toEqualTypeOf<Promise<string>>();
  });

  it('rejects data of another template', () => {
    // @ts-expect-error resetUrl belongs to passwordReset, not welcome
    void sendWelcomeEmailAsync(dispatcher, 'a@example.com', { name: 'Ada', resetUrl: 'https://a.example.com' });
    // @ts-expect-error passwordReset needs resetUrl
    void sendPasswordResetEmailAsync(dispatcher, 'a@example.com', { name: 'Ada' });
    // @ts-expect-error amount is in minor units, a number
    void sendPaymentFailedEmailAsync(dispatcher, 'a@example.com', { name: 'Ada', amount: '19.99', currency: 'usd', updatePaymentUrl: 'https://a.example.com' });
    // @ts-expect-error teamInvitation has inviterName, not name
    void sendTeamInvitationEmailAsync(dispatcher, 'a@example.com', { name: 'Grace', teamName: 'Core', inviteUrl: 'https://a.example.com' });
    // @ts-expect-error the direct sender checks data the same way
    void sendPasswordResetEmail(sender, 'noreply@example.com', 'a@example.com', { name: 'Ada', loginUrl: 'https://a.example.com' });
  });
});
