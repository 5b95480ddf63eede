/**
 * Group B (forged deliveries): signatures are bound to one route's configured URL, to the exact
 * body, to Upstash as issuer, to HS256 and to the configured keys (current and next; retired keys
 * and QSTASH_DEV never). Spoofed X-Forwarded-* and lying message bodies change nothing. Every
 * refusal logs one `security.forged_delivery` line. test/pipeline/deliveries.test.ts covers the
 * basics (unknown key, altered body, expiry, replay of a completed job, next-key rotation).
 */
import { createHash } from 'node:crypto';
import { base64url, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { QSTASH_DEV_CURRENT_SIGNING_KEY, QSTASH_DEV_NEXT_SIGNING_KEY } from '../../server/env.ts';
import type { JobHandler } from '../../server/jobs/handlers.ts';
import { SECURITY_EVENTS } from '../../server/security/securityEvent.ts';
import { signDelivery } from '../support/signDelivery.ts';
import { rememberSecret } from './support/capturedLogs.ts';
import { startSecurityServer, type SecurityServer } from './support/securityServer.ts';
import { ALL_WORKER_PATHS, WORKER_ROUTES } from './support/surface.ts';

const runs = new Map<string, { organizationId: number | null; userId: string | null }>();
const recordingEmail: JobHandler<'send-email'> = async (payload, ctx) => {
  runs.set(ctx.jobId, { organizationId: ctx.organizationId, userId: ctx.userId });
  return { to: payload.to };
};

let t: SecurityServer;
beforeAll(async () => {
  t = await startSecurityServer({ handlers: { 'send-email': recordingEmail } });
});
afterAll(async () => t?.stopAndScan());

const EMAIL_PATH = '/api/jobs/email';

/** A job the broker holds back for an hour, so the test alone delivers it. */
async function heldJob(server: SecurityServer, organizationId = 60) {
  const client = await server.client({ organizationId, userId: '600', role: 'admin' });
  const payload = { to: 'held@example.com', template: 'welcome', data: { recipientName: 'Held' } } as const;
  const { jobId } = await client.jobs.enqueue.mutate({ type: 'send-email', payload, options: { delay: 3_600_000 } });
  const body = JSON.stringify({ jobId, type: 'send-email', payload, metadata: { organizationId, userId: '600' } });
  return { client, jobId, body };
}

async function post(server: SecurityServer, path: string, body: string, headers: Record<string, string>) {
  return fetch(`${server.server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'upstash-message-id': 'msg_sec', ...headers }, body });
}

const sign = async (input: Parameters<typeof signDelivery>[0]) => rememberSecret(await signDelivery(input));
const forgedLines = () => t.logs.records(SECURITY_EVENTS.forgedDelivery);

/** Posts a delivery that must be refused: 401, no run, job still pending, exactly one security line. */
async function expectRefused(path: string, body: string, jobId: string | null, headers: Record<string, string>) {
  const seen = forgedLines().length;
  const response = await post(t, path, body, headers);
  expect(response.status).toBe(401);
  expect(forgedLines().length - seen).toBe(1);
  if (jobId) {
    expect(runs.has(jobId)).toBe(false);
    expect((await (await t.client({ organizationId: 60 })).jobs.get.query({ jobId })).status).toBe('pending');
  }
}

describe('a signature is bound to one route', () => {
  it.each(WORKER_ROUTES)('$path refuses deliveries signed for any other route', async (route) => {
    const { jobId, body } = await heldJob(t);
    for (const other of ALL_WORKER_PATHS.filter((p) => p !== route.path)) {
      const signature = await sign({ url: `${t.server.publicUrl}${other}`, body, key: QSTASH_DEV_CURRENT_SIGNING_KEY });
      await expectRefused(route.path, body, route.path === EMAIL_PATH ? jobId : null, { 'upstash-signature': signature });
    }
  });

  it('refuses near-miss URLs of the same route', async () => {
    const { jobId, body } = await heldJob(t);
    const base = new URL(t.server.publicUrl);
    const nearMisses = [
      `${t.server.publicUrl}${EMAIL_PATH}/`,
      `${t.server.publicUrl}${EMAIL_PATH}?x=1`,
      `${t.server.publicUrl}${EMAIL_PATH.toUpperCase()}`,
      `${t.server.publicUrl}/${EMAIL_PATH}`,
      `https://${base.host}${EMAIL_PATH}`,
      `http://localhost:${base.port}${EMAIL_PATH}`,
    ];
    for (const url of nearMisses) await expectRefused(EMAIL_PATH, body, jobId, { 'upstash-signature': await sign({ url, body, key: QSTASH_DEV_CURRENT_SIGNING_KEY }) });
  });
});

