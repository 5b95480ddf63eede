import type { TemplateContent } from './emailContent.ts';
import { formatAmount, formatDate, greeting, your } from './format.ts';

export const paymentFailedEmail: TemplateContent<'paymentFailed'> = (data, { productName }) => {
  const { recipientName, amountDue, currency, paymentDetailsUrl, nextRetryDate } = data;
  const price = formatAmount(amountDue, currency);
  return {
    subject: `Action needed: ${your('payment', productName)} of ${price} failed`,
    preheader: 'Update your payment method to keep your subscription active.',
    heading: "Your payment didn't go through",
    paragraphs: [
      greeting(recipientName),
      `We couldn't charge ${price} to your payment method on file.`,
      nextRetryDate
        ? `We'll try again on ${formatDate(nextRetryDate)}. Update your payment method before then to keep your subscription active.`
        : 'Update your payment method to keep your subscription active.',
    ],
    details: [
      ['Amount due', price],
      ['Next attempt', nextRetryDate && formatDate(nextRetryDate)],
    ],
    action: { label: 'Update payment method', url: paymentDetailsUrl },
    notes: ['If you have already updated your payment details, you can ignore this email.'],
  };
};
