import { z } from 'zod';

/**
 * Whose emails these are. jobwire runs inside someone else's product, so nothing here defaults to
 * "jobwire": unset, templates use neutral wording ("your account") and show no header or link.
 */
export interface EmailBrand {
  /** Product name in subjects, bodies, the header and the footer. Default none: neutral wording. */
  productName?: string | undefined;
  /** Help page or `mailto:` linked from every footer (and passwordChanged's button). Default none. */
  supportUrl?: string | undefined;
  /** Image shown in the header instead of the product name; an absolute https URL. Default none. */
  logoUrl?: string | undefined;
}

/** What `startServer({ brand })` and the `BRAND_*` / `EMAIL_FROM_NAME` variables configure. */
export interface BrandOptions extends EmailBrand {
  /** Display name of the sender (`Name <address>`). Default the product name, when the address has none. */
  senderName?: string | undefined;
}

export const DEFAULT_BRAND: EmailBrand = {};
/** Sender address when none is configured: a reserved documentation domain, never a real one. */
export const DEFAULT_FROM_ADDRESS = 'noreply@example.com';

const DisplayName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  .refine((v) => !/[\r\n<>"]/.test(v), 'must not contain line breaks, quotes or angle brackets');
/** Absolute http(s) URL; the env schema (server/env.ts) reuses these so both paths say the same thing. */
export const BrandUrl = z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL, e.g. https://example.com/help' }).max(2048);
export const SupportUrl = z.union([BrandUrl, z.string().regex(/^mailto:[^\s@]+@[^\s@]+$/)], {
  error: 'must be an absolute http(s) URL or a mailto: address, e.g. https://example.com/help',
});
export const LogoUrl = z.url({ protocol: /^https$/, error: 'must be an absolute https URL of an image, e.g. https://example.com/logo.png' }).max(2048);
export const ProductName = DisplayName;
export const SenderName = DisplayName;

const ADDRESS = /^[^\s@<>"]+@[^\s@<>"]+$/;
/** `address` or `Name <address>`, as Resend takes it. */
export const SenderAddress = z
  .string()
  .trim()
  .refine((v) => parseSender(v) !== undefined, 'must be an email address or `Name <address>`, e.g. Acme <noreply@acme.com>');

function parseSender(value: string): { name?: string; address: string } | undefined {
  const named = /^(.*?)\s*<([^<>]+)>$/.exec(value.trim());
  const address = (named?.[2] ?? value).trim();
  const name = named?.[1]?.trim().replace(/^"(.*)"$/, '$1');
  if (!ADDRESS.test(address) || !z.email().safeParse(address).success) return undefined;
  if (name !== undefined && (name === '' || /[\r\n<>"]/.test(name))) return undefined;
  return name ? { name, address } : { address };
}

const BrandOptionsSchema = z.strictObject({
  productName: ProductName.optional(),
  senderName: SenderName.optional(),
  supportUrl: SupportUrl.optional(),
  logoUrl: LogoUrl.optional(),
});

/**
 * Validates the brand and the sender address together, at start-up, and returns what templates
 * and senders use. Throws one error naming every bad option.
 */
export function resolveEmailBrand(options: BrandOptions = {}, from: string = DEFAULT_FROM_ADDRESS): { brand: EmailBrand; from: string } {
  const issues: string[] = [];
  const parsed = BrandOptionsSchema.safeParse(options);
  if (!parsed.success) issues.push(...parsed.error.issues.map((i) => `brand.${i.path.join('.') || '(options)'}: ${i.message}`));
  const sender = parseSender(from);
  if (!sender) issues.push(`email.from: ${JSON.stringify(from)} must be an email address or \`Name <address>\`, e.g. Acme <noreply@acme.com>`);
  if (sender?.name && options.senderName) {
    issues.push(`email.from already names its sender (${JSON.stringify(sender.name)}); set the sender name in one place only (brand.senderName / EMAIL_FROM_NAME, or the address)`);
  }
  if (!parsed.success || !sender || issues.length) throw new Error(`Invalid email branding:\n${issues.map((i) => `  ${i}`).join('\n')}`);
  const { senderName, ...brand } = parsed.data;
  const name = sender.name ?? senderName ?? brand.productName;
  return { brand, from: name ? `${quoteName(name)} <${sender.address}>` : sender.address };
}

// RFC 5322: a display name with specials (`,` `.` `;` …) must be quoted.
function quoteName(name: string): string {
  return /^[\w !#$%&'*+\-/=?^`{|}~]+$/.test(name) ? name : `"${name}"`;
}
