import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@upstash/qstash';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createExecutor } from '../../server/broker/db/executor.ts';
import { startBroker, type Broker } from '../../server/broker/startBroker.ts';
import { createTestDatabaseTarget, TEST_DRIVER, type TestDatabaseTarget } from '../support/testDatabase.ts';
import { countingExecutor, type StatementCounts } from './support/countingExecutor.ts';
import { startDestination, type Destination } from './support/destination.ts';
import { TOKEN } from './support/harness.ts';
import { waitFor } from './support/waitFor.ts';

// What a message costs the broker in statements and write transactions (docs/performance.md, "Broker").
let target: TestDatabaseTarget;
let broker: Broker;
let client: Client;
let destination: Destination;
let counts: StatementCounts;
beforeAll(async () => {
  target = await createTestDatabaseTarget();
  const counting = countingExecutor(createExecutor(target.pglite ? { pglite: target.pglite } : { url: target.url as string }));
  counts = counting.counts;
  destination = await startDestination();
  broker = await startBroker({ port: 0, storage: { executor: counting.executor } });
  client = new Client({ baseUrl: broker.url, token: TOKEN, retry: false, enableTelemetry: false });
});
afterAll(async () => {
  await broker?.stop();
  await destination?.close();
  await target?.drop();
});

/** Statements and write transactions `work` caused. */
async function cost(work: () => Promise<unknown>): Promise<StatementCounts> {
  const before = { ...counts };
  await work();
  return { statements: counts.statements - before.statements, writeTransactions: counts.writeTransactions - before.writeTransactions };
}

// Delayed messages are cancelled after each test, so `pendingCount() === 0` means every delivery was settled.
afterEach(async () => {
  await client.messages.deleteAll();
});

/** At most one write per message; fewer on PostgreSQL, where concurrent work overlaps a flush in flight (in-process PGlite answers before the next request is read). */
function expectGrouped(writeTransactions: number, messages: number): void {
  if (TEST_DRIVER === 'postgres') expect(writeTransactions).toBeLessThan(messages);
  else expect(writeTransactions).toBeLessThanOrEqual(messages);
}

const delivered = (path: string, n: number) => waitFor(() => destination.received(path).length >= n && broker.pendingCount() === 0, { what: `${n} deliveries to ${path}` });

describe('what a message costs the broker', () => {
  it('a publish is one statement, with deduplication and a queue too', async () => {
    const url = destination.url('/cost/later');
    expect(await cost(() => client.publish({ url, body: 'a', delay: 3600 }))).toEqual({ statements: 1, writeTransactions: 1 });
    expect(await cost(() => client.publish({ url, body: 'b', delay: 3600, deduplicationId: 'cost-dedup' }))).toEqual({ statements: 1, writeTransactions: 1 });
    expect(await cost(() => client.queue({ queueName: 'cost-queue' }).enqueue({ url, body: 'c', delay: 3600 }))).toEqual({ statements: 1, writeTransactions: 1 });
  });

  it('a /v2/batch of 20 is one statement, and each item is stored', async () => {
    const url = destination.url('/cost/batch');
    let results: { messageId: string }[] = [];
    const spent = await cost(async () => {
      results = (await client.batchJSON(Array.from({ length: 20 }, (_v, i) => ({ url, body: { i }, delay: 3600 })))) as { messageId: string }[];
    });
    expect(spent).toEqual({ statements: 1, writeTransactions: 1 });
    expect(new Set(results.map((r) => r.messageId)).size).toBe(20);
    const stored = await client.messages.get(results[7]!.messageId);
    expect(JSON.parse(stored.body ?? '')).toEqual({ i: 7 });
  });

  it('concurrent publishes share statements (group commit), each durably stored', async () => {
    const url = destination.url('/cost/concurrent');
    let ids: string[] = [];
    const spent = await cost(async () => {
      ids = (await Promise.all(Array.from({ length: 40 }, (_v, i) => client.publish({ url, body: `c${i}`, delay: 3600 })))).map((r) => r.messageId);
    });
    expectGrouped(spent.writeTransactions, 40);
    expect(spent.statements).toBe(spent.writeTransactions);
    expect(new Set(ids).size).toBe(40);
    for (const id of [ids[0]!, ids[39]!]) expect((await client.messages.get(id)).messageId).toBe(id);
  });

  it('a delivery reads nothing and records its outcome in one statement', async () => {
    const path = '/cost/deliver';
    const spent = await cost(async () => {
      await client.publish({ url: destination.url(path), body: 'now' });
      await delivered(path, 1);
    });
    expect(spent).toEqual({ statements: 2, writeTransactions: 2 }); // the publish, then the delivered row and its ACTIVE + DELIVERED log entries
  });

  it('concurrent deliveries share settle statements', async () => {
    const path = '/cost/many';
    destination.on(path, () => ({ delayMs: 50 })); // they finish together
    const spent = await cost(async () => {
      await client.batchJSON(Array.from({ length: 30 }, (_v, i) => ({ url: destination.url(path), body: { i } })));
      await delivered(path, 30);
    });
    expectGrouped(spent.writeTransactions - 1, 30); // after the batch's one
  });

  it('an idle broker sends no statements', async () => {
    await client.publish({ url: destination.url('/cost/far'), body: 'far', delay: 3600 });
    expect(await cost(() => new Promise((resolve) => setTimeout(resolve, 1500)))).toEqual({ statements: 0, writeTransactions: 0 });
  });
});