describe('tampered signatures', () => {
  it('refuses alg none, other algorithms, another issuer, a missing or wrong body hash, a future nbf, and mangled headers', async () => {
    const { jobId, body } = await heldJob(t);
    const url = `${t.server.publicUrl}${EMAIL_PATH}`;
    const key = new TextEncoder().encode(QSTASH_DEV_CURRENT_SIGNING_KEY);
    const bodyHash = `${createHash('sha256').update(body).digest('base64url')}=`;
    const now = Math.floor(Date.now() / 1000);
    const jwt = (claims: Record<string, unknown>, alg = 'HS256') =>
      new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT' }).setIssuer('Upstash').setSubject(url).setIssuedAt(now).setNotBefore(now).setExpirationTime(now + 300).sign(key).then(rememberSecret);
    const encode = (value: object) => base64url.encode(JSON.stringify(value));
    const valid = await sign({ url, body, key: QSTASH_DEV_CURRENT_SIGNING_KEY });
    const signatures = [
      `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ iss: 'Upstash', sub: url, body: bodyHash, exp: now + 300, nbf: now })}.`,
      await jwt({ body: bodyHash }, 'HS512'),
      await new SignJWT({ body: bodyHash }).setProtectedHeader({ alg: 'HS256' }).setIssuer('Attacker').setSubject(url).setExpirationTime(now + 300).sign(key).then(rememberSecret),
      await jwt({}),
      await jwt({ body: `${createHash('sha256').update('{}').digest('base64url')}=` }),
      await sign({ url, body, key: QSTASH_DEV_CURRENT_SIGNING_KEY, issuedAt: now + 600 }),
      valid.slice(0, -5),
      `${valid},${valid}`,
      'Bearer garbage',
      ' ',
    ];
    for (const signature of signatures) await expectRefused(EMAIL_PATH, body, jobId, { 'upstash-signature': signature });
  });

  it('refuses a correctly signed delivery whose token has no expiry (exp)', async () => {
    const { jobId, body } = await heldJob(t);
    const url = `${t.server.publicUrl}${EMAIL_PATH}`;
    const now = Math.floor(Date.now() / 1000);
    const forever = await new SignJWT({ body: `${createHash('sha256').update(body).digest('base64url')}=` })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer('Upstash')
      .setSubject(url)
      .setIssuedAt(now)
      .setNotBefore(now)
      .sign(new TextEncoder().encode(QSTASH_DEV_CURRENT_SIGNING_KEY))
      .then(rememberSecret);
    await expectRefused(EMAIL_PATH, body, jobId, { 'upstash-signature': forever });
  });

  it('logs an unsigned delivery as forged too', async () => {
    const { jobId, body } = await heldJob(t);
    await expectRefused(EMAIL_PATH, body, jobId, {});
  });
});

describe('headers and bodies that lie', () => {
  it('ignores spoofed Host and X-Forwarded-* on a valid delivery, and logs the socket address on a forged one', async () => {
    const { jobId, body } = await heldJob(t);
    const spoof = { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.9', forwarded: 'for=203.0.113.9;host=evil.example;proto=https' };
    const forged = await sign({ url: `https://evil.example${EMAIL_PATH}`, body, key: QSTASH_DEV_CURRENT_SIGNING_KEY });
    await expectRefused(EMAIL_PATH, body, jobId, { ...spoof, 'upstash-signature': forged });
    expect(forgedLines().at(-1)?.ip).not.toBe('203.0.113.9');
    const signature = await sign({ url: `${t.server.publicUrl}${EMAIL_PATH}`, body, key: QSTASH_DEV_CURRENT_SIGNING_KEY });
    expect((await post(t, EMAIL_PATH, body, { ...spoof, host: 'evil.example', 'upstash-signature': signature })).status).toBe(200);
    expect(runs.get(jobId)).toEqual({ organizationId: 60, userId: '600' });
  });

  it('runs the job as the row says when the signed body names another organization, user and recipient', async () => {
    const { client, jobId } = await heldJob(t, 61);
    const lying = JSON.stringify({ jobId, type: 'send-email', payload: { to: 'attacker@example.com', template: 'welcome', data: { recipientName: 'X' } }, metadata: { organizationId: 62, userId: '1' } });
    const signature = await sign({ url: `${t.server.publicUrl}${EMAIL_PATH}`, body: lying, key: QSTASH_DEV_CURRENT_SIGNING_KEY });
    expect((await post(t, EMAIL_PATH, lying, { 'upstash-signature': signature })).status).toBe(200);
    expect(runs.get(jobId)).toEqual({ organizationId: 61, userId: '600' });
    expect(await client.jobs.get.query({ jobId })).toMatchObject({ organizationId: 61, userId: '600', result: { to: 'held@example.com' } });
    expect(await (await t.client({ organizationId: 62 })).jobs.list.query({})).toMatchObject({ items: [] });
  });
});

describe('key rotation', () => {
  // After a rotation in the Upstash console the old current key is retired, the old next key is
  // current, and a new next key appears.
  const RETIRED = QSTASH_DEV_CURRENT_SIGNING_KEY;
  const CURRENT = QSTASH_DEV_NEXT_SIGNING_KEY;
  const NEXT = rememberSecret('sig_RotatedNextKey0123456789abcd');
  let rotated: SecurityServer;
  beforeAll(async () => {
    // A broker that is never reached: the test delivers by hand, the outbox just keeps the rows.
    rotated = await startSecurityServer({
      qstash: { baseUrl: 'http://127.0.0.1:9', token: 'unused-token', signingKeys: { current: CURRENT, next: NEXT } },
      sweeper: { intervalMs: 3_600_000 },
      handlers: { 'send-email': recordingEmail },
    });
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await rotated?.stopAndScan();
  });

  const deliver = async (key: string) => {
    const { jobId, body } = await heldJob(rotated);
    const signature = await sign({ url: `${rotated.server.publicUrl}${EMAIL_PATH}`, body, key });
    return { jobId, status: (await post(rotated, EMAIL_PATH, body, { 'upstash-signature': signature })).status };
  };

  it('accepts the current and the next key, refuses the retired one', async () => {
    expect((await deliver(CURRENT)).status).toBe(200);
    expect((await deliver(NEXT)).status).toBe(200);
    const retired = await deliver(RETIRED);
    expect(retired.status).toBe(401);
    expect(runs.has(retired.jobId)).toBe(false);
  });

  it('keeps refusing the retired (dev) key when QSTASH_DEV is set: the SDK would swap in the dev keys', async () => {
    vi.stubEnv('QSTASH_DEV', 'true');
    expect((await deliver(RETIRED)).status).toBe(401);
    expect((await deliver(NEXT)).status).toBe(200);
  });
});
