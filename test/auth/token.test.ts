import { SignJWT, base64url, decodeJwt, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { signToken, verifyToken } from '../../server/auth/token.ts';

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
