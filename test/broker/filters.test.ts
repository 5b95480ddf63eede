import { QstashError } from '@upstash/qstash';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, TOKEN, type Harness } from './support/harness.ts';
import { waitFor } from './support/waitFor.ts';

// Issue 13: a misspelt filter used to match everything (DLQ emptied, every message cancelled).
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  h.destination.on('/dead', () => ({ status: 500 }));
});
afterAll(async () => {
  await h?.close();
});

async function raw(method: string, pathAndQuery: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${h.broker.url}${pathAndQuery}`, { method, headers: { Authorization: `Bearer ${TOKEN}` } });
  return { status: res.status, json: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}

async function deadLetters(label: string, n: number): Promise<string[]> {
  for (let i = 0; i < n; i++) await h.client.publish({ url: h.destination.url('/dead'), body: `${label}-${i}`, retries: 0, label });
  return inDlq(label, n);
}

async function inDlq(label: string, n: number): Promise<string[]> {
  const { messages } = await waitFor(async () => {
    const page = await h.client.dlq.listMessages({ filter: { label } });
    return page.messages.length === n && page;
  }, { what: `${n} DLQ entries labelled ${label}` });
  return messages.map((m) => m.dlqId);
}

async function pending(label: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await h.client.publish({ url: h.destination.url('/later'), body: 'x', delay: 3600, label })).messageId);
  return ids;
}

const dlqTotal = async () => (await h.client.dlq.listMessages({ count: 1000 })).messages.length;

describe('unknown and invalid filters are a 400 naming the field, and change nothing', () => {
  it('DLQ delete, retry and list, over raw HTTP', async () => {
    await deadLetters('keep', 2);
    const before = await dlqTotal();
    for (const [method, path] of [['DELETE', '/v2/dlq?labeel=x'], ['POST', '/v2/dlq/retry?labeel=x'], ['GET', '/v2/dlq?labeel=x']] as const) {
      const res = await raw(method, path);
      expect(res.status, `${method} ${path}`).toBe(400);
      expect(res.json.error).toBe('unknown filter: labeel');
    }
    expect((await raw('DELETE', '/v2/dlq?host=127.0.0.1')).json.error).toBe('unknown filter: host');
    expect((await raw('DELETE', '/v2/dlq?fromDate=yesterday')).status).toBe(400);
    expect((await raw('DELETE', '/v2/dlq?responseStatus=abc')).status).toBe(400);
    expect(await dlqTotal()).toBe(before);
  });

  it('messages cancel and logs, over raw HTTP', async () => {
    const ids = await pending('stay', 2);
    const res = await raw('DELETE', '/v2/messages?labeel=x');
    expect(res).toMatchObject({ status: 400, json: { error: 'unknown filter: labeel' } });
    expect((await raw('GET', '/v2/events?stat=FAILED')).json.error).toBe('unknown filter: stat');
    expect((await raw('GET', '/v2/logs?state=EXPLODED')).status).toBe(400);
    for (const id of ids) expect((await h.client.messages.get(id)).messageId).toBe(id);
  });

  it('the official SDK surfaces the 400 as a QstashError', async () => {
    // A caller-side typo the SDK's types would catch, forced through as a JS caller could.
    const filter = { labeel: 'x' } as unknown as { label: string };
    await expect(h.client.dlq.delete({ filter })).rejects.toBeInstanceOf(QstashError);
    await expect(h.client.messages.cancel({ filter })).rejects.toMatchObject({ status: 400 });
    await expect(h.client.logs({ filter: filter as never })).rejects.toMatchObject({ status: 400 });
  });
});

describe('a bulk action with no filter needs the explicit all', () => {
  it('raw DELETE /v2/dlq, POST /v2/dlq/retry and DELETE /v2/messages without a filter are 400', async () => {
    await deadLetters('bare', 1);
    const before = await dlqTotal();
    expect(await raw('DELETE', '/v2/dlq')).toMatchObject({ status: 400, json: { error: 'no filter given: pass all=true to delete everything' } });
    expect((await raw('POST', '/v2/dlq/retry')).status).toBe(400);
    expect((await raw('DELETE', '/v2/messages')).status).toBe(400);
    expect((await raw('DELETE', '/v2/dlq?all=yes')).status).toBe(400);
    expect((await raw('DELETE', '/v2/dlq?all=true&label=bare')).status).toBe(400);
    expect(await dlqTotal()).toBe(before);
  });

  it('SDK filters act on their match only; SDK all (and all=true) acts on everything', async () => {
    const [a] = await deadLetters('one', 1);
    await deadLetters('two', 2);
    expect((await h.client.dlq.delete({ filter: { label: 'one' } })).deleted).toBe(1);
    expect((await h.client.dlq.listMessages({ dlqIds: [a as string] })).messages).toHaveLength(0);
    expect((await h.client.dlq.listMessages({ filter: { label: 'two' } })).messages).toHaveLength(2);

    const retried = await h.client.dlq.retry({ filter: { label: 'two' } });
    expect(retried.responses).toHaveLength(2);
    await inDlq('two', 2); // the retries fail again and come back

    const total = await dlqTotal();
    expect(total).toBeGreaterThan(2);
    let deleted = 0;
    let cursor: string | undefined;
    do {
      const result = await h.client.dlq.delete({ all: true, count: 2, cursor });
      deleted += result.deleted;
      cursor = result.cursor;
    } while (cursor);
    expect(deleted).toBe(total);
    expect(await dlqTotal()).toBe(0);

    await deadLetters('raw-all', 2);
    expect(await raw('DELETE', '/v2/dlq?all=true')).toMatchObject({ status: 200, json: { deleted: 2 } });
    await deadLetters('sdk-retry-all', 1);
    expect((await h.client.dlq.retry({ all: true })).responses).toHaveLength(1);
  });

  it('messages: cancel by filter, deprecated deleteMany/deleteAll and cancel({ all: true }) keep working', async () => {
    const [x] = await pending('cx', 1);
    const [y, z] = await pending('cy', 2);
    expect((await h.client.messages.cancel({ filter: { label: 'cx' } })).cancelled).toBe(1);
    await expect(h.client.messages.get(x as string)).rejects.toMatchObject({ status: 404 });
    expect(await h.client.messages.deleteMany([y as string])).toBe(1);
    expect((await h.client.messages.get(z as string)).messageId).toBe(z);
    await pending('cz', 2);
    expect(await h.client.messages.deleteAll()).toBeGreaterThanOrEqual(3);
    await expect(h.client.messages.get(z as string)).rejects.toMatchObject({ status: 404 });
    await pending('cw', 1);
    expect((await h.client.messages.cancel({ all: true })).cancelled).toBe(1);
    await pending('cv', 1);
    expect(await raw('DELETE', '/v2/messages?all=true')).toMatchObject({ status: 200, json: { cancelled: 1 } });
  });

  it('logs by state and messageIds still filter', async () => {
    const { messageId } = await h.client.publish({ url: h.destination.url('/ok'), body: 'fine' });
    const { logs } = await waitFor(async () => {
      const page = await h.client.logs({ filter: { state: 'DELIVERED', label: undefined } as never, count: 1000 });
      return page.logs.some((l) => l.messageId === messageId) && page;
    });
    expect(logs.every((l) => l.state === 'DELIVERED')).toBe(true);
    const byId = await h.client.logs({ messageIds: [messageId] });
    expect(byId.logs.every((l) => l.messageId === messageId)).toBe(true);
  });
});
