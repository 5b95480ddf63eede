import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ResolvedWebhookSource } from './webhookSource.ts';

export type VerifyResult = { ok: true } | { ok: false; reason: string };

// GitHub always prefixes `sha256=`; other senders often send the bare hex digest.
const SIGNATURE_FORMAT = {
  github: /^sha256=([0-9a-f]{64})$/i,
  'hmac-sha256': /^(?:sha256=)?([0-9a-f]{64})$/i,
} as const;

/**
 * Checks a delivery's HMAC-SHA256 signature over the exact raw body, in constant time.
 * A missing or malformed header fails like a wrong one.
 */
export function verifyWebhookSignature(source: Pick<ResolvedWebhookSource, 'verify' | 'secret'>, rawBody: Buffer, header: string | undefined): VerifyResult {
  if (!header) return { ok: false, reason: 'signature header is missing' };
  const hex = SIGNATURE_FORMAT[source.verify].exec(header.trim())?.[1];
  if (!hex) return { ok: false, reason: 'signature header is malformed' };
  const expected = createHmac('sha256', source.secret).update(rawBody).digest();
  const given = Buffer.from(hex, 'hex'); // 64 hex digits: always 32 bytes, the digest's length
  return timingSafeEqual(expected, given) ? { ok: true } : { ok: false, reason: 'signature does not match' };
}

/** The header value a sender would compute (tests, and host apps that forward events). */
export function signWebhookBody(source: Pick<ResolvedWebhookSource, 'verify' | 'secret'>, rawBody: string | Buffer): string {
  const hex = createHmac('sha256', source.secret).update(rawBody).digest('hex');
  return source.verify === 'github' ? `sha256=${hex}` : hex;
}
