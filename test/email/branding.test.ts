/**
 * Email branding: product name, sender, support and logo URLs are configuration (startServer's
 * `brand`, env `BRAND_*` / `EMAIL_FROM_NAME` / `RESEND_FROM_EMAIL`), used by every template; the
 * default is neutral, and bad values refuse the start with a message naming the setting.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMAIL_TEMPLATES, SendEmailPayload, type EmailTemplate, type EmailTemplateData } from '../../shared/email.ts';
import { resolveEmailBrand } from '../../server/email/branding.ts';
import { createDevMailbox } from '../../server/email/devMailbox.ts';
import { sendEmailNow } from '../../server/email/emailHelpers.ts';
import { renderEmail } from '../../server/email/renderEmail.ts';
import { loadEnv } from '../../server/env.ts';
import { serverConfigFromEnv } from '../../server/serverConfigFromEnv.ts';
import { startServer } from '../../server/startServer.ts';
import { TEST_DRIVER } from '../support/testDatabase.ts';
import { startTestServer, waitFor, type TestServer } from '../support/testServer.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The required fields of each template (no optional support link: the brand's must show). */
const DATA: { [T in EmailTemplate]: EmailTemplateData<T> } = {
  welcome: { recipientName: 'Ada', loginUrl: 'https://app.example.com/login' },
  passwordReset: { recipientName: 'Ada', resetUrl: 'https://app.example.com/reset' },
  passwordChanged: { recipientName: 'Ada' },
  emailChange: { recipientName: 'Ada', newEmail: 'ada.new@example.org', confirmationUrl: 'https://app.example.com/confirm' },
  teamInvitation: { recipientName: 'Ada', inviterName: 'Grace', organizationName: 'Engines', invitationUrl: 'https://app.example.com/invite' },
  subscriptionCreated: { recipientName: 'Ada', planName: 'Pro', amount: '19.99' },
  paymentFailed: { recipientName: 'Ada', amountDue: '19.99', paymentDetailsUrl: 'https://app.example.com/billing' },
};
const payloadOf = (template: EmailTemplate, to = 'ada@example.com') => SendEmailPayload.parse({ to, template, data: DATA[template] });

const BRAND = { productName: 'Acme Cloud', supportUrl: 'https://acme.test/help', logoUrl: 'https://acme.test/logo.png', senderName: 'Acme Team' };

describe('a configured brand, end to end (enqueue → broker → handler → mailbox)', () => {
  let t: TestServer;
  const mailboxDir = mkdtempSync(join(tmpdir(), 'jobwire-brand-mailbox-'));
  beforeAll(async () => {
    t = await startTestServer({ brand: BRAND, email: { from: 'hello@acme.test', mailboxDir } });
  });
  afterAll(async () => {
    await t?.stop();
    rmSync(mailboxDir, { recursive: true, force: true });
  });

  it('puts the product name in every subject and body, the logo and support link in every email, and sends as the brand', async () => {
    const client = await t.client({ role: 'admin' });
    for (const template of EMAIL_TEMPLATES) {
      await client.jobs.enqueue.mutate({ type: 'send-email', payload: payloadOf(template, `${template}@example.com`) });
    }
    const mails = await waitFor(async () => {
      const all = await t.server.mailbox!.list();
      return all.length === EMAIL_TEMPLATES.length ? all : undefined;
    });
    for (const template of EMAIL_TEMPLATES) {
      const mail = mails.find((m) => m.to === `${template}@example.com`);
      expect(mail, template).toBeDefined();
      expect(mail!.from, template).toBe('Acme Team <hello@acme.test>');
      expect(mail!.subject, template).toContain('Acme Cloud');
      expect(mail!.text, template).toContain('Acme Cloud');
      expect(mail!.text, template).toContain('https://acme.test/help');
      expect(mail!.html, template).toContain('<img src="https://acme.test/logo.png" alt="Acme Cloud"');
      expect(mail!.html, template).toContain('href="https://acme.test/help"');
      expect(`${mail!.from} ${mail!.subject} ${mail!.html} ${mail!.text}`.toLowerCase(), template).not.toContain('jobwire');
    }
  });

  it('brands the emails the synchronous helpers send, too', async () => {
    const { id } = await sendEmailNow(t.server.email, payloadOf('passwordReset', 'sync@example.com'));
    const mail = await t.server.mailbox!.find((m) => m.id === id);
    expect(mail).toMatchObject({ from: 'Acme Team <hello@acme.test>', subject: 'Reset your Acme Cloud password' });
  });
});