describe('what the cheaper path keeps', () => {
  it('repeats of a deduplication id within one batch and across concurrent publishes get the first message', async () => {
    const path = '/cost/dedup';
    const url = destination.url(path);
    const batch = (await client.batchJSON([0, 1, 2].map((i) => ({ url, body: { i }, deduplicationId: 'batch-dup' })))) as { messageId: string; deduplicated?: boolean }[];
    expect(new Set(batch.map((r) => r.messageId)).size).toBe(1);
    expect(batch.map((r) => r.deduplicated ?? false)).toEqual([false, true, true]);
    const racing = await Promise.all(Array.from({ length: 10 }, (_v, i) => client.publish({ url, body: `r${i}`, deduplicationId: 'race-dup' })));
    expect(new Set(racing.map((r) => r.messageId)).size).toBe(1);
    expect(racing.filter((r) => !r.deduplicated)).toHaveLength(1);
    await delivered(path, 2);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(destination.received(path).map((r) => r.body.toString())).toEqual(expect.arrayContaining(['{"i":0}']));
    expect(destination.received(path)).toHaveLength(2);
  });

  it('a /v2/batch mixing a queue, a URL group and a bad item answers item by item, storing the good ones in one statement', async () => {
    const path = '/cost/mixed';
    const url = destination.url(path);
    await client.urlGroups.addEndpoints({ name: 'cost-group', endpoints: [{ url: `${url}?e=1` }, { url: `${url}?e=2` }] });
    let results: unknown[] = [];
    const spent = await cost(async () => {
      results = await client.batchJSON([
        { url, body: { n: 1 } },
        { url, body: { n: 2 }, queueName: 'cost-batch-queue' },
        { url: 'ftp://nowhere.example/x', body: { n: 3 } },
        { urlGroup: 'cost-group', body: { n: 4 } },
      ]);
    });
    expect(spent.writeTransactions).toBe(1);
    expect(results[0]).toMatchObject({ messageId: expect.stringMatching(/^msg_/), url });
    expect(results[1]).toMatchObject({ messageId: expect.stringMatching(/^msg_/), url });
    expect(results[2]).toEqual({ error: expect.stringContaining('invalid destination url') });
    expect(results[3]).toEqual([expect.objectContaining({ url: `${url}?e=1` }), expect.objectContaining({ url: `${url}?e=2` })]);
    await delivered(path, 4);
    expect(destination.received(path).map((r) => JSON.parse(r.body.toString()).n).sort()).toEqual([1, 2, 4, 4]);
    expect((await client.queue({ queueName: 'cost-batch-queue' }).get()).name).toBe('cost-batch-queue');
  });

  it('a message shows ACTIVE while its attempt is under way, and the log orders ACTIVE before DELIVERED', async () => {
    const path = '/cost/slow';
    destination.on(path, () => ({ delayMs: 800 }));
    const { messageId } = await client.publish({ url: destination.url(path), body: 'slow' });
    await waitFor(() => destination.received(path).length === 1);
    expect(((await client.messages.get(messageId)) as unknown as { state: string }).state).toBe('ACTIVE');
    await delivered(path, 1);
    const { logs } = await client.logs({ filter: { messageId } });
    expect(logs.map((l) => l.state)).toEqual(['DELIVERED', 'ACTIVE', 'CREATED']);
    expect(logs[1]!.time).toBeLessThanOrEqual(logs[0]!.time);
  });

  it('deliveries to one destination reuse a kept-alive connection', async () => {
    let connections = 0;
    let requests = 0;
    const server = http.createServer((req, res) => {
      requests++;
      req.resume().on('end', () => res.end('ok'));
    });
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/keepalive`;
      for (let i = 0; i < 10; i++) {
        await client.publish({ url, body: `k${i}` });
        await waitFor(() => requests === i + 1);
      }
      expect(connections).toBe(1);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
