/**
 * The node:crypto delivery verifier against its reference, the official `Receiver` of
 * `@upstash/qstash`: both must accept and refuse the same tokens, except where jobwire is
 * stricter on purpose (HS256 only, `exp` required).
 */
import { createHash, randomUUID } from 'node:crypto';
import { Receiver } from '@upstash/qstash';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createDeliveryVerifier } from '../../server/http/verifyDeliverySignature.ts';
import { signDelivery } from '../support/signDelivery.ts';

const keys = { current: 'sig_current_0123456789abcdefghij', next: 'sig_next_0123456789abcdefghijkl' };
const url = 'https://jobs.example.com/api/jobs/email';
const body = JSON.stringify({ jobId: randomUUID(), type: 'send-email', payload: { to: 'ada@example.com', note: 'ünïcödé ✓' }, metadata: {} });
const verify = createDeliveryVerifier(keys);
const receiver = new Receiver({ currentSigningKey: keys.current, nextSigningKey: keys.next, devMode: false });

const ours = (signature: string, input: { body?: string; url?: string } = {}) => {
  try {
    verify({ signature, body: Buffer.from(input.body ?? body, 'utf8'), url: input.url ?? url });
    return true;
  } catch {
    return false;
  }
};
const theirs = (signature: string, input: { body?: string; url?: string } = {}) =>
  receiver.verify({ signature, body: input.body ?? body, url: input.url ?? url }).then(() => true, () => false);

const now = () => Math.floor(Date.now() / 1000);
const bodyHash = (text: string) => createHash('sha256').update(text).digest('base64url');

/** A token with any claims and algorithm, to reach the cases signDelivery never makes. */
function token(claims: Record<string, unknown>, options: { alg?: string; key?: string } = {}) {
  return new SignJWT(claims).setProtectedHeader({ alg: options.alg ?? 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(options.key ?? keys.current));
}
const claims = (extra: Record<string, unknown> = {}) => ({ iss: 'Upstash', sub: url, iat: now(), nbf: now(), exp: now() + 300, jti: 'jwt_1', body: bodyHash(body), ...extra });

const agreed: [string, () => Promise<string>, { body?: string; url?: string }?][] = [
  ['signed with the current key', () => signDelivery({ url, body, key: keys.current })],
  ['signed with the next key (rotation)', () => signDelivery({ url, body, key: keys.next })],
  ['body hash without its "=" padding', () => token(claims())],
  ['expired', () => signDelivery({ url, body, key: keys.current, issuedAt: now() - 600, expiresInSeconds: 300 })],
  ['expiring this very second', () => token(claims({ exp: now() }))],
  ['not valid yet (nbf ahead)', () => token(claims({ nbf: now() + 60 }))],
  ['signed with a wrong key', () => signDelivery({ url, body, key: 'sig_someone_else_0123456789abc' })],
  ['for another body', () => signDelivery({ url, body, key: keys.current }), { body: body.replace('ada', 'eve') }],
  ['for another URL', () => signDelivery({ url, body, key: keys.current }), { url: 'https://jobs.example.com/api/jobs/report' }],
  ['for the URL with a trailing slash', () => signDelivery({ url: `${url}/`, body, key: keys.current })],
  ['from another issuer', () => token(claims({ iss: 'Someone' }))],
  ['without an issuer', () => token(claims({ iss: undefined }))],
  ['with a non-numeric iat', () => token(claims({ iat: 'yesterday' }))],
  ['with a tampered payload', async () => {
    const [h, , s] = (await signDelivery({ url, body, key: keys.current })).split('.');
    return `${h}.${Buffer.from(JSON.stringify(claims({ sub: 'https://evil.example.com/' }))).toString('base64url')}.${s}`;
  }],
  ['with a truncated signature', async () => (await signDelivery({ url, body, key: keys.current })).slice(0, -2)],
  ['that is not a JWT', async () => 'not-a-jwt'],
  ['with alg none', async () => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}.`],
];

describe('the node:crypto verifier agrees with the official Receiver', () => {
  it.each(agreed)('%s', async (_name, make, input) => {
    const signature = await make();
    const reference = await theirs(signature, input);
    expect(ours(signature, input)).toBe(reference);
  });

  it('accepts what it should (the list above is not all refusals)', async () => {
    expect(ours(await signDelivery({ url, body, key: keys.current }))).toBe(true);
    expect(ours(await signDelivery({ url, body, key: keys.next }))).toBe(true);
    expect(ours(await signDelivery({ url, body, key: 'sig_someone_else_0123456789abc' }))).toBe(false);
  });
});

describe('where jobwire is stricter than the Receiver', () => {
  it('refuses HS384/HS512, which the Receiver accepts when the key fits', async () => {
    const signature = await token(claims(), { alg: 'HS512', key: `${keys.current}${keys.current}` });
    // A key long enough for HS512 signs it; the Receiver then verifies it with that key.
    const long = new Receiver({ currentSigningKey: `${keys.current}${keys.current}`, nextSigningKey: keys.next, devMode: false });
    expect(await long.verify({ signature, body, url }).then(() => true, () => false)).toBe(true);
    const verifyLong = createDeliveryVerifier({ current: `${keys.current}${keys.current}`, next: keys.next });
    expect(() => verifyLong({ signature, body, url })).toThrow(/HS256/);
  });

  it('refuses a token without exp, which would never expire', async () => {
    const signature = await token(claims({ exp: undefined }));
    expect(await theirs(signature)).toBe(true);
    expect(ours(signature)).toBe(false);
  });

  it('checks the exact bytes received, not their decoding', async () => {
    const bytes = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0xff, 0x7d]); // not UTF-8
    const signature = await token(claims({ body: createHash('sha256').update(bytes).digest('base64url') }));
    expect(() => verify({ signature, body: bytes, url })).not.toThrow();
    expect(() => verify({ signature, body: bytes.toString('utf8'), url })).toThrow(/body hash/);
  });
});
