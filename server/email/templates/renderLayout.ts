import type { EmailBrand } from '../branding.ts';
import type { EmailContent } from './emailContent.ts';
import { escapeHtml as e } from './escapeHtml.ts';

/** A rendered email: what a sender needs besides the addresses. */
export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

// Inline styles only: Gmail and Outlook drop <style> blocks and ignore classes.
const FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";
const S = {
  body: `margin:0;padding:0;background-color:#f4f5f7;font-family:${FONT};color:#1f2937;`,
  card: 'max-width:560px;width:100%;background-color:#ffffff;border:1px solid #e5e7eb;border-radius:8px;',
  brand: 'padding:24px 32px 0;font-size:14px;font-weight:700;letter-spacing:0.02em;color:#4f46e5;',
  heading: 'margin:0 0 16px;font-size:22px;line-height:30px;font-weight:700;color:#111827;',
  paragraph: 'margin:0 0 16px;font-size:16px;line-height:24px;',
  detailsTable: 'width:100%;margin:0 0 24px;border-collapse:collapse;font-size:15px;line-height:22px;',
  detailLabel: 'padding:8px 12px 8px 0;border-top:1px solid #e5e7eb;color:#6b7280;white-space:nowrap;vertical-align:top;',
  detailValue: 'padding:8px 0;border-top:1px solid #e5e7eb;font-weight:600;text-align:right;word-break:break-word;',
  buttonCell: 'border-radius:6px;background-color:#4f46e5;',
  button: 'display:inline-block;padding:12px 24px;font-size:16px;font-weight:600;line-height:20px;color:#ffffff;text-decoration:none;border-radius:6px;',
  fallback: 'margin:0 0 16px;font-size:13px;line-height:20px;color:#6b7280;word-break:break-all;',
  link: 'color:#4f46e5;',
  note: 'margin:0 0 12px;font-size:14px;line-height:21px;color:#6b7280;',
  footer: 'padding:16px 32px 24px;font-size:12px;line-height:18px;color:#9ca3af;text-align:center;',
  preheader: 'display:none;max-height:0;overflow:hidden;opacity:0;mso-hide:all;',
  logo: 'display:block;max-height:40px;max-width:200px;border:0;',
};

/** The header: the logo, else the product name, else nothing (the neutral default). */
function renderHeader(brand: EmailBrand): string {
  const content = brand.logoUrl
    ? `<img src="${e(brand.logoUrl)}" alt="${e(brand.productName ?? '')}" height="40" style="${S.logo}">`
    : brand.productName && e(brand.productName);
  return content ? `<tr><td style="${S.brand}">${content}</td></tr>\n` : '';
}

function renderFooter(brand: EmailBrand): string {
  const account = brand.productName ? `your ${e(brand.productName)} account` : 'your account';
  const support = brand.supportUrl ? `<br>Questions? <a href="${e(brand.supportUrl)}" style="${S.link}">Contact support</a>` : '';
  return `<p style="${S.footer}">You received this email because of ${account}.${support}</p>`;
}

function presentDetails(c: EmailContent): (readonly [string, string])[] {
  return (c.details ?? []).flatMap(([label, value]) => (value ? [[label, value] as const] : []));
}

function renderHtml(c: EmailContent, brand: EmailBrand): string {
  const rows = presentDetails(c);
  const paragraphs = c.paragraphs.map((p) => `<p style="${S.paragraph}">${e(p)}</p>`).join('\n');
  const details = rows.length
    ? `<table role="presentation" style="${S.detailsTable}">${rows
        .map(([label, value]) => `<tr><td style="${S.detailLabel}">${e(label)}</td><td style="${S.detailValue}">${e(value)}</td></tr>`)
        .join('')}</table>`
    : '';
  const action = c.action
    ? `<table role="presentation" cellpadding="0" cellspacing="0" style="margin:8px 0 24px;"><tr><td style="${S.buttonCell}">` +
      `<a href="${e(c.action.url)}" target="_blank" style="${S.button}">${e(c.action.label)}</a></td></tr></table>\n` +
      `<p style="${S.fallback}">If the button doesn't work, paste this link into your browser:<br>` +
      `<a href="${e(c.action.url)}" style="${S.link}">${e(c.action.url)}</a></p>`
    : '';
  const notes = (c.notes ?? []).map((n) => `<p style="${S.note}">${e(n)}</p>`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>${e(c.subject)}</title>
</head>
<body style="${S.body}">
<div style="${S.preheader}">${e(c.preheader)}</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background-color:#f4f5f7;">
<tr><td align="center" style="padding:32px 16px;">
<table role="presentation" cellpadding="0" cellspacing="0" style="${S.card}">
${renderHeader(brand)}<tr><td style="padding:16px 32px 8px;">
<h1 style="${S.heading}">${e(c.heading)}</h1>
${paragraphs}
${details}
${action}
${notes}
</td></tr>
</table>
${renderFooter(brand)}
</td></tr>
</table>
</body>
</html>
`;
}

function renderText(c: EmailContent, brand: EmailBrand): string {
  const blocks = [c.heading, ...c.paragraphs];
  const rows = presentDetails(c);
  if (rows.length) blocks.push(rows.map(([label, value]) => `${label}: ${value}`).join('\n'));
  if (c.action) blocks.push(`${c.action.label}: ${c.action.url}`);
  blocks.push(...(c.notes ?? []));
  if (brand.supportUrl) blocks.push(`Questions? Contact support: ${brand.supportUrl}`);
  if (brand.productName) blocks.push(`— ${brand.productName}`);
  return `${blocks.join('\n\n')}\n`;
}

/** Lays template content out as an HTML email (every value escaped) and its plain-text part. */
export function renderLayout(content: EmailContent, brand: EmailBrand): RenderedEmail {
  // Names are free text: a line break in one must not end up inside the Subject header.
  const subject = content.subject.replace(/\s+/g, ' ').trim();
  return { subject, html: renderHtml({ ...content, subject }, brand), text: renderText(content, brand) };
}
