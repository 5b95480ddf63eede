import { createAsyncQueue } from '../shared/asyncQueue.ts';
import type { JobEvent } from '../shared/jobEvent.ts';
import type { JobsClient } from './createJobsClient.ts';

export interface WatchJobHandlers {
  /** Every event: the job's current state first, then each change, in order. */
  onEvent(event: JobEvent): void;
  onError?(error: unknown): void;
  /** The stream ended: the job reached a terminal status. */
  onComplete?(): void;
  /** Resume after this event instead of starting from the current state. */
  lastEventId?: string;
}

/**
 * Follows a job live over SSE (`jobs.onStatus`). After a dropped connection the client
 * reconnects with the last event id it saw, so nothing is lost and nothing repeats.
 */
export function watchJob(client: JobsClient, jobId: string, handlers: WatchJobHandlers): { unsubscribe(): void } {
  return client.jobs.onStatus.subscribe(
    { jobId, lastEventId: handlers.lastEventId ?? null },
    {
      onData: ({ data }) => handlers.onEvent(data),
      onError: (error) => handlers.onError?.(error),
      onComplete: () => handlers.onComplete?.(),
    },
  );
}

/** The same stream as an async iterator: `for await (const event of jobEvents(client, id)) …`. */
export async function* jobEvents(
  client: JobsClient,
  jobId: string,
  options: { signal?: AbortSignal; lastEventId?: string } = {},
): AsyncGenerator<JobEvent> {
  const queue = createAsyncQueue<JobEvent>(options.signal);
  const subscription = watchJob(client, jobId, {
    ...(options.lastEventId ? { lastEventId: options.lastEventId } : {}),
    onEvent: (event) => queue.push(event),
    onError: (error) => queue.fail(error),
    onComplete: () => queue.close(),
  });
  try {
    yield* queue;
  } finally {
    subscription.unsubscribe();
  }
}
