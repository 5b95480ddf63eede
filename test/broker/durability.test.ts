import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, verifyDelivery, type Harness } from './support/harness.ts';
import { waitFor } from './support/waitFor.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('restart durability', () => {
  it('delivers messages that were delayed, retrying or in flight when the broker stopped', async () => {
    // A delayed message, due after the restart.
    const delayedAt = Date.now();
    const delayed = await h.client.publish({ url: h.destination.url('/durable/delayed'), body: 'delayed', delay: 2 });
    // A message in retry: fails once, retry due after the restart.
    h.destination.on('/durable/retry', (_req, nth) => (nth === 0 ? { status: 500 } : { status: 200 }));
    const retrying = await h.client.publish({ url: h.destination.url('/durable/retry'), body: 'retrying', retries: 3, retryDelay: '1500' });
    await waitFor(() => h.destination.received('/durable/retry').length === 1);
    // A message in flight: the destination holds the first attempt past the restart.
    h.destination.on('/durable/inflight', (_req, nth) => (nth === 0 ? { delayMs: 3000 } : { status: 200 }));
    const inflight = await h.client.publish({ url: h.destination.url('/durable/inflight'), body: 'in flight' });
    await waitFor(() => h.destination.received('/durable/inflight').length === 1);
    // A queued message behind a slow head.
    const queue = h.client.queue({ queueName: 'durable-queue' });
    h.destination.on('/durable/queue', (_req, nth) => (nth === 0 ? { delayMs: 3000 } : { status: 200 }));
    await queue.enqueue({ url: h.destination.url('/durable/queue'), body: 'head' });
    await queue.enqueue({ url: h.destination.url('/durable/queue'), body: 'tail' });
    await waitFor(() => h.destination.received('/durable/queue').length === 1);

    await h.restart();

    const d = await waitFor(() => h.destination.received('/durable/delayed')[0], { timeoutMs: 15_000 });
    expect(d.receivedAt - delayedAt).toBeGreaterThanOrEqual(1900);
    expect(d.headers['upstash-message-id']).toBe(delayed.messageId);
    await verifyDelivery(d);

    const r = await waitFor(() => h.destination.received('/durable/retry')[1], { timeoutMs: 15_000 });
    expect(r.headers['upstash-retried']).toBe('1');
    expect(r.headers['upstash-message-id']).toBe(retrying.messageId);

    const again = await waitFor(() => h.destination.received('/durable/inflight')[1], { timeoutMs: 15_000 });
    expect(again.headers['upstash-message-id']).toBe(inflight.messageId);
    expect(again.body.toString()).toBe('in flight');

    await waitFor(() => h.destination.received('/durable/queue').length === 3, { timeoutMs: 15_000, what: 'queue after restart' });
    expect(h.destination.received('/durable/queue').map((q) => q.body.toString())).toEqual(['head', 'head', 'tail']);

    await waitFor(() => h.broker.pendingCount() === 0, { timeoutMs: 15_000 });
  });

  it('keeps schedules, DLQ entries and the log across a restart, and fires a missed slot once', async () => {
    h.destination.on('/durable/dead', () => ({ status: 400, body: 'bad' }));
    const dead = await h.client.publish({ url: h.destination.url('/durable/dead'), body: 'dead', retries: 0 });
    await waitFor(async () => (await h.client.dlq.listMessages({ filter: { messageId: dead.messageId } })).messages.length === 1);
    // Hourly, half an hour from now: no real slot comes due while the test runs, however slowly.
    const cron = `${(new Date().getUTCMinutes() + 30) % 60} * * * *`;
    const { scheduleId } = await h.client.schedules.create({ destination: h.destination.url('/durable/sched'), cron, body: 's' });
    // Pretend the broker was down across several slots.
    const storage = h.storage;
    const rewind = 'UPDATE qstash.schedules SET next_schedule_time = next_schedule_time - 3 * 3600000 WHERE id = $1';
    if ('pglite' in storage) await storage.pglite.query(rewind, [scheduleId]);
    else if ('url' in storage) {
      const postgres = (await import('postgres')).default;
      const sql = postgres(storage.url, { max: 1, onnotice: () => {} });
      await sql.unsafe(rewind, [scheduleId]);
      await sql.end();
    }

    await h.restart();

    await waitFor(() => h.destination.received('/durable/sched').length === 1, { what: 'missed slot fired once' });
    await new Promise((r) => setTimeout(r, 300));
    expect(h.destination.received('/durable/sched')).toHaveLength(1);
    const schedule = await h.client.schedules.get(scheduleId);
    expect(schedule.nextScheduleTime).toBeGreaterThan(Date.now());
    expect((await h.client.dlq.listMessages({ filter: { messageId: dead.messageId } })).messages).toHaveLength(1);
    const { logs } = await h.client.logs({ filter: { messageId: dead.messageId } });
    expect(logs.map((l) => l.state)).toEqual(['FAILED', 'ERROR', 'ACTIVE', 'CREATED']);
  });
});
