import { SignJWT, base64url, decodeJwt, decodeProtectedHeader } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import { createTokenVerifier, DEFAULT_MAX_TOKEN_LIFETIME_S, parseTokenLifetime, signToken, verifyToken } from '../../server/auth/token.ts';
import { loadEnv } from '../../server/env.ts';

const SECRET = 'test-secret-0123456789abcdef-0123456789';
const key = new TextEncoder().encode(SECRET);
const member = { userId: '42', organizationId: 7, role: 'member' } as const;

/** A token signed with SECRET whose claims are exactly `claims`. */
function craft(claims: Record<string, unknown>, alg = 'HS256') {
  return new SignJWT(claims).setProtectedHeader({ alg }).setIssuedAt().setExpirationTime('1h').sign(key);
}

describe('signToken / verifyToken', () => {
  it('round-trips the caller', async () => {
    const token = await signToken(member, SECRET);
    expect(await verifyToken(token, SECRET)).toEqual(member);
    expect(await verifyToken(await signToken({ ...member, role: 'admin' }, SECRET), SECRET)).toEqual({ ...member, role: 'admin' });
  });

  it('writes the contract claims: sub as a decimal string, org as an integer, role, exp', async () => {
    const token = await signToken(member, SECRET, { expiresIn: '7d' });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ sub: '42', org: 7, role: 'member' });
    expect(Number(claims.exp) - Number(claims.iat)).toBe(7 * 86_400);
  });

  it('refuses an expired token, but tolerates a few seconds of clock skew', async () => {
    expect(await verifyToken(await signToken(member, SECRET, { expiresIn: '-1m' }), SECRET)).toBeNull();
    expect(await verifyToken(await signToken(member, SECRET, { expiresIn: '-2s' }), SECRET)).toEqual(member);
  });

  it('refuses a token signed with another secret', async () => {
    expect(await verifyToken(await signToken(member, 'another-secret-0123456789abcdef-xyz'), SECRET)).toBeNull();
  });

  it('refuses alg none', async () => {
    const encode = (value: object) => base64url.encode(JSON.stringify(value));
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const unsigned = `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: '42', org: 7, role: 'admin', exp })}.`;
    expect(await verifyToken(unsigned, SECRET)).toBeNull();
  });

  it('refuses another HMAC algorithm with the right secret (HS256 is pinned)', async () => {
    expect(await verifyToken(await craft({ sub: '42', org: 7, role: 'member' }, 'HS512'), SECRET)).toBeNull();
  });

  it.each([
    ['org missing', { sub: '42', role: 'member' }],
    ['org as a string', { sub: '42', org: '7', role: 'member' }],
    ['org not an integer', { sub: '42', org: 7.5, role: 'member' }],
    ['sub missing', { org: 7, role: 'member' }],
    ['sub not decimal', { sub: 'user-42', org: 7, role: 'member' }],
    ['role unknown', { sub: '42', org: 7, role: 'owner' }],
    ['role missing', { sub: '42', org: 7 }],
  ])('refuses wrong claims: %s', async (_name, claims) => {
    expect(await verifyToken(await craft(claims), SECRET)).toBeNull();
  });

  it('refuses a token without exp', async () => {
    const token = await new SignJWT({ org: 7, role: 'member' }).setProtectedHeader({ alg: 'HS256' }).setSubject('42').sign(key);
    expect(await verifyToken(token, SECRET)).toBeNull();
  });

  it('refuses garbage and a tampered signature', async () => {
    const valid = await signToken(member, SECRET);
    // Flip a character mid-signature (the last one carries ignored padding bits).
    const at = valid.length - 10;
    const tampered = `${valid.slice(0, at)}${valid[at] === 'A' ? 'B' : 'A'}${valid.slice(at + 1)}`;
    for (const token of ['', 'abc', 'a.b.c', tampered]) {
      expect(await verifyToken(token, SECRET)).toBeNull();
    }
  });

  it('will not sign a malformed caller', async () => {
    await expect(signToken({ ...member, userId: 'abc' }, SECRET)).rejects.toThrow();
  });
});

