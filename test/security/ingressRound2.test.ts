/**
 * Ingress round 2 of the outside review, driven from outside as an attacker would (typed tRPC
 * client, raw HTTP and sockets), each failing before its fix: callback URLs to private addresses
 * (item 9), input the database cannot hold (item 10), HTTP limits and token lifetime (item 14).
 * Callback names resolve through an injected resolver: nothing is sent beyond 127.0.0.1.
 */
import { connect, type Socket } from 'node:net';
import { count } from 'drizzle-orm';
import { SignJWT } from 'jose';
import superjson from 'superjson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobTypeConfig } from '../../shared/catalogue.ts';
import { jobExecutions } from '../../server/db/schema.ts';
import { loadEnv } from '../../server/env.ts';
import { JobValidationError } from '../../server/jobs/errors.ts';
import { checkCallbackUrl } from '../../server/security/checkCallbackUrl.ts';
import { TEST_AUTH_SECRET, trpcCode, waitFor } from '../support/testServer.ts';
import { rememberSecret } from './support/capturedLogs.ts';
import { callProcedure, startSecurityServer, type SecurityServer } from './support/securityServer.ts';

const RESOLVES: Record<string, string[]> = {
  'metadata.attacker.test': ['169.254.169.254'],
  'lan.attacker.test': ['10.0.0.7'],
  'mixed.attacker.test': ['203.0.114.9', '192.168.0.10'],
  'ula.attacker.test': ['fd12::1'],
  'mapped.attacker.test': ['::ffff:10.0.0.1'],
  'hooks.attacker.test': ['203.0.114.9', '2001:4860::1'],
};
const lookup = async (hostname: string) => {
  const found = RESOLVES[hostname];
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  return found;
};

let t: SecurityServer;
let limited: SecurityServer;
beforeAll(async () => {
  [t, limited] = await Promise.all([
    startSecurityServer({ callbacks: { lookup } }),
    startSecurityServer({ httpLimits: { headersTimeoutMs: 500, requestTimeoutMs: 1_000, keepAliveTimeoutMs: 300, maxConnections: 4 } }),
  ]);
});
afterAll(async () => Promise.all([t?.stopAndScan(), limited?.stopAndScan()]));

const jobCount = async () => (await t.server.database.db.select({ n: count() }).from(jobExecutions))[0]?.n;
const refusal = (promise: Promise<unknown>) => promise.then(() => 'accepted', (e: unknown) => `${trpcCode(e)}: ${(e as Error).message}`);
const EXPORT = { type: 'export-data', payload: { entityType: 'jobs', format: 'csv' } } as const;
const LATER = { delay: 3_600_000 }; // accepted jobs never run during the test, so no callback ever fires

describe('item 9: callback URLs may not reach private addresses', () => {
  it.each([
    'http://127.1/', 'http://0x7f000001/', 'http://2130706433/', 'http://017700000001/', 'http://[::1]/', 'http://[::ffff:127.0.0.1]/',
    'http://localhost:3000/', 'http://LOCALHOST./', 'http://app.localhost/', 'http://169.254.169.254/latest/meta-data/',
    'http://[fe80::1]/', 'http://10.1.2.3/', 'http://172.16.0.1/', 'http://172.31.255.255/', 'http://192.168.1.1/', 'http://100.64.0.1/',
    'http://[fc00::1]/', 'http://[fd00:ec2::254]/', 'http://0.0.0.0/', 'http://0/', 'http://[::]/', 'http://[64:ff9b::a9fe:a9fe]/',
    'http://metadata/computeMetadata/v1/', 'http://metadata.google.internal/', 'http://printer.local/',
    'http://metadata.attacker.test/', 'http://lan.attacker.test/', 'http://mixed.attacker.test/', 'http://ula.attacker.test/', 'http://mapped.attacker.test/',
  ])('refuses %s as callback and failureCallback: BAD_REQUEST, nothing recorded', async (url) => {
    const admin = await t.client({ organizationId: 90, role: 'admin' });
    const before = await jobCount();
    for (const option of ['callback', 'failureCallback'] as const) {
      expect(await refusal(admin.jobs.enqueue.mutate({ ...EXPORT, options: { ...LATER, [option]: url } }))).toMatch(new RegExp(`^BAD_REQUEST: ${option} refused: `));
    }
    expect(await jobCount()).toBe(before);
  });

  it('accepts public hosts, and names that do not resolve (the broker checks again on delivery)', async () => {
    const admin = await t.client({ organizationId: 90, role: 'admin' });
    for (const callback of ['https://hooks.attacker.test/done', 'https://203.0.114.9/done', 'https://nowhere.attacker.test/done']) {
      await expect(admin.jobs.enqueue.mutate({ ...EXPORT, options: { ...LATER, callback } })).resolves.toMatchObject({ deduplicated: false });
    }
  });

  it('PRIVATE_CALLBACKS: loopback in development, refuse in production, unless set', () => {
    const production = { NODE_ENV: 'production', PUBLIC_URL: 'https://jobs.example.com', DATABASE_URL: 'postgres://db.example.com/jobwire', QSTASH_TOKEN: 'qstash-token', QSTASH_CURRENT_SIGNING_KEY: 'sig_current_0123456789', QSTASH_NEXT_SIGNING_KEY: 'sig_next_0123456789', AUTH_SECRET: 'p'.repeat(40), RESEND_API_KEY: 're_key_0123456789' };
    expect([loadEnv({}).PRIVATE_CALLBACKS, loadEnv(production).PRIVATE_CALLBACKS, loadEnv({ ...production, PRIVATE_CALLBACKS: 'loopback' }).PRIVATE_CALLBACKS]).toEqual(['loopback', 'refuse', 'loopback']);
    expect(() => loadEnv({ PRIVATE_CALLBACKS: 'yes' })).toThrow(/PRIVATE_CALLBACKS/);
  });

  it('lets loopback through only when privateAddresses says so', async () => {
    expect(await checkCallbackUrl('http://127.0.0.1:4000/hook', { privateAddresses: 'loopback' })).toBeUndefined();
    expect(await checkCallbackUrl('http://localhost:4000/hook', { privateAddresses: 'loopback' })).toBeUndefined();
    expect(await checkCallbackUrl('http://10.0.0.1/hook', { privateAddresses: 'loopback' })).toMatch(/private range/);
    expect(await checkCallbackUrl('http://10.0.0.1/hook', { privateAddresses: 'allow' })).toBeUndefined();
  });
});

