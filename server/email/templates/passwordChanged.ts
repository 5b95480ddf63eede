import type { TemplateContent } from './emailContent.ts';
import { formatDateTime, greeting } from './format.ts';

export const passwordChangedEmail: TemplateContent<'passwordChanged'> = ({ recipientName, changedAt, supportUrl }, { productName }) => ({
  subject: `Your ${productName} password was changed`,
  preheader: 'If you made this change, no action is needed.',
  heading: 'Your password was changed',
  paragraphs: [
    greeting(recipientName),
    `The password of your ${productName} account was just changed. If you made this change, no action is needed.`,
    supportUrl
      ? "If you didn't change it, reset your password right away and contact our support team."
      : "If you didn't change it, reset your password right away and reply to this email so we can help.",
  ],
  details: [['Changed at', changedAt && formatDateTime(changedAt)]],
  action: supportUrl ? { label: 'Contact support', url: supportUrl } : undefined,
  notes: ['We send this notice to keep your account secure.'],
});
