import { createHash, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';

/** Signs a delivery exactly as QStash does (qstash-protocol.md §4), for replay and forgery tests. */
export async function signDelivery(input: { url: string; body: string; key: string; expiresInSeconds?: number; issuedAt?: number }): Promise<string> {
  const now = input.issuedAt ?? Math.floor(Date.now() / 1000);
  const bodyHash = createHash('sha256').update(input.body).digest('base64url');
  return new SignJWT({ body: `${bodyHash}=` })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer('Upstash')
    .setSubject(input.url)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + (input.expiresInSeconds ?? 300))
    .setJti(`jwt_${randomUUID()}`)
    .sign(new TextEncoder().encode(input.key));
}
