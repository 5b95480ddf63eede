/**
 * Caps on open live-status streams (`jobs.onStatus`, `jobs.onEvents`) in this server process: per
 * user, per organization and in all. Each stream holds open a connection, a hub subscription and
 * a buffer, so one token must not be able to open them without bound. Counts are in memory: every
 * instance of a deployment applies the caps to its own connections.
 */

/** Most open streams; null: no cap at that level. */
export interface SubscriptionLimits {
  /** Per user of an organization (`MAX_SUBSCRIPTIONS_PER_USER`). Default 20. */
  perUser: number | null;
  /** Per organization (`MAX_SUBSCRIPTIONS_PER_ORGANIZATION`). Default 200. */
  perOrganization: number | null;
  /** In this process (`MAX_SUBSCRIPTIONS`). Default 5,000. */
  global: number | null;
}

/** A dashboard per tab for a few users; a loop opening streams stops at once. */
export const DEFAULT_SUBSCRIPTION_LIMITS: SubscriptionLimits = { perUser: 20, perOrganization: 200, global: 5_000 };

export type SubscriptionGrant =
  /** `release` frees the slot; calling it again does nothing. */
  | { ok: true; release: () => void }
  /** `firstRefusal`: the first refusal at this cap since it last had room (log once, not per attempt). */
  | { ok: false; level: 'user' | 'organization' | 'global'; max: number; firstRefusal: boolean };

export interface SubscriptionLimiter {
  readonly limits: SubscriptionLimits;
  /** Open streams in this process. */
  readonly open: number;
  acquire(who: { userId: string; organizationId: number }): SubscriptionGrant;
}

export function createSubscriptionLimiter(limits: SubscriptionLimits = DEFAULT_SUBSCRIPTION_LIMITS): SubscriptionLimiter {
  const counts = new Map<string, number>();
  const refusing = new Set<string>();
  const countOf = (key: string) => counts.get(key) ?? 0;
  const add = (key: string, delta: number, max: number | null) => {
    const next = countOf(key) + delta;
    if (next > 0) counts.set(key, next);
    else counts.delete(key);
    if (max === null || next < max) refusing.delete(key);
  };

  return {
    limits,
    get open() {
      return countOf('global');
    },
    acquire({ userId, organizationId }) {
      const levels = [
        ['user', `user:${organizationId}:${userId}`, limits.perUser],
        ['organization', `org:${organizationId}`, limits.perOrganization],
        ['global', 'global', limits.global],
      ] as const;
      const full = levels.find(([, key, max]) => max !== null && countOf(key) >= max);
      if (full) {
        const [level, key, max] = full;
        const firstRefusal = !refusing.has(key);
        refusing.add(key);
        return { ok: false, level, max: max!, firstRefusal }; // `find` kept only levels with a max
      }
      for (const [, key, max] of levels) add(key, 1, max);
      let released = false;
      return {
        ok: true,
        release() {
          if (released) return;
          released = true;
          for (const [, key, max] of levels) add(key, -1, max);
        },
      };
    },
  };
}

/** Parses a cap: a positive integer, or `off` (null). Throws on anything else. */
export function parseSubscriptionLimit(value: string): number | null {
  const text = value.trim().toLowerCase();
  if (text === 'off') return null;
  if (!/^[0-9]{1,9}$/.test(text) || Number(text) < 1) throw new Error(`"${value}" is not a positive number of streams, or off`);
  return Number(text);
}
