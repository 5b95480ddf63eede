import { describe, expect, it } from 'vitest';
import { createAsyncQueue } from '../../shared/asyncQueue.ts';

const drain = async <T>(iterable: AsyncIterable<T>) => {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
};

describe('createAsyncQueue', () => {
  it('hands pushed items to a waiting consumer in order, and ends after close() once drained', async () => {
    const queue = createAsyncQueue<number>(undefined);
    const consumed = drain(queue);
    queue.push(1);
    await new Promise((r) => setTimeout(r, 5));
    queue.push(2);
    queue.push(3);
    queue.close();
    queue.push(4); // after close: dropped
    expect(await consumed).toEqual([1, 2, 3]);
  });

  it('throws a failure after what was already buffered', async () => {
    const queue = createAsyncQueue<number>(undefined);
    queue.push(1);
    queue.fail(new Error('boom'));
    expect(await queue.next()).toBe(1);
    await expect(queue.next()).rejects.toThrow('boom');
  });

  it('fails a consumer that falls more than maxBuffered behind', async () => {
    const queue = createAsyncQueue<number>(undefined, 2);
    for (const n of [1, 2, 3]) queue.push(n);
    expect(await queue.next()).toBe(1);
    expect(await queue.next()).toBe(2);
    await expect(queue.next()).rejects.toThrow('fell more than 2 events behind');
  });

  it('ends a waiting consumer when the signal aborts, and lets go of the signal', async () => {
    const controller = new AbortController();
    let listeners = 0;
    const { addEventListener, removeEventListener } = controller.signal;
    controller.signal.addEventListener = (...args: Parameters<AbortSignal['addEventListener']>) => (listeners++, addEventListener.apply(controller.signal, args));
    controller.signal.removeEventListener = (...args: Parameters<AbortSignal['removeEventListener']>) => (listeners--, removeEventListener.apply(controller.signal, args));
    const queue = createAsyncQueue<number>(controller.signal);
    const consumed = drain(queue);
    queue.push(1);
    await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    expect(await consumed).toEqual([1]);
    expect(listeners).toBe(0);
  });
});