describe('item 10: input the database cannot hold is BAD_REQUEST and changes nothing', () => {
  const cursor = (c: number) => Buffer.from(JSON.stringify({ c, i: '00000000-0000-4000-8000-000000000000' })).toString('base64url');

  it.each([
    ['createdAfter at the end of JS time', { createdAfter: new Date(8.64e15) }],
    ['createdBefore at the start of JS time', { createdBefore: new Date(-8.64e15) }],
    ['createdAfter in 5000 BC', { createdAfter: new Date('-005000-01-01T00:00:00Z') }],
    ['createdAfter in year 300000 (an invalid Date)', { createdAfter: new Date('+300000-01-01T00:00:00Z') }],
    ['a cursor at the end of JS time', { cursor: cursor(8.64e15) }],
    ['a cursor beyond it', { cursor: cursor(9e15) }],
    ['a cursor before year 1', { cursor: cursor(-62_135_596_800_001) }],
    ['a cursor with NUL', { cursor: 'abc\u0000' }],
    ['a userId with NUL', { userId: '1\u0000' }],
  ])('jobs.list with %s', async (_name, input) => {
    const member = await t.client({ organizationId: 91, role: 'member' });
    expect(await refusal(member.jobs.list.query(input))).toMatch(/^BAD_REQUEST/);
  });

  it('NUL anywhere in an enqueue or schedule: payload strings, idempotency key, callback, cron, time zone', async () => {
    const admin = await t.client({ organizationId: 92, role: 'admin' });
    const email = { type: 'send-email', payload: { to: 'a@example.com', template: 'welcome', data: { recipientName: 'Ada\u0000' } } } as const;
    const schedule = { ...EXPORT, cron: '0 3 * * *' } as const;
    const before = [await jobCount(), (await admin.jobs.schedules.list.query()).length];
    for (const call of [
      admin.jobs.enqueue.mutate({ ...email, options: LATER }),
      admin.jobs.enqueue.mutate({ ...EXPORT, idempotencyKey: 'key\u0000', options: LATER }),
      admin.jobs.enqueue.mutate({ ...EXPORT, options: { ...LATER, callback: 'https://hooks.attacker.test/\u0000' } }),
      admin.jobs.schedule.mutate({ ...schedule, cron: '0 3 * * *\u0000' }),
      admin.jobs.schedule.mutate({ ...schedule, timezone: 'UTC\u0000' }),
      admin.jobs.schedule.mutate({ ...schedule, type: 'send-email', payload: email.payload }),
    ]) {
      expect(await refusal(call)).toMatch(/^BAD_REQUEST/);
    }
    expect([await jobCount(), (await admin.jobs.schedules.list.query()).length]).toEqual(before);
  });

  it('server code gets a JobValidationError for NUL in a payload or in metadata', async () => {
    const payload = { to: 'a@example.com', template: 'welcome', data: { recipientName: 'x\u0000' } } as const;
    await expect(t.server.dispatcher.enqueue('send-email', payload)).rejects.toBeInstanceOf(JobValidationError);
    await expect(t.server.dispatcher.enqueue('send-email', { ...payload, data: {} }, { correlationId: 'r\u0000' })).rejects.toBeInstanceOf(JobValidationError);
  });
});