describe('the default brand', () => {
  const { brand, from } = resolveEmailBrand(serverConfigFromEnv(loadEnv({})).brand, serverConfigFromEnv(loadEnv({})).email.from);

  it('is neutral: no product name, no logo, no support link, a placeholder sender', () => {
    expect(brand).toEqual({});
    expect(from).toBe('noreply@example.com');
  });

  it.each(EMAIL_TEMPLATES)('%s says nothing of jobwire and reads without a product name', (template) => {
    const { subject, html, text } = renderEmail(payloadOf(template), brand);
    for (const part of [subject, html, text]) {
      expect(part.toLowerCase()).not.toContain('jobwire');
      expect(part).not.toContain('undefined');
      expect(part).not.toMatch(/ {2}|your {2}| ,/);
    }
    expect(html).not.toContain('<img');
  });

  it('keeps the subjects natural', () => {
    const subject = (template: EmailTemplate) => renderEmail(payloadOf(template), brand).subject;
    expect(subject('welcome')).toBe('Welcome, Ada');
    expect(subject('passwordReset')).toBe('Reset your password');
    expect(subject('passwordChanged')).toBe('Your password was changed');
    expect(subject('teamInvitation')).toBe('Grace invited you to join Engines');
    expect(subject('paymentFailed')).toBe('Action needed: your payment of 19.99 failed');
  });

  it('sends from the placeholder address through the dev mailbox', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jobwire-brand-default-'));
    try {
      const mailbox = createDevMailbox({ dir, logger: pino({ level: 'silent' }) });
      const { id } = await sendEmailNow({ sender: mailbox, from, brand }, payloadOf('welcome'));
      expect(await mailbox.find((m) => m.id === id)).toMatchObject({ from: 'noreply@example.com', subject: 'Welcome, Ada' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes the sender display name from the product name, and keeps a name already in the address', () => {
    expect(resolveEmailBrand({ productName: 'Acme' }, 'noreply@acme.test').from).toBe('Acme <noreply@acme.test>');
    expect(resolveEmailBrand({ productName: 'Acme, Inc.' }, 'noreply@acme.test').from).toBe('"Acme, Inc." <noreply@acme.test>');
    expect(resolveEmailBrand({ productName: 'Acme' }, 'Acme Billing <billing@acme.test>').from).toBe('Acme Billing <billing@acme.test>');
  });
});

describe('bad branding refuses the start, naming the setting', () => {
  const envError = (env: Record<string, string>) => {
    try {
      loadEnv(env);
    } catch (error) {
      return (error as Error).message; // loadEnv throws Error
    }
    return 'started';
  };

  it.each([
    ['BRAND_LOGO_URL', 'not a url', /BRAND_LOGO_URL: must be an absolute https URL/],
    ['BRAND_LOGO_URL', 'http://acme.test/logo.png', /BRAND_LOGO_URL: must be an absolute https URL/],
    ['BRAND_SUPPORT_URL', 'javascript:alert(1)', /BRAND_SUPPORT_URL: must be an absolute http\(s\) URL or a mailto: address/],
    ['RESEND_FROM_EMAIL', 'not-an-email', /RESEND_FROM_EMAIL: must be an email address or `Name <address>`/],
    ['RESEND_FROM_EMAIL', 'Acme <noreply@>', /RESEND_FROM_EMAIL: must be an email address/],
    ['EMAIL_FROM_NAME', 'Acme\r\nBcc: x@evil.test', /EMAIL_FROM_NAME: must not contain line breaks/],
    ['BRAND_NAME', 'x'.repeat(101), /BRAND_NAME: must be at most 100 characters/],
  ])('env %s=%j', (name, value, message) => {
    const error = envError({ [name]: value });
    expect(error).toMatch(/^Invalid environment:/);
    expect(error).toMatch(message);
  });

  it('treats empty variables as unset (a blank line in .env)', () => {
    expect(envError({ BRAND_NAME: '', BRAND_LOGO_URL: '', RESEND_FROM_EMAIL: ' ' })).toBe('started');
  });

  it('startServer refuses bad brand options before opening anything, listing every problem', async () => {
    const start = startServer({
      port: 0,
      // Never reached: validation comes first, so no database is opened.
      database: { url: 'postgres://nobody@127.0.0.1:1/none' },
      qstash: { embedded: { port: 0 } },
      authSecret: 'x'.repeat(32),
      email: { from: 'Acme <noreply@acme.test>', mailboxDir: tmpdir() },
      brand: { logoUrl: 'logo.png', supportUrl: 'ftp://acme.test', senderName: 'Acme Support' },
      log: pino({ level: 'silent' }),
    });
    await expect(start).rejects.toThrow(/^Invalid email branding:/);
    await expect(start).rejects.toThrow(/brand\.logoUrl: must be an absolute https URL/);
    await expect(start).rejects.toThrow(/brand\.supportUrl: must be an absolute http\(s\) URL or a mailto: address/);
    await expect(start).rejects.toThrow(/email\.from already names its sender/);
  });

  // One process start is enough: it refuses before any database is chosen.
  it.runIf(TEST_DRIVER === 'pglite')('the server process (server/main.ts) exits with the message and a non-zero code', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, BRAND_LOGO_URL: 'http://acme.test/logo.png', PORT: '0', QSTASH_DEV_PORT: '0', DATA_DIR: tmpdir() },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).not.toBe(0);
    expect(`${run.stdout}${run.stderr}`).toContain('BRAND_LOGO_URL: must be an absolute https URL');
  }, 70_000);
});
