import { parseDuration } from '../publish/parseDuration.ts';
import { evaluateRetryDelay } from './retryDelayExpression.ts';

/** Case-insensitive lookup of a header's first value. */
export function headerValue(headers: Record<string, string[]>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, values] of Object.entries(headers)) if (key.toLowerCase() === wanted) return values[0];
  return undefined;
}

const DAY_MS = 86_400_000;

/** QStash's default: min(1 day, e^(2.5·n)) seconds before retry n (n = 1 for the first retry). */
export function defaultBackoffMs(retriedSoFar: number): number {
  return Math.min(DAY_MS, Math.round(Math.exp(2.5 * (retriedSoFar + 1)) * 1000));
}

/** The wait before the next attempt, given the message's optional expression (ms, `retried` = retries so far). */
export function retryDelayMs(expression: string | undefined, retriedSoFar: number): number {
  if (expression) {
    try {
      const value = evaluateRetryDelay(expression, retriedSoFar);
      if (Number.isFinite(value)) return Math.min(DAY_MS, Math.max(0, Math.round(value)));
    } catch {
      // Validated at publish time; a value that cannot be computed falls back to the default.
    }
  }
  return defaultBackoffMs(retriedSoFar);
}

const RETRY_HEADERS = ['retry-after', 'x-ratelimit-reset', 'x-ratelimit-reset-requests', 'x-ratelimit-reset-tokens'];

/**
 * The destination's own wish for the next attempt: `Retry-After` and the X-RateLimit-Reset family,
 * as seconds, an HTTP date or a Go duration. Values above one day are ignored, as QStash does.
 */
export function retryAfterMs(headers: Record<string, string[]>, nowMs: number): number | undefined {
  for (const name of RETRY_HEADERS) {
    const raw = headerValue(headers, name)?.trim();
    if (!raw) continue;
    const ms = parseRetryAfter(raw, nowMs);
    if (ms !== undefined && ms >= 0 && ms <= DAY_MS) return ms;
  }
  return undefined;
}

function parseRetryAfter(raw: string, nowMs: number): number | undefined {
  const duration = parseDuration(raw);
  if (duration !== undefined) return duration;
  if (/[a-z]{3},|GMT|\d{4}/i.test(raw)) {
    const date = Date.parse(raw);
    if (!Number.isNaN(date)) return Math.max(0, date - nowMs);
  }
  return undefined;
}
