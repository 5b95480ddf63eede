/**
 * Group H (secrets absent from logs): path redaction and value masking of jobwire's logger, then
 * the whole pipeline at debug level (enqueue, broker, worker, Resend, a failing send, refused
 * calls) with its log scanned for every secret, token and email address it handled.
 */
import { waitForJob } from '../../client/waitForJob.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeResend, type FakeResend } from '../support/fakeResend.ts';
import { captureLogs, expectNoSecrets, rememberSecret } from './support/capturedLogs.ts';
import { callProcedure, startSecurityServer, type SecurityServer } from './support/securityServer.ts';

describe('the logger', () => {
  it('redacts credentials, cookies, signatures, tokens, secrets, connection strings and bodies by path', () => {
    const { log, records } = captureLogs();
    log.info(
      {
        req: { headers: { authorization: 'Bearer abc', cookie: 'sid=1', 'upstash-signature': 'sig', 'stripe-signature': 't=1,v1=x', 'set-cookie': 'a=b' } },
        token: 't',
        secret: 's',
        password: 'p',
        apiKey: 'k',
        authSecret: 'a',
        databaseUrl: 'postgres://x',
        DATABASE_URL: 'postgres://y',
        RESEND_API_KEY: 'r',
        body: '{"raw":true}',
        html: '<p>hi</p>',
        text: 'hi',
        keep: 'visible',
      },
      'm',
    );
    const [line] = records();
    const headers = (line?.req as { headers: Record<string, string> }).headers;
    expect(Object.values(headers)).toEqual(Array(5).fill('[redacted]'));
    for (const key of ['token', 'secret', 'password', 'apiKey', 'authSecret', 'databaseUrl', 'DATABASE_URL', 'RESEND_API_KEY', 'body', 'html', 'text']) {
      expect(line?.[key], key).toBe('[redacted]');
    }
    expect(line?.keep).toBe('visible');
  });

  it('masks email addresses, tokens, keys and URL credentials wherever they appear', () => {
    const { log, lines } = captureLogs();
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl';
    const child = log.child({ recipient: 'bound@example.com' });
    child.error({ err: new Error(`send to ada.lovelace+x@mail.example.org failed with Bearer ${jwt}`), note: `connect postgres://app:hunter2@db.internal:5432/jobs` }, '[x] failed for grace@example.co.uk');
    child.warn({ keys: ['sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r', 're_AbCdEf0123456789xyz', 'sk_live_0123456789abcdef', 'whsec_0123456789abcdef'] }, 'keys');
    expectNoSecrets(lines);
    for (const leaked of ['hunter2', 'sk_live_0123', 'whsec_0123', 're_AbCd', 'sig_7kYj', jwt.slice(0, 20)]) expect(lines.join('\n')).not.toContain(leaked);
    expect(lines[0]).toContain('[email]');
    expect(lines[0]).toContain('postgres://[redacted]@db.internal');
    expect(JSON.parse(lines[0]!).msg).toBe('[x] failed for [email]'); // the line is still valid JSON
  });
});

describe('the whole pipeline at debug level', () => {
  let resend: FakeResend;
  let t: SecurityServer;
  beforeAll(async () => {
    resend = await startFakeResend({ apiKey: rememberSecret('re_SecurityLogScanKey_0123456789') });
    t = await startSecurityServer({ email: { resendApiKey: resend.apiKey, resendBaseUrl: resend.url, from: 'jobwire <noreply@jobwire.test>', mailboxDir: '/tmp' } });
  });
  afterAll(async () => {
    await t?.stopAndScan();
    await resend?.stop();
  });

  it('logs the work at debug level without any secret, token or email address', async () => {
    const client = await t.client({ organizationId: 80, role: 'admin' });
    const payload = { to: 'private.person@example.com', replyTo: 'reply@example.com', template: 'emailChange', data: { recipientName: 'Private', newEmail: 'new.address@example.com', confirmationUrl: 'https://app.example.com/confirm?token=abc' } } as const;
    const { jobId } = await client.jobs.enqueue.mutate({ type: 'send-email', payload });
    expect((await waitForJob(client, jobId, { timeout: 15_000 })).status).toBe('completed');
    expect(resend.emails).toHaveLength(1);
    resend.failNext(10, 422, 'invalid recipient failing.person@example.com');
    const failing = await client.jobs.enqueue.mutate({ type: 'send-email', payload: { ...payload, to: 'failing.person@example.com' }, options: { retries: 0 } });
    expect((await waitForJob(client, failing.jobId, { timeout: 15_000 })).status).toBe('failed');
    // Refused calls log their reasons at debug and warn level.
    await callProcedure(`${t.server.url}/trpc`, { path: 'jobs.enqueue', type: 'mutation', input: { type: 'send-email', payload: { ...payload, to: 'not-an-email@' } }, token: await t.token() });
    await callProcedure(`${t.server.url}/trpc`, { path: 'jobs.list', type: 'query', input: {}, token: 'Bearer.eyJub3QiOiJ2YWxpZCJ9.x' });
    expect(t.logs.records().some((r) => r.level === 20)).toBe(true);
  });
});
