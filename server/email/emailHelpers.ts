/**
 * The seed's email helpers, one pair per template, acting on the default running server:
 * `send*EmailAsync(payload, metadata?, options?)` enqueues a `send-email` job (retried, visible
 * in the dashboard) and resolves with its id; `send*Email(payload)` renders and sends at once,
 * without a job. A payload is the template's fields plus `to` (and optional `replyTo`), flat.
 */
import { randomUUID } from 'node:crypto';
import { SendEmailPayload, type EmailTemplate, type EmailTemplateData } from '../../shared/email.ts';
import type { JobPayloadInput } from '../../shared/catalogue.ts';
import type { BaseJobMetadata } from '../../shared/jobApi.ts';
import { defaultServer } from '../defaultServer.ts';
import type { DispatchOptions } from '../jobs/dispatcher.ts';
import { JobValidationError } from '../jobs/errors.ts';
import type { EmailBrand } from './branding.ts';
import type { EmailSender } from './emailSender.ts';
import { renderEmail } from './renderEmail.ts';

export type SendEmailPayloadInput = JobPayloadInput<'send-email'>;

/** A helper's payload as the seed writes it: the recipient and the template's fields, flat. */
export type EmailHelperPayload<T extends EmailTemplate> = { to: string; replyTo?: string | undefined } & EmailTemplateData<T>;

/** The one Dispatcher method the helpers need; the real Dispatcher satisfies it structurally. */
export interface EmailDispatcher {
  /** Resolves with the job id. */
  enqueue(type: 'send-email', payload: SendEmailPayloadInput, metadata?: BaseJobMetadata, options?: DispatchOptions): Promise<string>;
}

/** The `send-email` payload of one template. */
type TemplatePayloadInput<T extends EmailTemplate> = Extract<SendEmailPayloadInput, { template: T }>;

/** `{ to, replyTo?, ...fields }` → the job payload `{ template, to, replyTo?, data: fields }`. */
export function templatePayload<T extends EmailTemplate>(template: T, payload: EmailHelperPayload<T>): TemplatePayloadInput<T> {
  const { to, replyTo, ...data } = payload;
  // Safe: for a single T this is exactly that template's variant of the union; TypeScript
  // cannot narrow a union by a generic discriminant. The schema checks `data` at enqueue/send.
  const job = replyTo === undefined ? { template, to, data } : { template, to, replyTo, data };
  return job as unknown as TemplatePayloadInput<T>;
}

/** Enqueues a `send-email` job on `dispatcher`; resolves with its job id. */
export async function enqueueEmail(
  dispatcher: EmailDispatcher,
  payload: SendEmailPayloadInput,
  metadata?: BaseJobMetadata,
  options?: DispatchOptions,
): Promise<string> {
  return dispatcher.enqueue('send-email', payload, metadata, options);
}

/** Enqueues one template's email on `dispatcher` from a flat helper payload (what billing uses). */
export async function enqueueTemplateEmail<T extends EmailTemplate>(
  dispatcher: EmailDispatcher,
  template: T,
  payload: EmailHelperPayload<T>,
  metadata?: BaseJobMetadata,
  options?: DispatchOptions,
): Promise<string> {
  return enqueueEmail(dispatcher, templatePayload(template, payload), metadata, options);
}

/**
 * Renders and sends one email now, without a job: no retries, nothing in the dashboard.
 * Throws `JobValidationError` (nothing sent) when the payload does not match its template.
 */
export async function sendEmailNow(
  email: { sender: EmailSender; from: string; brand?: EmailBrand },
  payload: SendEmailPayloadInput,
): Promise<{ id: string }> {
  const parsed = SendEmailPayload.safeParse(payload);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path, message: i.message, code: i.code }));
    const summary = issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
    throw new JobValidationError(`Invalid ${String(payload.template)} email: ${summary}`, issues);
  }
  const { to, replyTo, template } = parsed.data;
  return email.sender.send({
    from: email.from,
    to,
    replyTo,
    ...renderEmail(parsed.data, email.brand),
    // Each direct send is its own message; callers that retry should enqueue a job instead.
    idempotencyKey: `now:${randomUUID()}`,
    tags: [{ name: 'template', value: template }],
  });
}

const enqueueTemplate =
  <T extends EmailTemplate>(template: T) =>
  async (payload: EmailHelperPayload<T>, metadata?: BaseJobMetadata, options?: DispatchOptions): Promise<string> =>
    enqueueTemplateEmail(defaultServer().dispatcher, template, payload, metadata, options);

const sendTemplateNow =
  <T extends EmailTemplate>(template: T) =>
  async (payload: EmailHelperPayload<T>): Promise<{ id: string }> => {
    return sendEmailNow(defaultServer().email, templatePayload(template, payload));
  };

/** `{ to, recipientName?, loginUrl?, replyTo? }` */
export const sendWelcomeEmailAsync = enqueueTemplate('welcome');
/** `{ to, recipientName, resetUrl, expiresInMinutes?, replyTo? }` */
export const sendPasswordResetEmailAsync = enqueueTemplate('passwordReset');
/** `{ to, recipientName, changedAt?, supportUrl?, replyTo? }` */
export const sendPasswordChangedEmailAsync = enqueueTemplate('passwordChanged');
/** `{ to, recipientName, newEmail, confirmationUrl, replyTo? }` */
export const sendEmailChangeEmailAsync = enqueueTemplate('emailChange');
/** `{ to, recipientName, inviterName, organizationName, invitationUrl, role?, replyTo? }` */
export const sendTeamInvitationEmailAsync = enqueueTemplate('teamInvitation');
/** `{ to, recipientName, planName, amount: '29.99', currency?, dashboardUrl?, nextBillingDate?, replyTo? }` */
export const sendSubscriptionCreatedEmailAsync = enqueueTemplate('subscriptionCreated');
/** `{ to, recipientName, amountDue: '29.99', currency?, paymentDetailsUrl, nextRetryDate?, replyTo? }` */
export const sendPaymentFailedEmailAsync = enqueueTemplate('paymentFailed');

/** Blocks until the email is sent; resolves with the provider's message id. */
export const sendWelcomeEmail = sendTemplateNow('welcome');
export const sendPasswordResetEmail = sendTemplateNow('passwordReset');
export const sendPasswordChangedEmail = sendTemplateNow('passwordChanged');
export const sendEmailChangeEmail = sendTemplateNow('emailChange');
export const sendTeamInvitationEmail = sendTemplateNow('teamInvitation');
export const sendSubscriptionCreatedEmail = sendTemplateNow('subscriptionCreated');
export const sendPaymentFailedEmail = sendTemplateNow('paymentFailed');
