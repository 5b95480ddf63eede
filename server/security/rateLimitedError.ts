import { JobError } from '../jobs/errors.ts';

/** A call refused by a rate limit (`RATE_LIMITED`); `retryAfterMs` becomes the `Retry-After` header. */
export class RateLimitedError extends JobError {
  override name = 'RateLimitedError';
  constructor(readonly retryAfterMs: number) {
    super(`Too many jobs enqueued for this organization; retry in ${Math.max(1, Math.ceil(retryAfterMs / 1000))} s`, 'RATE_LIMITED');
  }
}

/** `Retry-After` in whole seconds (at least 1) for the longest wait among `errors`' causes, or null. */
export function retryAfterSeconds(causes: readonly unknown[]): string | null {
  const waits = causes.filter((c): c is RateLimitedError => c instanceof RateLimitedError).map((c) => c.retryAfterMs);
  return waits.length === 0 ? null : String(Math.max(1, Math.ceil(Math.max(...waits) / 1000)));
}
