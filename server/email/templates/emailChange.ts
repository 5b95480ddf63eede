import type { TemplateContent } from './emailContent.ts';
import { greeting, your } from './format.ts';

export const emailChangeEmail: TemplateContent<'emailChange'> = ({ recipientName, newEmail, confirmationUrl }, { productName }) => ({
  subject: productName ? `Confirm your new ${productName} email address` : 'Confirm your new email address',
  preheader: `Confirm ${newEmail} as your new email address.`,
  heading: 'Confirm your new email address',
  paragraphs: [
    greeting(recipientName),
    `You asked to change the email address of ${your('account', productName)} to ${newEmail}. Confirm the change to start using it.`,
  ],
  details: [['New email address', newEmail]],
  action: { label: 'Confirm email address', url: confirmationUrl },
  notes: [
    'Until you confirm, we keep using your current address.',
    "If you didn't request this change, ignore this email and your address stays the same.",
  ],
});
