import { z } from 'zod';

const Name = z.string().trim().min(1).max(200);
const Url = z.url({ protocol: /^https?$/ }).max(2048);
const Money = z.object({
  /** Amount in the currency's minor unit (cents). */
  amount: z.number().int().nonnegative().max(1e12),
  /** ISO 4217 code, e.g. `usd`. */
  currency: z.string().length(3).toLowerCase(),
});

/** Data each transactional email template renders. */
export const EMAIL_TEMPLATE_DATA = {
  welcome: z.object({ name: Name, loginUrl: Url.optional() }),
  passwordReset: z.object({ name: Name, resetUrl: Url, expiresInMinutes: z.number().int().min(1).max(10_080).default(60) }),
  passwordChanged: z.object({ name: Name, changedAt: z.iso.datetime({ offset: true }).optional(), supportUrl: Url.optional() }),
  emailChange: z.object({ name: Name, newEmail: z.email().max(320), confirmUrl: Url }),
  teamInvitation: z.object({ inviterName: Name, teamName: Name, inviteUrl: Url, role: z.string().max(50).optional() }),
  subscriptionCreated: z.object({ name: Name, planName: Name, ...Money.shape, nextBillingDate: z.iso.date().optional() }),
  paymentFailed: z.object({ name: Name, ...Money.shape, updatePaymentUrl: Url, nextRetryDate: z.iso.date().optional() }),
} as const;

export type EmailTemplate = keyof typeof EMAIL_TEMPLATE_DATA;
export const EMAIL_TEMPLATES = Object.keys(EMAIL_TEMPLATE_DATA) as EmailTemplate[]; // keys of a const object literal
export type EmailTemplateData<T extends EmailTemplate> = z.input<(typeof EMAIL_TEMPLATE_DATA)[T]>;

const recipient = { to: z.email().max(320), replyTo: z.email().max(320).optional() };
const variant = <T extends EmailTemplate>(template: T) =>
  z.object({ ...recipient, template: z.literal(template), data: EMAIL_TEMPLATE_DATA[template] });

/** The `send-email` payload: a recipient, a template and that template's data. */
export const SendEmailPayload = z.discriminatedUnion('template', [
  variant('welcome'),
  variant('passwordReset'),
  variant('passwordChanged'),
  variant('emailChange'),
  variant('teamInvitation'),
  variant('subscriptionCreated'),
  variant('paymentFailed'),
]);
export type SendEmailPayload = z.infer<typeof SendEmailPayload>;
