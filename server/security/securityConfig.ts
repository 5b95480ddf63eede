import type { JwksOptions } from '../auth/token.ts';
import type { Db } from '../db/database.ts';
import { createRateLimiter, type RateLimit, type RateLimiter } from './rateLimiter.ts';
import { createSubscriptionLimiter, DEFAULT_SUBSCRIPTION_LIMITS, type SubscriptionLimiter, type SubscriptionLimits } from './subscriptionLimiter.ts';

/** The security settings of one server (`ServerConfig.security`); env: see README "Configuration". */
export interface SecurityConfig {
  /**
   * `jobs.enqueue` and `jobs.schedule` calls and schedule firings per organization, across all
   * instances (`ENQUEUE_RATE_LIMIT`). Default 600 a minute; null: off.
   */
  enqueueRateLimit?: RateLimit | null | undefined;
  /**
   * Open live-status streams per user, per organization and in this process
   * (`MAX_SUBSCRIPTIONS_PER_USER`, `…_PER_ORGANIZATION`, `MAX_SUBSCRIPTIONS`). Defaults 20, 200
   * and 5,000; null at a level: no cap there.
   */
  subscriptionLimits?: Partial<SubscriptionLimits> | undefined;
  /** Origins browsers may call `/trpc` from (`CORS_ORIGINS`). Default none. */
  corsOrigins?: readonly string[] | undefined;
  /** Also accept RS256/ES256 tokens signed by this JWKS (`AUTH_JWKS_URL`, `AUTH_ISSUER`, `AUTH_AUDIENCE`). */
  jwks?: JwksOptions | undefined;
  /** Longest `exp - iat` of an accepted token, in seconds (`AUTH_MAX_TOKEN_LIFETIME`). Default 24 h. */
  maxTokenLifetimeS?: number | undefined;
}

/** Generous enough for any interactive use; a loop gone wrong hits it within seconds. */
export const DEFAULT_ENQUEUE_RATE_LIMIT: RateLimit = { tokens: 600, perMs: 60_000 };

export function createEnqueueLimiter(db: Db, config: SecurityConfig = {}): RateLimiter | null {
  const limit = config.enqueueRateLimit === undefined ? DEFAULT_ENQUEUE_RATE_LIMIT : config.enqueueRateLimit;
  return limit ? createRateLimiter(db, limit) : null;
}

/** One per app: the caps hold across all of its requests. */
export function createSubscriptionLimiterFor(config: SecurityConfig = {}): SubscriptionLimiter {
  const given = Object.fromEntries(Object.entries(config.subscriptionLimits ?? {}).filter(([, v]) => v !== undefined));
  return createSubscriptionLimiter({ ...DEFAULT_SUBSCRIPTION_LIMITS, ...given });
}
