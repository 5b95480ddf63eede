import { z } from 'zod';
import type { JobEvent } from '../../shared/jobEvent.ts';
import type { Database } from '../db/database.ts';
import type { Logger } from '../logger.ts';
import { toError } from './errors.ts';
import { findJobEvents, latestEventId, missingEventIds, toJobEvent } from './listJobEvents.ts';
import { JOB_EVENTS_CHANNEL } from './recordEvent.ts';
import { ALL_ORGANIZATIONS, type EventScope } from './scope.ts';

export interface EventListener {
  onEvent(event: JobEvent): void;
  /** The hub could not read an event: the subscriber must fail (its client resumes from its last event). */
  onError(error: Error): void;
  /** Notifications may have been lost (the listening connection dropped and came back): catch up from the table. */
  onGap(): void;
}

/**
 * Fans job events out to this process's subscribers. One LISTEN connection per process,
 * whatever the number of subscribers; an event is read from Postgres once and handed to every
 * subscriber of its job and of its organization. Notifications arrive in commit order, and a
 * job's events commit in id order (each holds the job's row lock), so a job's subscribers see
 * its events in order.
 */
export interface JobEventHub {
  subscribeJob(jobId: string, listener: EventListener): () => void;
  /** Every event of one organization, of the jobs of none (`organizationId: null`), or of all (operators). */
  subscribeOrganization(scope: EventScope, listener: EventListener): () => void;
  /**
   * Event ids below `eventId` that may still reach this process: allocated by a transaction that
   * has not committed yet (or had not when a higher id was announced), or announced but not yet
   * handed to subscribers. A resumable organization stream puts them in its cursor, since event
   * ids are allocated at insert but announced at commit. Forgotten after `HOLE_TTL_MS`.
   */
  pendingBelow(eventId: number): number[];
  /** The highest event id announced to this process: every id below it is announced or in `pendingBelow`. */
  readonly announcedUpTo: number;
  /** Subscribers currently attached (for leak checks and metrics). */
  readonly subscriberCount: number;
  stop(): Promise<void>;
}

/**
 * How long an unannounced event id is waited for: longer than any transaction that writes job
 * events should stay open; the id of a rolled-back transaction is forgotten after it.
 */
export const HOLE_TTL_MS = 60_000;
/** A jump in announced ids larger than this (a sequence reset, a bulk rollback) is not tracked id by id. */
const MAX_NEW_HOLES = 1_000;
/** At start-up, how far below the newest event id to look for ids still in flight. */
const STARTUP_LOOKBACK = 100;
/** Holes kept at most (the oldest go first): bounds memory whatever rolls back. */
const MAX_HOLES = 10_000;

const Notification = z.object({ eventId: z.number(), jobId: z.string(), organizationId: z.number().nullable() });
type Notification = z.infer<typeof Notification>;