describe('item 14: HTTP limits', () => {
  const host = () => new URL(limited.server.url);
  /** Opens a raw connection to the limited server and writes `text`; resolves what it answered once it closed. */
  const rawExchange = (text: string, waitMs = 4_000) =>
    new Promise<{ answer: string; closed: boolean; ms: number }>((resolve) => {
      const started = Date.now();
      const socket = connect(Number(host().port), host().hostname, () => socket.write(text));
      let answer = '';
      socket.on('data', (chunk) => (answer += chunk.toString()));
      const timer = setTimeout(() => (socket.destroy(), resolve({ answer, closed: false, ms: Date.now() - started })), waitMs);
      socket.on('close', () => (clearTimeout(timer), resolve({ answer, closed: true, ms: Date.now() - started })));
      socket.on('error', () => undefined);
    });

  it('uses sane defaults', () => {
    expect(t.server.http).toMatchObject({ headersTimeout: 20_000, requestTimeout: 60_000, keepAliveTimeout: 65_000, maxConnections: 10_000 });
  });

  it('answers 408 and closes a connection whose headers never finish (slowloris)', async () => {
    const { answer, closed } = await rawExchange('GET /healthz HTTP/1.1\r\nHost: a\r\nX-Slow: ');
    expect(closed).toBe(true);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('answers 408 and closes a connection whose body never finishes', async () => {
    // A worker route reads the whole body before it checks anything.
    const { answer, closed } = await rawExchange(`POST ${jobTypeConfig('send-email').endpoint} HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n{"jobId":`);
    expect(closed).toBe(true);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('closes an idle keep-alive connection after keepAliveTimeout', async () => {
    const { answer, closed, ms } = await rawExchange('GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(closed).toBe(true);
    expect(ms).toBeLessThan(2_000);
  });

  it('does not cut a live SSE subscription at requestTimeout', async () => {
    const admin = await limited.client({ organizationId: 93, role: 'admin' });
    const { jobId } = await admin.jobs.enqueue.mutate({ ...EXPORT, options: LATER });
    const token = rememberSecret(await limited.token({ organizationId: 93, role: 'admin' }));
    const input = encodeURIComponent(JSON.stringify(superjson.serialize({ jobId })));
    const params = encodeURIComponent(JSON.stringify({ token }));
    const response = await fetch(`${limited.server.url}/trpc/jobs.onStatus?input=${input}&connectionParams=${params}`, { headers: { accept: 'text/event-stream' } });
    const reader = response.body!.getReader(); // an SSE response has a body
    let text = '';
    const reading = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return 'closed';
        text += new TextDecoder().decode(value);
        if (text.includes('"cancelled"')) return 'cancelled';
      }
    })();
    await new Promise((r) => setTimeout(r, 2_500)); // 2.5 × requestTimeout
    await admin.jobs.cancel.mutate({ jobId });
    expect(await reading).toBe('cancelled'); // on the same stream: it was never cut
    await reader.cancel();
  });

  it('closes connections beyond maxConnections at once', async () => {
    const open = (): Promise<Socket> => new Promise((resolve) => { const s = connect(Number(host().port), host().hostname, () => resolve(s)); s.on('error', () => undefined); });
    const held: Socket[] = [];
    // The limited server's own client connections have closed (keep-alive 300 ms) before these open.
    await new Promise((r) => setTimeout(r, 600));
    for (let i = 0; i < 4; i++) held.push(await open());
    const { closed, answer } = await rawExchange('GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n', 1_500);
    expect([closed, answer]).toEqual([true, '']);
    held.pop()?.destroy();
    await waitFor(async () => (await rawExchange('GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', 1_500)).answer.startsWith('HTTP/1.1 200'), { timeout: 5_000 });
    for (const s of held) s.destroy();
  });
});

describe('item 14: tokens live 24 hours at most', () => {
  const secret = new TextEncoder().encode(TEST_AUTH_SECRET);
  const now = () => Math.floor(Date.now() / 1000);
  const status = async (edit: (jwt: SignJWT) => SignJWT) => {
    const token = rememberSecret(await edit(new SignJWT({ org: 94, role: 'admin' }).setProtectedHeader({ alg: 'HS256' }).setSubject('1')).sign(secret));
    return (await callProcedure(`${t.server.url}/trpc`, { path: 'jobs.list', type: 'query', input: {}, token })).status;
  };

  it('refuses a token that lives longer than 24 hours, or has no iat, or an iat in the future', async () => {
    expect(await status((j) => j.setIssuedAt(now() - 60).setExpirationTime(now() - 60 + 24 * 3600))).toBe(200);
    expect(await status((j) => j.setIssuedAt(now() - 60).setExpirationTime(now() - 60 + 24 * 3600 + 1))).toBe(401);
    expect(await status((j) => j.setIssuedAt(now()).setExpirationTime('30d'))).toBe(401);
    expect(await status((j) => j.setExpirationTime('1h'))).toBe(401);
    expect(await status((j) => j.setIssuedAt(now() + 3600).setExpirationTime(now() + 7200))).toBe(401);
  });
});
