import type { ErrorResponse, Resend } from 'resend';
import { NonRetryableJobError } from '../jobs/errors.ts';
import type { Logger } from '../logger.ts';
import { recipientDomain, type EmailSender } from './emailSender.ts';

export const RESEND_DEFAULT_BASE_URL = 'https://api.resend.com';

export interface ResendSenderOptions {
  apiKey: string;
  /** Resend API root, e.g. a local fake in tests. Default `https://api.resend.com`. */
  baseUrl?: string;
  logger?: Logger;
}

/**
 * Retrying helps with rate limits and quotas (429), Resend's own failures (5xx), network
 * failures (no status) and a concurrent request holding the same idempotency key; every
 * other 4xx (invalid `to`, bad key, unverified domain) fails the same way next time.
 */
function isRetryable(error: ErrorResponse): boolean {
  const status = error.statusCode;
  return status === null || status === 429 || status >= 500 || error.name === 'concurrent_idempotent_requests';
}

/** Sends through Resend's official SDK, one `POST /emails` per message. */
export function createResendSender(options: ResendSenderOptions): EmailSender {
  // resend@6 takes `baseUrl` as a constructor option; when it is absent the SDK falls back to
  // process.env.RESEND_BASE_URL, so we always pass one to keep env reading in server/env.ts.
  const baseUrl = (options.baseUrl ?? RESEND_DEFAULT_BASE_URL).replace(/\/+$/, '');
  // The SDK is loaded with the first send, not at start-up (README "Start-up time").
  let resend: Promise<Resend> | undefined;
  const client = () => (resend ??= import('resend').then(({ Resend }) => new Resend(options.apiKey, { baseUrl })));
  const log = options.logger;

  return {
    async send(message, { signal } = {}) {
      const { data, error } = await (await client()).emails.send(
        {
          from: message.from,
          to: message.to,
          replyTo: message.replyTo,
          subject: message.subject,
          html: message.html,
          text: message.text,
          tags: message.tags,
        },
        // The SDK sends this as the `Idempotency-Key` header; Resend remembers it for 24 hours.
        { idempotencyKey: message.idempotencyKey, signal },
      );
      // The SDK turns every fetch failure, an abort included, into a status-less error object.
      signal?.throwIfAborted();
      if (error) {
        const fields = { statusCode: error.statusCode, errorName: error.name, recipientDomain: recipientDomain(message.to) };
        const description = `Resend rejected the email (${error.statusCode ?? 'no response'} ${error.name}): ${error.message}`;
        if (isRetryable(error)) {
          log?.warn(fields, '[email] Resend send failed, will retry');
          throw new Error(description, { cause: error });
        }
        log?.error(fields, '[email] Resend refused the email');
        throw new NonRetryableJobError(description, { cause: error });
      }
      log?.debug({ messageId: data.id, recipientDomain: recipientDomain(message.to) }, '[email] Sent through Resend');
      return { id: data.id };
    },
  };
}
