/**
 * An in-process token bucket per key (jobwire keys it by organization). Each process keeps its
 * own buckets: with N instances behind a load balancer an organization may get up to N times the
 * configured rate. That is the documented trade-off (SECURITY.md): no extra round trip to
 * Postgres on every enqueue, and a limit meant to stop floods, not to meter billing.
 */

/** `tokens` per `perMs`, with a bucket of `burst` tokens (default `tokens`). */
export interface RateLimit {
  tokens: number;
  perMs: number;
  burst?: number;
}

export type RateDecision =
  | { allowed: true }
  /** `firstRefusal`: the first refusal since this key was last allowed (log once, not per request). */
  | { allowed: false; retryAfterMs: number; firstRefusal: boolean };

export interface RateLimiter {
  readonly limit: RateLimit;
  take(key: string): RateDecision;
}

interface Bucket {
  level: number;
  at: number;
  refusing: boolean;
}

/** Buckets kept before idle (full) ones are dropped; a full bucket equals no bucket. */
const MAX_BUCKETS = 10_000;

export function createRateLimiter(limit: RateLimit, now: () => number = Date.now): RateLimiter {
  const capacity = limit.burst ?? limit.tokens;
  const perMs = limit.tokens / limit.perMs;
  const buckets = new Map<string, Bucket>();

  const refill = (bucket: Bucket, at: number) => {
    bucket.level = Math.min(capacity, bucket.level + (at - bucket.at) * perMs);
    bucket.at = at;
  };

  const prune = (at: number) => {
    for (const [key, bucket] of buckets) {
      refill(bucket, at);
      if (bucket.level >= capacity) buckets.delete(key);
    }
  };

  return {
    limit,
    take(key) {
      const at = now();
      let bucket = buckets.get(key);
      if (!bucket) {
        if (buckets.size >= MAX_BUCKETS) prune(at);
        // Still full of active buckets: drop the oldest, so the map (and each prune) stays bounded.
        if (buckets.size >= MAX_BUCKETS) buckets.delete(buckets.keys().next().value!); // size > 0 here
        bucket = { level: capacity, at, refusing: false };
        buckets.set(key, bucket);
      }
      refill(bucket, at);
      if (bucket.level >= 1) {
        bucket.level -= 1;
        bucket.refusing = false;
        return { allowed: true };
      }
      const firstRefusal = !bucket.refusing;
      bucket.refusing = true;
      return { allowed: false, retryAfterMs: Math.ceil((1 - bucket.level) / perMs), firstRefusal };
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
