import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, TOKEN, verifyDelivery, type Harness } from './support/harness.ts';
import { sleep, waitFor } from './support/waitFor.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('flow control', () => {
  for (const parallelism of [1, 2]) {
    it(`never runs more than parallelism=${parallelism} deliveries of one key at once`, async () => {
      const path = `/flow/p${parallelism}`;
      h.destination.on(path, () => ({ delayMs: 150 }));
      const key = `key-p${parallelism}`;
      await Promise.all(
        Array.from({ length: 6 }, (_v, i) => h.client.publish({ url: h.destination.url(path), body: `m${i}`, flowControl: { key, parallelism } })),
      );
      await waitFor(() => h.destination.received(path).length === 6, { what: 'all 6 deliveries' });
      expect(h.destination.maxConcurrency(path)).toBe(parallelism);
      const info = await h.client.flowControl.get(key);
      expect(info).toMatchObject({ flowControlKey: key, parallelismMax: parallelism });
    });
  }

  it('limits the rate per period', async () => {
    const path = '/flow/rate';
    const started = Date.now();
    await Promise.all(Array.from({ length: 4 }, (_v, i) => h.client.publish({ url: h.destination.url(path), body: `r${i}`, flowControl: { key: 'rate-key', rate: 2, period: 1 } })));
    const reqs = await waitFor(() => h.destination.received(path).length === 4 && h.destination.received(path), { what: 'rate-limited deliveries' });
    const times = reqs.map((r) => r.receivedAt).sort((a, b) => a - b);
    // Two in the first window, the other two no earlier than one period later.
    expect(times[2]! - times[0]!).toBeGreaterThanOrEqual(900);
    expect(times[3]! - started).toBeLessThan(5000);
  });
  it('drops a cancelled message from its key\'s wait list', async () => {
    const path = '/flow/cancel-waiting';
    const key = 'cancel-waiting-key';
    h.destination.on(path, () => ({ delayMs: 1500 }));
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await h.client.publish({ url: h.destination.url(path), body: `w${i}`, flowControl: { key, parallelism: 1 } })).messageId);
    await waitFor(async () => (await h.client.flowControl.get(key)).waitListSize === 2, { what: 'two waiting' });
    await h.client.messages.delete(ids[2] as string);
    expect((await h.client.flowControl.get(key)).waitListSize).toBe(1);
    await waitFor(() => h.destination.received(path).length === 2, { what: 'the two left' });
    expect(h.destination.received(path).map((r) => r.body.toString())).toEqual(['w0', 'w1']);
  });

  it('unpinning restores the latest message\'s limits; bad pin parameters are a 400', async () => {
    const key = 'pin-key';
    await h.client.publish({ url: h.destination.url('/flow/pin'), body: 'p', delay: 60, flowControl: { key, parallelism: 3, rate: 5, period: 2 } });
    await h.client.flowControl.pin(key, { parallelism: 1, rate: 1, period: 10 });
    expect(await h.client.flowControl.get(key)).toMatchObject({ parallelismMax: 1, rateMax: 1, ratePeriod: 10, isPinnedParallelism: true, isPinnedRate: true });
    await h.client.flowControl.unpin(key, { parallelism: true });
    expect(await h.client.flowControl.get(key)).toMatchObject({ parallelismMax: 3, rateMax: 1, isPinnedParallelism: false, isPinnedRate: true });
    await h.client.flowControl.unpin(key, { rate: true });
    expect(await h.client.flowControl.get(key)).toMatchObject({ parallelismMax: 3, rateMax: 5, ratePeriod: 2, isPinnedRate: false });
    for (const query of ['parallelism=abc', 'rate=-1', 'parallelism=1.5', 'period=soon']) {
      const res = await fetch(`${h.broker.url}/v2/flowControl/${key}/pin?${query}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.status, query).toBe(400);
    }
    expect(await h.client.flowControl.get(key)).toMatchObject({ parallelismMax: 3, rateMax: 5, isPinnedParallelism: false, isPinnedRate: false });
  });
});

describe('queues', () => {
  it('delivers FIFO one at a time, retries included', async () => {
    const path = '/queue/fifo';
    let failedOnce = false;
    h.destination.on(path, (req) => {
      if (req.body.toString() === 'q1' && !failedOnce) {
        failedOnce = true;
        return { status: 500 };
      }
      return { delayMs: 30 };
    });
    const queue = h.client.queue({ queueName: 'fifo-queue' });
    for (let i = 0; i < 5; i++) await queue.enqueue({ url: h.destination.url(path), body: `q${i}`, retries: 2, retryDelay: '100' });
    await waitFor(() => h.destination.received(path).length === 6, { what: 'queue deliveries' });
    expect(h.destination.received(path).map((r) => r.body.toString())).toEqual(['q0', 'q1', 'q1', 'q2', 'q3', 'q4']);
    expect(h.destination.maxConcurrency(path)).toBe(1);
    for (const r of h.destination.received(path)) await verifyDelivery(r);
    const info = await waitFor(async () => {
      const q = await queue.get();
      return q.lag === 0 && q;
    });
    expect(info).toMatchObject({ name: 'fifo-queue', parallelism: 1, paused: false, lag: 0 });
  });

  it('respects a queue parallelism of 2 and pause / resume', async () => {
    const path = '/queue/par2';
    h.destination.on(path, () => ({ delayMs: 120 }));
    const queue = h.client.queue({ queueName: 'par2-queue' });
    await queue.upsert({ parallelism: 2 });
    await queue.pause();
    for (let i = 0; i < 6; i++) await queue.enqueueJSON({ url: h.destination.url(path), body: { i } });
    expect((await queue.get()).lag).toBe(6);
    await new Promise((r) => setTimeout(r, 200));
    expect(h.destination.received(path)).toHaveLength(0);
    await queue.resume();
    await waitFor(() => h.destination.received(path).length === 6, { what: 'resumed queue' });
    expect(h.destination.maxConcurrency(path)).toBe(2);
    expect((await queue.list()).map((q) => q.name)).toEqual(expect.arrayContaining(['fifo-queue', 'par2-queue']));
    await queue.delete();
    await expect(queue.get()).rejects.toMatchObject({ status: 404 });
  });

  it('delivers nothing from a paused queue, even messages admitted before the pause, until resumed', async () => {
    const path = '/queue/paused-after-admit';
    const queue = h.client.queue({ queueName: 'pause-admitted-queue' });
    await queue.upsert({ parallelism: 2 });
    // Both are admitted (parallelism 2) and waiting for their due time when the queue is paused.
    for (let i = 0; i < 2; i++) await queue.enqueue({ url: h.destination.url(path), body: `a${i}`, delay: 1 });
    await queue.pause();
    await sleep(1800);
    expect(h.destination.received(path)).toHaveLength(0);
    expect((await queue.get()).lag).toBe(2);
    await queue.resume();
    await waitFor(() => h.destination.received(path).length === 2, { what: 'deliveries after resume' });
    expect(h.destination.received(path).map((r) => r.body.toString()).sort()).toEqual(['a0', 'a1']);
  });

  it('logs CANCELED for the pending messages of a deleted queue', async () => {
    const queue = h.client.queue({ queueName: 'deleted-queue' });
    const { messageId } = await queue.enqueue({ url: h.destination.url('/queue/deleted'), body: 'gone', delay: 60 });
    await queue.delete();
    const { logs } = await h.client.logs({ filter: { messageId } });
    expect(logs.map((e) => e.state)).toContain('CANCELED');
  });
});
