import { sql } from 'drizzle-orm';
import type { Caller } from '../auth/token.ts';
import type { Db } from '../db/database.ts';
import { jobwireUsers } from '../db/usersSchema.ts';
import { toError } from '../jobs/errors.ts';
import type { Logger } from '../logger.ts';

/**
 * Notes that a verified caller was seen, in `jobwire_users`. Fire-and-forget: returns at once,
 * with the write's promise (which never rejects) or undefined when the throttle skipped it.
 */
export type RecordUserSeen = (caller: Caller) => Promise<void> | undefined;

export interface RecordUserSeenOptions {
  db: Db;
  log: Logger;
  /** Writes per user and organization at most once per this many ms, unless the role changed. Default 5 minutes. */
  throttleMs?: number;
  /** Users remembered by the throttle; the least recently written is forgotten first. Default 10,000. */
  maxEntries?: number;
  /** The throttle's clock (tests). Default `Date.now`. */
  now?: () => number;
}

export const DEFAULT_USER_SEEN_THROTTLE_MS = 5 * 60_000;
export const DEFAULT_USER_SEEN_MAX_ENTRIES = 10_000;

/**
 * The user directory's writer, one per app. Requests must not pay for it: an in-process map
 * remembers when each (organization, user) was last written and with which role, so a busy user
 * costs one upsert per `throttleMs`, and a role change is written at once. A failed write is
 * logged and retried only after the throttle, so a broken database is not hammered per request.
 */
export function createRecordUserSeen(options: RecordUserSeenOptions): RecordUserSeen {
  const throttleMs = options.throttleMs ?? DEFAULT_USER_SEEN_THROTTLE_MS;
  const maxEntries = Math.max(1, options.maxEntries ?? DEFAULT_USER_SEEN_MAX_ENTRIES);
  const now = options.now ?? Date.now;
  // Insertion order is write order (entries are re-inserted on write): the first key is the oldest.
  const written = new Map<string, { at: number; role: Caller['role'] }>();

  return (caller) => {
    const key = `${caller.organizationId}:${caller.userId}`;
    const at = now();
    const last = written.get(key);
    if (last && last.role === caller.role && at - last.at < throttleMs) return undefined;
    written.delete(key);
    written.set(key, { at, role: caller.role });
    for (const oldest of written.keys()) {
      if (written.size <= maxEntries) break;
      written.delete(oldest);
    }
    return upsertUser(options.db, caller).catch((error: unknown) => {
      options.log.warn({ err: toError(error), organizationId: caller.organizationId, userId: caller.userId }, '[users] Could not record the user');
    });
  };
}

/** One statement: first_seen_at is set by the insert only; later sightings move last_seen_at and the role. */
async function upsertUser(db: Db, caller: Caller): Promise<void> {
  await db
    .insert(jobwireUsers)
    .values({ userId: caller.userId, organizationId: caller.organizationId, role: caller.role })
    .onConflictDoUpdate({
      target: [jobwireUsers.organizationId, jobwireUsers.userId],
      set: { lastSeenAt: sql`now()`, role: sql`excluded.role` },
    });
}
