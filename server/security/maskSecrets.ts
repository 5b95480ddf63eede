/**
 * Value-based masking of a finished log line, for what path-based redaction cannot know about:
 * an email address or a token inside an error message, a connection string in a stack trace.
 * Runs on pino's serialized line (`hooks.streamWrite`), so it sees messages, bindings and
 * errors alike. A line without any trigger costs a single regex test.
 */
const TRIGGER = /@|eyJ|earer|sig_|sk_|rk_|whsec_|re_/;

const RULES: readonly [RegExp, string][] = [
  // Credentials in URLs: postgres://user:password@host → postgres://[redacted]@host
  [/([a-z][a-z0-9+.-]*:\/\/)[^\s"'/@]+@/gi, '$1[redacted]@'],
  [/\b(bearer)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 [redacted]'],
  // JWTs and base64-JSON tokens (QStash tokens) both start with `{"` encoded.
  [/\beyJ[A-Za-z0-9+/=_.-]{16,}/g, '[token]'],
  // QStash signing keys, Stripe keys and webhook secrets, Resend API keys.
  [/\bsig_[A-Za-z0-9]{10,}/g, '[secret]'],
  [/\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{8,}|\bwhsec_[A-Za-z0-9+/=]{8,}|\bre_[A-Za-z0-9_]{16,}/g, '[secret]'],
  [/[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g, '[email]'],
];

export function maskSecrets(line: string): string {
  if (!TRIGGER.test(line)) return line;
  let masked = line;
  for (const [pattern, replacement] of RULES) masked = masked.replace(pattern, replacement);
  return masked;
}
