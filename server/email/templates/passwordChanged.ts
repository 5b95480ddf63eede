import type { TemplateContent } from './emailContent.ts';
import { capitalize, formatDateTime, greeting, your } from './format.ts';

export const passwordChangedEmail: TemplateContent<'passwordChanged'> = (data, brand) => {
  const { recipientName, changedAt } = data;
  // The payload's link wins; otherwise the brand's support page.
  const supportUrl = data.supportUrl ?? brand.supportUrl;
  return {
    subject: `${capitalize(your('password', brand.productName))} was changed`,
    preheader: 'If you made this change, no action is needed.',
    heading: 'Your password was changed',
    paragraphs: [
      greeting(recipientName),
      `The password of ${your('account', brand.productName)} was just changed. If you made this change, no action is needed.`,
      supportUrl
        ? "If you didn't change it, reset your password right away and contact our support team."
        : "If you didn't change it, reset your password right away and reply to this email so we can help.",
    ],
    details: [['Changed at', changedAt && formatDateTime(changedAt)]],
    action: supportUrl ? { label: 'Contact support', url: supportUrl } : undefined,
    notes: ['We send this notice to keep your account secure.'],
  };
};
