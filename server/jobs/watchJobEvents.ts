import { formatOrganizationCursor, parseOrganizationCursor, type JobEvent, type OnEventsInput, type OrganizationCursor } from '../../shared/jobEvent.ts';
import { isTerminalStatus } from '../../shared/jobStatus.ts';
import type { Db } from '../db/database.ts';
import { createAsyncQueue } from '../../shared/asyncQueue.ts';
import { HOLE_TTL_MS, type JobEventHub } from './eventHub.ts';
import { latestJobEvent, listOrganizationEvents, missingEventIds, readJobEvents } from './listJobEvents.ts';
import type { EventScope } from './scope.ts';

/** Events a subscriber may fall behind before its stream fails (and its client resumes from its last id). */
const MAX_BUFFERED_EVENTS = 1_000;

const REPLAY_PAGE = 500;

/** Queued when notifications may have been lost: the stream re-reads what it missed from the table. */
const GAP = Symbol('gap');

/**
 * A job's events as they happen: without `lastEventId`, its current state first; with it, every
 * event after it. Ends after a terminal status. Subscribes before reading the backlog, so nothing
 * committed in between is missed, and skips what the backlog already gave. After a gap (the
 * listening connection dropped) it catches up from the table. The caller has checked access
 * (`assertJobInScope`).
 */
export async function* watchJobEvents(
  deps: { db: Db; events: JobEventHub },
  input: { jobId: string; lastEventId?: string | null | undefined },
  signal: AbortSignal | undefined,
): AsyncGenerator<JobEvent> {
  const queue = createAsyncQueue<JobEvent | typeof GAP>(signal, MAX_BUFFERED_EVENTS);
  const unsubscribe = deps.events.subscribeJob(input.jobId, { onEvent: queue.push, onError: queue.fail, onGap: () => queue.push(GAP) });
  try {
    let last = Number(input.lastEventId ?? 0);
    const backlog = input.lastEventId
      ? await readJobEvents(deps.db, input.jobId, input.lastEventId)
      : [await latestJobEvent(deps.db, input.jobId)].filter((e) => e !== undefined);
    if (backlog.length === 0 && input.lastEventId) {
      // Resuming a stream that already saw the end.
      const latest = await latestJobEvent(deps.db, input.jobId);
      if (latest && Number(latest.eventId) <= last && isTerminalStatus(latest.status)) return;
    }
    let batch: JobEvent[] = backlog;
    for (;;) {
      for (const event of batch) {
        if (Number(event.eventId) <= last) continue; // already given
        yield event;
        last = Number(event.eventId);
        if (isTerminalStatus(event.status)) return;
      }
      const next = await queue.next();
      if (next === undefined) return;
      batch = next === GAP ? await readJobEvents(deps.db, input.jobId, String(last)) : [next];
    }
  } finally {
    unsubscribe();
  }
}

/** An organization stream's event with the cursor that resumes right after it. */
export interface CursoredEvent {
  event: JobEvent;
  cursor: string;
}

/** Most ids a stream adds as holes after a lost-notification catch-up. */
const MAX_GAP_HOLES = 1_000;

/**
 * Every event in the scope (one organization, the jobs of none, or all for operators), optionally
 * filtered, as it happens; with `lastEventId` (a cursor, see `OrganizationCursor`), what came
 * after it is replayed first. Never carries an event from outside the scope.
 *
 * Event ids are allocated at insert and announced at commit, so an organization's events can
 * commit out of id order. Each event therefore comes with a cursor that also names the ids below
 * it still in flight (the hub's `pendingBelow`, plus what this stream has queued but not given),
 * and a resume replays `id > after` and those ids: nothing lost, nothing repeated.
 */
