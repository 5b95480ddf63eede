import { describe, expect, it } from 'vitest';
import { EMAIL_TEMPLATES, SendEmailPayload, type EmailTemplate } from '../../shared/email.ts';
import { renderEmail } from '../../server/email/renderEmail.ts';
import { escapeHtml } from '../../server/email/templates/escapeHtml.ts';
import { formatAmount, formatMoney, minorUnitsToDecimal } from '../../server/email/templates/format.ts';

const XSS = '<script>alert("x")</script>';

/** One full example per template, every optional field set. */
const EXAMPLES = {
  welcome: { recipientName: 'Ada Lovelace', loginUrl: 'https://app.example.com/login' },
  passwordReset: { recipientName: 'Ada Lovelace', resetUrl: 'https://app.example.com/reset?token=abc&u=1', expiresInMinutes: 120 },
  passwordChanged: { recipientName: 'Ada Lovelace', changedAt: '2025-03-05T14:03:00Z', supportUrl: 'https://app.example.com/support' },
  emailChange: { recipientName: 'Ada Lovelace', newEmail: 'ada.new@example.org', confirmationUrl: 'https://app.example.com/confirm/xyz' },
  teamInvitation: {
    recipientName: 'Charles Babbage',
    inviterName: 'Grace Hopper',
    organizationName: 'Analytical Engines',
    invitationUrl: 'https://app.example.com/invite/1',
    role: 'admin',
  },
  subscriptionCreated: {
    recipientName: 'Ada Lovelace',
    planName: 'Pro',
    amount: '19.99',
    currency: 'usd',
    dashboardUrl: 'https://app.example.com/app/general',
    nextBillingDate: '2025-04-05',
  },
  paymentFailed: { recipientName: 'Ada Lovelace', amountDue: '49.00', currency: 'EUR', paymentDetailsUrl: 'https://app.example.com/billing', nextRetryDate: '2025-03-08' },
} as const;

/** Optional fields: left out, each template still renders. */
const OPTIONAL = ['loginUrl', 'changedAt', 'supportUrl', 'role', 'currency', 'dashboardUrl', 'nextBillingDate', 'nextRetryDate', 'expiresInMinutes'];

/** How each data field must appear in the rendered parts (formatted where the template formats it). */
const EXPECTED: { [T in EmailTemplate]: string[] } = {
  welcome: ['Ada Lovelace', 'https://app.example.com/login'],
  passwordReset: ['Ada Lovelace', 'https://app.example.com/reset?token=abc&u=1', '2 hours'],
  passwordChanged: ['Ada Lovelace', 'March 5, 2025 at 2:03 PM UTC', 'https://app.example.com/support'],
  emailChange: ['Ada Lovelace', 'ada.new@example.org', 'https://app.example.com/confirm/xyz'],
  teamInvitation: ['Charles Babbage', 'Grace Hopper', 'Analytical Engines', 'https://app.example.com/invite/1', 'admin'],
  subscriptionCreated: ['Ada Lovelace', 'Pro', '$19.99', 'https://app.example.com/app/general', 'April 5, 2025'],
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
      Object.entries(EXAMPLES[template]).filter(([k]) => !OPTIONAL.includes(k) && !(template === 'welcome' && k === 'recipientName')),
    );
    const { html, text } = render(template, required);
    expect(html).not.toContain('undefined');
    expect(text).not.toContain('undefined');
  });

  it.each(EMAIL_TEMPLATES)('%s escapes every interpolated value in the HTML', (template) => {
    const data = Object.fromEntries(
      Object.entries(EXAMPLES[template]).map(([k, v]) => [k, ['recipientName', 'inviterName', 'organizationName', 'planName', 'role'].includes(k) ? XSS : v]),
    );
    const { subject, html, text } = render(template, data);
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(text).toContain(XSS); // the text part is not HTML: shown as written
    expect(subject).not.toContain('\n');
  });

  it('escapes URLs inside href attributes', () => {
    const { html } = render('passwordReset', { recipientName: 'Ada', resetUrl: 'https://app.example.com/r?a=1&b="2"' });
    expect(html).toContain('href="https://app.example.com/r?a=1&amp;b=&quot;2&quot;"');
  });

  it('applies the schema default: a reset link expires in 1 hour', () => {
    expect(render('passwordReset', { recipientName: 'Ada', resetUrl: 'https://a.example.com/r' }).text).toContain('expires in 1 hour');
  });

  it('keeps line breaks in names out of the subject', () => {
    expect(render('welcome', { recipientName: 'Ada\nBcc: evil@example.com' }).subject).toBe('Welcome, Ada Bcc: evil@example.com');
  });

  it('uses the brand passed in', () => {
    const payload = SendEmailPayload.parse({ to: 'a@example.com', template: 'welcome', data: { recipientName: 'Ada' } });
    const { subject, html } = renderEmail(payload, { productName: 'Acme & Co' });
    expect(subject).toBe('Welcome to Acme & Co, Ada');
    expect(html).toContain('Acme &amp; Co');
  });

  it('greets "there" when welcome has no name: data {} or no data at all', () => {
    for (const payload of [{ to: 'a@example.com', template: 'welcome', data: {} }, { to: 'a@example.com', template: 'welcome' }]) {
      const { subject, text } = renderEmail(SendEmailPayload.parse(payload));
      expect(subject).toBe('Welcome');
      expect(text).toContain('Hi there,');
      expect(text).not.toContain('undefined');
    }
  });

  it('shows an amount without a currency as written', () => {
    const data = { recipientName: 'John Doe', planName: 'Pro Plan', amount: '29.99' };
    const { text, html } = render('subscriptionCreated', data);
    expect(text).toContain('Amount: 29.99\n');
    expect(html).not.toContain('$');
    expect(render('paymentFailed', { recipientName: 'John Doe', amountDue: '29.99', paymentDetailsUrl: 'https://a.example.com/b' }).subject).toBe(
      'Action needed: your payment of 29.99 failed',
    );
  });
});

