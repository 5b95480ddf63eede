import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ResolvedWebhookSource } from './webhookSource.ts';

export type VerifyResult = { ok: true } | { ok: false; reason: string };
type Signer = Pick<ResolvedWebhookSource, 'verify' | 'secret' | 'timestamped'>;

/** How far a timestamped signature's `t` may be from this server's clock, either way (Stripe's 5 minutes). */
export const WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS = 300;

// GitHub always prefixes `sha256=`; other senders often send the bare hex digest.
const SIGNATURE_FORMAT = {
  github: /^sha256=([0-9a-f]{64})$/i,
  'hmac-sha256': /^(?:sha256=)?([0-9a-f]{64})$/i,
} as const;
const MALFORMED = { ok: false, reason: 'signature header is malformed' } as const;
const MISMATCH = { ok: false, reason: 'signature does not match' } as const;

/**
 * Checks a delivery's HMAC-SHA256 signature over the exact raw body (with a timestamped source,
 * over `${t}.${body}`), in constant time. A missing or malformed header fails like a wrong one.
 */
export function verifyWebhookSignature(source: Signer, rawBody: Buffer, header: string | undefined, nowMs = Date.now()): VerifyResult {
  if (!header) return { ok: false, reason: 'signature header is missing' };
  if (source.timestamped) return verifyTimestamped(source.secret, rawBody, header, nowMs);
  const hex = SIGNATURE_FORMAT[source.verify].exec(header.trim())?.[1];
  if (!hex) return MALFORMED;
  const expected = createHmac('sha256', source.secret).update(rawBody).digest();
  const given = Buffer.from(hex, 'hex'); // 64 hex digits: always 32 bytes, the digest's length
  return timingSafeEqual(expected, given) ? { ok: true } : MISMATCH;
}

/** `t=<unix seconds>,v1=<hex>[,v1=<hex>…]`: any `v1` may match (a sender rolling its secret sends two). */
function verifyTimestamped(secret: string, rawBody: Buffer, header: string, nowMs: number): VerifyResult {
  const timestamps: string[] = [];
  const given: Buffer[] = [];
  for (const part of header.split(',')) {
    const [, key, value = ''] = /^([^=]*)=(.*)$/.exec(part.trim()) ?? [];
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamps.push(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/i.test(value)) given.push(Buffer.from(value, 'hex'));
  }
  const [t] = timestamps;
  if (timestamps.length !== 1 || t === undefined || given.length === 0) return MALFORMED;
  const expected = createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest();
  if (!given.some((signature) => timingSafeEqual(expected, signature))) return MISMATCH;
  if (Math.abs(nowMs / 1000 - Number(t)) > WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS) return { ok: false, reason: 'signature timestamp is outside the tolerance' };
  return { ok: true };
}

/** The header value a sender would compute (tests, and host apps that forward events). `timestamp` in Unix seconds, default now. */
export function signWebhookBody(source: Signer, rawBody: string | Buffer, timestamp = Math.floor(Date.now() / 1000)): string {
  if (source.timestamped) return `t=${timestamp},v1=${createHmac('sha256', source.secret).update(`${timestamp}.`).update(rawBody).digest('hex')}`;
  const hex = createHmac('sha256', source.secret).update(rawBody).digest('hex');
  return source.verify === 'github' ? `sha256=${hex}` : hex;
}
