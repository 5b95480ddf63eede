/**
 * Group H (auth): every procedure refuses every kind of bad token the same way, without saying
 * why; role checks; optional JWKS (RS256 / ES256) tokens from an external auth provider.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { base64url, exportJWK, exportPKCS8, exportSPKI, generateKeyPair, importPKCS8, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobTypeConfig, JOB_TYPE_LIST } from '../../shared/catalogue.ts';
import { createTokenVerifier, signToken } from '../../server/auth/token.ts';
import { appRouter } from '../../server/trpc/root.ts';
import { TEST_AUTH_SECRET } from '../support/testServer.ts';
import { rememberSecret } from './support/capturedLogs.ts';
import { callProcedure, startSecurityServer, type SecurityServer } from './support/securityServer.ts';
import { MEMBER_ENQUEUE, PROCEDURES, SAMPLE_PAYLOADS } from './support/surface.ts';

const ISSUER = 'https://auth.example.test/';
const AUDIENCE = 'jobwire';

let t: SecurityServer;
let trpc: string;
let jwksServer: Server;
let jwksUrl: string;
const keys = {} as Record<'rs' | 'es' | 'stranger', { privateKey: CryptoKey; publicKey: CryptoKey; kid: string }>;

beforeAll(async () => {
  for (const [name, alg] of [['rs', 'RS256'], ['es', 'ES256'], ['stranger', 'RS256']] as const) {
    keys[name] = { ...(await generateKeyPair(alg, { extractable: true })), kid: `${name}-key` };
  }
  const published: JWK[] = [];
  for (const name of ['rs', 'es'] as const) published.push({ ...(await exportJWK(keys[name].publicKey)), kid: keys[name].kid, use: 'sig' });
  jwksServer = createServer((_req, res) => void res.setHeader('content-type', 'application/json').end(JSON.stringify({ keys: published })));
  jwksServer.listen(0, '127.0.0.1');
  await once(jwksServer, 'listening');
  jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
  t = await startSecurityServer({ security: { jwks: { url: jwksUrl, issuer: ISSUER, audience: AUDIENCE } } });
  trpc = `${t.server.url}/trpc`;
});
afterAll(async () => {
  await t?.stopAndScan();
  jwksServer?.close();
});

const hs = new TextEncoder().encode(TEST_AUTH_SECRET);
const claims = { org: 1, role: 'admin' };
const encode = (value: object) => base64url.encode(JSON.stringify(value));
const now = () => Math.floor(Date.now() / 1000);

/** Bearer tokens that must all be refused, and refused identically. */
async function badTokens(): Promise<[string, string | undefined][]> {
  const valid = await t.token({ role: 'member' });
  const [header, , signature] = valid.split('.');
  const upgraded = `${header}.${encode({ sub: '1', org: 1, role: 'admin', exp: now() + 3600 })}.${signature}`;
  const list: [string, string | undefined][] = [
    ['no token', undefined],
    ['garbage', 'garbage'],
    ['three empty parts', 'a.b.c'],
    ['alg none', `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: '1', ...claims, exp: now() + 3600 })}.`],
    ['HS512 with the right secret', await new SignJWT(claims).setProtectedHeader({ alg: 'HS512' }).setSubject('1').setExpirationTime('1h').sign(hs)],
    ['another secret', await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('1').setExpirationTime('1h').sign(new TextEncoder().encode('x'.repeat(40)))],
    ['expired a minute ago', await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('1').setExpirationTime(now() - 60).sign(hs)],
    ['no exp', await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('1').sign(hs)],
    ['org as a string', await new SignJWT({ org: '1', role: 'admin' }).setProtectedHeader({ alg: 'HS256' }).setSubject('1').setExpirationTime('1h').sign(hs)],
    ['a member token re-signed as admin without the key', upgraded],
  ];
  for (const [, token] of list) if (token && token.length > 20) rememberSecret(token);
  return list;
}

describe('authentication', () => {
  it('has a surface row for every procedure of the router', () => {
    const routed = Object.keys(appRouter._def.procedures as Record<string, unknown>).sort();
    expect(Object.keys(PROCEDURES).sort()).toEqual(routed);
  });

  it.each(Object.entries(PROCEDURES))('%s: every bad token is UNAUTHORIZED, with the same message and no detail', async (path, procedure) => {
    for (const [name, token] of await badTokens()) {
      const result = await callProcedure(trpc, { path, type: procedure.type, input: procedure.valid, token });
      expect(result.error?.data.code, `${path} with ${name}`).toBe('UNAUTHORIZED');
      expect(result.error?.message, name).toBe('A valid bearer token is required');
      expect(result.error?.data.stack).toBeUndefined();
      if (procedure.type !== 'subscription') expect(result.status).toBe(401);
    }
  });

  it('tolerates a few seconds of clock skew, not more', async () => {
    const at = (exp: number) => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('1').setIssuedAt(exp - 3600).setExpirationTime(exp).sign(hs);
    const list = (token: string) => callProcedure(trpc, { path: 'jobs.list', type: 'query', input: {}, token: rememberSecret(token) });
    expect((await list(await at(now() - 2))).status).toBe(200);
    expect((await list(await at(now() - 30))).status).toBe(401);
  });
});