export async function startJobEventHub(database: Database, log: Logger, now: () => number = Date.now): Promise<JobEventHub> {
  const byJob = new Map<string, Set<EventListener>>();
  // Keyed by organization id, null (the jobs of no organization) or ALL_ORGANIZATIONS.
  const byOrganization = new Map<number | null | typeof ALL_ORGANIZATIONS, Set<EventListener>>();
  let pending: Notification[] = [];
  let draining: Promise<void> = Promise.resolve();
  // Ids below `announcedUpTo` not yet handed to subscribers, with when each was first missed.
  const holes = new Map<number, number>();
  let announcedUpTo: number | undefined; // set once listening, before any notification is read

  // Forgets holes past their TTL (and the oldest beyond MAX_HOLES), at most once a second.
  let prunedAt = 0;
  function prune(at: number): void {
    if (at - prunedAt < 1_000) return;
    prunedAt = at;
    for (const [id, since] of holes) if (since < at - HOLE_TTL_MS) holes.delete(id);
    for (const id of holes.keys()) {
      if (holes.size <= MAX_HOLES) break;
      holes.delete(id); // insertion order: the oldest first
    }
  }

  function noteAnnounced(eventId: number): void {
    if (announcedUpTo === undefined) return;
    if (eventId > announcedUpTo) {
      const at = now();
      if (eventId - announcedUpTo - 1 <= MAX_NEW_HOLES) for (let id = announcedUpTo + 1; id < eventId; id++) holes.set(id, at);
      announcedUpTo = eventId;
      prune(at);
    }
  }

  const listenersOf = (n: Notification) => [...(byJob.get(n.jobId) ?? []), ...(byOrganization.get(n.organizationId) ?? []), ...(byOrganization.get(ALL_ORGANIZATIONS) ?? [])];

  // Notifications that arrive together are read with one query, and delivered in arrival order.
  async function drain(): Promise<void> {
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    try {
      const rows = new Map((await findJobEvents(database.db, batch.map((n) => n.eventId))).map((r) => [r.id, r]));
      for (const n of batch) {
        const row = rows.get(n.eventId);
        if (row) {
          const event = toJobEvent(row);
          for (const listener of listenersOf(n)) listener.onEvent(event);
        } // else deleted by cleanup before we read it
        holes.delete(n.eventId);
      }
    } catch (error) {
      log.error({ err: toError(error) }, '[events] Failed to read job events; subscribers will resync');
      for (const n of batch) {
        for (const listener of listenersOf(n)) listener.onError(toError(error));
        holes.delete(n.eventId);
      }
    }
  }

  const everyListener = () => [...byJob.values(), ...byOrganization.values()].flatMap((set) => [...set]);
  const unlisten = await database.listen(
    JOB_EVENTS_CHANNEL,
    (payload) => {
      const parsed = Notification.safeParse(safeJson(payload));
      if (!parsed.success) return;
      const n = parsed.data;
      noteAnnounced(n.eventId);
      if (listenersOf(n).length === 0) return void holes.delete(n.eventId); // nobody here cares: no query
      // Until it is handed over (drain), a stream's cursor must not skip it.
      if (announcedUpTo !== undefined && !holes.has(n.eventId)) holes.set(n.eventId, now());
      pending.push(n);
      draining = draining.then(drain);
    },
    () => {
      log.warn({ subscribers: everyListener().length }, '[events] Listening connection restored; subscribers catch up');
      for (const listener of everyListener()) listener.onGap();
    },
  );

  // From here on every announcement is tracked. Ids just below the newest that are not visible
  // yet may belong to transactions still open: they are holes too.
  const newest = Number(await latestEventId(database.db));
  const startedAt = now();
  for (const id of await missingEventIds(database.db, Math.max(1, newest - STARTUP_LOOKBACK), newest)) holes.set(id, startedAt);
  announcedUpTo = Math.max(newest, announcedUpTo ?? 0);

  function attach<K>(map: Map<K, Set<EventListener>>, key: K, listener: EventListener): () => void {
    let set = map.get(key);
    if (!set) map.set(key, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && map.get(key) === set) map.delete(key);
    };
  }

  return {
    subscribeJob: (jobId, listener) => attach(byJob, jobId, listener),
    subscribeOrganization: (scope, listener) => attach(byOrganization, scope === ALL_ORGANIZATIONS ? scope : scope.organizationId, listener),
    get announcedUpTo() {
      return announcedUpTo ?? newest; // set before the hub is returned
    },
    pendingBelow(eventId) {
      const expired = now() - HOLE_TTL_MS;
      const below: number[] = [];
      for (const [id, since] of holes) if (since >= expired && id < eventId) below.push(id);
      return below.sort((a, b) => a - b);
    },
    get subscriberCount() {
      let count = 0;
      for (const set of byJob.values()) count += set.size;
      for (const set of byOrganization.values()) count += set.size;
      return count;
    },
    async stop() {
      await unlisten();
      await draining;
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
