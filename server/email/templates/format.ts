const LOCALE = 'en-US';

/**
 * Formats an amount in the currency's minor unit (cents for USD, yen for JPY), so the divisor
 * comes from the currency's own fraction digits rather than a hard-coded 100.
 */
export function formatMoney(amount: number, currency: string): string {
  const code = currency.toUpperCase();
  let format: Intl.NumberFormat;
  try {
    format = new Intl.NumberFormat(LOCALE, { style: 'currency', currency: code });
  } catch {
    // The schema only checks the length; a malformed code must not stop the email.
    return `${(amount / 100).toFixed(2)} ${code}`;
  }
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(amount / 10 ** digits);
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
