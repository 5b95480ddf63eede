import { createHash, createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { randomToken } from '../randomToken.ts';

const JWT_HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
const LIFETIME_S = 300;

/** base64url(sha256(body)) keeping `=` padding, as QStash writes the `body` claim (32 bytes: one `=`). */
export function bodyHash(body: Uint8Array): string {
  return `${createHash('sha256').update(body).digest('base64url')}=`;
}

// The key rarely changes (rotation): its KeyObject is made once, not per delivery.
let cachedKey: { text: string; key: KeyObject } | undefined;
function hmacKey(text: string): KeyObject {
  if (cachedKey?.text !== text) cachedKey = { text, key: createSecretKey(Buffer.from(text, 'utf8')) };
  return cachedKey.key;
}

/**
 * The `Upstash-Signature` JWT: HS256 keyed with the signing key's UTF-8 bytes (not decoded),
 * `sub` = the exact URL called, iat = nbf = now, exp = now + 5 min. Plain node:crypto HMAC: a few
 * microseconds, where a general JWT library costs a hundred.
 */
export function signDelivery(input: { key: string; url: string; body: Uint8Array; nowMs: number }): string {
  const now = Math.floor(input.nowMs / 1000);
  const claims = {
    iss: 'Upstash',
    sub: input.url,
    exp: now + LIFETIME_S,
    nbf: now,
    iat: now,
    jti: `jwt_${randomToken(16, 'hex')}`,
    body: bodyHash(input.body),
  };
  const signingInput = `${JWT_HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const signature = createHmac('sha256', hmacKey(input.key)).update(signingInput).digest('base64url');
  return `${signingInput}.${signature}`;
}
