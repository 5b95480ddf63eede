/**
 * Named helpers for the seven templates: `send*EmailAsync` enqueues a `send-email` job (retried,
 * visible in the dashboard); `send*Email` renders and sends at once, without a job.
 */
import { randomUUID } from 'node:crypto';
import { SendEmailPayload, type EmailTemplate, type EmailTemplateData } from '../../shared/email.ts';
import type { JobPayloadInput } from '../../shared/catalogue.ts';
import type { JobMetadata } from '../../shared/jobApi.ts';
import { JobValidationError } from '../jobs/errors.ts';
import type { EmailSender } from './emailSender.ts';
import { renderEmail } from './renderEmail.ts';

export type SendEmailPayloadInput = JobPayloadInput<'send-email'>;

/** The one Dispatcher method the helpers need; the real Dispatcher satisfies it structurally. */
export interface EmailDispatcher {
  /** Resolves with the job id. */
  enqueue(type: 'send-email', payload: SendEmailPayloadInput, metadata?: JobMetadata, options?: { idempotencyKey?: string }): Promise<string>;
}

/** Who the job belongs to, plus the email's reply-to and the enqueue idempotency key. */
export interface EnqueueEmailOptions extends JobMetadata {
  replyTo?: string;
  /** Enqueueing twice with one key creates one job, e.g. `welcome:<userId>`. */
  idempotencyKey?: string;
}

/** The `send-email` payload of one template, as callers write it. */
type TemplatePayloadInput<T extends EmailTemplate> = Extract<SendEmailPayloadInput, { template: T }>;

function payloadOf<T extends EmailTemplate>(template: T, to: string, data: EmailTemplateData<T>) {
  // Safe: for a single T this is exactly that template's variant of the union; TypeScript
  // cannot narrow a union by a generic discriminant.
  return { template, to, data } as TemplatePayloadInput<T>;
}

/** Enqueues a `send-email` job; resolves with its job id. */
export async function enqueueEmail(dispatcher: EmailDispatcher, payload: SendEmailPayloadInput, options: EnqueueEmailOptions = {}): Promise<string> {
  const { replyTo, idempotencyKey, ...metadata } = options;
  const withReplyTo = replyTo ? { ...payload, replyTo } : payload;
  return dispatcher.enqueue('send-email', withReplyTo, metadata, idempotencyKey ? { idempotencyKey } : undefined);
}

/** Renders and sends one email now, without a job: no retries, nothing in the dashboard. */
export async function sendEmailNow(sender: EmailSender, from: string, payload: SendEmailPayloadInput): Promise<{ id: string }> {
  const parsed = SendEmailPayload.safeParse(payload);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path, message: i.message, code: i.code }));
    throw new JobValidationError(`Invalid ${payload.template} email: ${issues.map((i) => i.message).join('; ')}`, issues);
  }
  const { to, replyTo, template } = parsed.data;
  return sender.send({
    from,
    to,
    replyTo,
    ...renderEmail(parsed.data),
    // Each direct send is its own message; callers that retry should enqueue a job instead.
    idempotencyKey: `now:${randomUUID()}`,
    tags: [{ name: 'template', value: template }],
  });
}

const enqueueTemplate =
  <T extends EmailTemplate>(template: T) =>
  (dispatcher: EmailDispatcher, to: string, data: EmailTemplateData<T>, options?: EnqueueEmailOptions): Promise<string> =>
    enqueueEmail(dispatcher, payloadOf(template, to, data), options);

const sendTemplateNow =
  <T extends EmailTemplate>(template: T) =>
  (sender: EmailSender, from: string, to: string, data: EmailTemplateData<T>): Promise<{ id: string }> =>
    sendEmailNow(sender, from, payloadOf(template, to, data));

export const sendWelcomeEmailAsync = enqueueTemplate('welcome');
export const sendPasswordResetEmailAsync = enqueueTemplate('passwordReset');
export const sendPasswordChangedEmailAsync = enqueueTemplate('passwordChanged');
export const sendEmailChangeEmailAsync = enqueueTemplate('emailChange');
export const sendTeamInvitationEmailAsync = enqueueTemplate('teamInvitation');
export const sendSubscriptionCreatedEmailAsync = enqueueTemplate('subscriptionCreated');
export const sendPaymentFailedEmailAsync = enqueueTemplate('paymentFailed');

export const sendWelcomeEmail = sendTemplateNow('welcome');
export const sendPasswordResetEmail = sendTemplateNow('passwordReset');
export const sendPasswordChangedEmail = sendTemplateNow('passwordChanged');
export const sendEmailChangeEmail = sendTemplateNow('emailChange');
export const sendTeamInvitationEmail = sendTemplateNow('teamInvitation');
export const sendSubscriptionCreatedEmail = sendTemplateNow('subscriptionCreated');
export const sendPaymentFailedEmail = sendTemplateNow('paymentFailed');
