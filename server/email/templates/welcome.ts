import type { TemplateContent } from './emailContent.ts';
import { capitalize, greeting, your } from './format.ts';

// Every field is optional (the seed enqueues welcome with `data: {}`), so the copy reads well without a name.
export const welcomeEmail: TemplateContent<'welcome'> = ({ recipientName, loginUrl }, { productName }) => ({
  subject: [productName ? `Welcome to ${productName}` : 'Welcome', recipientName].filter(Boolean).join(', '),
  preheader: `${capitalize(your('account', productName))} is ready.`,
  heading: recipientName ? `Welcome, ${recipientName}!` : productName ? `Welcome to ${productName}!` : 'Welcome!',
  paragraphs: [
    greeting(recipientName),
    `Thanks for signing up${productName ? ` for ${productName}` : ''}. Your account is ready to use.`,
    loginUrl
      ? 'Sign in to set up your workspace and invite your team.'
      : 'Sign in any time with the email address this message was sent to.',
  ],
  action: loginUrl ? { label: productName ? `Sign in to ${productName}` : 'Sign in', url: loginUrl } : undefined,
  notes: ["If you didn't create this account, you can ignore this email."],
});
