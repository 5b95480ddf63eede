/**
 * A token bucket per key (jobwire keys it by organization), stored in the database: every server
 * instance draws from the same bucket, so N instances still allow an organization the configured
 * rate, not N times it. One statement per take: an upsert that refills by the time elapsed, takes
 * a token if there is one, and says whether it did. Concurrent takes of one key serialize on its
 * row for that statement only.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { rateLimitBuckets } from '../db/rateLimitSchema.ts';

/** `tokens` per `perMs`, with a bucket of `burst` tokens (default `tokens`). */
export interface RateLimit {
  tokens: number;
  perMs: number;
  burst?: number;
}

export type RateDecision =
  | { allowed: true }
  /** `firstRefusal`: the first refusal (seen by this process) since this key was last allowed: log once, not per request. */
  | { allowed: false; retryAfterMs: number; firstRefusal: boolean };

export interface RateLimiter {
  readonly limit: RateLimit;
  take(key: string): Promise<RateDecision>;
}

/** Keys this process remembers as refusing (for `firstRefusal`) before it forgets them all. */
const MAX_REFUSING = 10_000;

/** `now` is the clock refills are measured by (epoch ms); tests pass their own. */
export function createRateLimiter(db: Db, limit: RateLimit, now: () => number = Date.now): RateLimiter {
  const capacity = limit.burst ?? limit.tokens;
  const perMs = limit.tokens / limit.perMs;
  const refusing = new Set<string>();

  return {
    limit,
    async take(key) {
      const at = now();
      // Every SET expression reads the row as it was, so `allowed` and `level` agree. A clock
      // behind the stored one refills nothing (instances' clocks differ a little).
      const refilled = sql`least(${capacity}::float8, ${rateLimitBuckets.level} + greatest(0, ${at}::float8 - ${rateLimitBuckets.atMs}) * ${perMs}::float8)`;
      const [row] = await db
        .insert(rateLimitBuckets)
        .values({ key, level: capacity - 1, atMs: at, allowed: true })
        .onConflictDoUpdate({
          target: rateLimitBuckets.key,
          set: {
            level: sql`CASE WHEN ${refilled} >= 1 THEN ${refilled} - 1 ELSE ${refilled} END`,
            atMs: sql`greatest(${rateLimitBuckets.atMs}, ${at}::float8)`,
            allowed: sql`${refilled} >= 1`,
          },
        })
        .returning({ level: rateLimitBuckets.level, allowed: rateLimitBuckets.allowed });
      const { level, allowed } = row!; // an upsert returns its row
      if (allowed) {
        refusing.delete(key);
        return { allowed: true };
      }
      const firstRefusal = !refusing.has(key);
      if (firstRefusal) {
        if (refusing.size >= MAX_REFUSING) refusing.clear();
        refusing.add(key);
      }
      return { allowed: false, retryAfterMs: Math.ceil((1 - level) / perMs), firstRefusal };
    },
  };
}

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

/**
 * Parses `<tokens>/<window>` such as `600/1m`, `10/s` or `5/500ms` (the bucket holds `tokens`,
 * refilled evenly over the window); `off` disables the limit (null). Throws on anything else.
 */
export function parseRateLimit(spec: string): RateLimit | null {
  const text = spec.trim().toLowerCase();
  if (text === 'off') return null;
  const match = /^([0-9]{1,9})\s*\/\s*([0-9]{0,9})\s*(ms|s|m|h)$/.exec(text);
  if (!match) throw new Error(`"${spec}" is not a rate such as 600/1m, 10/s or off`);
  const tokens = Number(match[1]);
  const perMs = Number(match[2] || '1') * UNIT_MS[match[3] as keyof typeof UNIT_MS]; // the regex admits only these units
  if (tokens < 1 || perMs < 1) throw new Error(`"${spec}" must allow at least 1 call per window`);
  return { tokens, perMs };
}