describe('createTokenVerifier remembers tokens that verified', () => {
  afterEach(() => void vi.useRealTimers());

  it('no longer than a fresh check would accept them: past exp (and the skew tolerance) a remembered token is refused', async () => {
    const verify = createTokenVerifier({ secret: SECRET });
    const token = await signToken(member, SECRET, { expiresIn: '10s' });
    expect(await verify(token)).toEqual(member);
    expect(await verify(token)).toEqual(member); // remembered
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 16_000);
    expect(await verify(token)).toBeNull();
  });

  it('nor past iat + the maximum lifetime', async () => {
    const verify = createTokenVerifier({ secret: SECRET, maxLifetimeS: 60 });
    const token = await signToken(member, SECRET, { expiresIn: '50s' });
    expect(await verify(token)).toEqual(member);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 120_000);
    expect(await verify(token)).toBeNull();
  });

  it('answers a copy each time, and only for the exact token', async () => {
    const verify = createTokenVerifier({ secret: SECRET });
    const token = await signToken(member, SECRET);
    const first = await verify(token);
    first!.role = 'operator'; // a caller that changes what it got changes nothing for the next request
    expect(await verify(token)).toEqual(member);
    const [header, payload, signature] = token.split('.');
    expect(await verify(`${header}.${payload}.${signature!.slice(0, -2)}AA`)).toBeNull();
  });
});

describe('token lifetime (tokens cannot be revoked, so none lives long)', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const lived = (seconds: number, issuedAgo = 60) =>
    new SignJWT({ org: 7, role: 'member' }).setProtectedHeader({ alg: 'HS256' }).setSubject('42').setIssuedAt(now() - issuedAgo).setExpirationTime(now() - issuedAgo + seconds).sign(key);

  it('signToken issues 12-hour tokens by default, well within the 24-hour maximum', async () => {
    const claims = decodeJwt(await signToken(member, SECRET));
    expect(Number(claims.exp) - Number(claims.iat)).toBe(12 * 3600);
    expect(DEFAULT_MAX_TOKEN_LIFETIME_S).toBe(24 * 3600);
  });

  it('refuses exp - iat beyond the maximum (24 h by default, or as configured)', async () => {
    expect(await verifyToken(await lived(24 * 3600), SECRET)).toEqual(member);
    expect(await verifyToken(await lived(24 * 3600 + 1), SECRET)).toBeNull();
    expect(await verifyToken(await signToken(member, SECRET, { expiresIn: '30d' }), SECRET)).toBeNull();
    expect(await verifyToken(await lived(2 * 3600), SECRET, { maxLifetimeS: 3600 })).toBeNull();
    expect(await verifyToken(await lived(7 * 86_400), SECRET, { maxLifetimeS: 7 * 86_400 })).toEqual(member);
  });

  it('refuses a token without iat, or issued in the future', async () => {
    expect(await verifyToken(await craft({ sub: '42', org: 7, role: 'member' }), SECRET)).toEqual(member); // craft sets iat
    const noIat = await new SignJWT({ org: 7, role: 'member' }).setProtectedHeader({ alg: 'HS256' }).setSubject('42').setExpirationTime('1h').sign(key);
    expect(await verifyToken(noIat, SECRET)).toBeNull();
    expect(await verifyToken(await lived(3600, -600), SECRET)).toBeNull(); // iat 10 minutes ahead
  });

  it('applies to JWKS tokens too', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] });
    const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(jwks));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const verify = createTokenVerifier({ secret: SECRET, jwks: { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json` } });
      const sign = (lifetime: string) => new SignJWT({ org: 7, role: 'member' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setSubject('42').setIssuedAt().setExpirationTime(lifetime).sign(privateKey);
      expect(await verify(await sign('1h'))).toEqual(member);
      expect(await verify(await sign('25h'))).toBeNull();
    } finally {
      server.close();
    }
  });

  it('AUTH_MAX_TOKEN_LIFETIME: 24h by default, <n><s|m|h|d>, anything else refused at start-up', () => {
    expect(loadEnv({}).AUTH_MAX_TOKEN_LIFETIME).toBe(24 * 3600);
    expect(loadEnv({ AUTH_MAX_TOKEN_LIFETIME: '90m' }).AUTH_MAX_TOKEN_LIFETIME).toBe(5400);
    expect(parseTokenLifetime('7d')).toBe(7 * 86_400);
    for (const bad of ['', '0h', 'forever', '24', '1w']) expect(() => loadEnv({ AUTH_MAX_TOKEN_LIFETIME: bad }), bad).toThrow(/AUTH_MAX_TOKEN_LIFETIME/);
  });
});
