import { createHash, createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

/**
 * Verifies an `Upstash-Signature` as the official `Receiver` of `@upstash/qstash` does
 * (qstash-protocol.md §4), with node:crypto: an HS256 JWT signed with the current or the next
 * signing key, issuer `Upstash`, `nbf`/`exp` against the clock (no tolerance), `sub` equal to
 * the URL the delivery was sent to, and `body` the base64url SHA-256 of the exact body bytes.
 * Stricter than the Receiver where it is lax: HS256 only (it accepts any HMAC algorithm the key
 * fits), `exp` required (it accepts a token that never expires), no `crit` header.
 *
 * The Receiver goes through WebCrypto and a general JWT library on every call (key import,
 * promise hops): about a millisecond of CPU per delivery. This is a few microseconds.
 * test/http/verifyDeliverySignature.test.ts keeps the Receiver as the reference.
 */
export type DeliveryVerifier = (input: { signature: string; body: string | Buffer; url: string }) => void;

export class DeliverySignatureError extends Error {
  override name = 'DeliverySignatureError';
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

export function createDeliveryVerifier(keys: { current: string; next: string }): DeliveryVerifier {
  // KeyObjects once: an HMAC over a ready key is cheaper than one that imports the key each call.
  const secrets: KeyObject[] = [createSecretKey(Buffer.from(keys.current, 'utf8')), createSecretKey(Buffer.from(keys.next, 'utf8'))];
  return ({ signature, body, url }) => {
    const parts = signature.split('.');
    if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part))) throw new DeliverySignatureError('signature is not a compact JWS');
    const [header, payload, mac] = parts as [string, string, string];
    const protectedHeader = decodeJson(header, 'header');
    if (protectedHeader.alg !== 'HS256') throw new DeliverySignatureError('signature algorithm is not HS256');
    if (protectedHeader.crit !== undefined || protectedHeader.b64 !== undefined) throw new DeliverySignatureError('signature header has unsupported parameters');
    const signed = `${header}.${payload}`;
    // Compared as the canonical encoding, in constant time, against each key in turn (rotation).
    const given = Buffer.from(mac, 'latin1');
    const valid = secrets.some((key) => {
      const expected = Buffer.from(createHmac('sha256', key).update(signed).digest('base64url'), 'latin1');
      return expected.length === given.length && timingSafeEqual(expected, given);
    });
    if (!valid) throw new DeliverySignatureError('signature verification failed');

    const claims = decodeJson(payload, 'payload');
    const now = Math.floor(Date.now() / 1000);
    if (claims.iss !== 'Upstash') throw new DeliverySignatureError('unexpected "iss" claim value');
    if (claims.iat !== undefined && typeof claims.iat !== 'number') throw new DeliverySignatureError('"iat" claim must be a number');
    if (claims.nbf !== undefined) {
      if (typeof claims.nbf !== 'number') throw new DeliverySignatureError('"nbf" claim must be a number');
      if (claims.nbf > now) throw new DeliverySignatureError('"nbf" claim timestamp check failed');
    }
    if (typeof claims.exp !== 'number') throw new DeliverySignatureError('signature has no expiry (exp)');
    if (claims.exp <= now) throw new DeliverySignatureError('"exp" claim timestamp check failed');
    if (claims.sub !== url) throw new DeliverySignatureError(`invalid subject: ${String(claims.sub)}, want: ${url}`);
    if (typeof claims.body !== 'string') throw new DeliverySignatureError('signature has no body hash');
    const bodyHash = createHash('sha256').update(body).digest('base64url');
    if (claims.body.replace(/=+$/, '') !== bodyHash) throw new DeliverySignatureError('body hash does not match');
  };
}

function decodeJson(part: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new DeliverySignatureError(`signature ${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DeliverySignatureError(`signature ${what} is not an object`);
  return value as Record<string, unknown>;
}
