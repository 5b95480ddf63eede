/** A Resend tag: name and value are ASCII letters, digits, `_` and `-`, up to 256 characters. */
export interface EmailTag {
  name: string;
  value: string;
}

/** One outgoing email, rendered and addressed. */
export interface EmailMessage {
  /** `address` or `Name <address>`. */
  from: string;
  to: string;
  replyTo?: string;
  subject: string;
  html: string;
  text: string;
  /**
   * A second send with the same key within 24 hours returns the first message's id and sends
   * nothing, so a redelivered job never emails twice.
   */
  idempotencyKey: string;
  tags?: EmailTag[];
}

/** Where emails go: Resend in production, the dev mailbox on a laptop and in tests. */
export interface EmailSender {
  /** Resolves with the provider's message id; rejects with a `NonRetryableJobError` when retrying cannot help. */
  send(message: EmailMessage, options?: { signal?: AbortSignal }): Promise<{ id: string }>;
}

/** The part of an address after `@`: what logs may show instead of the full address. */
export function recipientDomain(address: string): string {
  const at = address.lastIndexOf('@');
  return at === -1 ? '' : address.slice(at + 1).replace(/>\s*$/, '').toLowerCase();
}
