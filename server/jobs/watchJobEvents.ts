import type { JobEvent, OnEventsInput } from '../../shared/jobEvent.ts';
import { isTerminalStatus } from '../../shared/jobStatus.ts';
import type { Db } from '../db/database.ts';
import { createAsyncQueue } from '../../shared/asyncQueue.ts';
import type { JobEventHub } from './eventHub.ts';
import { latestEventId, latestJobEvent, listOrganizationEvents, readJobEvents } from './listJobEvents.ts';

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

/**
 * Every event of one organization, optionally filtered, as it happens; with `lastEventId`, the
 * events after it are replayed first (and after a gap, the events after the newest one given).
 * Never carries another organization's events.
 */
export async function* watchOrganizationEvents(
  deps: { db: Db; events: JobEventHub },
  organizationId: number,
  input: OnEventsInput,
  signal: AbortSignal | undefined,
): AsyncGenerator<JobEvent> {
  const queue = createAsyncQueue<JobEvent | typeof GAP>(signal, MAX_BUFFERED_EVENTS);
  const unsubscribe = deps.events.subscribeOrganization(organizationId, { onEvent: queue.push, onError: queue.fail, onGap: () => queue.push(GAP) });
  const matches = (e: JobEvent) => (!input.type || e.type === input.type) && (!input.status || e.status === input.status);
  // Ids given from the table, so live notifications of the same events are not repeated.
  const replayed = new Set<string>();
  // Without lastEventId the stream starts now: a later gap replays from here, not from the start.
  let newest = input.lastEventId ?? (await latestEventId(deps.db));
  async function* replayAfter(after: string | undefined): AsyncGenerator<JobEvent> {
    while (after) {
      const page = await listOrganizationEvents(deps.db, { organizationId }, { afterEventId: after, type: input.type, status: input.status, limit: REPLAY_PAGE });
      for (const event of page) {
        if (replayed.has(event.eventId)) continue;
        replayed.add(event.eventId);
        if (Number(event.eventId) > Number(newest)) newest = event.eventId;
        yield event;
      }
      after = page.length === REPLAY_PAGE ? page.at(-1)!.eventId : undefined; // a full page has a last element
    }
  }
  try {
    yield* replayAfter(newest);
    for (;;) {
      const next = await queue.next();
      if (next === undefined) return;
      if (next === GAP) {
        yield* replayAfter(newest);
        continue;
      }
      if (!matches(next) || replayed.has(next.eventId)) continue;
      if (Number(next.eventId) > Number(newest)) newest = next.eventId;
      yield next;
    }
  } finally {
    unsubscribe();
  }
}