describe('SendEmailPayload', () => {
  const issues = (payload: object) => SendEmailPayload.safeParse(payload).error?.issues.map((i) => ({ path: i.path, code: i.code, message: i.message }));

  it('refuses a misspelt data field, naming the template’s fields', () => {
    expect(issues({ to: 'a@example.com', template: 'teamInvitation', data: { ...EXAMPLES.teamInvitation, invitationURL: 'https://x.example.com' } })).toEqual([
      {
        path: ['data'],
        code: 'unrecognized_keys',
        message: 'Unknown teamInvitation field(s) invitationURL; its fields are recipientName, inviterName, organizationName, invitationUrl, role',
      },
    ]);
    expect(issues({ to: 'a@example.com', template: 'welcome', data: { name: 'Ada' } })?.[0]?.message).toBe('Unknown welcome field(s) name; its fields are recipientName, loginUrl');
  });

  it('refuses unknown payload keys and amounts that are not decimal strings', () => {
    expect(issues({ to: 'a@example.com', template: 'welcome', reply_to: 'b@example.com' })).toEqual([{ path: [], code: 'unrecognized_keys', message: 'Unrecognized key: "reply_to"' }]);
    const data = { recipientName: 'Ada', amountDue: 29.99, paymentDetailsUrl: 'https://a.example.com' };
    expect(issues({ to: 'a@example.com', template: 'paymentFailed', data })).toEqual([
      { path: ['data', 'amountDue'], code: 'invalid_type', message: "must be a decimal string in major units, e.g. '29.99', not a number" },
    ]);
    for (const amountDue of ['$29.99', '29,99', '-1.00', '29.', '1.2345']) {
      expect(issues({ to: 'a@example.com', template: 'paymentFailed', data: { ...data, amountDue } })?.[0]?.path).toEqual(['data', 'amountDue']);
    }
  });

  it('requires data for templates with required fields', () => {
    expect(issues({ to: 'a@example.com', template: 'passwordReset' })?.[0]).toMatchObject({ path: ['data'], code: 'invalid_type' });
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

describe('formatAmount and minorUnitsToDecimal', () => {
  it.each([
    ['29.99', undefined, '29.99'],
    ['29.99', 'usd', '$29.99'],
    ['29', 'usd', '$29.00'],
    ['29.999', 'usd', '$29.999'], // never rounded away
    ['12345678901.23', 'usd', '$12,345,678,901.23'], // read as a decimal, not a float
    ['1000', 'jpy', '¥1,000'],
  ])('%s %s → %s', (amount, currency, expected) => {
    expect(formatAmount(amount, currency)).toBe(expected);
  });

  it.each([
    [2999, 'usd', '29.99'],
    [5, 'usd', '0.05'],
    [0, 'usd', '0.00'],
    [1000, 'jpy', '1000'],
    [1500, 'kwd', '1.500'],
  ])('%i %s → %s', (amount, currency, expected) => {
    expect(minorUnitsToDecimal(amount, currency)).toBe(expected);
  });
});
