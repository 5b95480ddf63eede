import type { TemplateContent } from './emailContent.ts';
import { greeting } from './format.ts';

// Every field is optional (the seed enqueues welcome with `data: {}`), so the copy reads well without a name.
export const welcomeEmail: TemplateContent<'welcome'> = ({ recipientName, loginUrl }, { productName }) => ({
  subject: recipientName ? `Welcome to ${productName}, ${recipientName}` : `Welcome to ${productName}`,
  preheader: `Your ${productName} account is ready.`,
  heading: recipientName ? `Welcome, ${recipientName}!` : `Welcome to ${productName}!`,
  paragraphs: [
    greeting(recipientName),
    `Thanks for signing up for ${productName}. Your account is ready to use.`,
    loginUrl
      ? 'Sign in to set up your workspace and invite your team.'
      : 'Sign in any time with the email address this message was sent to.',
  ],
  action: loginUrl ? { label: `Sign in to ${productName}`, url: loginUrl } : undefined,
  notes: ["If you didn't create this account, you can ignore this email."],
});
