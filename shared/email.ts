import { z } from 'zod';

const Name = z.string().trim().min(1).max(200);
const Url = z.url({ protocol: /^https?$/ }).max(2048);
/**
 * The seed's display amount in major units, e.g. `'29.99'`. A string, never a number, so a
 * price in dollars (`29.99`) can never be mistaken for one in cents (`2999`).
 */
const Amount = z
  .string({ error: (issue) => (typeof issue.input === 'number' ? "must be a decimal string in major units, e.g. '29.99', not a number" : undefined) })
  .regex(/^[0-9]{1,12}(\.[0-9]{1,3})?$/, "must be a decimal string in major units, e.g. '29.99'");
/** ISO 4217 code. With it the amount is shown with its symbol (`$29.99`); without it, as written. */
const Currency = z
  .string()
  .regex(/^[A-Za-z]{3}$/, 'must be an ISO 4217 currency code, e.g. usd')
  .toLowerCase();

/**
 * A template's data: a strict object, so a misspelt field (`recipentName`) is an error naming
 * the fields the template does take, rather than a silently empty greeting.
 */
function templateData<S extends z.ZodRawShape>(template: string, shape: S) {
  const fields = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `Unknown ${template} field(s) ${issue.keys.join(', ')}; its fields are ${fields}` : undefined),
  });
}

/** Data each transactional email template renders. Field names are the seed's. */
export const EMAIL_TEMPLATE_DATA = {
  welcome: templateData('welcome', { recipientName: Name.optional(), loginUrl: Url.optional() }),
  passwordReset: templateData('passwordReset', {
    recipientName: Name,
    resetUrl: Url,
    expiresInMinutes: z.number().int().min(1).max(10_080).default(60),
  }),
  passwordChanged: templateData('passwordChanged', {
    recipientName: Name,
    changedAt: z.iso.datetime({ offset: true }).optional(),
    supportUrl: Url.optional(),
  }),
  emailChange: templateData('emailChange', { recipientName: Name, newEmail: z.email().max(320), confirmationUrl: Url }),
  teamInvitation: templateData('teamInvitation', {
    recipientName: Name,
    inviterName: Name,
    organizationName: Name,
    invitationUrl: Url,
    role: z.string().max(50).optional(),
  }),
  subscriptionCreated: templateData('subscriptionCreated', {
    recipientName: Name,
    planName: Name,
    amount: Amount,
    currency: Currency.optional(),
    dashboardUrl: Url.optional(),
    nextBillingDate: z.iso.date().optional(),
  }),
  paymentFailed: templateData('paymentFailed', {
    recipientName: Name,
    amountDue: Amount,
    currency: Currency.optional(),
    paymentDetailsUrl: Url,
    nextRetryDate: z.iso.date().optional(),
  }),
} as const;

export type EmailTemplate = keyof typeof EMAIL_TEMPLATE_DATA;
export const EMAIL_TEMPLATES = Object.keys(EMAIL_TEMPLATE_DATA) as EmailTemplate[]; // keys of a const object literal
export type EmailTemplateData<T extends EmailTemplate> = z.input<(typeof EMAIL_TEMPLATE_DATA)[T]>;

const recipient = { to: z.email().max(320), replyTo: z.email().max(320).optional() };
const variant = <T extends EmailTemplate, D extends z.ZodType>(template: T, data: D) =>
  z.strictObject({ ...recipient, template: z.literal(template), data });

/** The `send-email` payload: a recipient, a template and that template's data. */
export const SendEmailPayload = z.discriminatedUnion('template', [
  // Every welcome field is optional, so `data` may be left out (the seed enqueues `data: {}` or none).
  variant('welcome', EMAIL_TEMPLATE_DATA.welcome.prefault({})),
  variant('passwordReset', EMAIL_TEMPLATE_DATA.passwordReset),
  variant('passwordChanged', EMAIL_TEMPLATE_DATA.passwordChanged),
  variant('emailChange', EMAIL_TEMPLATE_DATA.emailChange),
  variant('teamInvitation', EMAIL_TEMPLATE_DATA.teamInvitation),
  variant('subscriptionCreated', EMAIL_TEMPLATE_DATA.subscriptionCreated),
  variant('paymentFailed', EMAIL_TEMPLATE_DATA.paymentFailed),
]);
export type SendEmailPayload = z.infer<typeof SendEmailPayload>;
