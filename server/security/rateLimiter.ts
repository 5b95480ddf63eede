/**
 * A token bucket per key (jobwire keys it by organization), stored in the database: every server
 * instance draws from the same bucket, so N instances still allow an organization the configured
 * rate, not N times it. One statement per reservation: an upsert that refills by the time
 * elapsed, takes the tokens if there are enough, and says whether it did.
 *
 * So that one organization's concurrent callers do not queue on its row, a process reserves
 * allowance in chunks while a key is busy and spends it locally: the first take of a key reserves
 * just what it needs; a take that finds the previous reservation used up within HOLD_MS reserves
 * twice as much (up to 1/50 of the bucket, at most 20). A reservation unused after HOLD_MS is
 * dropped, never returned: an instance can hold back at most one chunk per busy key for a second,
 * so the limit stays an upper bound across instances (slightly lower, never higher).
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
  /** Takes `count` tokens (default 1; more than the bucket holds counts as the whole bucket). */
  take(key: string, count?: number): Promise<RateDecision>;
}

/** Keys this process remembers (refusing ones, reservations) before it forgets them all. */
const MAX_KEYS = 10_000;
/** How long a reservation may be spent locally. */
const HOLD_MS = 1_000;
const MAX_CHUNK = 20;

interface Held {
  tokens: number;
  /** Reserved at (the limiter's clock) and the size reserved. */
  at: number;
  chunk: number;
}

/** `now` is the clock refills are measured by (epoch ms); tests pass their own. */
export function createRateLimiter(db: Db, limit: RateLimit, now: () => number = Date.now): RateLimiter {
  const capacity = limit.burst ?? limit.tokens;
  const perMs = limit.tokens / limit.perMs;
  const maxChunk = Math.max(1, Math.min(MAX_CHUNK, Math.floor(capacity / 50)));
  const refusing = new Set<string>();
  const held = new Map<string, Held>();
  const reserving = new Map<string, Promise<{ granted: boolean; level: number }>>();

  /** Takes `want` tokens from the shared bucket, or none; `level` is what is left (or was there, if refused). */
  async function reserve(key: string, want: number, at: number): Promise<{ granted: boolean; level: number }> {
    // Every SET expression reads the row as it was, so `allowed` and `level` agree. A clock
    // behind the stored one refills nothing (instances' clocks differ a little).
    const refilled = sql`least(${capacity}::float8, ${rateLimitBuckets.level} + greatest(0, ${at}::float8 - ${rateLimitBuckets.atMs}) * ${perMs}::float8)`;
    const [row] = await db
      .insert(rateLimitBuckets)
      .values({ key, level: capacity - want, atMs: at, allowed: true })
      .onConflictDoUpdate({
        target: rateLimitBuckets.key,
        set: {
          level: sql`CASE WHEN ${refilled} >= ${want}::float8 THEN ${refilled} - ${want}::float8 ELSE ${refilled} END`,
          atMs: sql`greatest(${rateLimitBuckets.atMs}, ${at}::float8)`,
          allowed: sql`${refilled} >= ${want}::float8`,
        },
      })
      .returning({ level: rateLimitBuckets.level, allowed: rateLimitBuckets.allowed });
    return { granted: row!.allowed, level: row!.level }; // an upsert returns its row
  }

  /** Reserves at least `n` for this process: a bigger chunk while the key stays busy, just `n` when the bucket has no more. */
  async function refill(key: string, n: number, at: number): Promise<{ granted: boolean; level: number }> {
    const previous = held.get(key);
    const busy = previous !== undefined && at - previous.at < HOLD_MS;
    const chunk = busy ? Math.min(maxChunk, previous.chunk * 2) : 1;
    let got = Math.max(n, chunk);
    let result = await reserve(key, got, at);
    if (!result.granted && got > n && result.level >= n) {
      got = n;
      result = await reserve(key, n, at);
    }
    if (result.granted) {
      const left = busy ? previous.tokens : 0;
      if (held.size >= MAX_KEYS) held.clear();
      held.set(key, { tokens: left + got, at, chunk: got });
    }
    return result;
  }

  function refuse(key: string, level: number, n: number): RateDecision {
    const firstRefusal = !refusing.has(key);
    if (firstRefusal) {
      if (refusing.size >= MAX_KEYS) refusing.clear();
      refusing.add(key);
    }
    return { allowed: false, retryAfterMs: Math.ceil((n - level) / perMs), firstRefusal };
  }

  return {
    limit,
    async take(key, count = 1) {
      const n = Math.min(Math.max(1, count), capacity);
      for (;;) {
        const at = now();
        const local = held.get(key);
        if (local && at - local.at < HOLD_MS && local.tokens >= n) {
          local.tokens -= n;
          refusing.delete(key);
          return { allowed: true };
        }
        // One reservation per key at a time: the callers that arrive meanwhile wait for it.
        const inFlight = reserving.get(key);
        if (inFlight) {
          const result = await inFlight;
          if (!result.granted) return refuse(key, result.level, n);
          continue;
        }
        const pending = refill(key, n, at);
        reserving.set(key, pending);
        let result: { granted: boolean; level: number };
        try {
          result = await pending;
        } finally {
          reserving.delete(key);
        }
        if (!result.granted) return refuse(key, result.level, n);
      }
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
