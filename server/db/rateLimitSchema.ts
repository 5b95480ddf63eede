import { boolean, doublePrecision, pgTable, text } from 'drizzle-orm/pg-core';

/**
 * Token buckets of the shared rate limiter (server/security/rateLimiter.ts), one row per key
 * (jobwire keys enqueue limits by organization). Kept in the database so every server instance
 * draws from the same bucket.
 */
export const rateLimitBuckets = pgTable('rate_limit_buckets', {
  key: text('key').primaryKey(),
  /** Tokens left as of `at_ms`. */
  level: doublePrecision('level').notNull(),
  /** When `level` was computed, in epoch milliseconds. */
  atMs: doublePrecision('at_ms').notNull(),
  /** Whether the last take was allowed. */
  allowed: boolean('allowed').notNull(),
});
