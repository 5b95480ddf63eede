import { z } from 'zod';
import type { JobEvent } from '../../shared/jobEvent.ts';
import type { Database } from '../db/database.ts';
import type { Logger } from '../logger.ts';
import { toError } from './errors.ts';
import { findJobEvents, toJobEvent } from './listJobEvents.ts';
import { JOB_EVENTS_CHANNEL } from './recordEvent.ts';

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
  subscribeOrganization(organizationId: number, listener: EventListener): () => void;
  /** Subscribers currently attached (for leak checks and metrics). */
  readonly subscriberCount: number;
  stop(): Promise<void>;
}

const Notification = z.object({ eventId: z.number(), jobId: z.string(), organizationId: z.number().nullable() });
type Notification = z.infer<typeof Notification>;

export async function startJobEventHub(database: Database, log: Logger): Promise<JobEventHub> {
  const byJob = new Map<string, Set<EventListener>>();
  const byOrganization = new Map<number, Set<EventListener>>();
  let pending: Notification[] = [];
  let draining: Promise<void> = Promise.resolve();

  const listenersOf = (n: Notification) => [...(byJob.get(n.jobId) ?? []), ...(n.organizationId === null ? [] : (byOrganization.get(n.organizationId) ?? []))];

  // Notifications that arrive together are read with one query, and delivered in arrival order.
  async function drain(): Promise<void> {
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    try {
      const rows = new Map((await findJobEvents(database.db, batch.map((n) => n.eventId))).map((r) => [r.id, r]));
      for (const n of batch) {
        const row = rows.get(n.eventId);
        if (!row) continue; // deleted by cleanup before we read it
        const event = toJobEvent(row);
        for (const listener of listenersOf(n)) listener.onEvent(event);
      }
    } catch (error) {
      log.error({ err: toError(error) }, '[events] Failed to read job events; subscribers will resync');
      for (const n of batch) for (const listener of listenersOf(n)) listener.onError(toError(error));
    }
  }

  const everyListener = () => [...byJob.values(), ...byOrganization.values()].flatMap((set) => [...set]);
  const unlisten = await database.listen(
    JOB_EVENTS_CHANNEL,
    (payload) => {
      const parsed = Notification.safeParse(safeJson(payload));
      if (!parsed.success || listenersOf(parsed.data).length === 0) return; // nobody here cares: no query
      pending.push(parsed.data);
      draining = draining.then(drain);
    },
    () => {
      log.warn({ subscribers: everyListener().length }, '[events] Listening connection restored; subscribers catch up');
      for (const listener of everyListener()) listener.onGap();
    },
  );

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
    subscribeOrganization: (organizationId, listener) => attach(byOrganization, organizationId, listener),
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
