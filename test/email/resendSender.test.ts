import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NonRetryableJobError } from '../../server/jobs/errors.ts';
import type { EmailMessage } from '../../server/email/emailSender.ts';
import { createResendSender } from '../../server/email/resendSender.ts';
import { startFakeResend, type FakeResend } from '../support/fakeResend.ts';

const message = (overrides: Partial<EmailMessage> = {}): EmailMessage => ({
  from: 'jobwire <noreply@jobwire.dev>',
  to: 'ada@example.com',
  replyTo: 'support@jobwire.dev',
  subject: 'Welcome',
  html: '<p>Welcome</p>',
  text: 'Welcome',
  idempotencyKey: 'job:1:send-email',
  tags: [{ name: 'template', value: 'welcome' }],
  ...overrides,
});

describe('createResendSender (real resend SDK against a local fake)', () => {
  let resend: FakeResend;
  beforeAll(async () => {
    resend = await startFakeResend();
  });
  afterAll(() => resend.stop());
  beforeEach(() => {
    resend.emails.length = 0;
    resend.requests.length = 0;
  });
  const sender = () => createResendSender({ apiKey: resend.apiKey, baseUrl: `${resend.url}/` });

  it('sends the message and returns Resend’s id', async () => {
    const { id } = await sender().send(message({ idempotencyKey: 'send-1' }));
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(resend.emails).toHaveLength(1);
    expect(resend.emails[0]).toMatchObject({
      id,
      idempotencyKey: 'send-1',
      body: {
        from: 'jobwire <noreply@jobwire.dev>',
        to: 'ada@example.com',
        reply_to: 'support@jobwire.dev',
        subject: 'Welcome',
        html: '<p>Welcome</p>',
        text: 'Welcome',
        tags: [{ name: 'template', value: 'welcome' }],
      },
    });
    expect(resend.requests[0]?.headers.authorization).toBe(`Bearer ${resend.apiKey}`);
  });

  it('passes the idempotency key so a repeated send is not sent twice', async () => {
    const first = await sender().send(message({ idempotencyKey: 'job:abc:send-email' }));
    const second = await sender().send(message({ idempotencyKey: 'job:abc:send-email' }));
    expect(second.id).toBe(first.id);
    expect(resend.requests.map((r) => r.headers['idempotency-key'])).toEqual(['job:abc:send-email', 'job:abc:send-email']);
    expect(resend.emails).toHaveLength(1);
  });

  it('maps a 422 validation error to NonRetryableJobError', async () => {
    const error = await sender().send(message({ to: 'not-an-address', idempotencyKey: 'bad-to' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonRetryableJobError);
    expect((error as Error).message).toMatch(/422 validation_error.*Invalid `to` field/);
    expect(resend.emails).toHaveLength(0);
  });

  it('maps an injected 422 and a bad API key to NonRetryableJobError', async () => {
    resend.failNext(1, 422, 'Invalid `to` field.');
    await expect(sender().send(message({ idempotencyKey: 'k-422' }))).rejects.toBeInstanceOf(NonRetryableJobError);
    const wrongKey = createResendSender({ apiKey: 're_wrong', baseUrl: resend.url });
    await expect(wrongKey.send(message({ idempotencyKey: 'k-403' }))).rejects.toBeInstanceOf(NonRetryableJobError);
  });

  it.each([500, 503, 429])('maps %i to a retryable error, and the retry then succeeds once', async (status) => {
    resend.failNext(1, status);
    const error = await sender().send(message({ idempotencyKey: `k-${status}` })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(NonRetryableJobError);
    expect((error as Error).message).toContain(String(status));

    await sender().send(message({ idempotencyKey: `k-${status}` }));
    expect(resend.emails).toHaveLength(1);
  });

  it('maps a network failure to a retryable error', async () => {
    const down = await startFakeResend();
    await down.stop();
    const error = await createResendSender({ apiKey: down.apiKey, baseUrl: down.url })
      .send(message())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(NonRetryableJobError);
    expect((error as Error).message).toMatch(/no response/);
  });

  it('throws the abort reason when the signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('attempt timed out'));
    await expect(sender().send(message(), { signal: controller.signal })).rejects.toThrow('attempt timed out');
    expect(resend.emails).toHaveLength(0);
  });
});
