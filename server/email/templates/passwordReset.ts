import type { TemplateContent } from './emailContent.ts';
import { formatMinutes, greeting, your } from './format.ts';

export const passwordResetEmail: TemplateContent<'passwordReset'> = ({ recipientName, resetUrl, expiresInMinutes }, { productName }) => ({
  subject: `Reset ${your('password', productName)}`,
  preheader: `This link expires in ${formatMinutes(expiresInMinutes)}.`,
  heading: 'Reset your password',
  paragraphs: [
    greeting(recipientName),
    `We received a request to reset the password of ${your('account', productName)}. Choose a new password with the button below.`,
  ],
  action: { label: 'Reset password', url: resetUrl },
  notes: [
    `This link expires in ${formatMinutes(expiresInMinutes)} and can be used once.`,
    "If you didn't ask for a reset, ignore this email: your password stays the same.",
  ],
});
