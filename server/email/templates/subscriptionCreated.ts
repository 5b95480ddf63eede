import type { TemplateContent } from './emailContent.ts';
import { formatDate, formatMoney } from './format.ts';

export const subscriptionCreatedEmail: TemplateContent<'subscriptionCreated'> = (data, { productName }) => {
  const { name, planName, amount, currency, nextBillingDate } = data;
  const price = formatMoney(amount, currency);
  return {
    subject: `Your ${productName} ${planName} subscription is active`,
    preheader: `Thanks for subscribing to ${planName}.`,
    heading: 'Thanks for subscribing',
    paragraphs: [`Hi ${name},`, `Your subscription to the ${planName} plan is now active. Here is a summary for your records.`],
    details: [
      ['Plan', planName],
      ['Amount', price],
      ['Next billing date', nextBillingDate && formatDate(nextBillingDate)],
    ],
    notes: ['You can change or cancel your plan at any time from your billing settings.'],
  };
};
