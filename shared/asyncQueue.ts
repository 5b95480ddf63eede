/**
 * A push-to-pull bridge: listeners push, one consumer pulls. The server's subscriptions bound it,
 * so a consumer that cannot keep up fails (its client reconnects and resumes from its last event)
 * instead of buffering without limit; the client's async iterators use it unbounded. Ends when
 * `signal` aborts, or once `close()`d and drained.
 */
export interface AsyncQueue<T> extends AsyncIterable<T> {
  push(item: T): void;
  /** The consumer gets `error` (after what is already buffered). */
  fail(error: unknown): void;
  /** No more items: the consumer ends after what is already buffered. */
  close(): void;
  /** The next item; undefined once closed and drained, or once `signal` aborted. Throws the failure, if any. */
  next(): Promise<T | undefined>;
}

export function createAsyncQueue<T>(signal: AbortSignal | undefined, maxBuffered = Number.POSITIVE_INFINITY): AsyncQueue<T> {
  const buffer: T[] = [];
  let failure: { error: unknown } | undefined;
  let closed = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  signal?.addEventListener('abort', notify, { once: true });

  const queue: AsyncQueue<T> = {
    push(item) {
      if (failure || closed) return;
      if (buffer.length >= maxBuffered) failure = { error: new Error(`Subscriber fell more than ${maxBuffered} events behind`) };
      else buffer.push(item);
      notify();
    },
    fail(error) {
      failure ??= { error };
      notify();
    },
    close() {
      closed = true;
      notify();
    },
    async next() {
      for (;;) {
        if (buffer.length > 0) return buffer.shift();
        if (failure) throw failure.error;
        if (closed || signal?.aborted) return undefined;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    async *[Symbol.asyncIterator]() {
      try {
        for (let item = await queue.next(); item !== undefined; item = await queue.next()) yield item;
      } finally {
        signal?.removeEventListener('abort', notify);
      }
    },
  };
  return queue;
}
