import type { JwksOptions } from '../auth/token.ts';
import type { Db } from '../db/database.ts';
import { createRateLimiter, type RateLimit, type RateLimiter } from './rateLimiter.ts';

/** The security settings of one server (`ServerConfig.security`); env: see README "Configuration". */
export interface SecurityConfig {
  /** `jobs.enqueue` calls per organization, across all instances (`ENQUEUE_RATE_LIMIT`). Default 600 a minute; null: off. */
  enqueueRateLimit?: RateLimit | null | undefined;
  /** Origins browsers may call `/trpc` from (`CORS_ORIGINS`). Default none. */
  corsOrigins?: readonly string[] | undefined;
  /** Also accept RS256/ES256 tokens signed by this JWKS (`AUTH_JWKS_URL`, `AUTH_ISSUER`, `AUTH_AUDIENCE`). */
  jwks?: JwksOptions | undefined;
}

/** Generous enough for any interactive use; a loop gone wrong hits it within seconds. */
export const DEFAULT_ENQUEUE_RATE_LIMIT: RateLimit = { tokens: 600, perMs: 60_000 };

export function createEnqueueLimiter(db: Db, config: SecurityConfig = {}): RateLimiter | null {
  const limit = config.enqueueRateLimit === undefined ? DEFAULT_ENQUEUE_RATE_LIMIT : config.enqueueRateLimit;
  return limit ? createRateLimiter(db, limit) : null;
}
