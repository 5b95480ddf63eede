import {
  createTRPCClient,
  httpBatchLink,
  httpLink,
  httpSubscriptionLink,
  splitLink,
  TRPCClientError,
  type OperationLink,
  type TRPCClient,
  type TRPCLink,
} from '@trpc/client';
import { observable, type Unsubscribable } from '@trpc/server/observable';
import superjson from 'superjson';
import type { AppRouter } from '../server/trpc/root.ts';
import { MAX_BATCH_SIZE } from '../shared/jobApi.ts';

/** The typed jobwire client: `client.jobs.enqueue.mutate(…)`, `client.jobs.get.query(…)`, … */
export type JobsClient = TRPCClient<AppRouter>;

/** An error from a jobwire call: `error.data.code` (tRPC), `.jobwireCode` (shared/errors.ts), `.zodError`. */
export type JobsClientError = TRPCClientError<AppRouter>;

export function isJobsClientError(error: unknown): error is JobsClientError {
  return error instanceof TRPCClientError;
}

/** An `EventSource` class (the browser's, or the `eventsource` package's in Node). */
export type EventSourceClass = NonNullable<Parameters<typeof httpSubscriptionLink>[0]['EventSource']>;

export interface JobsClientOptions {
  /** The tRPC endpoint, e.g. `http://127.0.0.1:3000/trpc`. */
  url: string;
  /** Bearer token (`npm run token`), or a function returning the current one, read per request. */
  token: string | (() => string | Promise<string>);
  /** Default: `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** For subscriptions. Default: `globalThis.EventSource`, else the `eventsource` package, loaded on first use. */
  EventSource?: EventSourceClass;
  /** Longest GET URL a batch may build before it is split. Default 2083 (what old proxies accept). */
  maxURLLength?: number;
}


export function createJobsClient(options: JobsClientOptions): JobsClient {
  const token = async () => (typeof options.token === 'function' ? options.token() : options.token);
  const headers = async () => ({ authorization: `Bearer ${await token()}` });
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        // EventSource cannot send headers: the token travels as tRPC connectionParams.
        true: lazyLink(async () =>
          httpSubscriptionLink({
            url: options.url,
            transformer: superjson,
            connectionParams: async () => ({ token: await token() }),
            EventSource: await resolveEventSource(options.EventSource),
          }),
        ),
        false: promptBatchLink({
          single: httpLink({ url: options.url, transformer: superjson, headers, ...(options.fetch ? { fetch: options.fetch } : {}) }),
          batch: httpBatchLink({
            url: options.url,
            transformer: superjson,
            headers,
            maxURLLength: options.maxURLLength ?? 2083,
            maxItems: MAX_BATCH_SIZE,
            ...(options.fetch ? { fetch: options.fetch } : {}),
          }),
        }),
      }),
    ],
  });
}

// Browsers have EventSource; Node 20 does not. The package is imported only when needed, so
// bundles for the browser never pull it in eagerly.
async function resolveEventSource(given: EventSourceClass | undefined): Promise<EventSourceClass> {
  if (given) return given;
  const global = (globalThis as { EventSource?: EventSourceClass }).EventSource; // not in the ES/Node lib typings
  if (global) return global;
  const { EventSource } = await import('eventsource');
  return EventSource;
}

/**
 * Calls made in the same turn of the event loop go as one batch request (`batch`); a call alone
 * in its turn goes at once, by itself (`single`). tRPC's `httpBatchLink` gathers calls for a
 * `setTimeout(0)`, which waits at least 1 ms in Node (and 1-4 ms in browsers) even when nothing
 * else is coming: a lone enqueue paid that on every call. The turn ends at `setImmediate` (a
 * `MessageChannel` message in browsers), which runs as soon as the current callbacks and their
 * promise continuations are done; the calls found waiting then still go through `httpBatchLink`,
 * so its own limits (`maxItems`, `maxURLLength`) apply.
 */
function promptBatchLink(links: { single: TRPCLink<AppRouter>; batch: TRPCLink<AppRouter> }): TRPCLink<AppRouter> {
  return (runtime) => {
    const single = links.single(runtime);
    const batch = links.batch(runtime);
    let waiting: Array<{ stopped: boolean; start(link: OperationLink<AppRouter>): void }> = [];
    const dispatch = () => {
      const turn = waiting.filter((w) => !w.stopped);
      waiting = [];
      const link = turn.length === 1 ? single : batch;
      for (const w of turn) w.start(link);
    };
    return ({ op, next }) =>
      observable((observer) => {
        let subscription: Unsubscribable | undefined;
        const entry = {
          stopped: false,
          start: (link: OperationLink<AppRouter>) => void (subscription = link({ op, next }).subscribe(observer)),
        };
        if (waiting.length === 0) endOfTurn(dispatch);
        waiting.push(entry);
        return () => {
          entry.stopped = true;
          subscription?.unsubscribe();
        };
      });
  };
}

/** Runs `run` once the current callbacks and their promise continuations are done, with no timer's minimum wait. */
const endOfTurn: (run: () => void) => void =
  typeof globalThis.setImmediate === 'function'
    ? (run) => void globalThis.setImmediate(run)
    : (() => {
        const channel = new MessageChannel();
        let queued: Array<() => void> = [];
        channel.port1.addEventListener('message', () => {
          const now = queued;
          queued = [];
          for (const run of now) run();
        });
        channel.port1.start();
        return (run: () => void) => {
          queued.push(run);
          channel.port2.postMessage(null);
        };
      })();

/** A link built asynchronously on its first operation (and rebuilt if building failed). */
function lazyLink(build: () => Promise<TRPCLink<AppRouter>>): TRPCLink<AppRouter> {
  return (runtime) => {
    let operationLink: Promise<OperationLink<AppRouter>> | undefined;
    return ({ op, next }) =>
      observable((observer) => {
        let subscription: Unsubscribable | undefined;
        let stopped = false;
        const pending = (operationLink ??= build().then((link) => link(runtime)));
        pending.then(
          (link) => {
            if (!stopped) subscription = link({ op, next }).subscribe(observer);
          },
          (cause: unknown) => {
            operationLink = undefined;
            observer.error(TRPCClientError.from(cause instanceof Error ? cause : new Error(String(cause))));
          },
        );
        return () => {
          stopped = true;
          subscription?.unsubscribe();
        };
      });
  };
}
