/**
 * A push-to-pull bridge: listeners push, one consumer pulls. Bounded, so a consumer that cannot
 * keep up fails (its client reconnects and resumes from its last event) instead of buffering
 * without limit. Ends when `signal` aborts.
 */
export interface AsyncQueue<T> extends AsyncIterable<T> {
  push(item: T): void;
  fail(error: Error): void;
  /** The next item; undefined once `signal` aborted. Throws the failure, if any. */
  next(): Promise<T | undefined>;
}

export function createAsyncQueue<T>(signal: AbortSignal | undefined, maxBuffered = 1_000): AsyncQueue<T> {
  const buffer: T[] = [];
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  signal?.addEventListener('abort', notify, { once: true });

  const queue: AsyncQueue<T> = {
    push(item) {
      if (failure) return;
      if (buffer.length >= maxBuffered) failure = new Error(`Subscriber fell more than ${maxBuffered} events behind`);
      else buffer.push(item);
      notify();
    },
    fail(error) {
      failure ??= error;
      notify();
    },
    async next() {
      for (;;) {
        if (buffer.length > 0) return buffer.shift();
        if (failure) throw failure;
        if (signal?.aborted) return undefined;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    async *[Symbol.asyncIterator]() {
      for (let item = await queue.next(); item !== undefined; item = await queue.next()) yield item;
    },
  };
  return queue;
}
