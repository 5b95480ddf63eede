import type { TemplateContent } from './emailContent.ts';

export const welcomeEmail: TemplateContent<'welcome'> = ({ name, loginUrl }, { productName }) => ({
  subject: `Welcome to ${productName}, ${name}`,
  preheader: `Your ${productName} account is ready.`,
  heading: `Welcome, ${name}!`,
  paragraphs: [
    `Thanks for signing up for ${productName}. Your account is ready to use.`,
    loginUrl
      ? 'Sign in to set up your workspace and invite your team.'
      : 'Sign in any time with the email address this message was sent to.',
  ],
  action: loginUrl ? { label: `Sign in to ${productName}`, url: loginUrl } : undefined,
  notes: ["If you didn't create this account, you can ignore this email."],
});
