import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SendEmailPayload } from '../../shared/email.ts';
import type { JobPayload } from '../../shared/catalogue.ts';
import { createDevMailbox, type DevMailbox } from '../../server/email/devMailbox.ts';
import { createResendSender } from '../../server/email/resendSender.ts';
import { createSendEmailHandler } from '../../server/email/sendEmailHandler.ts';
import type { HandlerContext } from '../../server/jobs/handlers.ts';
import { NonRetryableJobError } from '../../server/jobs/errors.ts';
import { createLogger, type Logger } from '../../server/logger.ts';
import { startFakeResend, type FakeResend } from '../support/fakeResend.ts';

const FROM = 'jobwire <noreply@jobwire.dev>';

function context(overrides: { jobId?: string; signal?: AbortSignal; log?: Logger } = {}): HandlerContext<'send-email'> {
  return {
    jobId: overrides.jobId ?? '00000000-0000-4000-8000-000000000001',
    type: 'send-email',
    payload: resetPayload(),
    attempt: 1,
    maxRetries: 3,
    organizationId: 1,
    userId: 'user-1',
    metadata: { userId: 'user-1', organizationId: 1 },
    signal: overrides.signal ?? new AbortController().signal,
    log: overrides.log ?? pino({ level: 'silent' }),
    progress: async () => {},
  };
}

const resetPayload = (to = 'ada.lovelace@example.com'): JobPayload<'send-email'> =>
  SendEmailPayload.parse({
    to,
    replyTo: 'support@jobwire.dev',
    template: 'passwordReset',
    data: { recipientName: 'Ada', resetUrl: 'https://app.example.com/reset?token=secret-token' },
  });


/** A stream that keeps each log line written to it. */
function capturedLines() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, stream };
}
describe('createSendEmailHandler', () => {
  let root: string;
  let mailbox: DevMailbox;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'jobwire-handler-'));
    mailbox = createDevMailbox({ dir: join(root, 'mailbox') });
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('renders, sends with the job’s idempotency key and returns the message id', async () => {
    const handler = createSendEmailHandler({ sender: mailbox, from: FROM });
    const result = await handler(resetPayload(), context());

    const [mail] = await mailbox.list();
    expect(result).toEqual({ messageId: mail?.id, template: 'passwordReset', to: 'ada.lovelace@example.com' });
    expect(mail).toMatchObject({
      from: FROM,
      to: 'ada.lovelace@example.com',
      replyTo: 'support@jobwire.dev',
      subject: 'Reset your password',
      idempotencyKey: 'job:00000000-0000-4000-8000-000000000001:send-email',
      tags: [{ name: 'template', value: 'passwordReset' }],
    });
    expect(mail?.text).toContain('https://app.example.com/reset?token=secret-token');
    expect(mail?.html).toContain('Reset password');
  });

  it('sends once when the same job is delivered twice, a different job sends again', async () => {
    const handler = createSendEmailHandler({ sender: mailbox, from: FROM });
    const first = await handler(resetPayload(), context());
    const redelivery = await handler(resetPayload(), context());
    expect(redelivery).toEqual(first);
    await handler(resetPayload(), context({ jobId: '00000000-0000-4000-8000-000000000002' }));
    expect(await mailbox.list()).toHaveLength(2);
  });

  it('throws without sending when the attempt is already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('timed out'));
    const handler = createSendEmailHandler({ sender: mailbox, from: FROM });
    await expect(handler(resetPayload(), context({ signal: controller.signal }))).rejects.toThrow('timed out');
    expect(await mailbox.list()).toEqual([]);
  });

  it('logs the template and recipient domain, never the address or the body', async () => {
    const { lines, stream } = capturedLines();
    const log = pino({ level: 'debug' }, stream);
    const handler = createSendEmailHandler({ sender: createDevMailbox({ dir: mailbox.dir, logger: log }), from: FROM });
    await handler(resetPayload(), context({ log }));

    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries).toContainEqual(expect.objectContaining({ msg: '[email] Email sent', template: 'passwordReset', recipientDomain: 'example.com' }));
    const all = lines.join('\n');
    expect(all).not.toContain('ada.lovelace');
    expect(all).not.toContain('secret-token');
    expect(all).not.toContain('<html');
  });

  it("names the sent email's id emailId, beside the delivery's messageId, never a key twice on one line", async () => {
    const { lines, stream } = capturedLines();
    // As processDelivery binds it: the broker's message id on every line of the attempt.
    const log = pino({ level: 'info' }, stream).child({ jobId: 'job-1', messageId: 'msg_broker' });
    const handler = createSendEmailHandler({ sender: createDevMailbox({ dir: mailbox.dir, logger: log }), from: FROM });
    const { messageId } = (await handler(resetPayload(), context({ log }))) as { messageId: string };

    const sent = lines.find((l) => l.includes('[email] Email sent'))!;
    expect(sent.match(/"messageId"/g)).toHaveLength(1);
    expect(JSON.parse(sent)).toMatchObject({ messageId: 'msg_broker', emailId: messageId });
  });
});

describe('createSendEmailHandler with the Resend sender', () => {
  let resend: FakeResend;
  beforeAll(async () => {
    resend = await startFakeResend();
  });
  afterAll(() => resend.stop());

  it('sends once through Resend across redeliveries and fails permanently on a 422', async () => {
    const sender = createResendSender({ apiKey: resend.apiKey, baseUrl: resend.url, logger: createLogger({ level: 'silent' }) });
    const handler = createSendEmailHandler({ sender, from: FROM, brand: { productName: 'Acme' } });
    const ctx = context({ jobId: '00000000-0000-4000-8000-0000000000aa' });
    const first = await handler(resetPayload(), ctx);
    const second = await handler(resetPayload(), ctx);
    expect(second).toEqual(first);
    expect(resend.emails).toHaveLength(1);
    expect(resend.emails[0]?.body.subject).toBe('Reset your Acme password');
    expect(resend.emails[0]?.idempotencyKey).toBe('job:00000000-0000-4000-8000-0000000000aa:send-email');

    resend.failNext(1, 422, 'Invalid `to` field.');
    await expect(handler(resetPayload(), context({ jobId: '00000000-0000-4000-8000-0000000000bb' }))).rejects.toBeInstanceOf(NonRetryableJobError);
  });
});
