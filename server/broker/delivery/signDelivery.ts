import { createHash, createHmac, randomBytes } from 'node:crypto';

const JWT_HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
const LIFETIME_S = 300;

/** base64url(sha256(body)) keeping `=` padding, as QStash writes the `body` claim. */
export function bodyHash(body: Uint8Array): string {
  return createHash('sha256').update(body).digest('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/**
 * The `Upstash-Signature` JWT: HS256 keyed with the signing key's UTF-8 bytes (not decoded),
 * `sub` = the exact URL called, iat = nbf = now, exp = now + 5 min.
 */
export function signDelivery(input: { key: string; url: string; body: Uint8Array; nowMs: number }): string {
  const now = Math.floor(input.nowMs / 1000);
  const claims = {
    iss: 'Upstash',
    sub: input.url,
    exp: now + LIFETIME_S,
    nbf: now,
    iat: now,
    jti: `jwt_${randomBytes(16).toString('hex')}`,
    body: bodyHash(input.body),
  };
  const signingInput = `${JWT_HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const signature = createHmac('sha256', Buffer.from(input.key, 'utf8')).update(signingInput).digest('base64url');
  return `${signingInput}.${signature}`;
}
