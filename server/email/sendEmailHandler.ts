import type { EmailTemplate } from '../../shared/email.ts';
import type { JobHandler } from '../jobs/handlers.ts';
import { recipientDomain, type EmailSender } from './emailSender.ts';
import { renderEmail } from './renderEmail.ts';
import type { EmailBrand } from './branding.ts';

export interface SendEmailHandlerOptions {
  sender: EmailSender;
  /** Sender, `address` or `Name <address>` (env `RESEND_FROM_EMAIL`, `EMAIL_FROM_NAME`). */
  from: string;
  /** Product name, support and logo URLs (env `BRAND_*`). Default none: neutral wording. */
  brand?: EmailBrand | undefined;
}

/** What a `send-email` job stores as its result. */
export interface SendEmailResult {
  messageId: string;
  template: EmailTemplate;
  to: string;
}

/** The idempotency key of a job's email: every delivery and retry of the job sends at most once. */
export const sendEmailIdempotencyKey = (jobId: string) => `job:${jobId}:send-email`;

/** Renders the payload's template and sends it. */
export function createSendEmailHandler(options: SendEmailHandlerOptions): JobHandler<'send-email'> {
  const { sender, from, brand } = options;
  return async (payload, ctx): Promise<SendEmailResult> => {
    ctx.signal.throwIfAborted();
    const { template, to, replyTo } = payload;
    // Template and domain only: addresses and bodies are personal data.
    const fields = { template, recipientDomain: recipientDomain(to) };
    const rendered = renderEmail(payload, brand);
    ctx.log.info(fields, '[email] Sending email');
    const { id } = await sender.send(
      {
        from,
        to,
        replyTo,
        ...rendered,
        idempotencyKey: sendEmailIdempotencyKey(ctx.jobId),
        tags: [{ name: 'template', value: template }],
      },
      { signal: ctx.signal },
    );
    // `emailId`: the delivery's bindings already carry `messageId` (the broker's), and one line must not hold a key twice.
    ctx.log.info({ ...fields, emailId: id }, '[email] Email sent');
    return { messageId: id, template, to };
  };
}
