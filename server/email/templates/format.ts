const LOCALE = 'en-US';

/** `Intl` currency format of `code`, or undefined for a code `Intl` cannot use. */
function currencyFormat(code: string, options: Intl.NumberFormatOptions = {}): Intl.NumberFormat | undefined {
  try {
    return new Intl.NumberFormat(LOCALE, { style: 'currency', currency: code.toUpperCase(), ...options });
  } catch {
    // The schema only checks the code's shape; a malformed one must not stop the email.
    return undefined;
  }
}

/** Digits of the currency's minor unit: 2 for USD, 0 for JPY, 3 for KWD (2 when unknown). */
function minorDigits(currency: string): number {
  return currencyFormat(currency)?.resolvedOptions().maximumFractionDigits ?? 2;
}

/**
 * Stripe's integer amount in the currency's minor unit → the decimal string email data carries:
 * `(2999, 'usd')` → `'29.99'`, `(1000, 'jpy')` → `'1000'`. String arithmetic, so no float rounding.
 */
export function minorUnitsToDecimal(amount: number, currency: string): string {
  const digits = minorDigits(currency);
  const sign = amount < 0 ? '-' : ''; // kept, so the schema refuses a negative amount rather than showing it as positive
  const units = String(Math.abs(Math.trunc(amount))).padStart(digits + 1, '0');
  return sign + (digits ? `${units.slice(0, -digits)}.${units.slice(-digits)}` : units);
}

/**
 * A decimal amount as the email shows it: with a currency, in its format (`'29.99', 'usd'` →
 * `$29.99`); without one, as written. Extra decimals are kept, never rounded away.
 */
export function formatAmount(amount: string, currency?: string): string {
  if (!currency) return amount;
  const digits = minorDigits(currency);
  const given = amount.split('.')[1]?.length ?? 0;
  const format = currencyFormat(currency, { minimumFractionDigits: digits, maximumFractionDigits: Math.max(digits, given) });
  // A string keeps every digit (Intl reads it as an exact decimal, not a float).
  return format ? format.format(amount as `${number}`) : `${amount} ${currency.toUpperCase()}`;
}

/** An amount in the currency's minor unit (cents for USD, yen for JPY), formatted: `(1999, 'usd')` → `$19.99`. */
export function formatMoney(amount: number, currency: string): string {
  return formatAmount(minorUnitsToDecimal(amount, currency), currency);
}

/** `2025-03-05` → `March 5, 2025`. Read in UTC: a calendar date has no time zone to shift it. */
export function formatDate(isoDate: string): string {
  return new Intl.DateTimeFormat(LOCALE, { dateStyle: 'long', timeZone: 'UTC' }).format(new Date(`${isoDate}T00:00:00Z`));
}

/** An instant, shown in UTC since the recipient's zone is unknown: `March 5, 2025 at 2:03 PM UTC`. */
export function formatDateTime(isoDateTime: string): string {
  return new Intl.DateTimeFormat(LOCALE, { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' }).format(new Date(isoDateTime)) + ' UTC';
}

/** `60` → `1 hour`, `90` → `90 minutes`, `2880` → `2 days`. */
export function formatMinutes(minutes: number): string {
  const [value, unit] = minutes % 1440 === 0 ? [minutes / 1440, 'day'] : minutes % 60 === 0 ? [minutes / 60, 'hour'] : [minutes, 'minute'];
  return `${value} ${unit}${value === 1 ? '' : 's'}`;
}

/** The opening line: `Hi Ada,`, or `Hi there,` when the name is not known. */
export function greeting(recipientName: string | undefined): string {
  return `Hi ${recipientName ?? 'there'},`;
}

/** `your Acme account` with a product name, `your account` without one (the neutral default). */
export function your(noun: string, productName: string | undefined): string {
  return productName ? `your ${productName} ${noun}` : `your ${noun}`;
}

/** ` on Acme` with a product name, nothing without one. */
export function onProduct(productName: string | undefined): string {
  return productName ? ` on ${productName}` : '';
}

export const capitalize = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);
