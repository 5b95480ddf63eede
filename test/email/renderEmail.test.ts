import { describe, expect, it } from 'vitest';
import { EMAIL_TEMPLATES, SendEmailPayload, type EmailTemplate } from '../../shared/email.ts';
import { renderEmail } from '../../server/email/renderEmail.ts';
import { escapeHtml } from '../../server/email/templates/escapeHtml.ts';
import { formatMoney } from '../../server/email/templates/format.ts';

const XSS = '<script>alert("x")</script>';

/** One full example per template, every optional field set. */
const EXAMPLES = {
  welcome: { name: 'Ada Lovelace', loginUrl: 'https://app.example.com/login' },
  passwordReset: { name: 'Ada Lovelace', resetUrl: 'https://app.example.com/reset?token=abc&u=1', expiresInMinutes: 120 },
  passwordChanged: { name: 'Ada Lovelace', changedAt: '2025-03-05T14:03:00Z', supportUrl: 'https://app.example.com/support' },
  emailChange: { name: 'Ada Lovelace', newEmail: 'ada.new@example.org', confirmUrl: 'https://app.example.com/confirm/xyz' },
  teamInvitation: { inviterName: 'Grace Hopper', teamName: 'Analytical Engines', inviteUrl: 'https://app.example.com/invite/1', role: 'admin' },
  subscriptionCreated: { name: 'Ada Lovelace', planName: 'Pro', amount: 1999, currency: 'usd', nextBillingDate: '2025-04-05' },
  paymentFailed: { name: 'Ada Lovelace', amount: 4900, currency: 'EUR', updatePaymentUrl: 'https://app.example.com/billing', nextRetryDate: '2025-03-08' },
} as const;

/** How each data field must appear in the rendered parts (formatted where the template formats it). */
const EXPECTED: { [T in EmailTemplate]: string[] } = {
  welcome: ['Ada Lovelace', 'https://app.example.com/login'],
  passwordReset: ['Ada Lovelace', 'https://app.example.com/reset?token=abc&u=1', '2 hours'],
  passwordChanged: ['Ada Lovelace', 'March 5, 2025 at 2:03 PM UTC', 'https://app.example.com/support'],
  emailChange: ['Ada Lovelace', 'ada.new@example.org', 'https://app.example.com/confirm/xyz'],
  teamInvitation: ['Grace Hopper', 'Analytical Engines', 'https://app.example.com/invite/1', 'admin'],
  subscriptionCreated: ['Ada Lovelace', 'Pro', '$19.99', 'April 5, 2025'],
  paymentFailed: ['Ada Lovelace', '€49.00', 'https://app.example.com/billing', 'March 8, 2025'],
};

const render = (template: EmailTemplate, data: object) =>
  renderEmail(SendEmailPayload.parse({ to: 'ada@example.com', template, data }));

describe('renderEmail', () => {
  it.each(EMAIL_TEMPLATES)('%s uses every data field in the HTML and the text part', (template) => {
    const { subject, html, text } = render(template, EXAMPLES[template]);
    expect(subject.length).toBeGreaterThan(10);
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain(`<title>${escapeHtml(subject)}</title>`);
    expect(html).toContain('style="');
    expect(html).not.toContain('<style');
    expect(text).not.toMatch(/<[a-z]/i);
    for (const value of EXPECTED[template]) {
      expect(text).toContain(value);
      expect(html).toContain(escapeHtml(value));
    }
  });

  it.each(EMAIL_TEMPLATES)('%s renders with only the required fields', (template) => {
    const required = Object.fromEntries(
      Object.entries(EXAMPLES[template]).filter(([k]) => !['loginUrl', 'changedAt', 'supportUrl', 'role', 'nextBillingDate', 'nextRetryDate', 'expiresInMinutes'].includes(k)),
    );
    const { html, text } = render(template, required);
    expect(html).not.toContain('undefined');
    expect(text).not.toContain('undefined');
  });

  it.each(EMAIL_TEMPLATES)('%s escapes every interpolated value in the HTML', (template) => {
    const data = Object.fromEntries(
      Object.entries(EXAMPLES[template]).map(([k, v]) => [k, ['name', 'inviterName', 'teamName', 'planName', 'role'].includes(k) ? XSS : v]),
    );
    const { subject, html, text } = render(template, data);
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(text).toContain(XSS); // the text part is not HTML: shown as written
    expect(subject).not.toContain('\n');
  });

  it('escapes URLs inside href attributes', () => {
    const { html } = render('passwordReset', { name: 'Ada', resetUrl: 'https://app.example.com/r?a=1&b="2"' });
    expect(html).toContain('href="https://app.example.com/r?a=1&amp;b=&quot;2&quot;"');
  });

  it('applies the schema default: a reset link expires in 1 hour', () => {
    expect(render('passwordReset', { name: 'Ada', resetUrl: 'https://a.example.com/r' }).text).toContain('expires in 1 hour');
  });

  it('keeps line breaks in names out of the subject', () => {
    expect(render('welcome', { name: 'Ada\nBcc: evil@example.com' }).subject).toBe('Welcome to jobwire, Ada Bcc: evil@example.com');
  });

  it('uses the brand passed in', () => {
    const payload = SendEmailPayload.parse({ to: 'a@example.com', template: 'welcome', data: { name: 'Ada' } });
    const { subject, html } = renderEmail(payload, { productName: 'Acme & Co' });
    expect(subject).toBe('Welcome to Acme & Co, Ada');
    expect(html).toContain('Acme &amp; Co');
  });
});

describe('formatMoney', () => {
  it.each([
    [1999, 'usd', '$19.99'],
    [0, 'usd', '$0.00'],
    [123456789, 'usd', '$1,234,567.89'],
    [4900, 'eur', '€49.00'],
    [1000, 'jpy', '¥1,000'], // zero-decimal currency: minor unit is the yen
    [1500, 'kwd', 'KWD\u00a01.500'], // three-decimal currency; Intl puts a no-break space after the code
  ])('%i %s → %s', (amount, currency, expected) => {
    expect(formatMoney(amount, currency)).toBe(expected);
  });
});