describe('roles', () => {
  it.each(Object.entries(PROCEDURES).filter(([, p]) => p.access === 'admin'))('%s is FORBIDDEN to members', async (path, procedure) => {
    const result = await callProcedure(trpc, { path, type: procedure.type, input: procedure.valid, token: await t.token({ role: 'member' }) });
    expect(result.error?.data.code).toBe('FORBIDDEN');
  });

  it.each(JOB_TYPE_LIST.filter((type) => jobTypeConfig(type).enqueueAccess !== 'member'))('members may not enqueue or schedule %s', async (type) => {
    const token = await t.token({ role: 'member' });
    const payload = SAMPLE_PAYLOADS[type];
    for (const [path, input] of [['jobs.enqueue', { type, payload }], ['jobs.schedule', { type, cron: '0 3 * * *', payload }]] as const) {
      const result = await callProcedure(trpc, { path, type: 'mutation', input, token });
      expect(result.error?.data).toMatchObject({ code: 'FORBIDDEN', jobwireCode: 'FORBIDDEN_JOB_TYPE' });
    }
  });

  it.each(JOB_TYPE_LIST.filter((type) => jobTypeConfig(type).enqueueAccess === 'server'))('no role, admins and operators included, may enqueue or schedule the server-only %s', async (type) => {
    const operator = rememberSecret(await signToken({ userId: '1', organizationId: 1, role: 'operator' }, TEST_AUTH_SECRET));
    const payload = SAMPLE_PAYLOADS[type];
    for (const token of [await t.token({ role: 'member' }), await t.token({ role: 'admin' }), operator]) {
      for (const [path, input] of [['jobs.enqueue', { type, payload }], ['jobs.schedule', { type, cron: '0 3 * * *', payload }]] as const) {
        const result = await callProcedure(trpc, { path, type: 'mutation', input, token });
        expect(result.error?.data).toMatchObject({ code: 'FORBIDDEN', jobwireCode: 'FORBIDDEN_JOB_TYPE' });
      }
    }
  });

  it.each([['callback', 'https://example.com/cb'], ['failureCallback', 'https://example.com/cb'], ['headers', { 'X-A': '1' }]])(
    'members may not set the %s option',
    async (option, value) => {
      const input = { ...MEMBER_ENQUEUE, options: { [option]: value } };
      const result = await callProcedure(trpc, { path: 'jobs.enqueue', type: 'mutation', input, token: await t.token({ role: 'member' }) });
      expect(result.error?.data).toMatchObject({ code: 'FORBIDDEN', jobwireCode: 'FORBIDDEN_OPTION' });
    },
  );
});

describe('JWKS tokens (AUTH_JWKS_URL)', () => {
  const sign = (key: { privateKey: CryptoKey; kid: string }, alg: string, edit: (jwt: SignJWT) => SignJWT = (j) => j) =>
    edit(new SignJWT(claims).setProtectedHeader({ alg, kid: key.kid }).setSubject('7').setIssuer(ISSUER).setAudience(AUDIENCE).setIssuedAt().setExpirationTime('5m'))
      .sign(key.privateKey)
      .then(rememberSecret);
  const whoAmI = async (token: string) => {
    const result = await callProcedure(trpc, { path: 'jobs.list', type: 'query', input: {}, token });
    return result.status;
  };

  it('accepts RS256 and ES256 tokens signed by a published key, and HS256 tokens still', async () => {
    expect(await whoAmI(await sign(keys.rs, 'RS256'))).toBe(200);
    expect(await whoAmI(await sign(keys.es, 'ES256'))).toBe(200);
    expect(await whoAmI(await t.token())).toBe(200);
  });

  it('refuses an unpublished key, a wrong issuer or audience, an expired token, and unpinned algorithms', async () => {
    expect(await whoAmI(await sign({ ...keys.stranger, kid: keys.rs.kid }, 'RS256'))).toBe(401);
    expect(await whoAmI(await sign(keys.stranger, 'RS256'))).toBe(401);
    expect(await whoAmI(await sign(keys.rs, 'RS256', (j) => j.setIssuer('https://evil.example/')))).toBe(401);
    expect(await whoAmI(await sign(keys.rs, 'RS256', (j) => j.setAudience('someone-else')))).toBe(401);
    expect(await whoAmI(await sign(keys.rs, 'RS256', (j) => j.setExpirationTime(now() - 60)))).toBe(401);
    // The published RSA key itself, used with algorithms that are not pinned.
    const pkcs8 = await exportPKCS8(keys.rs.privateKey);
    for (const alg of ['RS512', 'PS256']) expect(await whoAmI(await sign({ privateKey: await importPKCS8(pkcs8, alg), kid: keys.rs.kid }, alg)), alg).toBe(401);
  });

  it('refuses algorithm confusion: HS256 keyed with the public key, or a key embedded in the header', async () => {
    const pem = await exportSPKI(keys.rs.publicKey);
    const confused = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: keys.rs.kid }).setSubject('1').setExpirationTime('5m').sign(new TextEncoder().encode(pem));
    expect(await whoAmI(rememberSecret(confused))).toBe(401);
    const jwk = await exportJWK(keys.stranger.publicKey);
    const embedded = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', jwk }).setSubject('1').setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('5m').sign(keys.stranger.privateKey);
    expect(await whoAmI(rememberSecret(embedded))).toBe(401);
  });

  it('treats an unreachable JWKS as "not authenticated", not as a server error', async () => {
    const verify = createTokenVerifier({ secret: TEST_AUTH_SECRET, jwks: { url: 'http://127.0.0.1:1/jwks.json' } });
    expect(await verify(await sign(keys.rs, 'RS256'))).toBeNull();
  });
});
