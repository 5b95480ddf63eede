import type { TemplateContent } from './emailContent.ts';
import { capitalize, formatAmount, formatDate, greeting, your } from './format.ts';

export const subscriptionCreatedEmail: TemplateContent<'subscriptionCreated'> = (data, { productName }) => {
  const { recipientName, planName, amount, currency, dashboardUrl, nextBillingDate } = data;
  return {
    subject: `${capitalize(your(`${planName} subscription`, productName))} is active`,
    preheader: `Thanks for subscribing to ${planName}.`,
    heading: 'Thanks for subscribing',
    paragraphs: [greeting(recipientName), `Your subscription to the ${planName} plan is now active. Here is a summary for your records.`],
    details: [
      ['Plan', planName],
      ['Amount', formatAmount(amount, currency)],
      ['Next billing date', nextBillingDate && formatDate(nextBillingDate)],
    ],
    action: dashboardUrl ? { label: 'Go to your dashboard', url: dashboardUrl } : undefined,
    notes: ['You can change or cancel your plan at any time from your billing settings.'],
  };
};