export async function* watchOrganizationEvents(
  deps: { db: Db; events: JobEventHub },
  scope: EventScope,
  input: OnEventsInput,
  signal: AbortSignal | undefined,
): AsyncGenerator<CursoredEvent> {
  const queue = createAsyncQueue<JobEvent | typeof GAP>(signal, MAX_BUFFERED_EVENTS);
  // Handed over by the hub but not given yet: a cursor must not pass them by.
  const queued = new Set<number>();
  const unsubscribe = deps.events.subscribeOrganization(scope, {
    onEvent: (event) => (queued.add(Number(event.eventId)), queue.push(event)),
    onError: queue.fail,
    onGap: () => queue.push(GAP),
  });
  const matches = (e: JobEvent) => (!input.type || e.type === input.type) && (!input.status || e.status === input.status);
  try {
    // Without lastEventId the stream starts at what this process has seen announced.
    const start: OrganizationCursor = input.lastEventId
      ? parseOrganizationCursor(input.lastEventId)
      : { after: deps.events.announcedUpTo, holes: deps.events.pendingBelow(deps.events.announcedUpTo + 1) };
    const startHoles = new Set(start.holes);
    let after = start.after;
    // Holes this stream waits for itself (from the resumed cursor, or found after a gap), with when.
    const carried = new Map<number, number>(start.holes.map((id) => [id, Date.now()]));
    // Ids given from the table, so live deliveries of the same events are not repeated.
    const replayed = new Set<number>();

    /** Ids below `after` this stream may still have to give. */
    const holes = (): number[] => {
      const expired = Date.now() - HOLE_TTL_MS;
      const ids = new Set(deps.events.pendingBelow(after));
      for (const id of queued) if (id < after) ids.add(id);
      for (const [id, since] of carried) {
        if (since < expired) carried.delete(id);
        else if (id < after) ids.add(id);
      }
      return [...ids].sort((a, b) => a - b);
    };
    const cursor = () => formatOrganizationCursor({ after, holes: holes() });
    const give = (event: JobEvent): CursoredEvent => {
      const id = Number(event.eventId);
      queued.delete(id);
      carried.delete(id);
      if (id > after) after = id;
      return { event, cursor: cursor() };
    };

    /**
     * Events after `from` and in `also` that this stream has not given, up to `upTo`. Without
     * `upTo` (after a gap) the range may reach past what the hub knows, so the ids in it that are
     * not visible yet become holes this stream waits for, before anything above them is given.
     */
    async function* replay(from: number, also: number[], upTo: number | undefined): AsyncGenerator<CursoredEvent> {
      const filters = { upToEventId: upTo, type: input.type, status: input.status, limit: REPLAY_PAGE };
      let page = await listOrganizationEvents(deps.db, scope, { ...filters, afterEventId: String(from), alsoEventIds: also });
      let checkedUpTo = from;
      for (;;) {
        const top = page.length > 0 ? Number(page.at(-1)!.eventId) : checkedUpTo; // ordered by id
        if (upTo === undefined && top > checkedUpTo + 1) {
          const at = Date.now();
          for (const id of (await missingEventIds(deps.db, checkedUpTo + 1, top - 1)).slice(-MAX_GAP_HOLES)) if (!carried.has(id)) carried.set(id, at);
        }
        checkedUpTo = Math.max(checkedUpTo, top);
        for (const event of page) {
          const id = Number(event.eventId);
          if (replayed.has(id)) continue;
          replayed.add(id);
          yield give(event);
        }
        if (page.length < REPLAY_PAGE) return;
        page = await listOrganizationEvents(deps.db, scope, { ...filters, afterEventId: String(top) });
      }
    }

    // Up to what the hub has seen announced: the hub knows every hole below it, and whatever
    // commits above it reaches this stream live.
    if (input.lastEventId) yield* replay(start.after, start.holes, deps.events.announcedUpTo);
    for (;;) {
      const next = await queue.next();
      if (next === undefined) return;
      if (next === GAP) {
        // Notifications were lost: read everything after our position (and our holes).
        yield* replay(after, holes(), undefined);
        continue;
      }
      const id = Number(next.eventId);
      const givenBefore = replayed.has(id) || (id <= start.after && !startHoles.has(id));
      if (givenBefore || !matches(next)) {
        queued.delete(id);
        continue;
      }
      yield give(next);
    }
  } finally {
    unsubscribe();
  }
}
